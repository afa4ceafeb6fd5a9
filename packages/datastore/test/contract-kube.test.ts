// The datastore contract against the Kubernetes backend and the Kubernetes API test server.
import { startKubeApiTestServer } from '@tabby/test-support';
import { KubeDatastore } from '@tabby/datastore';
import { runDatastoreContract } from './contract.js';

runDatastoreContract('kubernetes', async () => {
  const kube = await startKubeApiTestServer();
  const ds = new KubeDatastore({ kubeconfig: kube.kubeconfig, watchRetryMs: 100 });
  return {
    ds,
    compact: async () => kube.compact(),
    outage: async (during) => {
      kube.setUnavailable(true);
      try {
        await during();
      } finally {
        kube.setUnavailable(false);
      }
    },
    putPoolDirect: (name, cidr) => { kube.create('/apis/crd.projectcalico.org/v1/ippools', { metadata: { name }, spec: { cidr } }); },
    stop: async () => {
      await ds.close();
      await kube.close();
    },
  };
});

// The datastore contract against the Kubernetes backend and the Kubernetes API test server.
import { startKubeApiTestServer } from '@tabby/test-support';
import { KubeDatastore } from '@tabby/datastore';
import { runDatastoreContract } from './contract.js';

runDatastoreContract('kubernetes', async () => {
  const kube = await startKubeApiTestServer();
  const ds = new KubeDatastore({ kubeconfig: kube.kubeconfig });
  return {
    ds,
    compact: async () => kube.compact(),
    stop: async () => {
      await ds.close();
      await kube.close();
    },
  };
});

// The datastore contract against the etcd backend and a real etcd (the client goes through a TCP
// proxy so that an outage can be staged).
import { startEtcd, startTcpProxy } from '@tabby/test-support';
import { EtcdDatastore } from '@tabby/datastore';
import { runDatastoreContract } from './contract.js';
import { pool } from './helpers.js';

runDatastoreContract('etcd', async () => {
  const etcd = await startEtcd();
  const proxy = await startTcpProxy(Number(new URL(etcd.endpoint).port));
  const ds = new EtcdDatastore({ endpoints: [proxy.url()], watchRetryMs: 100 });
  return {
    ds,
    compact: async () => {
      // A write of its own first, so that the revision after the caller's last write is gone too.
      etcd.etcdctl('put', '/tabby-test/compaction-mark', String(Date.now()));
      const rev = JSON.parse(etcd.etcdctl('get', '/tabby-test/compaction-mark', '-w', 'json')).header.revision;
      etcd.etcdctl('compact', String(rev));
    },
    outage: async (during) => {
      proxy.cut();
      try {
        await during();
      } finally {
        proxy.restore();
      }
    },
    putPoolDirect: (name, cidr) => { etcd.etcdctl('put', `/calico/resources/v3/projectcalico.org/ippools/${name}`, JSON.stringify(pool(name, cidr))); },
    stop: async () => {
      await ds.close();
      await proxy.close();
      await etcd.stop();
    },
  };
});

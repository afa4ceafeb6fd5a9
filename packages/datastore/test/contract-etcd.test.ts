// The datastore contract against the etcd backend and a real etcd.
import { startEtcd } from '@tabby/test-support';
import { EtcdDatastore } from '@tabby/datastore';
import { runDatastoreContract } from './contract.js';

runDatastoreContract('etcd', async () => {
  const etcd = await startEtcd();
  const ds = new EtcdDatastore({ endpoints: [etcd.endpoint] });
  return {
    ds,
    compact: async () => {
      // A write of its own first, so that the revision after the caller's last write is gone too.
      etcd.etcdctl('put', '/tabby-test/compaction-mark', String(Date.now()));
      const rev = JSON.parse(etcd.etcdctl('get', '/tabby-test/compaction-mark', '-w', 'json')).header.revision;
      etcd.etcdctl('compact', String(rev));
    },
    stop: async () => {
      await ds.close();
      await etcd.stop();
    },
  };
});

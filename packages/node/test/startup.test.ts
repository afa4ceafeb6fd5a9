// The node agent's start-up writes against a real etcd.
import { expect } from 'chai';
import { createLogger } from '@tabby/log';
import { EtcdDatastore, type Datastore } from '@tabby/datastore';
import { BlockAffinityIpam } from '@tabby/ipam';
import { startEtcd, type EtcdServer } from '@tabby/test-support';
import { configFromEnv, ensureClusterInformation, ensureDefaultPools, ensureTunnelAddresses, registerNode } from '@tabby/node';

describe('node agent: start-up against etcd', function () {
  this.timeout(30_000);
  let etcd: EtcdServer;
  let ds: Datastore;
  const log = createLogger('node-test', { level: 'error' });

  before(async () => {
    etcd = await startEtcd();
    ds = new EtcdDatastore({ endpoints: etcd.clientUrls });
  });
  after(async () => {
    await ds?.close();
    await etcd?.stop();
  });

  it('registers the node, then updates only what changed', async () => {
    const cfg = configFromEnv({ NODENAME: 'node-1' });
    const a = await registerNode(ds, cfg, { ipv4: '10.0.0.1/24' }, log);
    expect(a.spec.bgp).to.deep.equal({ ipv4Address: '10.0.0.1/24' });
    const same = await registerNode(ds, cfg, { ipv4: '10.0.0.1/24' }, log);
    expect(same.metadata.resourceVersion, 'no write when nothing changed').to.equal(a.metadata.resourceVersion);
    const moved = await registerNode(ds, configFromEnv({ NODENAME: 'node-1', AS: '65001' }), { ipv4: '10.0.0.7/24' }, log);
    expect(moved.spec.bgp).to.deep.equal({ ipv4Address: '10.0.0.7/24', asNumber: 65001 });
    expect(JSON.parse(etcd.etcdctl('get', '/calico/resources/v3/projectcalico.org/nodes/node-1', '--print-value-only')).spec.bgp.ipv4Address).to.equal('10.0.0.7/24');
  });

  it('creates ClusterInformation and the default pool once, even with several nodes starting at once', async () => {
    const cfgs = ['a', 'b', 'c'].map((n) => configFromEnv({ NODENAME: n, CALICO_IPV4POOL_CIDR: '10.244.0.0/16', CALICO_IPV4POOL_IPIP: 'Never' }));
    const infos = await Promise.all(cfgs.map(() => ensureClusterInformation(ds, 'bird')));
    expect(new Set(infos.map((i) => i.spec.clusterGUID)).size, 'one cluster GUID').to.equal(1);
    expect(infos[0]!.spec.datastoreReady).to.equal(true);
    await Promise.all(cfgs.map((c) => ensureDefaultPools(ds, c, log)));
    const pools = (await ds.list('IPPool')).items;
    expect(pools.map((p) => [p.metadata.name, p.spec.cidr, p.spec.ipipMode, p.spec.natOutgoing])).to.deep.equal([['default-ipv4-ippool', '10.244.0.0/16', 'Never', true]]);
    expect(await ensureDefaultPools(ds, configFromEnv({ NODENAME: 'd', CALICO_IPV4POOL_CIDR: '10.99.0.0/16' }), log), 'an existing IPv4 pool means no default').to.deep.equal([]);
  });

  it('gives the node a VXLAN tunnel address from its own block when a pool uses VXLAN, and takes it back when none does', async () => {
    const cfg = configFromEnv({ NODENAME: 'node-1', CALICO_NETWORKING_BACKEND: 'vxlan' });
    const pool = (await ds.get('IPPool', 'default-ipv4-ippool'));
    await ds.update({ ...pool, spec: { ...pool.spec, vxlanMode: 'Always' } });
    const ipam = new BlockAffinityIpam(ds);
    const node = await ensureTunnelAddresses(ds, ipam, cfg, log);
    const addr = node.spec.ipv4VXLANTunnelAddr!;
    expect(addr).to.match(/^10\.244\./);
    expect(await ipam.ipsByHandle('vxlan-tunnel-addr-node-1')).to.deep.equal([addr]);
    expect((await ensureTunnelAddresses(ds, ipam, cfg, log)).spec.ipv4VXLANTunnelAddr, 'stable across restarts').to.equal(addr);
    const p2 = await ds.get('IPPool', 'default-ipv4-ippool');
    await ds.update({ ...p2, spec: { ...p2.spec, vxlanMode: 'Never' } });
    const after = await ensureTunnelAddresses(ds, ipam, cfg, log);
    expect(after.spec.ipv4VXLANTunnelAddr).to.equal(undefined);
    expect(await ipam.ipsByHandle('vxlan-tunnel-addr-node-1')).to.deep.equal([]);
  });
});

// Watches against a real etcd: ordering, resuming, compaction and reconnects.
import { expect } from 'chai';
import { startEtcd, startTcpProxy, type EtcdServer, type TcpProxy } from '@tabby/test-support';
import { EtcdDatastore, type Watch } from '@tabby/datastore';
import type { AnyResource } from '@tabby/api';
import { Events, pool, sleep, specOf, wep } from './helpers.js';

describe('etcd datastore: watch', function () {
  this.timeout(20_000);
  let etcd: EtcdServer;
  let ds: EtcdDatastore;
  const open: Watch[] = [];
  /** A watch that is closed after the test even if it fails. */
  const watch = async (...args: Parameters<EtcdDatastore['watch']>) => {
    const w = await ds.watch(...args);
    open.push(w);
    return w;
  };
  const putPool = (name: string, cidr: string) =>
    etcd.etcdctl('put', `/calico/resources/v3/projectcalico.org/ippools/${name}`, JSON.stringify(pool(name, cidr)));

  before(async () => {
    etcd = await startEtcd();
    ds = new EtcdDatastore({ endpoints: [etcd.endpoint] });
    await ds.create(pool('p1', '10.1.0.0/16'));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((w) => w.close()));
  });
  after(async () => {
    await ds?.close();
    await etcd?.stop();
  });

  it('starts with a resync, then added/modified/deleted in order; deletes carry the last state', async () => {
    const ev = new Events();
    await watch('IPPool', {}, ev.push);
    expect(ev.shown()).to.deep.equal(['resync(p1)']);
    const p2 = await ds.create(pool('p2', '10.2.0.0/16'));
    await ds.update({ ...p2, spec: { cidr: '10.2.0.0/16', disabled: true } } as AnyResource);
    await ds.delete('IPPool', 'p2');
    await ev.until((l) => l.length >= 4);
    expect(ev.shown()).to.deep.equal(['resync(p1)', 'added(p2)', 'modified(p2)', 'deleted(p2)']);
    const [, added, modified, deleted] = ev.list as [unknown, { resource: AnyResource }, { resource: AnyResource; previous: AnyResource }, { resource: AnyResource; revision: string }];
    expect(added.resource.metadata.resourceVersion).to.equal(p2.metadata.resourceVersion);
    expect(specOf(modified.previous)['disabled']).to.equal(undefined);
    expect(specOf(modified.resource)['disabled']).to.equal(true);
    expect(specOf(deleted.resource)['disabled'], 'the deleted event carries the last state').to.equal(true);
    expect(Number(deleted.revision)).to.be.greaterThan(Number(modified.resource.metadata.resourceVersion));
  });

  it('watches one namespace or all of them', async () => {
    const one = new Events();
    const all = new Events();
    await watch('WorkloadEndpoint', { namespace: 'ns1' }, one.push);
    await watch('WorkloadEndpoint', {}, all.push);
    await ds.create(wep('ns2', 'b'));
    await ds.create(wep('ns1', 'a'));
    await all.until((l) => l.length >= 3);
    await one.until((l) => l.length >= 2);
    expect(one.shown()).to.deep.equal(['resync()', 'added(a)']);
    expect(all.shown()).to.deep.equal(['resync()', 'added(b)', 'added(a)']);
  });

  it('resumes after a given revision without loss or duplicates', async () => {
    const { revision } = await ds.list('IPPool');
    await ds.create(pool('p3', '10.3.0.0/16'));
    await ds.create(pool('p4', '10.4.0.0/16'));
    const ev = new Events();
    await watch('IPPool', { revision }, ev.push);
    await ds.create(pool('p5', '10.5.0.0/16'));
    await ev.until((l) => l.length >= 3);
    await sleep(200);
    expect(ev.shown()).to.deep.equal(['added(p3)', 'added(p4)', 'added(p5)']);
  });

  it('IPAM kinds: affinities come with node and CIDR from the key; IPAMConfig is watched as one key', async () => {
    const aff = new Events();
    const cfg = new Events();
    await watch('BlockAffinity', {}, aff.push);
    await watch('IPAMConfig', {}, cfg.push);
    etcd.etcdctl('put', '/calico/ipam/v2/host/n9/ipv4/block/10.9.0.0-26', '{"state":"confirmed","deleted":false}');
    etcd.etcdctl('put', '/calico/ipam/v2/configuration-not-this', '{}');
    etcd.etcdctl('put', '/calico/ipam/v2/config', '{"strict_affinity":true}');
    await aff.until((l) => l.length >= 2);
    await cfg.until((l) => l.length >= 2);
    expect((aff.list[1] as { resource: AnyResource }).resource.spec).to.include({ node: 'n9', cidr: '10.9.0.0/26', state: 'confirmed' });
    expect(aff.shown()).to.deep.equal(['resync()', 'added(n9-10-9-0-0-26)']);
    expect(cfg.shown()).to.deep.equal(['resync()', 'added(default)']);
  });

  it('a value that becomes unreadable is reported as deleted, and added again once readable', async () => {
    const ev = new Events();
    await watch('IPPool', {}, ev.push);
    etcd.etcdctl('put', '/calico/resources/v3/projectcalico.org/ippools/p3', '{broken');
    putPool('p3', '10.3.0.0/16');
    await ev.until((l) => l.length >= 3);
    expect(ev.shown().slice(1)).to.deep.equal(['deleted(p3)', 'added(p3)']);
    expect(specOf((ev.list[1] as { resource: AnyResource }).resource)['cidr']).to.equal('10.3.0.0/16');
  });

  it('close() stops delivery', async () => {
    const ev = new Events();
    const w = await watch('IPPool', {}, ev.push);
    await w.close();
    await ds.create(pool('p6', '10.6.0.0/16'));
    await sleep(200);
    expect(ev.shown()).to.have.length(1);
  });

  it('a compacted start revision leads to a resync with the current state, then continues', async () => {
    const { revision: old } = await ds.list('IPPool');
    await ds.create(pool('p7', '10.7.0.0/16'));
    const { revision: now } = await ds.list('IPPool');
    etcd.etcdctl('compact', now);
    const ev = new Events();
    await watch('IPPool', { revision: String(Number(old) - 1) }, ev.push);
    // etcd 3.4 accepts the watch and cancels it right after, so the resync follows the call.
    await ev.until((l) => l.length >= 1);
    expect(ev.list[0]?.type).to.equal('resync');
    expect((ev.list[0] as { items: AnyResource[] }).items.map((i) => i.metadata.name)).to.deep.equal(['p1', 'p3', 'p4', 'p5', 'p6', 'p7']);
    await ds.create(pool('p8', '10.8.0.0/16'));
    await ev.until((l) => l.length >= 2);
    expect(ev.shown().slice(1)).to.deep.equal(['added(p8)']);
  });

  it('survives an etcd restart: no event lost or repeated', async () => {
    const ev = new Events();
    await watch('IPPool', {}, ev.push);
    await ds.delete('IPPool', 'p8');
    await ev.until((l) => l.length >= 2);
    await etcd.restart({ hard: true });
    putPool('p9', '10.9.0.0/16');
    await ds.create(pool('p10', '10.10.0.0/16'));
    await ev.until((l) => l.filter((e) => e.type !== 'error').length >= 4, 10_000);
    await sleep(200);
    expect(ev.changes()).to.deep.equal(['resync(p1,p3,p4,p5,p6,p7,p8)', 'deleted(p8)', 'added(p9)', 'added(p10)']);
  });

  describe('while cut off from etcd', () => {
    let proxy: TcpProxy;
    let away: EtcdDatastore;
    before(async () => {
      proxy = await startTcpProxy(Number(new URL(etcd.endpoint).port));
      away = new EtcdDatastore({ endpoints: [proxy.url()], watchRetryMs: 100 });
    });
    after(async () => {
      await away?.close();
      await proxy?.close();
    });

    it('reports the outage, then replays what it missed, exactly once', async () => {
      const ev = new Events();
      const w = await away.watch('IPPool', {}, ev.push);
      open.push(w);
      await ds.delete('IPPool', 'p10');
      await ev.until((l) => l.length >= 2);
      proxy.cut();
      await ev.until((l) => l.some((e) => e.type === 'error'));
      putPool('p11', '10.11.0.0/16');
      etcd.etcdctl('del', '/calico/resources/v3/projectcalico.org/ippools/p9');
      proxy.restore();
      await ev.until((l) => l.filter((e) => e.type !== 'error').length >= 4, 10_000);
      await ds.create(pool('p12', '10.12.0.0/16'));
      await ev.until((l) => l.filter((e) => e.type !== 'error').length >= 5, 10_000);
      await sleep(200);
      expect(ev.changes()).to.deep.equal(['resync(p1,p10,p3,p4,p5,p6,p7,p9)', 'deleted(p10)', 'added(p11)', 'deleted(p9)', 'added(p12)']);
      const errors = ev.list.filter((e) => e.type === 'error');
      expect(errors, 'one report per outage').to.have.length(1);
      expect(errors[0]!.type === 'error' && errors[0]!.error.name).to.equal('ConnectionError');
    });

    it('re-lists (resync) when what it missed was compacted meanwhile', async () => {
      const ev = new Events();
      const w = await away.watch('IPPool', {}, ev.push);
      open.push(w);
      proxy.cut();
      await ev.until((l) => l.some((e) => e.type === 'error'));
      putPool('p13', '10.13.0.0/16');
      putPool('p14', '10.14.0.0/16');
      const rev = JSON.parse(etcd.etcdctl('get', '/calico/resources/v3/projectcalico.org/ippools/p14', '-w', 'json')).header.revision;
      etcd.etcdctl('compact', String(rev));
      proxy.restore();
      await ev.until((l) => l.filter((e) => e.type === 'resync').length >= 2, 10_000);
      const last = ev.list.filter((e) => e.type === 'resync').at(-1) as { items: AnyResource[] };
      expect(last.items.map((i) => i.metadata.name)).to.include.members(['p13', 'p14']);
      await ds.create(pool('p15', '10.15.0.0/16'));
      await ev.until((l) => l.some((e) => e.type === 'added' && e.resource.metadata.name === 'p15'), 10_000);
      expect(ev.changes().filter((s) => s.startsWith('added'))).to.deep.equal(['added(p15)']);
    });
  });
});

// The etcd backend against a real etcd server.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { startEtcd, type EtcdServer } from '@tabby/test-support';
import { AlreadyExistsError, ConflictError, ConnectionError, EtcdDatastore, NotFoundError, type WatchEvent } from '@tabby/datastore';
import type { AnyResource } from '@tabby/api';

function etcdctl(s: EtcdServer, args: string[]): string {
  const extra = s.tls ? ['--cacert', s.tls.caFile, '--cert', s.tls.certFile, '--key', s.tls.keyFile] : [];
  const r = spawnSync('etcdctl', ['--endpoints', s.endpoint, ...extra, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

const pool = (name: string, cidr: string): AnyResource =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr } }) as unknown as AnyResource;
const wep = (ns: string, name: string): AnyResource =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name, namespace: ns }, spec: { interfaceName: 'cali1', node: 'n1' } }) as unknown as AnyResource;

/** Collects watch events and lets a test wait until a condition holds. */
class Events<R> {
  readonly list: WatchEvent<R>[] = [];
  push = (e: WatchEvent<R>) => { this.list.push(e); };
  async until(pred: (l: WatchEvent<R>[]) => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred(this.list)) {
      if (Date.now() > end) throw new Error(`timed out; events: ${JSON.stringify(this.list.map(show))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
function show(e: WatchEvent<unknown>): string {
  if (e.type === 'resync') return `resync(${(e.items as AnyResource[]).map((i) => i.metadata.name).join(',')})`;
  if (e.type === 'error') return `error(${e.error.message})`;
  return `${e.type}(${(e.resource as AnyResource).metadata.name})`;
}

describe('etcd datastore', function () {
  this.timeout(30_000);
  let etcd: EtcdServer;
  let ds: EtcdDatastore;

  before(async () => {
    etcd = await startEtcd();
    ds = new EtcdDatastore({ endpoints: [etcd.endpoint] });
  });
  after(async () => {
    await ds?.close();
    await etcd?.stop();
  });

  it('create stores at the Calico key, sets uid/creationTimestamp and resourceVersion = mod revision', async () => {
    const created = await ds.create(pool('p1', '10.1.0.0/16'));
    const raw = etcdctl(etcd, ['get', '/calico/resources/v3/projectcalico.org/ippools/p1', '-w', 'json']);
    const kv = JSON.parse(raw).kvs[0];
    expect(created.metadata.resourceVersion).to.equal(String(kv.mod_revision));
    const stored = JSON.parse(Buffer.from(kv.value, 'base64').toString());
    expect(stored.metadata.resourceVersion).to.equal(undefined);
    expect(stored.metadata.uid).to.match(/^[0-9a-f-]{36}$/);
    expect(stored.metadata.creationTimestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const got = await ds.get('IPPool', 'p1');
    expect(got).to.deep.equal(created);
  });

  it('create of an existing resource fails with AlreadyExistsError', async () => {
    try {
      await ds.create(pool('p1', '10.9.0.0/16'));
      expect.fail('should have thrown');
    } catch (e) {
      expect(e).to.be.instanceOf(AlreadyExistsError);
      expect((e as Error).message).to.equal('resource already exists: IPPool(p1)');
    }
  });

  it('update is a compare-and-swap on resourceVersion', async () => {
    const cur = await ds.get('IPPool', 'p1');
    const upd = await ds.update({ ...cur, spec: { cidr: '10.1.0.0/16', natOutgoing: true } } as AnyResource);
    expect(Number(upd.metadata.resourceVersion)).to.be.greaterThan(Number(cur.metadata.resourceVersion));
    expect(upd.metadata.uid).to.equal(cur.metadata.uid);
    try {
      await ds.update({ ...cur, spec: { cidr: '10.1.0.0/16' } } as AnyResource); // stale
      expect.fail('stale update must fail');
    } catch (e) {
      expect(e).to.be.instanceOf(ConflictError);
    }
    const after = await ds.get('IPPool', 'p1');
    expect((after.spec as unknown as Record<string, unknown>)['natOutgoing']).to.equal(true);
  });

  it('update without resourceVersion needs the resource to exist; uid cannot be rewritten', async () => {
    const cur = await ds.get('IPPool', 'p1');
    const r = await ds.update({ ...pool('p1', '10.1.0.0/16'), metadata: { name: 'p1', uid: 'forged' } } as AnyResource);
    expect(r.metadata.uid).to.equal(cur.metadata.uid);
    try {
      await ds.update(pool('nope', '10.2.0.0/16'));
      expect.fail('should fail');
    } catch (e) {
      expect(e).to.be.instanceOf(NotFoundError);
      expect((e as Error).message).to.equal('resource does not exist: IPPool(nope)');
    }
  });

  it('namespaced kinds list per namespace and across namespaces', async () => {
    await ds.create(wep('ns1', 'a'));
    await ds.create(wep('ns1', 'b'));
    await ds.create(wep('ns2', 'c'));
    expect(etcdctl(etcd, ['get', '--prefix', '/calico/resources/v3/projectcalico.org/workloadendpoints/', '--keys-only']).split('\n').filter(Boolean)).to.deep.equal([
      '/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/a',
      '/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/b',
      '/calico/resources/v3/projectcalico.org/workloadendpoints/ns2/c',
    ]);
    expect((await ds.list('WorkloadEndpoint', { namespace: 'ns1' })).items.map((i) => i.metadata.name)).to.deep.equal(['a', 'b']);
    expect((await ds.list('WorkloadEndpoint')).items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`)).to.deep.equal(['ns1/a', 'ns1/b', 'ns2/c']);
    await expectReject(ds.get('WorkloadEndpoint', 'a', 'ns2'), NotFoundError);
  });

  it('a corrupt stored value is skipped by list and named by get', async () => {
    etcdctl(etcd, ['put', '/calico/resources/v3/projectcalico.org/ippools/broken', '{not json']);
    expect((await ds.list('IPPool')).items.map((i) => i.metadata.name)).to.deep.equal(['p1']);
    const err = await ds.get('IPPool', 'broken').catch((e: Error) => e);
    expect(String(err)).to.include('/calico/resources/v3/projectcalico.org/ippools/broken');
    etcdctl(etcd, ['del', '/calico/resources/v3/projectcalico.org/ippools/broken']);
  });

  it('IPAM objects go to /calico/ipam/v2 with Calico model JSON', async () => {
    const block = { apiVersion: 'projectcalico.org/v3', kind: 'IPAMBlock', metadata: { name: '10-244-1-0-30' },
      spec: { cidr: '10.244.1.0/30', affinity: 'host:n1', allocations: [0, null, null, null], unallocated: [1, 2, 3], attributes: [{ handle_id: 'h1', secondary: { node: 'n1' } }], strictAffinity: false } };
    await ds.create(block as unknown as AnyResource);
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'BlockAffinity', metadata: { name: 'n1-10-244-1-0-30' }, spec: { node: 'n1', cidr: '10.244.1.0/30', state: 'confirmed' } } as unknown as AnyResource);
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPAMHandle', metadata: { name: 'h1' }, spec: { handleID: 'h1', block: { '10.244.1.0/30': 1 } } } as unknown as AnyResource);
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPAMConfig', metadata: { name: 'default' }, spec: { strictAffinity: true, autoAllocateBlocks: true } } as unknown as AnyResource);
    const val = (k: string) => JSON.parse(etcdctl(etcd, ['get', k, '--print-value-only']));
    expect(val('/calico/ipam/v2/assignment/ipv4/block/10-244-1-0-30')).to.deep.include({ cidr: '10.244.1.0/30', affinity: 'host:n1', allocations: [0, null, null, null], unallocated: [1, 2, 3] });
    expect(val('/calico/ipam/v2/host/n1/ipv4/block/10-244-1-0-30')).to.deep.equal({ state: 'confirmed', deleted: false });
    expect(val('/calico/ipam/v2/handle/h1')).to.deep.equal({ block: { '10.244.1.0/30': 1 }, deleted: false });
    expect(val('/calico/ipam/v2/config')).to.deep.equal({ strict_affinity: true, auto_allocate_blocks: true, maxBlocksPerHost: 0 });
    expect((await ds.get('BlockAffinity', 'n1-10-244-1-0-30')).spec).to.include({ node: 'n1', state: 'confirmed' });
    expect((await ds.list('IPAMBlock')).items.map((b) => b.metadata.name)).to.deep.equal(['10-244-1-0-30']);
    // IPv6 affinity: the name is ambiguous, get still finds it.
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'BlockAffinity', metadata: { name: 'node-a-fd00---122' }, spec: { node: 'node-a', cidr: 'fd00::/122', state: 'pending' } } as unknown as AnyResource);
    expect(etcdctl(etcd, ['get', '/calico/ipam/v2/host/node-a/ipv6/block/fd00---122', '--print-value-only'])).to.include('pending');
    expect((await ds.get('BlockAffinity', 'node-a-fd00---122')).spec).to.include({ node: 'node-a', cidr: 'fd00::/122' });
  });

  it('delete honours resourceVersion and returns the deleted object', async () => {
    const cur = await ds.get('WorkloadEndpoint', 'b', 'ns1');
    await expectReject(ds.delete('WorkloadEndpoint', 'b', 'ns1', { resourceVersion: '1' }), ConflictError);
    const gone = await ds.delete('WorkloadEndpoint', 'b', 'ns1', { resourceVersion: cur.metadata.resourceVersion! });
    expect(gone.metadata.name).to.equal('b');
    await expectReject(ds.delete('WorkloadEndpoint', 'b', 'ns1'), NotFoundError);
  });

  it('watch: resync first, then added/modified/deleted in order', async () => {
    const ev = new Events<AnyResource>();
    const w = await ds.watch('IPPool', {}, ev.push);
    try {
      expect(show(ev.list[0]!)).to.equal('resync(p1)');
      await ds.create(pool('p2', '10.2.0.0/16'));
      const p2 = await ds.get('IPPool', 'p2');
      await ds.update({ ...p2, spec: { cidr: '10.2.0.0/16', disabled: true } } as AnyResource);
      await ds.delete('IPPool', 'p2');
      await ev.until((l) => l.length >= 4);
      expect(ev.list.map(show)).to.deep.equal(['resync(p1)', 'added(p2)', 'modified(p2)', 'deleted(p2)']);
      const del = ev.list[3] as { type: 'deleted'; resource: AnyResource };
      expect((del.resource.spec as unknown as Record<string, unknown>)['disabled'], 'deletes carry the last state').to.equal(true);
    } finally {
      await w.close();
    }
  });

  it('watch resumes after a given revision without loss or duplicates', async () => {
    const { revision } = await ds.list('IPPool');
    await ds.create(pool('p3', '10.3.0.0/16'));
    await ds.create(pool('p4', '10.4.0.0/16'));
    const ev = new Events<AnyResource>();
    const w = await ds.watch('IPPool', { revision }, ev.push);
    try {
      await ds.create(pool('p5', '10.5.0.0/16'));
      await ev.until((l) => l.length >= 3);
      await new Promise((r) => setTimeout(r, 200));
      expect(ev.list.map(show)).to.deep.equal(['added(p3)', 'added(p4)', 'added(p5)']);
    } finally {
      await w.close();
    }
  });

  it('watch from a compacted revision re-lists (resync) and continues', async () => {
    const { revision: old } = await ds.list('IPPool');
    await ds.create(pool('p6', '10.6.0.0/16'));
    const { revision: now } = await ds.list('IPPool');
    etcdctl(etcd, ['compact', now]);
    const ev = new Events<AnyResource>();
    const w = await ds.watch('IPPool', { revision: String(Number(old) - 1) }, ev.push);
    try {
      await ev.until((l) => l.some((e) => e.type === 'resync'));
      const resync = ev.list.find((e) => e.type === 'resync') as { items: AnyResource[] };
      expect(resync.items.map((i) => i.metadata.name)).to.include.members(['p1', 'p6']);
      await ds.create(pool('p7', '10.7.0.0/16'));
      await ev.until((l) => l.some((e) => e.type === 'added' && e.resource.metadata.name === 'p7'));
    } finally {
      await w.close();
    }
  });
});

describe('etcd datastore failures and TLS', function () {
  this.timeout(30_000);

  it('an unreachable endpoint fails fast with a ConnectionError naming it', async () => {
    const ds = new EtcdDatastore({ endpoints: ['http://127.0.0.1:1'] });
    const t0 = Date.now();
    try {
      const err = await ds.list('IPPool').catch((e: Error) => e);
      expect(err).to.be.instanceOf(ConnectionError);
      expect((err as Error).message).to.include('http://127.0.0.1:1');
      expect(Date.now() - t0).to.be.lessThan(8000);
    } finally {
      await ds.close();
    }
  });

  it('connects with CA and client certificate; without the client certificate it is refused', async () => {
    const etcd = await startEtcd({ tls: true });
    try {
      const good = new EtcdDatastore({ endpoints: [etcd.endpoint], caFile: etcd.tls!.caFile, certFile: etcd.tls!.certFile, keyFile: etcd.tls!.keyFile });
      try {
        await good.create(pool('tls', '10.8.0.0/16'));
        expect((await good.get('IPPool', 'tls')).metadata.name).to.equal('tls');
      } finally {
        await good.close();
      }
      const bad = new EtcdDatastore({ endpoints: [etcd.endpoint], caFile: etcd.tls!.caFile, timeoutMs: 2000 });
      try {
        const err = await bad.get('IPPool', 'tls').catch((e: Error) => e);
        expect(err).to.be.instanceOf(ConnectionError);
        expect((err as Error).message).to.include(etcd.endpoint);
      } finally {
        await bad.close();
      }
    } finally {
      await etcd.stop();
    }
  });
});

async function expectReject(p: Promise<unknown>, cls: new (...a: never[]) => Error): Promise<void> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e, `expected ${cls.name}`).to.be.instanceOf(cls);
}

// The datastore contract every backend must keep, as one mocha suite that each backend's test
// file runs with its own server (etcd, the Kubernetes API test server).
import { expect } from 'chai';
import { AlreadyExistsError, ConflictError, NotFoundError, type Datastore, type Watch } from '@tabby/datastore';
import type { AnyResource } from '@tabby/api';
import { Events, expectReject, pool, sleep, specOf } from './helpers.js';

export interface ContractBackend {
  ds: Datastore;
  /** Forgets the store's history up to now: a watch from an older revision must re-list. */
  compact(): Promise<void>;
  /** Takes the client away from the store, runs `during`, then lets it reconnect. */
  outage(during: () => Promise<void> | void): Promise<void>;
  /** Stores an IPPool behind the client's back (works during an outage). */
  putPoolDirect(name: string, cidr: string): void;
  stop(): Promise<void>;
}

const policy = (ns: string, name: string, order = 10): AnyResource =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec: { order, selector: 'all()', types: ['Ingress'] } }) as unknown as AnyResource;

const names = (items: AnyResource[]) => items.map((i) => `${i.metadata.namespace ? i.metadata.namespace + '/' : ''}${i.metadata.name}`).sort();

export function runDatastoreContract(label: string, start: () => Promise<ContractBackend>): void {
  describe(`datastore contract: ${label}`, function () {
    this.timeout(20_000);
    let b: ContractBackend;
    let ds: Datastore;
    const open: Watch[] = [];
    const watch = async (...args: Parameters<Datastore['watch']>) => {
      const w = await ds.watch(...args);
      open.push(w);
      return w;
    };

    before(async () => {
      b = await start();
      ds = b.ds;
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((w) => w.close()));
    });
    after(async () => {
      await b?.stop();
    });

    describe('reads and writes', () => {
      it('create returns the stored object with resourceVersion, uid and creationTimestamp; get returns the same', async () => {
        const created = await ds.create({ ...pool('c1', '10.1.0.0/16'), metadata: { name: 'c1', resourceVersion: '12345', labels: { a: 'b' } } } as AnyResource);
        expect(created.metadata.resourceVersion).to.match(/^\d+$/).and.not.equal('12345');
        expect(created.metadata.uid).to.be.a('string').and.not.equal('');
        expect(created.metadata.creationTimestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        expect(created.metadata.labels).to.deep.equal({ a: 'b' });
        expect(created.spec).to.deep.equal({ cidr: '10.1.0.0/16' });
        expect(await ds.get('IPPool', 'c1')).to.deep.equal(created);
      });

      it('create of an existing resource fails with AlreadyExistsError and changes nothing', async () => {
        const before = await ds.get('IPPool', 'c1');
        await expectReject(ds.create(pool('c1', '10.9.0.0/16')), AlreadyExistsError, 'resource already exists: IPPool(c1)');
        expect(await ds.get('IPPool', 'c1')).to.deep.equal(before);
      });

      it('get of a missing resource fails with NotFoundError', async () => {
        await expectReject(ds.get('IPPool', 'nope'), NotFoundError, 'resource does not exist: IPPool(nope)');
      });

      it('update with resourceVersion is a compare-and-swap', async () => {
        const cur = await ds.get('IPPool', 'c1');
        const upd = await ds.update({ ...cur, spec: { cidr: '10.1.0.0/16', natOutgoing: true } } as AnyResource);
        expect(upd.metadata.resourceVersion).to.not.equal(cur.metadata.resourceVersion);
        expect(Number(upd.metadata.resourceVersion)).to.be.greaterThan(Number(cur.metadata.resourceVersion));
        expect(upd.metadata.uid).to.equal(cur.metadata.uid);
        expect(upd.metadata.creationTimestamp).to.equal(cur.metadata.creationTimestamp);
        const stale = await expectReject(ds.update({ ...cur, spec: { cidr: '10.1.0.0/16' } } as AnyResource), ConflictError);
        expect(stale.message).to.equal(`update conflict: IPPool(c1): resourceVersion ${cur.metadata.resourceVersion} does not match the stored ${upd.metadata.resourceVersion}`);
        expect(specOf(await ds.get('IPPool', 'c1'))['natOutgoing']).to.equal(true);
      });

      it('update without resourceVersion needs the resource to exist and keeps uid/creationTimestamp', async () => {
        const cur = await ds.get('IPPool', 'c1');
        const r = await ds.update({ ...pool('c1', '10.1.0.0/16', { disabled: true }), metadata: { name: 'c1', uid: 'forged', creationTimestamp: '1999-01-01T00:00:00Z' } } as AnyResource);
        expect(r.metadata.uid).to.equal(cur.metadata.uid);
        expect(r.metadata.creationTimestamp).to.equal(cur.metadata.creationTimestamp);
        expect(specOf(await ds.get('IPPool', 'c1'))['disabled']).to.equal(true);
        await expectReject(ds.update(pool('nope', '10.2.0.0/16')), NotFoundError, 'resource does not exist: IPPool(nope)');
        await expectReject(ds.update({ ...pool('nope', '10.2.0.0/16'), metadata: { name: 'nope', resourceVersion: '3' } } as AnyResource), NotFoundError);
      });

      it('delete honours resourceVersion and returns the deleted object', async () => {
        const cur = await ds.create(pool('c2', '10.2.0.0/16'));
        await expectReject(ds.delete('IPPool', 'c2', undefined, { resourceVersion: '1' }), ConflictError, /^update conflict: IPPool\(c2\)/);
        expect(await ds.get('IPPool', 'c2')).to.deep.equal(cur);
        const gone = await ds.delete('IPPool', 'c2', undefined, { resourceVersion: cur.metadata.resourceVersion! });
        expect(gone).to.deep.equal(cur);
        await expectReject(ds.get('IPPool', 'c2'), NotFoundError);
        await expectReject(ds.delete('IPPool', 'c2'), NotFoundError, 'resource does not exist: IPPool(c2)');
      });

      it('namespaced kinds: list per namespace and across namespaces, get within one', async () => {
        await ds.create(policy('ns1', 'a'));
        await ds.create(policy('ns1', 'b'));
        await ds.create(policy('ns2', 'c'));
        expect(names((await ds.list('NetworkPolicy', { namespace: 'ns1' })).items)).to.deep.equal(['ns1/a', 'ns1/b']);
        expect(names((await ds.list('NetworkPolicy')).items)).to.deep.equal(['ns1/a', 'ns1/b', 'ns2/c']);
        expect((await ds.list('NetworkPolicy', { namespace: 'ns3' })).items).to.deep.equal([]);
        expect((await ds.get('NetworkPolicy', 'c', 'ns2')).metadata.namespace).to.equal('ns2');
        await expectReject(ds.get('NetworkPolicy', 'c', 'ns1'), NotFoundError, 'resource does not exist: NetworkPolicy(ns1/c)');
        await expectReject(ds.create(policy('ns1', 'a')), AlreadyExistsError, 'resource already exists: NetworkPolicy(ns1/a)');
        await ds.delete('NetworkPolicy', 'a', 'ns1');
        expect(names((await ds.list('NetworkPolicy')).items)).to.deep.equal(['ns1/b', 'ns2/c']);
      });

      it('IPAM objects: create, read back, compare-and-swap updates and deletes', async () => {
        const block = { apiVersion: 'projectcalico.org/v3', kind: 'IPAMBlock', metadata: { name: '10-244-1-0-30' },
          spec: { cidr: '10.244.1.0/30', affinity: 'host:n1', allocations: [0, null, null, null], unallocated: [1, 2, 3],
            attributes: [{ handle_id: 'h1', secondary: { node: 'n1' } }], strictAffinity: false, sequenceNumber: 0, sequenceNumberForAllocation: {}, deleted: false } };
        const b1 = await ds.create(block as unknown as AnyResource);
        expect((await ds.get('IPAMBlock', '10-244-1-0-30')).spec).to.deep.equal(block.spec);
        const next = { ...b1, spec: { ...b1.spec, allocations: [0, 0, null, null], unallocated: [2, 3], sequenceNumber: 1 } };
        const b2 = await ds.update(next as AnyResource);
        expect(specOf(b2)['sequenceNumber']).to.equal(1);
        await expectReject(ds.update(next as AnyResource), ConflictError);
        await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'BlockAffinity', metadata: { name: 'n1-10-244-1-0-30' }, spec: { node: 'n1', cidr: '10.244.1.0/30', state: 'pending', type: 'host', deleted: false } } as unknown as AnyResource);
        const aff = await ds.get('BlockAffinity', 'n1-10-244-1-0-30');
        expect(aff.spec).to.deep.equal({ state: 'pending', node: 'n1', cidr: '10.244.1.0/30', type: 'host', deleted: false });
        const confirmed = await ds.update({ ...aff, spec: { ...aff.spec, state: 'confirmed' } } as AnyResource);
        expect(specOf(confirmed)['state']).to.equal('confirmed');
        await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPAMHandle', metadata: { name: 'h1' }, spec: { handleID: 'h1', block: { '10.244.1.0/30': 2 }, deleted: false } } as unknown as AnyResource);
        expect((await ds.get('IPAMHandle', 'h1')).spec).to.deep.equal({ handleID: 'h1', block: { '10.244.1.0/30': 2 }, deleted: false });
        await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPAMConfig', metadata: { name: 'default' }, spec: { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 0 } } as unknown as AnyResource);
        expect((await ds.get('IPAMConfig', 'default')).spec).to.deep.equal({ strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 0 });
        await expectReject(ds.delete('IPAMBlock', '10-244-1-0-30', undefined, { resourceVersion: b1.metadata.resourceVersion! }), ConflictError);
        await ds.delete('IPAMBlock', '10-244-1-0-30', undefined, { resourceVersion: b2.metadata.resourceVersion! });
        await expectReject(ds.get('IPAMBlock', '10-244-1-0-30'), NotFoundError);
        expect((await ds.list('BlockAffinity')).items.map((i) => i.metadata.name)).to.deep.equal(['n1-10-244-1-0-30']);
      });
    });

    describe('watch', () => {
      it('starts with a resync, then added/modified/deleted in order; deletes carry the last state', async () => {
        const ev = new Events();
        await watch('IPPool', {}, ev.push);
        expect(ev.shown()).to.deep.equal(['resync(c1)']);
        const p2 = await ds.create(pool('w2', '10.2.0.0/16'));
        await ds.update({ ...p2, spec: { cidr: '10.2.0.0/16', disabled: true } } as AnyResource);
        await ds.delete('IPPool', 'w2');
        await ev.until((l) => l.length >= 4);
        expect(ev.shown()).to.deep.equal(['resync(c1)', 'added(w2)', 'modified(w2)', 'deleted(w2)']);
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
        await watch('NetworkPolicy', { namespace: 'ns3' }, one.push);
        await watch('NetworkPolicy', {}, all.push);
        await ds.create(policy('ns4', 'x'));
        await ds.create(policy('ns3', 'y'));
        await all.until((l) => l.length >= 3);
        await one.until((l) => l.length >= 2);
        await sleep(100);
        expect(one.shown()).to.deep.equal(['resync()', 'added(y)']);
        expect(all.shown()).to.deep.equal(['resync(b,c)', 'added(x)', 'added(y)']);
      });

      it('resumes after a given revision without loss or duplicates', async () => {
        const { revision } = await ds.list('IPPool');
        await ds.create(pool('r3', '10.3.0.0/16'));
        await ds.create(pool('r4', '10.4.0.0/16'));
        const ev = new Events();
        await watch('IPPool', { revision }, ev.push);
        await ds.create(pool('r5', '10.5.0.0/16'));
        await ev.until((l) => l.length >= 3);
        await sleep(200);
        expect(ev.shown()).to.deep.equal(['added(r3)', 'added(r4)', 'added(r5)']);
      });

      it('a compacted start revision leads to a resync with the current state, then continues', async () => {
        const { revision: old } = await ds.list('IPPool');
        await ds.create(pool('r7', '10.7.0.0/16'));
        await b.compact();
        const ev = new Events();
        await watch('IPPool', { revision: old }, ev.push);
        await ev.until((l) => l.length >= 1);
        expect(ev.list[0]?.type).to.equal('resync');
        expect((ev.list[0] as { items: AnyResource[] }).items.map((i) => i.metadata.name).sort()).to.deep.equal(['c1', 'r3', 'r4', 'r5', 'r7']);
        await ds.create(pool('r8', '10.8.0.0/16'));
        await ev.until((l) => l.length >= 2);
        await sleep(100);
        expect(ev.changes().slice(1)).to.deep.equal(['added(r8)']);
      });

      it('an outage is reported once as an error; what changed meanwhile arrives exactly once after it', async () => {
        const ev = new Events();
        await watch('IPPool', {}, ev.push);
        await b.outage(async () => {
          await ev.until((l) => l.some((e) => e.type === 'error'), 10_000);
          b.putPoolDirect('o1', '10.61.0.0/16');
        });
        await ev.until((l) => l.some((e) => e.type === 'added'), 10_000);
        await ds.create(pool('o2', '10.62.0.0/16'));
        await ev.until((l) => l.filter((e) => e.type === 'added').length >= 2, 10_000);
        await sleep(200);
        expect(ev.changes().slice(1)).to.deep.equal(['added(o1)', 'added(o2)']);
        const errors = ev.list.filter((e) => e.type === 'error');
        expect(errors, 'one report per outage').to.have.length(1);
        expect(errors[0]!.type === 'error' && errors[0]!.error.name).to.equal('ConnectionError');
      });

      it('close() stops delivery', async () => {
        const ev = new Events();
        const w = await watch('IPPool', {}, ev.push);
        await w.close();
        await ds.create(pool('r9', '10.9.0.0/16'));
        await sleep(200);
        expect(ev.shown()).to.have.length(1);
      });
    });
  });
}

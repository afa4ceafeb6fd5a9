// The etcd backend's reads and writes against a real etcd, checked against the raw keys.
import { expect } from 'chai';
import { startEtcd, type EtcdServer } from '@tabby/test-support';
import {
  AlreadyExistsError, ConflictError, EtcdDatastore, InvalidArgumentError, NotFoundError,
} from '@tabby/datastore';
import type { AnyResource } from '@tabby/api';
import { expectReject, pool, specOf, wep } from './helpers.js';

describe('etcd datastore: reads and writes', function () {
  this.timeout(20_000);
  let etcd: EtcdServer;
  let ds: EtcdDatastore;
  /** The raw value at a key, parsed, and its mod revision. */
  const raw = (key: string): { value: Record<string, unknown>; modRevision: string } => {
    const kv = JSON.parse(etcd.etcdctl('get', key, '-w', 'json')).kvs?.[0];
    if (!kv) throw new Error(`no key ${key}`);
    return { value: JSON.parse(Buffer.from(kv.value, 'base64').toString()), modRevision: String(kv.mod_revision) };
  };
  const keys = (prefix: string) => etcd.etcdctl('get', '--prefix', prefix, '--keys-only').split('\n').filter(Boolean);

  before(async () => {
    etcd = await startEtcd();
    ds = new EtcdDatastore({ endpoints: [etcd.endpoint] });
  });
  after(async () => {
    await ds?.close();
    await etcd?.stop();
  });

  it('create stores the JSON without resourceVersion at the Calico key; resourceVersion is the mod revision', async () => {
    const created = await ds.create({ ...pool('p1', '10.1.0.0/16'), metadata: { name: 'p1', resourceVersion: '12345' } } as AnyResource);
    const { value, modRevision } = raw('/calico/resources/v3/projectcalico.org/ippools/p1');
    expect(created.metadata.resourceVersion).to.equal(modRevision);
    expect(value).to.deep.equal({
      apiVersion: 'projectcalico.org/v3', kind: 'IPPool', spec: { cidr: '10.1.0.0/16' },
      metadata: { name: 'p1', uid: created.metadata.uid, creationTimestamp: created.metadata.creationTimestamp },
    });
    expect(created.metadata.uid).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(created.metadata.creationTimestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(await ds.get('IPPool', 'p1')).to.deep.equal(created);
  });

  it('create keeps a uid and creationTimestamp it is given', async () => {
    const r = await ds.create({ ...pool('p0', '10.0.0.0/16'), metadata: { name: 'p0', uid: 'u-1', creationTimestamp: '2020-01-01T00:00:00Z' } } as AnyResource);
    expect(r.metadata).to.include({ uid: 'u-1', creationTimestamp: '2020-01-01T00:00:00Z' });
    await ds.delete('IPPool', 'p0');
  });

  it('create of an existing resource fails with AlreadyExistsError and changes nothing', async () => {
    const before = raw('/calico/resources/v3/projectcalico.org/ippools/p1');
    await expectReject(ds.create(pool('p1', '10.9.0.0/16')), AlreadyExistsError, 'resource already exists: IPPool(p1)');
    expect(raw('/calico/resources/v3/projectcalico.org/ippools/p1')).to.deep.equal(before);
  });

  it('get of a missing resource fails with NotFoundError', async () => {
    await expectReject(ds.get('IPPool', 'nope'), NotFoundError, 'resource does not exist: IPPool(nope)');
    await expectReject(ds.get('IPPool', 'a/b'), InvalidArgumentError);
  });

  it('update with resourceVersion is a compare-and-swap', async () => {
    const cur = await ds.get('IPPool', 'p1');
    const upd = await ds.update({ ...cur, spec: { cidr: '10.1.0.0/16', natOutgoing: true } } as AnyResource);
    expect(Number(upd.metadata.resourceVersion)).to.be.greaterThan(Number(cur.metadata.resourceVersion));
    expect(upd.metadata.resourceVersion).to.equal(raw('/calico/resources/v3/projectcalico.org/ippools/p1').modRevision);
    expect(upd.metadata.uid).to.equal(cur.metadata.uid);
    const stale = await expectReject(ds.update({ ...cur, spec: { cidr: '10.1.0.0/16' } } as AnyResource), ConflictError);
    expect(stale.message).to.equal(`update conflict: IPPool(p1): resourceVersion ${cur.metadata.resourceVersion} does not match the stored ${upd.metadata.resourceVersion}`);
    expect(specOf(await ds.get('IPPool', 'p1'))['natOutgoing']).to.equal(true);
    expect(raw('/calico/resources/v3/projectcalico.org/ippools/p1').value).to.not.have.nested.property('metadata.resourceVersion');
  });

  it('update without resourceVersion needs the resource to exist and keeps uid/creationTimestamp', async () => {
    const cur = await ds.get('IPPool', 'p1');
    const r = await ds.update({ ...pool('p1', '10.1.0.0/16'), metadata: { name: 'p1', uid: 'forged', creationTimestamp: '1999-01-01T00:00:00Z' } } as AnyResource);
    expect(r.metadata.uid).to.equal(cur.metadata.uid);
    expect(r.metadata.creationTimestamp).to.equal(cur.metadata.creationTimestamp);
    expect(raw('/calico/resources/v3/projectcalico.org/ippools/p1').value).to.have.nested.property('metadata.uid', cur.metadata.uid);
    await expectReject(ds.update(pool('nope', '10.2.0.0/16')), NotFoundError, 'resource does not exist: IPPool(nope)');
    await expectReject(ds.update({ ...pool('nope', '10.2.0.0/16'), metadata: { name: 'nope', resourceVersion: '3' } } as AnyResource), NotFoundError);
  });

  it('namespaced kinds: exact keys, list per namespace and across namespaces', async () => {
    await ds.create(wep('ns1', 'a'));
    await ds.create(wep('ns1', 'b'));
    await ds.create(wep('ns2', 'c'));
    expect(keys('/calico/resources/v3/projectcalico.org/workloadendpoints/')).to.deep.equal([
      '/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/a',
      '/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/b',
      '/calico/resources/v3/projectcalico.org/workloadendpoints/ns2/c',
    ]);
    expect(raw('/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/a').value['metadata']).to.include({ name: 'a', namespace: 'ns1' });
    const ns1 = await ds.list('WorkloadEndpoint', { namespace: 'ns1' });
    expect(ns1.items.map((i) => i.metadata.name)).to.deep.equal(['a', 'b']);
    const all = await ds.list('WorkloadEndpoint');
    expect(all.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`)).to.deep.equal(['ns1/a', 'ns1/b', 'ns2/c']);
    expect(Number(all.revision)).to.be.at.least(Number(all.items[2]!.metadata.resourceVersion));
    expect((await ds.list('WorkloadEndpoint', { namespace: 'ns3' })).items).to.deep.equal([]);
    expect((await ds.get('WorkloadEndpoint', 'c', 'ns2')).metadata.namespace).to.equal('ns2');
    await expectReject(ds.get('WorkloadEndpoint', 'a', 'ns2'), NotFoundError, 'resource does not exist: WorkloadEndpoint(ns2/a)');
    await expectReject(ds.create(wep('', 'x')), InvalidArgumentError, /namespace is required/);
  });

  it('a corrupt stored value is skipped (and logged) by list, named by get, and can be deleted', async () => {
    etcd.etcdctl('put', '/calico/resources/v3/projectcalico.org/ippools/broken', '{not json');
    expect((await ds.list('IPPool')).items.map((i) => i.metadata.name)).to.deep.equal(['p1']);
    const err = await expectReject(ds.get('IPPool', 'broken'), Error);
    expect(err.name).to.equal('DecodeError');
    expect(err.message).to.include('/calico/resources/v3/projectcalico.org/ippools/broken');
    const gone = await ds.delete('IPPool', 'broken');
    expect(gone.metadata.name).to.equal('broken');
    expect(keys('/calico/resources/v3/projectcalico.org/ippools/broken')).to.deep.equal([]);
  });

  it('delete honours resourceVersion and returns the deleted object', async () => {
    const cur = await ds.get('WorkloadEndpoint', 'b', 'ns1');
    await expectReject(ds.delete('WorkloadEndpoint', 'b', 'ns1', { resourceVersion: '1' }), ConflictError);
    expect(keys('/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/b')).to.have.length(1);
    const gone = await ds.delete('WorkloadEndpoint', 'b', 'ns1', { resourceVersion: cur.metadata.resourceVersion! });
    expect(gone).to.deep.equal(cur);
    await expectReject(ds.delete('WorkloadEndpoint', 'b', 'ns1'), NotFoundError);
  });

  it('IPAM objects are stored at libcalico-go keys with its model JSON', async () => {
    const block = { apiVersion: 'projectcalico.org/v3', kind: 'IPAMBlock', metadata: { name: '10-244-1-0-30' },
      spec: { cidr: '10.244.1.0/30', affinity: 'host:n1', allocations: [0, null, null, null], unallocated: [1, 2, 3],
        attributes: [{ handle_id: 'h1', secondary: { node: 'n1' } }], strictAffinity: false } };
    const b = await ds.create(block as unknown as AnyResource);
    expect(b.metadata).to.deep.equal({ name: '10-244-1-0-30', resourceVersion: b.metadata.resourceVersion });
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'BlockAffinity', metadata: { name: 'n1-10-244-1-0-30' }, spec: { node: 'n1', cidr: '10.244.1.0/30', state: 'confirmed' } } as unknown as AnyResource);
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPAMHandle', metadata: { name: 'h1' }, spec: { handleID: 'h1', block: { '10.244.1.0/30': 1 } } } as unknown as AnyResource);
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPAMConfig', metadata: { name: 'default' }, spec: { strictAffinity: true, autoAllocateBlocks: true } } as unknown as AnyResource);
    expect(keys('/calico/ipam/v2/')).to.deep.equal([
      '/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-30',
      '/calico/ipam/v2/config',
      '/calico/ipam/v2/handle/h1',
      '/calico/ipam/v2/host/n1/ipv4/block/10.244.1.0-30',
    ]);
    expect(raw('/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-30').value).to.deep.equal({
      cidr: '10.244.1.0/30', affinity: 'host:n1', strictAffinity: false, allocations: [0, null, null, null], unallocated: [1, 2, 3],
      attributes: [{ handle_id: 'h1', secondary: { node: 'n1' } }], sequenceNumber: 0, sequenceNumberForAllocation: {}, deleted: false,
    });
    expect(raw('/calico/ipam/v2/host/n1/ipv4/block/10.244.1.0-30').value).to.deep.equal({ state: 'confirmed', deleted: false });
    expect(raw('/calico/ipam/v2/handle/h1').value).to.deep.equal({ block: { '10.244.1.0/30': 1 }, deleted: false });
    expect(raw('/calico/ipam/v2/config').value).to.deep.equal({ strict_affinity: true, auto_allocate_blocks: true, maxBlocksPerHost: 0 });
    expect((await ds.get('BlockAffinity', 'n1-10-244-1-0-30')).spec).to.deep.equal({ state: 'confirmed', node: 'n1', cidr: '10.244.1.0/30', type: 'host', deleted: false });
    expect((await ds.get('IPAMConfig', 'default')).spec).to.deep.equal({ strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 0 });
    expect((await ds.list('IPAMBlock')).items.map((i) => i.metadata.name)).to.deep.equal(['10-244-1-0-30']);
    expect((await ds.list('IPAMConfig')).items.map((i) => i.metadata.name)).to.deep.equal(['default']);
  });

  it('IPAM writes are compare-and-swap on the mod revision', async () => {
    const b = await ds.get('IPAMBlock', '10-244-1-0-30');
    const next = { ...b, spec: { ...b.spec, allocations: [0, 0, null, null], unallocated: [2, 3], sequenceNumber: 1 } };
    const done = await ds.update(next as AnyResource);
    expect(raw('/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-30').value).to.include({ sequenceNumber: 1 });
    await expectReject(ds.update(next as AnyResource), ConflictError);
    await expectReject(ds.delete('IPAMBlock', '10-244-1-0-30', undefined, { resourceVersion: b.metadata.resourceVersion! }), ConflictError);
    await ds.delete('IPAMBlock', '10-244-1-0-30', undefined, { resourceVersion: done.metadata.resourceVersion! });
    await expectReject(ds.get('IPAMBlock', '10-244-1-0-30'), NotFoundError);
  });

  it('reads IPAM data written by Calico and finds IPv6 affinities by their ambiguous names', async () => {
    etcd.etcdctl('put', '/calico/ipam/v2/host/node-abc/ipv6/block/fd00::-122', '{"state":"pending","deleted":false}');
    etcd.etcdctl('put', '/calico/ipam/v2/host/node/ipv6/block/fd00:1::-122', '');
    const a = await ds.get('BlockAffinity', 'node-abc-fd00---122');
    expect(a.spec).to.deep.equal({ state: 'pending', node: 'node-abc', cidr: 'fd00::/122', type: 'host', deleted: false });
    expect((await ds.get('BlockAffinity', 'node-fd00-1---122')).spec).to.include({ state: 'confirmed', node: 'node' });
    expect((await ds.list('BlockAffinity')).items.map((i) => i.metadata.name).sort()).to.deep.equal(['n1-10-244-1-0-30', 'node-abc-fd00---122', 'node-fd00-1---122']);
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'BlockAffinity', metadata: { name: 'n2-fd00-2---122' }, spec: { node: 'n2', cidr: 'fd00:2::/122', state: 'confirmed' } } as unknown as AnyResource);
    expect(keys('/calico/ipam/v2/host/n2/')).to.deep.equal(['/calico/ipam/v2/host/n2/ipv6/block/fd00:2::-122']);
    await ds.delete('BlockAffinity', 'node-abc-fd00---122');
    expect(keys('/calico/ipam/v2/host/node-abc/')).to.deep.equal([]);
  });
});

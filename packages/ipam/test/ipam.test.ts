// BlockAffinityIpam against a real etcd: claims, assignment, borrowing, strict affinity, block
// limits, release (by handle and address), empty blocks, node removal, and the read side.
import { expect } from 'chai';
import { startEtcd, type EtcdServer } from '@tabby/test-support';
import { EtcdDatastore } from '@tabby/datastore';
import {
  BlockAffinityIpam, blockOrder, borrowedAddresses, checkIpam, IpamError, IpamExhaustedError, ipamUsage, lookupAddress, poolOf,
} from '@tabby/ipam';
import { API_VERSION } from '@tabby/api';
import { addNode, addPool, expectConsistent, setConfig } from './helpers.js';

describe('BlockAffinityIpam on etcd', function () {
  this.timeout(60_000);
  let etcd: EtcdServer;
  let ds: EtcdDatastore;
  let ipam: BlockAffinityIpam;

  before(async () => {
    etcd = await startEtcd();
    ds = new EtcdDatastore({ endpoints: [etcd.endpoint] });
    ipam = new BlockAffinityIpam(ds);
  });
  after(async () => {
    await ds?.close();
    await etcd?.stop();
  });
  beforeEach(async () => {
    etcd.etcdctl('del', '--prefix', '/calico/');
    await addNode(ds, 'n1', { rack: 'r1' });
    await addNode(ds, 'n2');
  });

  const raw = (key: string) => JSON.parse(etcd.etcdctl('get', key, '--print-value-only'));
  const keys = (prefix: string) => etcd.etcdctl('get', '--prefix', prefix, '--keys-only').split('\n').filter(Boolean).sort();
  const orderOf = (name: string, spec: Parameters<typeof addPool>[2], host: string) =>
    [...blockOrder(poolOf({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name }, spec })!, host)];

  it('claims the first block in the host\'s walking order and stores it as Calico does', async () => {
    const spec = { cidr: '10.10.0.0/24', blockSize: 28 };
    await addPool(ds, 'p', spec);
    const first = orderOf('p', spec, 'n1')[0]!;
    const res = await ipam.autoAssign({ num4: 1, num6: 0, handleID: 'k8s-pod-network.c1', hostname: 'n1', attrs: { namespace: 'default', pod: 'web' } });
    const base = first.split('/')[0]!;
    expect(res).to.deep.equal({ ipv4: [{ cidr: `${base}/28`, address: base, block: first, borrowed: false }], ipv6: [] });

    const seg = first.replace('/', '-');
    const block = raw(`/calico/ipam/v2/assignment/ipv4/block/${seg}`);
    expect(Object.keys(block)).to.deep.equal(['cidr', 'affinity', 'affinity_claim_time', 'strictAffinity', 'allocations', 'unallocated', 'attributes', 'sequenceNumber', 'sequenceNumberForAllocation', 'deleted']);
    expect(block).to.deep.include({
      cidr: first, affinity: 'host:n1', strictAffinity: false, deleted: false,
      allocations: [0, ...new Array(15).fill(null)],
      unallocated: Array.from({ length: 15 }, (_, i) => i + 1),
      attributes: [{ handle_id: 'k8s-pod-network.c1', secondary: { namespace: 'default', pod: 'web', node: 'n1' } }],
    });
    expect(block.sequenceNumberForAllocation).to.have.keys('0');
    expect(raw(`/calico/ipam/v2/host/n1/ipv4/block/${seg}`)).to.deep.equal({ state: 'confirmed', deleted: false });
    expect(raw('/calico/ipam/v2/handle/k8s-pod-network.c1')).to.deep.equal({ block: { [first]: 1 }, deleted: false });
    expect(await ipam.ipsByHandle('k8s-pod-network.c1')).to.deep.equal([base]);
    await expectConsistent(ds);
  });

  it('fills the affine block before claiming the next one; released addresses are reused last', async () => {
    await addPool(ds, 'p', { cidr: '10.20.0.0/24', blockSize: 30 });
    const a = await ipam.autoAssign({ num4: 3, num6: 0, handleID: 'h-a', hostname: 'n1' });
    const blockA = a.ipv4[0]!.block;
    expect(a.ipv4.every((x) => x.block === blockA)).to.equal(true);
    const b = await ipam.autoAssign({ num4: 3, num6: 0, handleID: 'h-b', hostname: 'n1' });
    expect(b.ipv4[0]!.block).to.equal(blockA);
    expect(b.ipv4[1]!.block).to.not.equal(blockA);
    expect((await ds.list('BlockAffinity')).items.map((x) => x.spec.cidr).sort()).to.deep.equal([blockA, b.ipv4[1]!.block].sort());

    expect(await ipam.releaseIPs([a.ipv4[0]!.address])).to.deep.equal([]);
    const blk = await ds.get('IPAMBlock', blockA.replace(/[./]/g, '-'));
    expect(blk.spec.unallocated).to.deep.equal([0]);
    const c = await ipam.autoAssign({ num4: 1, num6: 0, handleID: 'h-c', hostname: 'n1' });
    expect(c.ipv4[0]!.address).to.equal(a.ipv4[0]!.address);
    await expectConsistent(ds);
  });

  it('releaseByHandle frees everything under the handle, deletes the handle, and is idempotent', async () => {
    await addPool(ds, 'p', { cidr: '10.30.0.0/24', blockSize: 29 });
    await ipam.autoAssign({ num4: 2, num6: 0, handleID: 'keep', hostname: 'n1' });
    const r = await ipam.autoAssign({ num4: 3, num6: 0, handleID: 'gone', hostname: 'n1' });
    const released = await ipam.releaseByHandle('gone');
    expect(released).to.deep.equal(r.ipv4.map((x) => x.address));
    expect(keys('/calico/ipam/v2/handle/')).to.deep.equal(['/calico/ipam/v2/handle/keep']);
    const blk = (await ds.list('IPAMBlock')).items[0]!;
    expect(blk.spec.unallocated.slice(-3)).to.deep.equal([2, 3, 4]);
    expect(await ipam.releaseByHandle('gone')).to.deep.equal([]);
    expect(await ipam.ipsByHandle('gone')).to.deep.equal([]);
    await expectConsistent(ds);
  });

  it('an emptied block gives up its affinity and is deleted', async () => {
    await addPool(ds, 'p', { cidr: '10.40.0.0/24', blockSize: 28 });
    const r = await ipam.autoAssign({ num4: 2, num6: 0, handleID: 'h', hostname: 'n1' });
    expect(keys('/calico/ipam/')).to.have.length(3);
    await ipam.releaseIPs([r.ipv4[0]!.address]);
    expect(keys('/calico/ipam/')).to.have.length(3);
    await ipam.releaseIPs([r.ipv4[1]!.address]);
    expect(keys('/calico/ipam/')).to.deep.equal([]);
  });

  it('borrows from another node\'s block when the pool has no free block, unless strictAffinity', async () => {
    await addPool(ds, 'p', { cidr: '10.50.0.0/29', blockSize: 30 });
    const a = await ipam.autoAssign({ num4: 5, num6: 0, handleID: 'a', hostname: 'n1' });
    expect(new Set(a.ipv4.map((x) => x.block)).size).to.equal(2);
    const b = await ipam.autoAssign({ num4: 2, num6: 0, handleID: 'b', hostname: 'n2', attrs: { namespace: 'ns', pod: 'p2' } });
    expect(b.ipv4.map((x) => x.borrowed)).to.deep.equal([true, true]);
    const { borrowed, unclassified } = await borrowedAddresses(ds);
    expect(unclassified).to.equal(0);
    expect(borrowed.map((x) => [x.address, x.borrowingNode, x.blockOwner, x.type, x.allocatedTo])).to.deep.equal(
      b.ipv4.map((x) => [x.address, 'n2', 'n1', 'pod', 'ns/p2']));
    await ipam.releaseByHandle('b');

    await setConfig(ds, { strictAffinity: true, autoAllocateBlocks: true });
    let err: unknown;
    try {
      await ipam.autoAssign({ num4: 1, num6: 0, handleID: 'c', hostname: 'n2' });
    } catch (e) { err = e; }
    expect(err).to.be.instanceOf(IpamExhaustedError);
    expect((err as Error).message).to.equal('IPv4: assigned 0 of 1 addresses: No more free affine blocks and strict affinity enabled');
    expect(keys('/calico/ipam/v2/handle/')).to.deep.equal(['/calico/ipam/v2/handle/a']);
    await expectConsistent(ds);
  });

  it('honours maxBlocksPerHost and leaves nothing assigned when it cannot satisfy a request', async () => {
    await addPool(ds, 'p', { cidr: '10.60.0.0/24', blockSize: 30 });
    await setConfig(ds, { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 1 });
    let err: unknown;
    try {
      await ipam.autoAssign({ num4: 5, num6: 0, handleID: 'big', hostname: 'n1' });
    } catch (e) { err = e; }
    expect((err as Error).message).to.equal('IPv4: assigned 4 of 5 addresses: Need to allocate an IPAM block but could not - limit of 1 blocks reached for this node');
    expect(keys('/calico/ipam/')).to.deep.equal(['/calico/ipam/v2/config']);
    const ok = await ipam.autoAssign({ num4: 4, num6: 0, handleID: 'fits', hostname: 'n1' });
    expect(new Set(ok.ipv4.map((x) => x.block)).size).to.equal(1);
    // The request's own limit is used when smaller.
    await ipam.releaseByHandle('fits');
    try {
      await ipam.autoAssign({ num4: 1, num6: 0, handleID: 'x', hostname: 'n1', maxBlocksPerHost: 1 });
      await ipam.autoAssign({ num4: 4, num6: 0, handleID: 'y', hostname: 'n1', maxBlocksPerHost: 1 });
      expect.fail('second request should hit the limit');
    } catch (e) {
      expect(e).to.be.instanceOf(IpamExhaustedError);
    }
    await expectConsistent(ds);
  });

  it('uses only pools whose nodeSelector matches the node, and IPv6 /122 blocks', async () => {
    await addPool(ds, 'rack1', { cidr: '10.70.0.0/24', nodeSelector: "rack == 'r1'" });
    await addPool(ds, 'other', { cidr: '10.71.0.0/24', nodeSelector: "rack == 'r9'" });
    await addPool(ds, 'v6', { cidr: 'fd00:70::/120' });
    const r1 = await ipam.autoAssign({ num4: 1, num6: 1, handleID: 'h1', hostname: 'n1' });
    expect(r1.ipv4[0]!.address.startsWith('10.70.0.')).to.equal(true);
    expect(r1.ipv4[0]!.cidr).to.match(/\/26$/);
    expect(r1.ipv6[0]!.cidr).to.match(/^fd00:70::[0-9a-f]+\/122$/);
    expect(keys('/calico/ipam/v2/host/n1/ipv6/')).to.have.length(1);
    let err: unknown;
    try { await ipam.autoAssign({ num4: 1, num6: 0, handleID: 'h2', hostname: 'n2' }); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(IpamError);
    expect((err as Error).message).to.equal('no configured Calico pools for node n2');
    await expectConsistent(ds);
  });

  it('when IPv6 fails after IPv4 succeeded, the IPv4 addresses are released again', async () => {
    await addPool(ds, 'p', { cidr: '10.80.0.0/24' });
    try {
      await ipam.autoAssign({ num4: 1, num6: 1, handleID: 'dual', hostname: 'n1' });
      expect.fail('no IPv6 pool');
    } catch (e) {
      expect((e as Error).message).to.equal('no configured Calico pools for node n1');
    }
    expect(keys('/calico/ipam/')).to.deep.equal([]);
  });

  it('assignIP takes one given address; taken and out-of-pool addresses fail clearly', async () => {
    await addPool(ds, 'p', { cidr: '10.90.0.0/24' });
    const got = await ipam.assignIP({ address: '10.90.0.77', handleID: 'fixed', hostname: 'n2', attrs: { type: 'ipipTunnelAddress' } });
    expect(got).to.deep.equal({ cidr: '10.90.0.77/26', address: '10.90.0.77', block: '10.90.0.64/26', borrowed: false });
    expect((await ds.get('IPAMBlock', '10-90-0-64-26')).spec.affinity).to.equal('host:n2');
    let err: unknown;
    try { await ipam.assignIP({ address: '10.90.0.77', handleID: 'again', hostname: 'n2' }); } catch (e) { err = e; }
    expect((err as Error).message).to.equal('Address 10.90.0.77 is already assigned in block 10.90.0.64/26');
    try { await ipam.assignIP({ address: '10.91.0.1', handleID: 'again', hostname: 'n2' }); } catch (e) { err = e; }
    expect((err as Error).message).to.equal('The provided IP address 10.91.0.1 is not in a configured pool');
    const info = await lookupAddress(ds, '10.90.0.77');
    expect(info).to.deep.equal({ address: '10.90.0.77', block: '10.90.0.64/26', blockAffinity: 'host:n2', handleID: 'fixed', attrs: { type: 'ipipTunnelAddress', node: 'n2' }, alternateAttrs: {} });
    expect(await lookupAddress(ds, '10.90.0.78')).to.equal(undefined);
    await expectConsistent(ds);
  });

  it('releaseIPs reports addresses that were not allocated and refuses bad input before writing', async () => {
    await addPool(ds, 'p', { cidr: '10.100.0.0/24' });
    const r = await ipam.autoAssign({ num4: 2, num6: 0, handleID: 'h', hostname: 'n1' });
    const [x, y] = r.ipv4.map((a) => a.address) as [string, string];
    try {
      await ipam.releaseIPs([x, 'not-an-ip']);
      expect.fail('bad address accepted');
    } catch (e) {
      expect((e as Error).message).to.equal('"not-an-ip" is not an IP address');
    }
    expect(await ipam.ipsByHandle('h')).to.deep.equal([x, y]);
    expect(await ipam.releaseIPs([x, '10.100.0.200', '192.168.9.9'])).to.deep.equal(['10.100.0.200', '192.168.9.9']);
    expect(await ipam.ipsByHandle('h')).to.deep.equal([y]);
    await expectConsistent(ds);
  });

  it('releaseNodeAffinities: empty blocks go, blocks in use stay without affinity', async () => {
    await addPool(ds, 'p', { cidr: '10.110.0.0/24', blockSize: 30 });
    const r = await ipam.autoAssign({ num4: 5, num6: 0, handleID: 'h', hostname: 'n1' });
    await ipam.releaseIPs([r.ipv4[4]!.address]);
    const before = (await ds.list('IPAMBlock')).items.length;
    expect(before).to.equal(1); // the second block emptied and went
    await ipam.autoAssign({ num4: 0, num6: 0, handleID: 'noop', hostname: 'n1' });
    const out = await ipam.releaseNodeAffinities('n1');
    expect(out).to.deep.equal([{ cidr: r.ipv4[0]!.block, result: 'released' }]);
    expect(keys('/calico/ipam/v2/host/')).to.deep.equal([]);
    const blk = (await ds.list('IPAMBlock')).items[0]!;
    expect(blk.spec.affinity).to.equal(null);
    expect(blk.spec.allocations.filter((a) => a !== null)).to.have.length(4);
    const report = await checkIpam(ds);
    expect(report.blocksWithoutAffinity).to.deep.equal([{ cidr: r.ipv4[0]!.block, affinity: null }]);
    // Releasing the rest deletes the block, which no longer has an owner.
    await ipam.releaseByHandle('h');
    expect(keys('/calico/ipam/')).to.deep.equal([]);
  });

  it('reports usage per pool and block', async () => {
    await addPool(ds, 'p', { cidr: '10.120.0.0/24', blockSize: 28 });
    await ipam.autoAssign({ num4: 3, num6: 0, handleID: 'h1', hostname: 'n1' });
    await ipam.autoAssign({ num4: 1, num6: 0, handleID: 'h2', hostname: 'n2' });
    const usage = await ipamUsage(ds);
    expect(usage).to.have.length(1);
    expect(usage[0]).to.deep.include({ name: 'p', cidr: '10.120.0.0/24', capacity: 256n, inUse: 4, free: 252n });
    expect(usage[0]!.blocks.map((b) => [b.affinity, b.capacity, b.inUse, b.free]).sort()).to.deep.equal([['host:n1', 16, 3, 13], ['host:n2', 16, 1, 15]]);
  });

  it('refuses bad requests with messages that name the field and value', async () => {
    await addPool(ds, 'p', { cidr: '10.130.0.0/24' });
    const bad = async (req: Parameters<BlockAffinityIpam['autoAssign']>[0]) => {
      try { await ipam.autoAssign(req); } catch (e) { return (e as Error).message; }
      return 'accepted';
    };
    expect(await bad({ num4: -1, num6: 0, handleID: 'h', hostname: 'n1' })).to.equal('autoAssign: num4 must be a whole number >= 0, got -1');
    expect(await bad({ num4: 1, num6: 0, handleID: 'bad/handle', hostname: 'n1' })).to.match(/^handleID "bad\/handle" is not valid/);
    expect(await bad({ num4: 1, num6: 0, handleID: 'h', hostname: '' })).to.match(/^hostname "" is not valid/);
    expect(keys('/calico/ipam/')).to.deep.equal([]);
  });
});

// Many allocators (separate etcd clients, as separate processes would be) on several nodes and
// on the same node, assigning and releasing at once: no address is handed out twice and the
// stored blocks, handles and affinities stay consistent.
import { expect } from 'chai';
import { startEtcd, type EtcdServer } from '@tabby/test-support';
import { EtcdDatastore } from '@tabby/datastore';
import { BlockAffinityIpam, checkIpam } from '@tabby/ipam';
import { addNode, addPool, expectConsistent } from './helpers.js';

describe('concurrent allocators on etcd', function () {
  this.timeout(180_000);
  let etcd: EtcdServer;
  const clients: EtcdDatastore[] = [];

  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await etcd?.stop();
  });
  beforeEach(() => {
    etcd.etcdctl('del', '--prefix', '/calico/');
  });

  const client = () => {
    const c = new EtcdDatastore({ endpoints: [etcd.endpoint] });
    clients.push(c);
    return c;
  };

  /** One allocator: `rounds` assignments, releasing every third handle as it goes. */
  async function allocator(ipam: BlockAffinityIpam, host: string, tag: string, rounds: number): Promise<Map<string, string>> {
    const held = new Map<string, string>(); // handle -> address
    for (let i = 0; i < rounds; i++) {
      const handle = `net.${tag}-${i}`;
      const r = await ipam.autoAssign({ num4: 1, num6: 0, handleID: handle, hostname: host, attrs: { namespace: 'ns', pod: `${tag}-${i}` } });
      expect(r.ipv4).to.have.length(1);
      held.set(handle, r.ipv4[0]!.address);
      if (i % 3 === 2) {
        const gone = `net.${tag}-${i - 1}`;
        expect(await ipam.releaseByHandle(gone)).to.deep.equal([held.get(gone)]);
        held.delete(gone);
      }
    }
    return held;
  }

  it('8 allocators on 3 nodes (4 on one node) never hand out the same address', async () => {
    const setup = client();
    await addPool(setup, 'p', { cidr: '10.200.0.0/24', blockSize: 29 });
    for (const n of ['n1', 'n2', 'n3']) await addNode(setup, n);
    const plan: [string, string][] = [['n1', 'a'], ['n1', 'b'], ['n1', 'c'], ['n1', 'd'], ['n2', 'e'], ['n2', 'f'], ['n3', 'g'], ['n3', 'h']];
    const results = await Promise.all(plan.map(([host, tag]) => allocator(new BlockAffinityIpam(client()), host, tag, 15)));

    const all = results.flatMap((m) => [...m.values()]);
    expect(all).to.have.length(8 * 10);
    expect(new Set(all).size, 'duplicate addresses').to.equal(all.length);

    const { blocks, addresses } = await expectConsistent(setup);
    expect(addresses).to.equal(all.length);
    // Each address is recorded in the block under the handle that got it.
    const ipam = new BlockAffinityIpam(setup);
    for (const m of results) for (const [handle, address] of m) expect(await ipam.ipsByHandle(handle)).to.deep.equal([address]);
    // Blocks belong to the nodes that assigned from them (no borrowing was needed).
    for (const b of blocks) {
      const owners = new Set(b.spec.attributes.map((a) => a.secondary?.['node']));
      expect([...owners], b.spec.cidr).to.deep.equal([b.spec.affinity!.slice(5)]);
    }
    const report = await checkIpam(setup);
    expect(report.blocksWithoutAffinity).to.deep.equal([]);
    expect(report.danglingAffinities).to.deep.equal([]);
    expect(report.leakedHandles).to.deep.equal([]);
    expect(report.missingHandles).to.deep.equal([]);

    // Releasing everything concurrently leaves nothing behind.
    await Promise.all(results.map((m) => {
      const mine = new BlockAffinityIpam(client());
      return Promise.all([...m.keys()].map((h) => mine.releaseByHandle(h)));
    }));
    expect(etcd.etcdctl('get', '--prefix', '/calico/ipam/', '--keys-only').trim()).to.equal('');
  });

  it('6 allocators racing for a nearly exhausted pool: borrowing and claims stay exact', async () => {
    const setup = client();
    // 4 blocks of 4 addresses: 16 addresses for 6 allocators asking 3 each (18): exactly 2 must fail.
    await addPool(setup, 'p', { cidr: '10.201.0.0/28', blockSize: 30 });
    for (const n of ['m1', 'm2', 'm3']) await addNode(setup, n);
    const plan: [string, string][] = [['m1', 'a'], ['m1', 'b'], ['m2', 'c'], ['m2', 'd'], ['m3', 'e'], ['m3', 'f']];
    const got: string[] = [];
    let failures = 0;
    await Promise.all(plan.map(async ([host, tag]) => {
      const ipam = new BlockAffinityIpam(client());
      for (let i = 0; i < 3; i++) {
        try {
          const r = await ipam.autoAssign({ num4: 1, num6: 0, handleID: `x.${tag}-${i}`, hostname: host });
          got.push(r.ipv4[0]!.address);
        } catch (e) {
          expect((e as Error).name).to.equal('IpamExhaustedError');
          failures++;
        }
      }
    }));
    expect(got).to.have.length(16);
    expect(failures).to.equal(2);
    expect(new Set(got).size).to.equal(16);
    const { addresses } = await expectConsistent(setup);
    expect(addresses).to.equal(16);
  });
});

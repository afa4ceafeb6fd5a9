// Three simulated nodes (three host namespaces, each with its own `nodename`) sharing one etcd,
// 50 pods ADDed in parallel through the real executables (bounded concurrency, as a busy kubelet
// on each node would), then all DELed: distinct addresses, every pod's address from a block
// affine to its own node, and afterwards nothing left in the kernel or the datastore.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { formatIP, parseCidr, workloadInterfaceName, type BlockAffinity, type IPAMBlock } from '@tabby/api';
import { startEtcd, type EtcdServer, type Netns } from '@tabby/test-support';
import { TestNode, type PluginRun } from './harness.js';

const NET = 'k8s-pod-network';
const POOL = '10.66.0.0/24';
const BLOCK_SIZE = 28; // 16 addresses a block: 17 pods on a node need two blocks
const PODS = 50;
const NODES = 3;
const CONCURRENCY = 10;

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
async function bounded<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function ok(r: PluginRun, what: string): Record<string, unknown> {
  expect(r.code, `${what}: exit code; stdout: ${r.stdout} stderr: ${r.stderr.slice(-2000)}`).to.equal(0);
  return r.json ?? {};
}

interface Pod { i: number; node: TestNode; ns: Netns; name: string; id: string; addr?: string }

describe(`${PODS} parallel ADDs over ${NODES} nodes, then DEL of all`, function () {
  // Generous: 200 plugin processes; CI machines may be busy (about 1.5 min on an idle 2-core machine).
  this.timeout(600_000);
  let etcd: EtcdServer | undefined;
  const nodes: TestNode[] = [];
  const pods: Pod[] = [];

  before(async () => {
    etcd = await startEtcd();
    for (let n = 0; n < NODES; n++) {
      const node = new TestNode({ nodename: `node-${n}`, etcd });
      nodes.push(node);
      await node.start();
    }
    await nodes[0]!.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-multi' }, spec: { cidr: POOL, blockSize: BLOCK_SIZE } });
    for (let i = 0; i < PODS; i++) {
      const node = nodes[i % NODES]!;
      pods.push({ i, node, ns: node.createPod(`m${i}`), name: `pod-${i}`, id: `m${process.pid}x${i}` });
    }
  });
  after(async () => {
    for (const n of nodes) await n.stop();
    await etcd?.stop();
  });

  const call = (p: Pod, command: 'ADD' | 'DEL') => p.node.run('tabby', {
    command, containerID: p.id, netns: p.node.netnsPath(p.ns),
    args: `K8S_POD_NAMESPACE=multi;K8S_POD_NAME=${p.name};K8S_POD_INFRA_CONTAINER_ID=${p.id}`, config: p.node.config(),
  });
  const ds = () => nodes[0]!.ds;

  /** address -> [block, its attribute entry] from the IPAM blocks in etcd. */
  async function allocations(): Promise<Map<string, { block: IPAMBlock; handle?: string; node?: string }>> {
    const out = new Map<string, { block: IPAMBlock; handle?: string; node?: string }>();
    for (const b of (await ds().list('IPAMBlock')).items as IPAMBlock[]) {
      const c = parseCidr(b.spec.cidr)!;
      b.spec.allocations.forEach((idx, ordinal) => {
        if (idx === null) return;
        const a = b.spec.attributes[idx];
        const e: { block: IPAMBlock; handle?: string; node?: string } = { block: b };
        if (a?.handle_id) e.handle = a.handle_id;
        if (a?.secondary?.['node']) e.node = a.secondary['node'];
        out.set(formatIP(c.version, c.addr + BigInt(ordinal)), e);
      });
    }
    return out;
  }

  it('ADD: 50 distinct addresses, each from a block affine to the pod\'s node, wired on that node only', async () => {
    const results = await bounded(pods, CONCURRENCY, async (p) => ({ p, r: await call(p, 'ADD') }));
    for (const { p, r } of results) {
      const ips = ok(r, `ADD ${p.name} on ${p.node.nodename}`)['ips'] as { address: string }[];
      expect(ips, p.name).to.have.length(1);
      p.addr = ips[0]!.address.split('/')[0]!;
    }
    expect(new Set(pods.map((p) => p.addr)).size).to.equal(PODS);

    // IPAM: each address is held under the pod's handle, in a block whose affinity is the pod's
    // node (no borrowing: the pool has room for every node's blocks).
    const alloc = await allocations();
    expect(alloc.size).to.equal(PODS);
    for (const p of pods) {
      const a = alloc.get(p.addr!);
      expect(a, `${p.addr} allocated`).to.not.equal(undefined);
      expect(a!.handle).to.equal(`${NET}.${p.id}`);
      expect(a!.node).to.equal(p.node.nodename);
      expect(a!.block.spec.affinity, `block ${a!.block.spec.cidr} of ${p.name}`).to.equal(`host:${p.node.nodename}`);
    }
    // The BlockAffinity records agree with the blocks: confirmed, one per block, for its node.
    const affinities = (await ds().list('BlockAffinity')).items as BlockAffinity[];
    const blocks = (await ds().list('IPAMBlock')).items as IPAMBlock[];
    expect(affinities.map((a) => `${a.spec.cidr}=host:${a.spec.node}`).sort()).to.deep.equal(blocks.map((b) => `${b.spec.cidr}=${b.spec.affinity}`).sort());
    for (const a of affinities) expect(a.spec.state, a.metadata.name).to.equal('confirmed');
    const perBlock = 2 ** (32 - BLOCK_SIZE);
    for (const node of nodes) {
      const mine = pods.filter((p) => p.node === node).length;
      const nodeBlocks = blocks.filter((b) => b.spec.affinity === `host:${node.nodename}`);
      // Exactly as many as its pods need: concurrent ADDs on a node never claim a block more.
      expect(nodeBlocks.length, `${node.nodename} blocks`).to.equal(Math.ceil(mine / perBlock));
    }

    // Kernel: each node's host namespace has exactly its own pods' veths and /32 routes.
    for (const node of nodes) {
      const mine = pods.filter((p) => p.node === node);
      const routes = JSON.parse(node.hostns.run('ip', ['-j', 'route', 'show'])) as { dst: string; dev: string }[];
      const podRoutes = routes.filter((r) => r.dev.startsWith('cali')).map((r) => `${r.dst} ${r.dev}`).sort();
      expect(podRoutes, node.nodename).to.deep.equal(mine.map((p) => `${p.addr} ${workloadInterfaceName('multi', p.name)}`).sort());
    }
    for (const p of pods) {
      const link = JSON.parse(p.ns.run('ip', ['-j', 'addr', 'show', 'dev', 'eth0'])) as { addr_info: { local: string }[] }[];
      expect(link[0]!.addr_info.map((a) => a.local), p.name).to.include(p.addr);
    }

    // Datastore: one endpoint per pod, on its node, with its address.
    const weps = (await ds().list('WorkloadEndpoint', { namespace: 'multi' })).items;
    expect(weps.map((w) => `${w.spec.pod} ${w.spec.node} ${(w.spec.ipNetworks ?? []).join(',')}`).sort())
      .to.deep.equal(pods.map((p) => `${p.name} ${p.node.nodename} ${p.addr}/32`).sort());
  });

  it('DEL of all: no addresses, handles, routes, interfaces or endpoints remain', async () => {
    expect(pods.every((p) => p.addr), 'the ADD test ran').to.equal(true);
    const results = await bounded(pods, CONCURRENCY, async (p) => ({ p, r: await call(p, 'DEL') }));
    for (const { p, r } of results) ok(r, `DEL ${p.name}`);

    expect((await allocations()).size).to.equal(0);
    for (const b of (await ds().list('IPAMBlock')).items as IPAMBlock[]) {
      expect(b.spec.allocations.every((x) => x === null), b.spec.cidr).to.equal(true);
      expect(b.spec.unallocated, b.spec.cidr).to.have.length(b.spec.allocations.length);
    }
    expect((await ds().list('IPAMHandle')).items.map((h) => h.metadata.name)).to.deep.equal([]);
    expect((await ds().list('WorkloadEndpoint', { namespace: 'multi' })).items).to.deep.equal([]);
    for (const node of nodes) {
      const links = (JSON.parse(node.hostns.run('ip', ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname).sort();
      expect(links, node.nodename).to.deep.equal(['lo', 'up0', 'up1']);
      const routes = JSON.parse(node.hostns.run('ip', ['-j', 'route', 'show'])) as { dst: string }[];
      expect(routes.map((r) => r.dst), node.nodename).to.deep.equal(['default']);
    }
    for (const p of pods) expect(p.ns.tryRun('ip', ['link', 'show', 'dev', 'eth0']).code, p.name).to.not.equal(0);
  });
});

// A kubelet starting many pods at once on a fresh node: every IPAM run finds no block of its
// own yet. Under the node's IPAM lock they run one after another: the first claims a block, the
// others take addresses from it. (Without the lock the outcome was the same in our runs: every
// run on a node tries blocks in the same host-seeded order, so the compare-and-swap losers find
// the winner's block. They get there by retrying writes against etcd instead of waiting.)
describe('12 tabby-ipam ADDs at the same moment on one new node', function () {
  this.timeout(120_000);
  const N = 12; // fewer than the 16 addresses of one block
  let node: TestNode;

  before(async () => {
    node = new TestNode({ nodename: 'node-9' });
    await node.start();
    await node.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-burst' }, spec: { cidr: '10.67.0.0/24', blockSize: BLOCK_SIZE } });
  });
  after(async () => { await node?.stop(); });

  it('all get distinct addresses from exactly one block, claimed once', async () => {
    const netns = node.netnsPath(node.createPod('burst')); // required by ADD; the IPAM plugin does not enter it
    const runs = await Promise.all(Array.from({ length: N }, (_, i) =>
      node.run('tabby-ipam', { command: 'ADD', containerID: `burst${i}`, netns, config: node.config() })));
    const addrs = runs.map((r, i) => ((ok(r, `ADD burst${i}`)['ips'] as { address: string }[])[0]!.address));
    expect(new Set(addrs).size).to.equal(N);
    const blocks = ((await node.ds.list('IPAMBlock')).items as IPAMBlock[]).filter((b) => b.spec.affinity === 'host:node-9');
    const affinities = ((await node.ds.list('BlockAffinity')).items as BlockAffinity[]).filter((a) => a.spec.node === 'node-9');
    expect(blocks.map((b) => b.spec.cidr), 'blocks of node-9').to.have.length(1);
    expect(affinities, 'affinities of node-9').to.have.length(1);
    const taken = readFileSync(node.logFile, 'utf8').split('\n').filter((l) => l.includes('IPAM lock taken'));
    expect(taken, 'every run took the lock').to.have.length(N);
  });
});

// Bad input and unavailable resources, through the real executables: every case prints the CNI
// error JSON ({cniVersion, code, msg, details?}) on stdout, exits non-zero, and leaves nothing
// behind: no veth or route in the host namespace, no interface in the pod, no address in IPAM,
// no WorkloadEndpoint. (plugin.integration.test.ts covers config-key errors, CNI_ARGS errors, an
// empty CNI_NETNS and rollback after dataplane and datastore failures.)
import { expect } from 'chai';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatIP, parseCidr, type IPAMBlock } from '@tabby/api';
import type { Netns } from '@tabby/test-support';
import { BIN_DIR, DEBIAN_CNI_DIR, TestNode, type PluginCall, type PluginRun } from './harness.js';

const NET = 'k8s-pod-network';
const TINY_POOL = '10.99.0.0/31'; // one /31 block: two addresses

let n = 0;
const containerID = () => `f${process.pid}x${++n}`;

/** The error JSON a CNI plugin must print, and nothing else. */
function expectCniError(r: PluginRun, code: number, msg: RegExp | string): Record<string, unknown> {
  expect(r.code, `exit code; stdout: ${r.stdout} stderr: ${r.stderr.slice(-1500)}`).to.not.equal(0);
  expect(r.json, `stdout is one JSON document: ${r.stdout}`).to.be.an('object');
  const j = r.json!;
  expect(Object.keys(j).every((k) => ['cniVersion', 'code', 'msg', 'details'].includes(k)), r.stdout).to.equal(true);
  expect(j['cniVersion']).to.be.a('string');
  expect(j['code'], r.stdout).to.equal(code);
  expect(j['msg']).to.be.a('string').and.not.equal('');
  if (typeof msg === 'string') expect(j['msg']).to.contain(msg);
  else expect(j['msg']).to.match(msg);
  if ('details' in j) expect(j['details']).to.be.a('string');
  return j;
}

describe('tabby CNI plugin: bad input and unavailable resources leave nothing behind', function () {
  // Generous: each case runs several plugin processes, and CI machines may be busy.
  this.timeout(180_000);
  const node = new TestNode();
  let baseLinks: string[] = [];
  let baseRoutes: string[] = [];

  const links = () => (JSON.parse(node.hostns.run('ip', ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname).sort();
  const routes = () => (JSON.parse(node.hostns.run('ip', ['-j', 'route', 'show'])) as { dst: string; dev: string }[]).map((r) => `${r.dst} ${r.dev}`).sort();

  /** Every allocated address in etcd, as `address handle`. */
  async function allocations(): Promise<string[]> {
    const out: string[] = [];
    for (const b of (await node.ds.list('IPAMBlock')).items as IPAMBlock[]) {
      const c = parseCidr(b.spec.cidr)!;
      b.spec.allocations.forEach((idx, ordinal) => {
        if (idx !== null) out.push(`${formatIP(c.version, c.addr + BigInt(ordinal))} ${b.spec.attributes[idx]?.handle_id ?? ''}`);
      });
    }
    return out.sort();
  }

  /** Nothing of container `id` or pod `pod` exists: host links/routes as before, no address, no endpoint, pod untouched. */
  async function expectNothingLeft(id: string, pod?: Netns): Promise<void> {
    expect(links(), 'host namespace links').to.deep.equal(baseLinks);
    expect(routes(), 'host namespace routes').to.deep.equal(baseRoutes);
    expect((await allocations()).filter((a) => a.endsWith(`${NET}.${id}`)), 'addresses of the container').to.deep.equal([]);
    expect((await node.ds.list('IPAMHandle')).items.map((h) => h.metadata.name)).to.not.include(`${NET}.${id}`);
    expect((await node.ds.list('WorkloadEndpoint')).items.filter((w) => w.spec.containerID === id)).to.deep.equal([]);
    if (pod) expect((JSON.parse(pod.run('ip', ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname)).to.deep.equal(['lo']);
  }

  before(async () => {
    await node.start();
    await node.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-main' }, spec: { cidr: '10.44.0.0/24', blockSize: 28 } });
    await node.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-tiny' }, spec: { cidr: TINY_POOL, blockSize: 31 } });
    baseLinks = links();
    baseRoutes = routes();
  });
  after(() => node.stop());
  afterEach(() => node.deletePods());

  const add = (pod: Netns, name: string, id: string, over: Partial<PluginCall> = {}) => node.run('tabby', {
    command: 'ADD', containerID: id, netns: node.netnsPath(pod), args: `K8S_POD_NAMESPACE=fail;K8S_POD_NAME=${name}`, config: node.config(), ...over,
  });

  it('invalid JSON on stdin (6), also for DEL', async () => {
    const pod = node.createPod();
    const id = containerID();
    expectCniError(await add(pod, 'json', id, { config: '{"cniVersion":"1.0.0","name":"x",' }), 6, 'not valid JSON');
    expectCniError(await add(pod, 'json', id, { config: '[1,2]' }), 6, 'must be a JSON object');
    expectCniError(await add(pod, 'json', id, { command: 'DEL', config: 'not json' }), 6, 'not valid JSON');
    await expectNothingLeft(id, pod);
  });

  for (const v of ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH']) {
    it(`${v} missing from the environment (4)`, async () => {
      const pod = node.createPod();
      const id = containerID();
      expectCniError(await add(pod, 'env', id, { env: { [v]: undefined } }), 4, v);
      await expectNothingLeft(id, pod);
    });
  }

  it('CNI_NETNS names a namespace that does not exist (3): no address is taken', async () => {
    const id = containerID();
    const r = await node.run('tabby', {
      command: 'ADD', containerID: id, netns: '/var/run/netns/tabby-no-such-ns', args: 'K8S_POD_NAMESPACE=fail;K8S_POD_NAME=nons', config: node.config(),
    });
    expectCniError(r, 3, '/var/run/netns/tabby-no-such-ns does not exist');
    await expectNothingLeft(id);
  });

  it('an exhausted pool: IPAM\'s error (100) comes through; no veth, address or endpoint; freeing an address makes ADD work', async () => {
    const tiny = { ipam: { type: 'tabby-ipam', ipv4_pools: [TINY_POOL] } };
    // Fill the pool's two addresses through tabby-ipam, as two earlier pods would have.
    const fillers = [containerID(), containerID()];
    for (const [i, id] of fillers.entries()) {
      const r = await node.run('tabby-ipam', { command: 'ADD', containerID: id, netns: '/unused', args: `K8S_POD_NAMESPACE=fail;K8S_POD_NAME=filler-${i}`, config: node.config(tiny) });
      expect(r.code, r.stdout).to.equal(0);
    }
    const before = await allocations();
    expect(before.filter((a) => a.startsWith('10.99.0.'))).to.have.length(2);

    const pod = node.createPod();
    const id = containerID();
    const err = expectCniError(await add(pod, 'starved', id, { config: node.config(tiny) }), 100, TINY_POOL);
    expect(String(err['msg'])).to.match(/no|exhaust|free|available/i);
    await expectNothingLeft(id, pod);
    expect(await allocations()).to.deep.equal(before);

    // The failure is about room, not about the pod: release one filler and the same ADD succeeds.
    expect((await node.run('tabby-ipam', { command: 'DEL', containerID: fillers[0]!, netns: '', config: node.config(tiny) })).code).to.equal(0);
    const ok = await add(pod, 'starved', id, { config: node.config(tiny) });
    expect(ok.code, ok.stdout).to.equal(0);
    expect(((ok.json!['ips'] as { address: string }[])[0]!.address)).to.match(/^10\.99\.0\.[01]\/32$/);
    for (const [cid, name] of [[id, 'starved'], [fillers[1]!, 'filler-1']] as const) {
      const d = await node.run('tabby', { command: 'DEL', containerID: cid, netns: node.netnsPath(pod), args: `K8S_POD_NAMESPACE=fail;K8S_POD_NAME=${name}`, config: node.config(tiny) });
      expect(d.code, d.stdout).to.equal(0);
    }
    await expectNothingLeft(id);
    expect((await allocations()).filter((a) => a.startsWith('10.99.0.'))).to.deep.equal([]);
  });

  it('etcd unreachable (11, try again later), for ADD and DEL', async () => {
    const pod = node.createPod();
    const id = containerID();
    const config = node.config({ etcd_endpoints: 'http://127.0.0.1:1' });
    expectCniError(await add(pod, 'no-etcd', id, { config }), 11, '127.0.0.1:1');
    await expectNothingLeft(id, pod);
    expectCniError(await add(pod, 'no-etcd', id, { command: 'DEL', config }), 11, '127.0.0.1:1');
  });

  it('etcd unreachable after a working IPAM (Debian\'s host-local) assigned: tabby fails with 11 and host-local is told to release', async () => {
    const dataDir = join(node.dir, 'host-local');
    mkdirSync(dataDir);
    const pod = node.createPod();
    const id = containerID();
    const config = node.config({ etcd_endpoints: 'http://127.0.0.1:1', ipam: { type: 'host-local', ranges: [[{ subnet: '10.123.0.0/24' }]], dataDir } });
    // IgnoreUnknown=1 as kubelet sends it: host-local refuses the K8S_* args otherwise.
    expectCniError(await add(pod, 'half', id, { config, path: `${BIN_DIR}:${DEBIAN_CNI_DIR}`, args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=fail;K8S_POD_NAME=half' }), 11, '127.0.0.1:1');
    await expectNothingLeft(id, pod);
    // host-local keeps one file per leased address (named by the address): none is left.
    // host-local did assign (it remembers the last address it handed out) ...
    const files = readdirSync(join(dataDir, NET));
    expect(files, 'host-local ran').to.include('last_reserved_ip.0');
    // ... and released it again: it keeps one file per leased address, named by the address.
    expect(files.filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))).to.deep.equal([]);
  });
});

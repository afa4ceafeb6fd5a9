// End to end on a dual-stack lab (`lab up --nodes 2 --dual-stack`), driven as a user drives it:
// IPv6 BGP sessions between the nodes and with the ToR, each node's IPv6 pod block in the other
// node's kernel and on the ToR, ping6 between pods on one node and across nodes, and both
// addresses on every workload endpoint; a deny-all ingress NetworkPolicy blocks IPv6 ping (felix's
// ip6tables rules) as well as IPv4 ping, and deleting it restores both. Own namespace prefix and state directory, removed in
// after() even when something fails.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '@tabby/test-support';
import { LAB, lab, labEnv, labSync } from './lab-cli.js';


interface Pod { node: string; name: string; ns: string; ip: string; ip6?: string }
interface LabState { nodes: number; dualStack?: boolean; pods: Pod[] }



const ctlIn = (env: NodeJS.ProcessEnv, input: string | undefined, ...args: string[]) => {
  const r = spawnSync(process.execPath, [LAB, 'exec', 'node-1', '--', 'ctl', ...args], { env, encoding: 'utf8', ...(input !== undefined && { input }) });
  return { code: r.status ?? 1, out: (r.stdout ?? '') + (r.stderr ?? '') };
};

/** Polls until every probe gives its wanted answer (a policy change takes a moment to reach both nodes). */
async function until(what: string, probes: Array<{ label: string; ok: () => boolean; want: boolean }>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const wrong = probes.filter((p) => p.ok() !== p.want);
    if (wrong.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${what}: still wrong after ${timeoutMs} ms: ${wrong.map((p) => p.label).join(', ')}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const pings = (fromNs: string, ip: string) => spawnSync('ip', ['netns', 'exec', fromNs, 'ping', '-c', '1', '-W', '2', ip]).status === 0;

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '(none)';
  }
}

describe('lab end to end (bgp, dual stack)', function () {
  this.timeout(240_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let upOut = '';
  const state = () => JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as LabState;
  const pod = (name: string) => state().pods.find((p) => p.name === name)!;

  before(async function () {
    dir = tmpDir('tabby-e2e-ds-');
    env = labEnv(dir, `tabby-e2e${process.pid}d-`);
    const r = await lab(env, 'up', '--nodes', '2', '--dual-stack');
    upOut = r.out;
    if (r.code !== 0) throw new Error(`lab up --dual-stack failed (exit ${r.code}):\n${r.out}\n--- node-1 agent log:\n${tail(join(dir, 'node-1', 'agent.log'))}`);
  });

  after(async () => {
    if (env && dir && existsSync(join(dir, 'state.json'))) {
      const r = await lab(env, 'down');
      if (r.code !== 0) process.stderr.write(`lab down: ${r.out}\n`);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports a healthy lab with an IPv6 ping matrix beside the IPv4 one', () => {
    expect(upOut).to.include('Lab healthy');
    expect(upOut).to.include('== ping6 matrix');
    expect(upOut).to.not.include('FAIL');
    expect(state().dualStack).to.equal(true);
    expect(state().pods).to.have.length(4);
  });

  it('has IPv6 BGP sessions Established between the nodes and with the ToR', () => {
    for (const [n, other] of [['node-1', 'fd00:99::12'], ['node-2', 'fd00:99::11']] as const) {
      const st = labSync(env, 'exec', n, '--', 'ctl', 'node', 'status');
      expect(st.code, st.out).to.equal(0);
      const v6 = st.out.slice(st.out.indexOf('IPv6 BGP status'));
      expect(v6, `${n}: ${st.out}`).to.match(new RegExp(`\\| ${other.replace(/\./g, '\\.')} +\\| node-to-node mesh \\| up +\\|[^\\n]*Established`));
      expect(v6, `${n}: ${st.out}`).to.match(/\| fd00:99::fe +\| global +\| up +\|[^\n]*Established/);
    }
    const proto = labSync(env, 'exec', 'tor', '--', 'birdc', '-s', join(dir, 'tor', 'bird.ctl'), 'show', 'protocols');
    expect(proto.out).to.match(/node_1_v6 +BGP +--- +up .*Established/);
    expect(proto.out).to.match(/node_2_v6 +BGP +--- +up .*Established/);
  });

  it('each node\'s IPv6 pod addresses route to it from the other node and from the ToR', () => {
    for (const p of state().pods) {
      expect(p.ip6, `${p.name} has an IPv6 address`).to.match(/^fd10:/);
      const owner = `fd00:99::${p.node === 'node-1' ? 11 : 12}`;
      const other = p.node === 'node-1' ? 'node-2' : 'node-1';
      const onOther = labSync(env, 'exec', other, '--', 'ip', '-6', 'route', 'get', p.ip6!);
      expect(onOther.out, `${p.name} ${p.ip6} on ${other}`).to.include(`via ${owner} dev eth0`);
      // The ToR learns every block from every node (each exports what it learned over the mesh,
      // with itself as next hop, as Calico's nodes do), so it may route through either node.
      const onTor = labSync(env, 'exec', 'tor', '--', 'ip', '-6', 'route', 'get', p.ip6!);
      expect(onTor.out, `${p.name} ${p.ip6} on the ToR`).to.match(/via fd00:99::1[12] dev eth0/);
      const torRoutes = labSync(env, 'exec', 'tor', '--', 'birdc', '-s', join(dir, 'tor', 'bird.ctl'), 'show', 'route', 'for', p.ip6!, 'all');
      expect(torRoutes.out, `the ToR's routes for ${p.ip6}`).to.include(`via ${owner} on eth0`);
      const onOwn = labSync(env, 'exec', p.node, '--', 'ip', '-6', 'route', 'get', p.ip6!);
      expect(onOwn.out, `${p.name} ${p.ip6} on its own node`).to.match(/dev cali/);
    }
  });

  it('pods ping each other over IPv6 on one node and across nodes', () => {
    const [a, b, c] = [pod('pod-1-1'), pod('pod-1-2'), pod('pod-2-1')];
    expect(pings(a.ns, b.ip6!), 'same node: pod-1-1 -> pod-1-2').to.equal(true);
    expect(pings(a.ns, c.ip6!), 'across nodes: pod-1-1 -> pod-2-1').to.equal(true);
    expect(pings(c.ns, a.ip6!), 'across nodes: pod-2-1 -> pod-1-1').to.equal(true);
    // An address no pod holds must not answer: the matrix is not vacuous.
    expect(pings(a.ns, 'fd10::dead:beef'), 'no reply from an unused pool address').to.equal(false);
  });

  it('every workload endpoint carries both its IPv4 and its IPv6 address', () => {
    const weps = labSync(env, 'exec', 'node-1', '--', 'ctl', 'get', 'wep', '-A', '-o', 'wide');
    expect(weps.code, weps.out).to.equal(0);
    for (const p of state().pods) {
      const line = weps.out.split('\n').find((l) => l.includes(` ${p.name} `));
      expect(line, `${p.name} in\n${weps.out}`).to.be.a('string');
      expect(line).to.include(`${p.ip}/32`).and.to.include(`${p.ip6}/128`);
    }
  });

  it('a deny-all ingress NetworkPolicy blocks IPv6 ping as well as IPv4 ping; deleting it restores both', async () => {
    const [a, b, c] = [pod('pod-1-1'), pod('pod-1-2'), pod('pod-2-1')];
    const policy = {
      apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: 'deny-all-ingress', namespace: 'default' },
      spec: { selector: 'all()', types: ['Ingress'] },
    };
    const probes = (want: boolean) => [
      { label: 'ping6 pod-1-1 -> pod-1-2 (same node)', ok: () => pings(a.ns, b.ip6!), want },
      { label: 'ping6 pod-2-1 -> pod-1-1 (across nodes)', ok: () => pings(c.ns, a.ip6!), want },
      { label: 'ping pod-1-1 -> pod-1-2', ok: () => pings(a.ns, b.ip), want },
      { label: 'ping pod-2-1 -> pod-1-1', ok: () => pings(c.ns, a.ip), want },
    ];
    await until('open before the policy', probes(true));
    const applied = ctlIn(env, JSON.stringify(policy), 'apply', '-f', '-');
    expect(applied.code, applied.out).to.equal(0);
    try {
      await until('deny-all ingress in effect for IPv6 and IPv4', probes(false));
      // The IPv6 verdict comes from ip6tables: the pod's ingress chain and the policy chain are there.
      const rules = labSync(env, 'exec', 'node-1', '--', 'sh', '-c', 'ip6tables-nft-save -t filter; ip6tables-legacy-save -t filter');
      expect(rules.out).to.match(/:cali-pi-\S+ /);
      expect(rules.out).to.match(/-A cali-to-wl-dispatch .*-g cali-tw-cali/);
    } finally {
      const del = ctlIn(env, undefined, 'delete', 'networkpolicy', 'deny-all-ingress', '-n', 'default');
      expect(del.code, del.out).to.equal(0);
    }
    await until('open again after deleting the policy', probes(true));
  });

  it('refuses --dual-stack with --mode vxlan, naming the reason, and builds nothing', () => {
    const other = labEnv(join(dir, 'refused'), `tabby-e2e${process.pid}r-`);
    const r = labSync(other, 'up', '--nodes', '1', '--mode', 'vxlan', '--dual-stack');
    expect(r.code).to.equal(1);
    expect(r.out).to.include('--dual-stack needs --mode bgp');
    expect(existsSync(join(dir, 'refused', 'state.json'))).to.equal(false);
  });
});

// End to end on the lab, driven the way a user drives it: `lab up`, `lab exec`, `lab node add`,
// `lab pod del`, `lab node restart --kill`, `lab down` as subprocesses. The lab runs under its
// own namespace prefix and state directory, so it never meets a lab a user has running.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir, eventually } from '@tabby/test-support';
import { LAB, lab, labEnv, labSync } from './lab-cli.js';


interface LabState { nodes: number; agents: Record<string, number>; pods: { node: string; name: string; ns: string; ip: string }[] }




const pings = (fromNs: string, ip: string) => spawnSync('ip', ['netns', 'exec', fromNs, 'ping', '-c', '1', '-W', '1', ip]).status === 0;

function describeLab(mode: 'bgp' | 'vxlan', body: (ctx: { env: () => NodeJS.ProcessEnv; state: () => LabState; out: () => string }) => void): void {
  describe(`lab end to end (${mode})`, function () {
    this.timeout(300_000);
    let dir: string;
    let env: NodeJS.ProcessEnv;
    let upOut = '';
    before(async function () {
      dir = tmpDir('tabby-e2e-');
      env = labEnv(dir, `tabby-e2e${process.pid}${mode === 'bgp' ? 'b' : 'v'}-`);
      const r = await lab(env, 'up', '--nodes', '3', '--mode', mode);
      upOut = r.out;
      if (r.code !== 0) throw new Error(`lab up failed (exit ${r.code}):\n${r.out}\n--- node-1 agent log:\n${tail(join(dir, 'node-1', 'agent.log'))}`);
    });
    after(async () => {
      if (env) {
        const r = await lab(env, 'down');
        if (r.code !== 0) process.stderr.write(`lab down: ${r.out}\n`);
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });
    body({ env: () => env, state: () => JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as LabState, out: () => upOut });
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '(none)';
  }
}

describeLab('bgp', ({ env, state, out }) => {
  it('brings every mesh and ToR session up and every pod reaches every other pod', () => {
    expect(out()).to.include('Lab healthy');
    for (const n of ['node-1', 'node-2', 'node-3']) {
      const st = labSync(env(), 'exec', n, '--', 'ctl', 'node', 'status');
      expect(st.code, st.out).to.equal(0);
      expect((st.out.match(/\| node-to-node mesh \| up /g) ?? []).length, `${n}: ${st.out}`).to.equal(2);
      expect(st.out).to.match(/\| 10\.99\.0\.254 +\| global +\| up /);
    }
    expect(out()).to.not.include('FAIL');
    expect(state().pods).to.have.length(6);
  });

  it('the ToR has learned a route for every pod address (each node\'s block)', () => {
    for (const p of state().pods) {
      const r = labSync(env(), 'exec', 'tor', '--', 'ip', 'route', 'get', p.ip);
      expect(r.out, `${p.name} ${p.ip}`).to.match(/via 10\.99\.0\.1\d dev eth0/);
    }
  });

  it('a NetworkPolicy deny blocks traffic across nodes and an allow admits it', async () => {
    const [a, b, c] = [state().pods.find((p) => p.name === 'pod-1-1')!, state().pods.find((p) => p.name === 'pod-2-1')!, state().pods.find((p) => p.name === 'pod-2-2')!];
    const lbl = labSync(env(), 'exec', 'node-1', '--', 'ctl', 'label', 'workloadendpoint', 'node--2-k8s-pod--2--1-eth0', 'role=db', '-n', 'default');
    expect(lbl.code, lbl.out).to.equal(0);
    const policy = (rules: string) => `apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: db\n  namespace: default\nspec:\n  selector: role == 'db'\n  types: [Ingress]\n${rules}`;
    const apply = (yaml: string) => spawnSync(process.execPath, [LAB, 'exec', 'node-1', '--', 'ctl', 'apply', '-f', '-'], { env: env(), input: yaml, encoding: 'utf8' });
    expect(apply(policy('')).status).to.equal(0);
    await eventually(() => !pings(a.ns, b.ip), 30_000, 'deny: pod-1-1 can no longer ping pod-2-1');
    expect(pings(a.ns, c.ip), 'an unselected pod on the same node is still reachable').to.equal(true);
    expect(apply(policy('  ingress:\n    - action: Allow\n      protocol: ICMP\n')).status).to.equal(0);
    await eventually(() => pings(a.ns, b.ip), 30_000, 'allow: pod-1-1 reaches pod-2-1 again');
    const del = labSync(env(), 'exec', 'node-1', '--', 'ctl', 'delete', 'networkpolicy', 'db', '-n', 'default');
    expect(del.code, del.out).to.equal(0);
  });

  it('deleting a pod removes its route on its node and leaves no stale route', async () => {
    const gone = state().pods.find((p) => p.name === 'pod-3-2')!;
    const r = labSync(env(), 'pod', 'del', 'node-3', 'pod-3-2');
    expect(r.code, r.out).to.equal(0);
    await eventually(() => !/dev cali/.test(labSync(env(), 'exec', 'node-3', '--', 'ip', 'route', 'show', `${gone.ip}/32`).out), 30_000, 'the /32 route is gone');
    const routes = labSync(env(), 'exec', 'node-3', '--', 'ip', '-j', 'route', 'show').out;
    const caliRoutes = (JSON.parse(routes) as { dst: string; dev?: string }[]).filter((x) => x.dev?.startsWith('cali'));
    expect(caliRoutes.map((x) => x.dst)).to.deep.equal([state().pods.find((p) => p.name === 'pod-3-1')!.ip]);
    const weps = labSync(env(), 'exec', 'node-1', '--', 'ctl', 'get', 'wep', '-A');
    expect(weps.out).to.not.include('pod-3-2');
  });

  it('a node added later joins the mesh without restarting the others', async () => {
    const before = state().agents;
    const r = await lab(env(), 'node', 'add');
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.include('Lab healthy');
    const after = state().agents;
    for (const n of ['node-1', 'node-2', 'node-3']) expect(after[n], `${n}'s agent was not restarted`).to.equal(before[n]);
    const st = labSync(env(), 'exec', 'node-1', '--', 'ctl', 'node', 'status');
    expect((st.out.match(/\| node-to-node mesh \| up /g) ?? []).length, st.out).to.equal(3);
  });

  it('a node agent killed with SIGKILL and started again restores full connectivity', async () => {
    const r = await lab(env(), 'node', 'restart', 'node-2', '--kill');
    expect(r.code, r.out).to.equal(0);
    await eventually(async () => (await lab(env(), 'status')).code === 0, 90_000, 'lab status healthy after the restart');
  });

  it('with the node-to-node mesh disabled, pods still reach each other through the ToR', async () => {
    const conf = 'apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  nodeToNodeMeshEnabled: false\n  asNumber: 64512\n';
    const r = spawnSync(process.execPath, [LAB, 'exec', 'node-1', '--', 'ctl', 'apply', '-f', '-'], { env: env(), input: conf, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    await eventually(() => !/node-to-node mesh/.test(labSync(env(), 'exec', 'node-2', '--', 'ctl', 'node', 'status').out), 60_000, 'mesh sessions gone');
    const st = await eventually(async () => { const x = await lab(env(), 'status'); return x.code === 0 ? x : undefined; }, 60_000, 'healthy without the mesh');
    expect(st!.out).to.include('mesh disabled');
    expect(labSync(env(), 'exec', 'node-2', '--', 'ctl', 'node', 'status').out).to.match(/\| 10\.99\.0\.254 +\| global +\| up /);
  });
});

describeLab('vxlan', ({ out, state }) => {
  it('every pod reaches every other pod over VXLAN', () => {
    expect(out()).to.include('Lab healthy');
    expect(out()).to.not.include('FAIL');
    expect(state().pods).to.have.length(6);
  });
});

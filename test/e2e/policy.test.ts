// Calico policy semantics end to end on the lab: one 2-node BGP lab, pods made by the CNI plugin
// in two Kubernetes namespaces (`default` and `other`), labels set with `ctl label`, policies
// applied with `ctl apply`, and every verdict checked with real traffic (ping, and TCP to a tiny
// listener inside two pods). Policy application is asynchronous, so each case first waits for a
// combination of verdicts that only the new policy can produce on every node involved, then checks
// further denials with one bounded probe each (ping -W 1, TCP connect timeout 1 s). Every policy is deleted after each case
// and full connectivity is awaited before the next one starts.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir, eventually } from '@tabby/test-support';
import { labRun as lab } from './lab-cli.js';

const POOL = '10.244.0.0/16';
const SETTLE = 90_000; // how long a policy change may take to show on both nodes (generous: loaded CI machines)

interface Pod { node: string; name: string; ns: string; ip: string; namespace?: string }


/** Exit status 0 of a short command, never throwing. */
function succeeds(argv: string[]): Promise<boolean> {
  return new Promise((res) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    p.on('close', (code) => res(code === 0));
    p.on('error', () => res(false));
  });
}

// Connects, expects the listener's "ok", gives up after 1 s (a dropped SYN is never answered).
// bash's /dev/tcp rather than node: many probes run at once, and bash starts far faster.
const TCP_CLIENT = 'exec 3<>"/dev/tcp/$0/$1" && [ "$(head -c 2 <&3)" = ok ]';
// A client that gives up mid-connection resets it; the listener must outlive that.
const LISTENER = `const net = require('net'); let n = 0;
for (const port of [8080, 8081]) net.createServer((s) => { s.on('error', () => {}); s.end('ok'); }).listen(port, () => { if (++n === 2) console.log('listening'); });`;

const ping = (from: Pod, to: Pod) => succeeds(['ip', 'netns', 'exec', from.ns, 'ping', '-c', '1', '-W', '1', to.ip]);
const tcp = (from: Pod, to: Pod, port: number) => succeeds(['ip', 'netns', 'exec', from.ns, 'timeout', '1', 'bash', '-c', TCP_CLIENT, to.ip, String(port)]);

type Probe = readonly [string, () => Promise<boolean>];
const P = (from: Pod, to: Pod): Probe => [`ping ${from.name} -> ${to.name}`, () => ping(from, to)];
const T = (from: Pod, to: Pod, port: number): Probe => [`tcp ${from.name} -> ${to.name}:${port}`, () => tcp(from, to, port)];

/** Waits until every `allowed` probe succeeds and every `denied` one fails in the same round. */
async function until(what: string, allowed: Probe[], denied: Probe[] = []): Promise<void> {
  let last = '';
  await eventually(async () => {
    const [a, d] = await Promise.all([Promise.all(allowed.map(([, f]) => f())), Promise.all(denied.map(([, f]) => f()))]);
    last = [...allowed.filter((_, k) => !a[k]).map(([n]) => `${n} failed`), ...denied.filter((_, k) => d[k]).map(([n]) => `${n} got through`)].join(', ');
    return !last;
  }, SETTLE, what).catch((e: Error) => { throw new Error(`${e.message} (last round: ${last})`); });
}

/** One round of probes that must all fail (the policy is known to be in effect already). */
async function denied(...probes: Probe[]): Promise<void> {
  const r = await Promise.all(probes.map(([, f]) => f()));
  expect(probes.filter((_, k) => r[k]).map(([n]) => n), 'these should have been denied').to.deep.equal([]);
}

describe('policy semantics end to end (2-node BGP lab, CNI-created pods)', function () {
  this.timeout(300_000);
  let dir: string | undefined;
  let env: NodeJS.ProcessEnv;
  const listeners: ChildProcess[] = [];
  const policies = new Map<string, string[]>(); // key -> ctl delete arguments
  // A: default/pod-1-1 on node-1, role=client     B: default/pod-1-2 on node-1, role=server
  // C: default/pod-2-1 on node-2, role=server     D: default/pod-2-2 on node-2, no role
  // O1: other/o-1 on node-1, role=client          O2: other/o-2 on node-2, no role
  let A: Pod, B: Pod, C: Pod, D: Pod, O1: Pod, O2: Pod;

  const ctl = async (args: string[], input?: string) => {
    const r = await lab(env, ['exec', 'node-1', '--', 'ctl', ...args], input);
    expect(r.code, `ctl ${args.join(' ')}: ${r.out}`).to.equal(0);
    return r.out;
  };

  async function apply(kind: 'NetworkPolicy' | 'GlobalNetworkPolicy', name: string, spec: object): Promise<void> {
    const metadata = kind === 'NetworkPolicy' ? { name, namespace: 'default' } : { name };
    // JSON is YAML, so the manifest goes to `ctl apply -f -` as it is.
    await ctl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind, metadata, spec }));
    policies.set(`${kind}/${name}`, kind === 'NetworkPolicy' ? ['networkpolicy', name, '-n', 'default'] : ['globalnetworkpolicy', name]);
  }

  before(async function () {
    dir = tmpDir('tabby-e2e-policy-');
    env = { ...process.env, TABBY_LAB_DIR: dir, TABBY_LAB_PREFIX: `tabby-pol${process.pid}-` };
    const up = await lab(env, ['up', '--nodes', '2']);
    if (up.code !== 0) throw new Error(`lab up failed (exit ${up.code}):\n${up.out}`);
    for (const [node, pod] of [['node-1', 'o-1'], ['node-2', 'o-2']] as const) {
      const r = await lab(env, ['pod', 'add', node, pod, '--namespace', 'other']);
      if (r.code !== 0) throw new Error(`pod add ${pod}: ${r.out}`);
    }
    const pods = (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { pods: Pod[] }).pods;
    const find = (name: string, ns = 'default') => {
      const p = pods.find((x) => x.name === name && (x.namespace ?? 'default') === ns);
      if (!p) throw new Error(`no pod ${ns}/${name} in the lab state`);
      return p;
    };
    [A, B, C, D, O1, O2] = [find('pod-1-1'), find('pod-1-2'), find('pod-2-1'), find('pod-2-2'), find('o-1', 'other'), find('o-2', 'other')];
    for (const [wep, ns, label] of [
      ['node--1-k8s-pod--1--1-eth0', 'default', 'role=client'], ['node--1-k8s-pod--1--2-eth0', 'default', 'role=server'],
      ['node--2-k8s-pod--2--1-eth0', 'default', 'role=server'], ['node--1-k8s-o--1-eth0', 'other', 'role=client'],
    ] as const) await ctl(['label', 'workloadendpoint', wep, label, '-n', ns]);
    for (const target of [B, C]) {
      const p = spawn('ip', ['netns', 'exec', target.ns, process.execPath, '-e', LISTENER], { stdio: ['ignore', 'pipe', 'inherit'] });
      listeners.push(p);
      await new Promise<void>((res, rej) => {
        p.stdout!.on('data', (d: Buffer) => { if (String(d).includes('listening')) res(); });
        p.on('exit', (code) => rej(new Error(`listener in ${target.name} exited (${code})`)));
      });
    }
  });

  afterEach(async function () {
    // Remove every policy this case made, then wait for the lab to be fully open again.
    for (const args of policies.values()) await lab(env, ['exec', 'node-1', '--', 'ctl', 'delete', ...args]);
    policies.clear();
    if (!A) return;
    for (const p of listeners) expect([p.exitCode, p.signalCode], 'a TCP listener exited').to.deep.equal([null, null]);
    await until('full connectivity once the policies are deleted',
      [P(A, B), P(A, C), P(D, B), P(O1, C), P(C, A), P(O2, B), T(A, C, 8081), T(D, B, 8081), T(O1, C, 8080)]);
  });

  after(async function () {
    for (const p of listeners) if (p.pid && p.exitCode === null) p.kill('SIGKILL');
    if (dir) {
      const r = await lab(env, ['down']);
      if (r.code !== 0) process.stderr.write(`lab down: ${r.out}\n`);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pods in a second namespace get the namespace profile and every pod reaches every other', async () => {
    const prof = JSON.parse(await ctl(['get', 'profile', 'kns.other', '-o', 'json'])) as { spec?: { labelsToApply?: Record<string, string> } };
    expect(prof.spec?.labelsToApply).to.deep.equal({ 'pcns.projectcalico.org/name': 'other' });
    const weps = await ctl(['get', 'wep', '-n', 'other']);
    expect(weps).to.include('o-1').and.to.include('o-2');
    expect(weps).to.not.include('pod-1-1');
    await until('every pod reaching every other', [A, B, C, D, O1, O2].flatMap((x) => [A, B, C, D, O1, O2].filter((y) => y !== x).map((y) => P(x, y))));
  });

  it('ingress: a policy selecting an endpoint denies by default, an Allow rule admits (same node and across nodes)', async () => {
    await apply('NetworkPolicy', 'servers', { selector: "role == 'server'", types: ['Ingress'] });
    await until('default deny on the servers', [P(A, D), P(D, A)], [P(A, B), P(A, C)]);
    await denied(T(A, C, 8080), T(D, B, 8080), P(O1, B), P(O2, C));
    await apply('NetworkPolicy', 'servers', { selector: "role == 'server'", types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'ICMP' }] });
    await until('ICMP allowed in', [P(A, B), P(A, C), P(D, B), P(O2, C)]);
    await denied(T(A, C, 8080), T(A, B, 8080), T(D, B, 8081));
  });

  it('egress: only what an egress rule allows leaves a selected endpoint; its ingress stays open', async () => {
    await apply('NetworkPolicy', 'clients', {
      selector: "role == 'client'", types: ['Egress'],
      egress: [{ action: 'Allow', protocol: 'ICMP', destination: { selector: "role == 'server'" } }],
    });
    // A's ingress is not selected, so B and D still reach it and A's replies leave as established.
    await until('egress allow-list on the client', [P(A, B), P(A, C), P(B, A), P(D, A)], [P(A, D)]);
    // O1 is also role=client, but the policy is namespaced to default: O1 is not selected.
    await until('a client in another namespace is not selected', [P(O1, D), T(O1, C, 8080)]);
    await denied(P(A, O1), P(A, O2), T(A, C, 8080), T(A, B, 8081));
  });

  it("namespaceSelector: ingress from namespace 'other' only (profile kns.other's pcns labels)", async () => {
    await apply('NetworkPolicy', 'from-other', {
      selector: "role == 'server'", types: ['Ingress'],
      ingress: [{ action: 'Allow', source: { namespaceSelector: "projectcalico.org/name == 'other'" } }],
    });
    await until('only namespace other gets in', [P(O2, B), P(O1, C), P(O1, B), T(O2, C, 8080)], [P(A, C), P(A, B)]);
    await denied(P(D, C), P(D, B), T(A, C, 8080));
  });

  it('ipBlock with except: nets + notNets', async () => {
    await apply('NetworkPolicy', 'ipblock', {
      selector: "role == 'server'", types: ['Ingress'],
      ingress: [{ action: 'Allow', source: { nets: [POOL], notNets: [`${A.ip}/32`] } }],
    });
    await until('the pool except A gets in', [P(D, B), P(O1, B), P(D, C), T(O2, C, 8080)], [P(A, B), P(A, C)]);
    await denied(T(A, B, 8080), T(A, C, 8081));
  });

  it('ports: TCP 8080 is allowed, 8081 is not', async () => {
    await apply('NetworkPolicy', 'port-8080', {
      selector: "role == 'server'", types: ['Ingress'],
      ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [8080] } }],
    });
    await until('only TCP 8080 gets in', [T(A, C, 8080), T(A, B, 8080), T(D, B, 8080), T(O2, C, 8080)], [P(A, C), P(A, B)]);
    await denied(T(A, C, 8081), T(A, B, 8081), T(D, B, 8081), T(O2, C, 8081), P(D, C));
  });

  it('Pass and order: a GlobalNetworkPolicy of lower order is evaluated first; Pass skips the rest of the tier', async () => {
    // first (order 10): clients Pass (to the profiles, which allow); any other ICMP is denied.
    await apply('GlobalNetworkPolicy', 'first', {
      order: 10, selector: "role == 'server'", types: ['Ingress'],
      ingress: [{ action: 'Pass', source: { selector: "role == 'client'" } }, { action: 'Deny', protocol: 'ICMP' }],
    });
    // second (order 20) would allow ICMP and TCP 8080 to everybody.
    const second = (order: number) => apply('NetworkPolicy', 'second', {
      order, selector: "role == 'server'", types: ['Ingress'],
      ingress: [{ action: 'Allow', protocol: 'ICMP' }, { action: 'Allow', protocol: 'TCP', destination: { ports: [8080] } }],
    });
    await second(20);
    // D -> C:8080 only gets through once both are in place (first alone ends the tier in a drop).
    await until('both policies in effect', [T(D, C, 8080), T(D, B, 8080), P(A, C), P(A, B), T(A, C, 8081), T(O1, B, 8081)], [P(D, C), P(D, B)]);
    // first's Deny wins over second's Allow; unmatched traffic drops at the end of the tier.
    await denied(P(O2, C), P(O2, B), T(D, C, 8081), T(O2, B, 8081));
    // Swap the order: second now comes first and its ICMP Allow wins.
    await second(5);
    await until('second evaluated first', [P(D, C), P(D, B), P(O2, C), P(A, C), T(A, B, 8081)]);
    await denied(T(D, C, 8081), T(O2, B, 8081));
  });

  it('Kubernetes NetworkPolicy semantics in v3: podSelector -> selector, policyTypes -> types', async () => {
    // networking.k8s.io/v1:
    //   podSelector: {matchLabels: {role: server}}
    //   policyTypes: [Ingress, Egress]
    //   ingress: [{from: [{podSelector: {matchLabels: {role: client}}}], ports: [{protocol: TCP, port: 8080}]}]
    //   (no egress rules: all egress denied)
    await apply('NetworkPolicy', 'k8s-style', {
      selector: "role == 'server'", types: ['Ingress', 'Egress'],
      ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'client'" }, destination: { ports: [8080] } }],
    });
    // Replies to A's connections still flow out of the servers (established), new egress does not.
    await until('k8s-style policy in effect', [T(A, C, 8080), T(A, B, 8080)], [P(A, C), P(C, D), P(A, B)]);
    // A podSelector only matches pods of the policy's namespace: O1 (role=client in other) is out.
    await denied(T(O1, C, 8080), T(O1, B, 8080), T(D, C, 8080), T(A, C, 8081), P(B, A), P(C, O2), T(C, B, 8080));
  });
});

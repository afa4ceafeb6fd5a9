// Benchmark: convergence in the lab (BGP mode), driven through the lab CLI as a user drives it.
//
//   1. Pod ADD -> reachable everywhere: from the start of a CNI ADD on node-1 until the new pod
//      answers ping from a pod on every other node (one `ping -i 0.05` per source node, all in
//      parallel). Baseline in the same lab: the same path wired by hand (netns, veth, addresses,
//      routes pre-installed on the other nodes), from the first `ip` command to the same replies.
//   2. New node -> block routed everywhere: from `lab node add --no-pods` starting the new node's
//      agent until its block (the one its first pod's address comes from) is routed via the new
//      node on every other node and on the ToR (`ip monitor route` in each namespace, checked at
//      the end with `ip route get`). Calico claims a block on a node's first pod, so the timeline
//      is: agent start -> ready -> first pod's CNI ADD -> block routed everywhere.
//      Baseline: BIRD 2 to BIRD 2 with the ToR's timers, from starting a BIRD that originates a
//      /26 until a running BIRD peer has it in its kernel table.
//
//   node bench/dist/lab-convergence.js [--nodes 3,10] [--reps 5] [--no-record] [--baseline-only]
// Every lab gets its own TABBY_LAB_DIR and TABBY_LAB_PREFIX and is removed (`lab down`) at the end.

import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, vethPair, startBird, tmpDir } from '@tabby/test-support';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LAB = join(ROOT, 'lab/dist/main.js');
const nodeIp = (i: number) => `10.99.0.${10 + i}`; // as lab/src/topology.ts lays it out
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (s: string) => process.stdout.write(s + '\n');

interface Lab { dir: string; prefix: string; env: NodeJS.ProcessEnv }
interface LabState { nodes: number; agents: Record<string, number>; pods: { node: string; name: string; ns: string; ip: string }[] }
const TABBY_NODE = join(ROOT, 'packages/node/bin/tabby-node.js');

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** `tabby-node -ready` inside node k's namespace, with the lab's environment for that node. */
function readyProbe(l: Lab, k: number): { ok: boolean; detail: string } {
  const r = sh(['ip', 'netns', 'exec', `${l.prefix}node-${k}`, 'env', 'DATASTORE_TYPE=etcdv3', 'ETCD_ENDPOINTS=http://10.99.0.1:2379', `NODENAME=node-${k}`,
    `TABBY_STATE_DIR=${join(l.dir, `node-${k}`)}`, 'CALICO_NETWORKING_BACKEND=bird', process.execPath, TABBY_NODE, '-ready']);
  return { ok: r.status === 0, detail: (r.stdout + r.stderr).trim().split('\n').filter((x) => !/HTTP 200/.test(x)).join(' ') };
}

/**
 * After a `lab up` that gave up waiting (120 s per node): wait longer for every agent, restart
 * (`lab node restart`, as the kubelet would restart a crashed calico-node) any agent that has
 * exited, then create the one pod per node that the rest of the benchmark pings from.
 */
async function recover(l: Lab, n: number, budgetMs: number): Promise<string> {
  const t0 = Date.now();
  const restarted: string[] = [];
  const ready = new Set<number>();
  let last: Record<number, string> = {};
  while (Date.now() - t0 < budgetMs && ready.size < n) {
    const st = labState(l);
    for (let k = 1; k <= n; k++) {
      if (ready.has(k)) continue;
      if (!alive(st.agents[`node-${k}`]) && !restarted.includes(`node-${k}`)) {
        restarted.push(`node-${k}`);
        say(`  node-${k}: agent has exited; lab node restart node-${k}`);
        await lab(l, 'node', 'restart', `node-${k}`);
      }
      const r = readyProbe(l, k);
      if (r.ok) ready.add(k); else last[k] = r.detail;
    }
    if (ready.size < n) await sleep(2000);
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  const notReady = Array.from({ length: n }, (_, k) => k + 1).filter((k) => !ready.has(k));
  const crashed = Array.from({ length: n }, (_, k) => k + 1).filter((k) => {
    // An uncaught error ends with Node's version line in the agent's log.
    try { return /^Node\.js v/m.test(readFileSync(join(l.dir, `node-${k}`, 'agent.log'), 'utf8')); } catch { return false; }
  });
  let note = `after lab up gave up: ${ready.size}/${n} agents ready ${secs} s later`;
  if (crashed.length) note += `; tabby-node exited at start-up on ${crashed.map((k) => `node-${k}`).join(',')} (uncaught error; seen: etcd gave no answer within 5 s during registration or confd --once)`;
  if (restarted.length) note += `; restarted ${restarted.join(',')}`;
  if (notReady.length) note += `; not ready: ${notReady.map((k) => `node-${k}: ${last[k] ?? '?'}`).join('; ').slice(0, 300)}`;
  last = {};
  say(`  ${note}`);
  const st = labState(l);
  for (let k = 2; k <= n; k++) {
    if (st.pods.some((p) => p.node === `node-${k}`)) continue;
    const r = await lab(l, 'pod', 'add', `node-${k}`, `pod-${k}-1`);
    if (r.code !== 0) note += `; pod on node-${k} failed: ${r.out.trim().slice(-120)}`;
  }
  return note;
}

function newLab(n: number): Lab {
  const dir = mkdtempSync(join(tmpdir(), 'tabby-bench-lab-'));
  const prefix = `tbl${process.pid % 100000}n${n}-`;
  return { dir, prefix, env: { ...process.env, TABBY_LAB_DIR: dir, TABBY_LAB_PREFIX: prefix } };
}

function lab(l: Lab, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [LAB, ...args], { env: l.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d; });
    p.stderr.on('data', (d: Buffer) => { out += d; });
    p.on('close', (code) => res({ code: code ?? 1, out }));
  });
}

const labState = (l: Lab) => JSON.parse(readFileSync(join(l.dir, 'state.json'), 'utf8')) as LabState;
const sh = (argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });

const children = new Set<ChildProcess>();
function track(p: ChildProcess): ChildProcess {
  children.add(p);
  p.on('close', () => children.delete(p));
  return p;
}
function killOurs(): void {
  for (const p of children) try { p.kill('SIGKILL'); } catch { /* gone */ }
}

/** Pings `ip` from inside `ns` every 50 ms; resolves with the time of the first reply (epoch ms) or undefined. */
function firstReply(ns: string, ip: string, timeoutMs: number): Promise<number | undefined> {
  return new Promise((res) => {
    const p = track(spawn('ip', ['netns', 'exec', ns, 'ping', '-n', '-i', '0.05', '-W', '1', '-w', String(Math.ceil(timeoutMs / 1000)), ip], { stdio: ['ignore', 'pipe', 'ignore'] }));
    let buf = '';
    let done = false;
    p.stdout!.on('data', (d: Buffer) => {
      if (done) return;
      buf += d;
      if (/bytes from/.test(buf)) {
        done = true;
        res(Date.now());
        p.kill('SIGTERM');
      }
    });
    p.on('close', () => { if (!done) { done = true; res(undefined); } });
  });
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN; };
const fmt = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? 'n/a' : (ms / 1000).toFixed(2));

// ---- 1. pod ADD -> reachable everywhere ------------------------------------------------------

interface PodRep { cniMs: number; doneLogMs?: number; reachMaxMs?: number; reachMedMs?: number; unreached: number }

/** The plugin's own log lines for one container: [ISO time, message, rest]. */
function cniLog(l: Lab, node: string, containerId: string): { at: number; msg: string; line: string }[] {
  let text = '';
  try { text = readFileSync(join(l.dir, node, 'cni.log'), 'utf8'); } catch { return []; }
  return text.split('\n').filter((x) => x.includes(`"containerID":"${containerId}"`)).map((line) => {
    const m = /^(\S+) \[\w+\] ([^{]*)/.exec(line);
    return { at: m ? Date.parse(m[1]!) : NaN, msg: m ? m[2]!.trim() : '', line };
  });
}

/** One pod from every node other than node-1, to ping from. */
function sources(l: Lab): { node: string; ns: string }[] {
  const st = labState(l);
  const out: { node: string; ns: string }[] = [];
  for (let k = 2; k <= st.nodes; k++) {
    const p = st.pods.find((x) => x.node === `node-${k}` && !x.name.startsWith('bench-'));
    if (p) out.push({ node: p.node, ns: p.ns });
  }
  return out;
}

async function podReach(l: Lab, name: string, timeoutMs: number): Promise<PodRep> {
  const src = sources(l);
  // Start pinging as soon as IPAM has picked the address (the plugin logs it), not when the
  // plugin process has exited, so reachability during the ADD is seen too.
  const adding = lab(l, 'pod', 'add', 'node-1', name);
  let finished = false;
  void adding.then(() => { finished = true; });
  let ip: string | undefined;
  while (!ip && !finished) {
    const a = cniLog(l, 'node-1', `lab-${name}`).find((x) => x.msg === 'cni-ipam: assigned');
    ip = a && /"addresses":\["([\d.]+)/.exec(a.line)?.[1];
    if (!ip) await sleep(20);
  }
  const pings = ip ? src.map((s) => firstReply(s.ns, ip!, timeoutMs)) : [];
  const r = await adding;
  const m = /: (\S+) \(CNI ADD started at (\d+) epoch ms, took (\d+) ms\)/.exec(r.out);
  if (r.code !== 0 || !m) throw new Error(`lab pod add node-1 ${name} failed: ${r.out}`);
  const [startedAt, cniMs] = [Number(m[2]), Number(m[3])];
  const replies = await Promise.all(ip === m[1] ? pings : src.map((s) => firstReply(s.ns, m[1]!, timeoutMs)));
  const got = replies.filter((t): t is number => t !== undefined).map((t) => t - startedAt);
  const unreached = replies.length - got.length + (labState(l).nodes - 1 - src.length); // nodes with no pod to ping from count as unreached
  const done = cniLog(l, 'node-1', `lab-${name}`).find((x) => x.msg === 'cni: ADD done')?.at;
  return { cniMs, unreached, ...(done ? { doneLogMs: done - startedAt } : {}), ...(got.length ? { reachMaxMs: Math.max(...got), reachMedMs: median(got) } : {}) };
}

/** The same path wired by hand: a namespace on node-1 with a veth, routes already on the other nodes. */
async function manualReach(l: Lab, k: number, timeoutMs: number): Promise<{ ms?: number; unreached: number }> {
  const st = labState(l);
  const net = `10.250.${k}`;
  const ns = `${l.prefix}bl-${k}`;
  const node1 = `${l.prefix}node-1`;
  for (let i = 2; i <= st.nodes; i++) sh(['ip', '-n', `${l.prefix}node-${i}`, 'route', 'add', `${net}.0/30`, 'via', nodeIp(1)]);
  const src = sources(l);
  const t0 = Date.now();
  const steps = [
    ['ip', 'netns', 'add', ns],
    ['ip', 'link', 'add', `bl${k}`, 'netns', node1, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns],
    ['ip', '-n', node1, 'addr', 'add', `${net}.1/30`, 'dev', `bl${k}`],
    ['ip', '-n', node1, 'link', 'set', `bl${k}`, 'up'],
    ['ip', '-n', ns, 'addr', 'add', `${net}.2/30`, 'dev', 'eth0'],
    ['ip', '-n', ns, 'link', 'set', 'eth0', 'up'],
    ['ip', '-n', ns, 'route', 'add', 'default', 'via', `${net}.1`],
  ];
  for (const s of steps) {
    const r = sh(s);
    if (r.status !== 0) throw new Error(`${s.join(' ')}: ${r.stderr}`);
  }
  const replies = await Promise.all(src.map((s) => firstReply(s.ns, `${net}.2`, timeoutMs)));
  const got = replies.filter((t): t is number => t !== undefined).map((t) => t - t0);
  return { unreached: replies.length - got.length, ...(got.length ? { ms: Math.max(...got) } : {}) };
}

// ---- 2. new node -> block routed everywhere --------------------------------------------------

interface JoinResult {
  readyMs?: number; cniStartMs?: number; cniMs?: number;
  routedMs?: number; routedAfterCniMs?: number; torMs?: number; nodesMaxMs?: number; torVia?: string;
  missing: string[]; note: string;
}

const ipToInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
function contains(cidr: string, ip: string): boolean {
  const [net, len] = cidr.includes('/') ? cidr.split('/') as [string, string] : [cidr, '32'];
  const size = 2 ** (32 - Number(len));
  return Math.floor(ipToInt(net) / size) === Math.floor(ipToInt(ip) / size);
}

async function nodeJoin(l: Lab, timeoutMs: number): Promise<JoinResult> {
  const st = labState(l);
  const newIdx = st.nodes + 1;
  const via = nodeIp(newIdx);
  const targets = [...Array.from({ length: st.nodes }, (_, k) => `node-${k + 1}`), 'tor'];
  // Route events in every namespace, stamped on arrival: [prefix, time].
  const seen = new Map<string, [string, number][]>(targets.map((t) => [t, []]));
  const monitors = targets.map((t) => {
    const p = track(spawn('ip', ['netns', 'exec', `${l.prefix}${t}`, 'ip', '-4', 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] }));
    let buf = '';
    p.stdout!.on('data', (d: Buffer) => {
      const now = Date.now();
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        const m = /^(10\.244\.\S+) (?:.*\s)?via (\S+) /.exec(line);
        // The nodes must route the block to the new node itself; the ToR may also learn it from
        // another node (eBGP paths relayed from the mesh, and BIRD breaks the tie by router id).
        if (m && (m[2] === via || (t === 'tor' && m[2]!.startsWith('10.99.0.')))) seen.get(t)!.push([m[1]!, now]);
      }
    });
    return p;
  });
  const res: JoinResult = { missing: [], note: '' };
  try {
    await sleep(300); // let the monitors subscribe
    const spawnedAt = Date.now();
    const add = await lab(l, 'node', 'add', '--no-pods');
    const a = /agent started at (\d+) \(epoch ms\), ready after (\d+) ms/.exec(add.out);
    let agentAt: number;
    if (add.code === 0 && a) {
      agentAt = Number(a[1]);
      res.readyMs = Number(a[2]);
    } else {
      // The lab gave up waiting for readiness (120 s); the agent runs on. Time from when we ran
      // `lab node add` and keep waiting, restarting the agent once if it has exited.
      agentAt = spawnedAt;
      res.note = `lab node add gave up after ${((Date.now() - spawnedAt) / 1000).toFixed(0)} s`;
      if (!/tabby-node pid/.test(add.out)) { res.note += `: ${add.out.slice(-300)}`; return res; }
      const end = Date.now() + 240_000;
      let restarted = false;
      let probe = readyProbe(l, newIdx);
      while (!probe.ok && Date.now() < end) {
        if (!restarted && !alive(labState(l).agents[`node-${newIdx}`])) {
          restarted = true;
          res.note += '; its agent had exited, restarted it';
          await lab(l, 'node', 'restart', `node-${newIdx}`);
        }
        await sleep(1000);
        probe = readyProbe(l, newIdx);
      }
      if (!probe.ok) { res.note += `; still not ready 240 s later: ${probe.detail.slice(0, 200)}`; return res; }
      res.readyMs = Date.now() - agentAt;
      res.note += `; ready ${fmt(res.readyMs)} s after lab node add started`;
    }
    const pod = await lab(l, 'pod', 'add', `node-${newIdx}`, 'bench-join');
    const m = /: (\S+) \(CNI ADD started at (\d+) epoch ms, took (\d+) ms\)/.exec(pod.out);
    if (pod.code !== 0 || !m) { res.note = `lab pod add on node-${newIdx} failed: ${pod.out.slice(-400)}`; return res; }
    const ip = m[1]!;
    const cniAt = Number(m[2]);
    res.cniStartMs = cniAt - agentAt;
    res.cniMs = Number(m[3]);
    const firstFor = (t: string) => seen.get(t)!.find(([pfx]) => contains(pfx, ip))?.[1];
    const end = Date.now() + timeoutMs;
    while (Date.now() < end && targets.some((t) => firstFor(t) === undefined)) await sleep(50);
    // Check the kernel's answer too (the monitor only proves the route appeared).
    for (const t of targets) {
      const r = sh(['ip', '-n', `${l.prefix}${t}`, 'route', 'get', ip]);
      const hop = /via (\S+) /.exec(r.stdout)?.[1];
      if (t === 'tor') res.torVia = hop ?? 'none';
      if (firstFor(t) === undefined || !(hop === via || (t === 'tor' && hop?.startsWith('10.99.0.')))) res.missing.push(`${t}: ${(r.stdout + r.stderr).trim().split('\n')[0]}`);
    }
    if (!res.missing.length) {
      const times = targets.map((t) => firstFor(t)!);
      res.routedMs = Math.max(...times) - agentAt;
      res.routedAfterCniMs = Math.max(...times) - cniAt;
      res.torMs = firstFor('tor')! - cniAt;
      res.nodesMaxMs = Math.max(...targets.filter((t) => t !== 'tor').map((t) => firstFor(t)!)) - cniAt;
    }
    return res;
  } finally {
    for (const p of monitors) p.kill('SIGTERM');
  }
}

// ---- baseline for 2: BIRD 2 -> BIRD 2 ---------------------------------------------------------

async function birdToBird(reps: number): Promise<number[]> {
  const dir = tmpDir('tabby-bench-bird-');
  const a = createNetns('bl-a');
  const b = createNetns('bl-b');
  const out: number[] = [];
  const timers = 'connect retry time 2; error wait time 1, 10;'; // as the lab's ToR
  try {
    vethPair(a, 'bb-a', b, 'bb-b');
    a.run('ip', ['addr', 'add', '10.251.0.1/24', 'dev', 'bb-a']);
    b.run('ip', ['addr', 'add', '10.251.0.2/24', 'dev', 'bb-b']);
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    const birdA = startBird(a, join(dir, 'a'), `router id 10.251.0.1;\nprotocol device {}\nprotocol kernel { ipv4 { export all; }; }\nprotocol bgp b { local 10.251.0.1 as 65000; neighbor 10.251.0.2 as 64512; ${timers} ipv4 { import all; export none; }; }\n`);
    try {
      for (let k = 0; k < reps; k++) {
        const t0 = Date.now();
        const birdB = startBird(b, join(dir, 'b'), `router id 10.251.0.2;\nprotocol device {}\nprotocol static { ipv4; route 10.252.${k}.0/26 blackhole; }\nprotocol bgp a { local 10.251.0.2 as 64512; neighbor 10.251.0.1 as 65000; ${timers} ipv4 { import none; export all; }; }\n`);
        try {
          const end = t0 + 60_000;
          let ok = false;
          while (Date.now() < end) {
            if (a.tryRun('ip', ['route', 'get', `10.252.${k}.1`]).stdout.includes('via 10.251.0.2 ')) { ok = true; break; }
            await sleep(50);
          }
          if (ok) out.push(Date.now() - t0);
          else say(`  BIRD baseline rep ${k} did not converge in 60 s: ${birdA.birdc('show', 'protocols').replace(/\s+/g, ' ')} | ${a.tryRun('ip', ['route', 'get', `10.252.${k}.1`]).stdout.trim()} | B: ${birdB.output().slice(-300)}`);
        } finally {
          await birdB.stop();
        }
        await sleep(1500); // A notices the session is gone and withdraws
      }
    } finally {
      await birdA.stop();
    }
  } finally {
    a.delete();
    b.delete();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

// ---- driver ----------------------------------------------------------------------------------

interface NResult {
  n: number; upOk: boolean; upSeconds: number; note: string;
  pods: PodRep[]; manual: { ms?: number; unreached: number }[]; join?: JoinResult;
}

async function runN(n: number, reps: number): Promise<NResult> {
  const l = newLab(n);
  current = l;
  const res: NResult = { n, upOk: false, upSeconds: 0, note: '', pods: [], manual: [] };
  try {
    const t0 = Date.now();
    const up = await lab(l, 'up', '--nodes', String(n), '--mode', 'bgp');
    res.upSeconds = (Date.now() - t0) / 1000;
    res.upOk = up.code === 0;
    say(`N=${n}: lab up ${res.upOk ? 'healthy' : 'NOT healthy'} after ${res.upSeconds.toFixed(0)} s`);
    if (!res.upOk) {
      const log = join(tmpdir(), `tabby-bench-lab-up-n${n}-${process.pid}.log`);
      writeFileSync(log, up.out);
      say(`lab up output: ${log}`);
      res.note = `lab up exited ${up.code}: ${(up.out.match(/!!.*|LAB NOT HEALTHY.*|lab: .*/g) ?? []).slice(0, 4).join('; ')}`;
      try { labState(l); } catch { return res; }
      res.note += '; ' + await recover(l, n, 300_000);
    }
    for (let k = 1; k <= reps; k++) {
      const m = await manualReach(l, k, 30_000);
      res.manual.push(m);
      const p = await podReach(l, `bench-p${k}`, 60_000);
      res.pods.push(p);
      say(`N=${n} rep ${k}: CNI ADD ${p.cniMs} ms (plugin logged ADD done at ${p.doneLogMs} ms), reachable from all ${n - 1} other nodes ${fmt(p.reachMaxMs)} s after ADD start (median node ${fmt(p.reachMedMs)} s, ${p.unreached} unreached); by hand ${fmt(m.ms)} s (${m.unreached} unreached)`);
    }
    res.join = await nodeJoin(l, 120_000);
    const j = res.join;
    say(`N=${n} node join: ready ${fmt(j.readyMs)} s, CNI ADD at +${fmt(j.cniStartMs)} s took ${j.cniMs ?? 'n/a'} ms, block routed everywhere ${fmt(j.routedMs)} s after agent start (${fmt(j.routedAfterCniMs)} s after ADD start; ToR ${fmt(j.torMs)} s, nodes ${fmt(j.nodesMaxMs)} s; ToR via ${j.torVia}) ${j.missing.join('; ')} ${j.note}`);
    return res;
  } catch (e) {
    res.note += ` error: ${(e as Error).message.slice(0, 300)}`;
    say(`N=${n}: ${res.note}`);
    return res;
  } finally {
    killOurs();
    const d = await lab(l, 'down');
    say(`N=${n}: ${d.out.trim()}`);
    rmSync(l.dir, { recursive: true, force: true });
    current = undefined;
  }
}

let current: Lab | undefined;

async function main(): Promise<void> {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killOurs();
      if (current) spawnSync(process.execPath, [LAB, 'down'], { env: current.env, stdio: 'inherit' });
      process.exit(130);
    });
  }
  const args = process.argv.slice(2);
  const opt = (name: string) => { const k = args.indexOf(name); return k >= 0 ? args[k + 1] : args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1); };
  const ns = (opt('--nodes') ?? '3,10').split(',').map(Number).filter((x) => x >= 2);
  const reps = Number(opt('--reps') ?? 5);
  const record = !args.includes('--no-record');

  const bird = await birdToBird(3);
  say(`baseline BIRD 2 -> BIRD 2: ${bird.map((x) => fmt(x)).join(', ')} s`);
  if (args.includes('--baseline-only')) return;
  const results: NResult[] = [];
  for (const n of ns) results.push(await runN(n, reps));
  if (!record) return;

  const cores = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim();
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const lines = [
    '',
    `## Lab convergence (BGP mode), ${new Date().toISOString().slice(0, 10)} (${process.version}, ${cores} cores, load ${load} at the end)`,
    '',
    '`node bench/dist/lab-convergence.js`: a lab per N (`lab up --nodes N`), then (1) pods added on',
    'node-1 with `lab pod add`, timed from the start of the CNI ADD to the first ping reply from a pod',
    'on every other node (pings every 50 ms from all nodes at once), next to the same path wired by',
    'hand; (2) `lab node add --no-pods` then a first pod on the new node, timed from the new agent\'s',
    'start until the block of that pod is routed via the new node on every other node and the ToR',
    `(\`ip monitor route\`, checked with \`ip route get\`). Baseline for (2): BIRD 2 -> BIRD 2 with the ToR's`,
    `timers, start of the originating BIRD to the route in the peer's kernel: ${bird.map((x) => fmt(x)).join(', ')} s.`,
    '',
    '### 1. Pod ADD -> reachable from every other node (seconds, median / max over reps)',
    '',
    '| N | lab up | reps | CNI ADD (process) | CNI ADD (plugin logs done) | ADD start -> reachable from all | ADD exit -> reachable from all | by hand -> reachable from all | unreached |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const reach = r.pods.filter((p) => p.reachMaxMs !== undefined).map((p) => p.reachMaxMs!);
      const man = r.manual.filter((m) => m.ms !== undefined).map((m) => m.ms!);
      const cni = r.pods.map((p) => p.cniMs);
      const logged = r.pods.filter((p) => p.doneLogMs !== undefined).map((p) => p.doneLogMs!);
      const un = r.pods.reduce((a, p) => a + p.unreached, 0);
      const after = r.pods.filter((p) => p.reachMaxMs !== undefined).map((p) => p.reachMaxMs! - p.cniMs);
      return `| ${r.n} | ${r.upOk ? 'healthy' : 'NOT healthy'}, ${r.upSeconds.toFixed(0)} s | ${r.pods.length} | ${fmt(median(cni))} / ${fmt(cni.length ? Math.max(...cni) : NaN)} | ${fmt(median(logged))} / ${fmt(logged.length ? Math.max(...logged) : NaN)} | ${fmt(median(reach))} / ${fmt(reach.length ? Math.max(...reach) : NaN)} | ${fmt(median(after))} / ${fmt(after.length ? Math.max(...after) : NaN)} | ${fmt(median(man))} / ${fmt(man.length ? Math.max(...man) : NaN)} | ${un} |`;
    }),
    '',
    '### 2. New node -> its block routed on every other node and the ToR (seconds)',
    '',
    '| N (before join) | agent start -> ready | -> CNI ADD start | CNI ADD | ADD start -> ToR | ADD start -> all nodes | agent start -> routed everywhere | note |',
    '|---|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const j = r.join;
      if (!j) return `| ${r.n} | n/a | | | | | | ${r.note.trim()} |`;
      return `| ${r.n} | ${fmt(j.readyMs)} | +${fmt(j.cniStartMs)} | ${fmt(j.cniMs)} | ${fmt(j.torMs)} (via ${j.torVia ?? '?'}) | ${fmt(j.nodesMaxMs)} | ${fmt(j.routedMs)} | ${[j.note, ...j.missing, r.note].filter(Boolean).join('; ').replace(/\|/g, '/').slice(0, 300)} |`;
    }),
    '',
  ];
  appendFileSync(join(ROOT, 'bench/RESULTS.md'), lines.join('\n'));
}

await main();

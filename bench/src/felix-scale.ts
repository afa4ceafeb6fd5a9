// Benchmark: felix's cold start at scale and one policy change, against the floor of the raw
// tools writing the same final state, in the same run on the same machine.
//
//   node bench/dist/felix-scale.js [N] [--runs=R] [--no-record]
//   (FELIX_SCALE_DUMP=<dir> also writes the floor's ipset/iptables/ip inputs there)
//   (default N = 10000 workload endpoints, 1 run; appends a section to bench/RESULTS.md)
//
// Cluster: N local WorkloadEndpoints over 50 namespaces (labels app/tier/version), profiles
// kns.<ns> with Allow-all rules and pcns.* labelsToApply, 50 + 30 NetworkPolicies and 20
// GlobalNetworkPolicies with selectors, port lists/ranges, nets and namespaceSelectors.
//
// Interfaces: each endpoint's cali* interface is one end of a veth pair whose other end is the
// same-named interface in the other side's namespace (created up front, not timed; this machine
// has no dummy module). Putting the other ends in N pod namespaces would mostly measure the
// kernel's namespace creation; routes, static ARP entries and sysctls behave the same either way.
//
// felix: the real PolicyCalculator (fed every resource), PolicyDataplane (ipsets then filter
// table) and RouteDataplane (ARP, routes, sysctls) with calculateRoutes, driven directly (no
// datastore), each in a fresh namespace. Every command felix runs is timed through an Exec
// wrapper, so felix's time splits into "in tools" and "in Node".
// floor: in another fresh namespace with the same interfaces, one `ipset restore` with every
// set, one `iptables-restore --noflush` with every chain and the hooks, one `ip -batch` with
// every route and ARP entry, `sysctl -w` with every sysctl (split only to fit the argv limit).

import { appendFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GlobalNetworkPolicy, NetworkPolicy, Profile, WorkloadEndpoint, IPPool, Node } from '@tabby/api';
import { exec as realExec, replaceArgs, type Exec } from '@tabby/linux';
import {
  IpsetApplier, IptablesTable, PolicyCalculator, PolicyDataplane, RouteDataplane, calculateRoutes, iptablesCommands,
  renderChainsRestore, resolveIptablesBackend,
  type IptablesBackend, type RouteTargets,
} from '@tabby/felix';
import { createNetns, hostRun, type Netns } from '@tabby/test-support';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = 'bench-node';
const NAMESPACES = 50;
const TIERS = ['web', 'api', 'db', 'cache'] as const;

interface Cluster { profiles: Profile[]; weps: WorkloadEndpoint[]; policies: (NetworkPolicy | GlobalNetworkPolicy)[]; pools: IPPool[]; nodes: Node[] }

const ifaceFor = (ns: string, pod: string) => `cali${createHash('sha1').update(`${ns}.${pod}`).digest('hex').slice(0, 11)}`;
const hex = (n: number) => n.toString(16).padStart(2, '0');

function cluster(n: number): Cluster {
  const profiles: Profile[] = [];
  for (let k = 0; k < NAMESPACES; k++) {
    profiles.push({
      apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: `kns.ns-${k}` },
      spec: {
        ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }],
        labelsToApply: { 'pcns.projectcalico.org/name': `ns-${k}`, 'pcns.team': `team-${k % 5}`, 'pcns.env': k % 2 ? 'prod' : 'dev' },
      },
    });
  }
  const weps: WorkloadEndpoint[] = [];
  for (let i = 0; i < n; i++) {
    const ns = `ns-${i % NAMESPACES}`;
    const pod = `pod-${i}`;
    weps.push({
      apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint',
      metadata: {
        name: `${NODE}-k8s-${pod}-eth0`, namespace: ns,
        labels: { app: `app-${i % 20}`, tier: TIERS[i % 4]!, version: `v${i % 3}`, 'projectcalico.org/namespace': ns, 'projectcalico.org/orchestrator': 'k8s' },
      },
      spec: {
        node: NODE, orchestrator: 'k8s', pod, endpoint: 'eth0', interfaceName: ifaceFor(ns, pod),
        ipNetworks: [`10.100.${i >> 8}.${i & 255}/32`], mac: `0a:58:0a:64:${hex((i >> 8) & 255)}:${hex(i & 255)}`, profiles: [`kns.${ns}`],
      },
    });
  }
  const policies: (NetworkPolicy | GlobalNetworkPolicy)[] = [];
  for (let k = 0; k < NAMESPACES; k++) {
    policies.push({
      apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: 'allow-api-to-db', namespace: `ns-${k}` },
      spec: {
        order: 100, selector: "tier == 'db'", types: ['Ingress'],
        ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "tier == 'api'" }, destination: { ports: [5432, 6379] } }],
      },
    });
    if (k < 30) {
      policies.push({
        apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: 'allow-team', namespace: `ns-${k}` },
        spec: {
          order: 200, selector: "tier in {'web', 'api'}", types: ['Ingress', 'Egress'],
          ingress: [{ action: 'Allow', protocol: 'TCP', source: { namespaceSelector: `team == 'team-${k % 5}'` }, destination: { ports: [80, 443, '8000:8100'] } }],
          egress: [
            { action: 'Allow', protocol: 'UDP', destination: { namespaceSelector: "projectcalico.org/name == 'ns-0'", selector: "app == 'app-0'", ports: [53] } },
            { action: 'Allow', protocol: 'TCP', destination: { selector: "tier == 'db'" } },
          ],
        },
      });
    }
  }
  for (let g = 0; g < 20; g++) {
    policies.push({
      apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: `gnp-${g}` },
      spec: {
        order: 10 + g, selector: `app == 'app-${g}'`, types: ['Ingress', 'Egress'],
        ingress: [
          { action: 'Deny', source: { nets: [`192.0.2.${g}/32`, '198.51.100.0/24'] } },
          { action: 'Allow', protocol: 'TCP', source: { namespaceSelector: "env == 'prod'", selector: `version != 'v${g % 3}'` }, destination: { ports: [9000 + g, 9443] } },
          { action: 'Pass' },
        ],
        egress: [{ action: 'Deny', destination: { nets: ['169.254.169.254/32'] } }, { action: 'Pass' }],
      },
    });
  }
  return {
    profiles, weps, policies,
    pools: [{ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.100.0.0/16' } }],
    nodes: [{ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: NODE }, spec: { bgp: { ipv4Address: '192.168.90.1/24' } } }],
  };
}

const routeTargets = (c: Cluster) => calculateRoutes(
  { endpoints: c.weps, pools: c.pools, nodes: c.nodes, blocks: [] },
  { nodeName: NODE, interfacePrefixes: ['cali'], rpFilter: 1, vxlanVni: 4096, vxlanPort: 4789 },
);

/** Exec that records the wall time of every command. */
function timedExec(log: { cmd: string; ms: number; mutating: boolean }[]): Exec {
  return async (cmd, args, opts) => {
    const t = performance.now();
    // felix's tools run with exec's default 30 s limit; at this scale on a busy machine one
    // iptables-restore can take longer, so the benchmark lifts it (and reports the slowest command).
    const dump = process.env.FELIX_SCALE_DUMP;
    if (dump && opts?.input !== undefined) writeFileSync(join(dump, `felix-${log.length}-${cmd}.in`), opts.input);
    const r = await realExec(cmd, args, { ...opts, timeoutMs: opts?.timeoutMs ?? 600_000 });
    const mutating = /restore$/.test(cmd) || (cmd === 'ipset' && args[0] === 'restore') || (cmd === 'ip' && args.includes('-batch')) || (cmd === 'sysctl' && args.includes('-w'));
    const label = cmd === 'ipset' ? `ipset ${args[0]}` : cmd === 'ip' ? `ip ${args.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ') || args.join(' ')}` : cmd;
    log.push({ cmd: label, ms: performance.now() - t, mutating });
    if (r.code !== 0 && !(cmd === 'sysctl')) progress(`${cmd} ${args.slice(0, 3).join(' ')} exit ${r.code}: ${r.stderr.slice(0, 300)}`);
    return r;
  };
}

/**
 * Each endpoint's interface is a veth pair with one end in each namespace (same name on both
 * sides), so felix's namespace and the floor's get identical interfaces from N pairs. IPv6 is
 * off in both namespaces while the links come up: with it on, every carrier change starts IPv6
 * address configuration and 10k links took minutes instead of seconds (setup cost of the
 * kernel, not of anything measured). Creation goes in batches of 2,000 lines per `ip -batch`.
 */
function makeInterfaces(a: Netns, b: Netns, weps: readonly WorkloadEndpoint[]): void {
  for (const ns of [a, b]) ns.run('sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  const names = weps.map((w) => w.spec.interfaceName!);
  for (let i = 0; i < names.length; i += 2000) {
    const lines = names.slice(i, i + 2000).map((n) => `link add ${n} netns ${a.name} type veth peer name ${n} netns ${b.name}`);
    hostRun(['ip', '-batch', '-'], lines.join('\n') + '\n');
  }
  const up = names.map((n) => `link set ${n} up`).join('\n') + '\n';
  for (const ns of [a, b]) ns.run('ip', ['-batch', '-'], up);
}

interface FelixRun {
  calcMs: number; policyMs: number; routesMs: number; totalMs: number; toolMs: number;
  backend: IptablesBackend; targets: RouteTargets; dp: PolicyDataplane; chains: number; rules: number; sets: number; members: number;
  change: { what: string; ms: number; toolMs: number; chainsWritten: number }[];
}

async function runFelix(ns: Netns, c: Cluster): Promise<FelixRun> {
  const log: { cmd: string; ms: number; mutating: boolean }[] = [];
  const exec = timedExec(log);
  const t0 = performance.now();
  const dp = await PolicyDataplane.create({ nodeName: NODE, netns: ns.name, exec, iptablesBackend: 'auto' });
  for (const p of c.profiles) dp.calc.update(p);
  for (const p of c.policies) dp.calc.update(p);
  for (const w of c.weps) dp.calc.update(w);
  const targets = routeTargets(c);
  const routes = new RouteDataplane({ netns: ns.name, exec });
  routes.setTargets(targets);
  const t1 = performance.now();
  progress(`felix: calculation done in ${((t1 - t0) / 1000).toFixed(1)} s`);
  await dp.apply();
  const t2 = performance.now();
  progress(`felix: ipsets + filter table applied in ${((t2 - t1) / 1000).toFixed(1)} s`);
  const rr = await routes.apply();
  const t3 = performance.now();
  progress(`felix: routes applied in ${((t3 - t2) / 1000).toFixed(1)} s; slowest command ${JSON.stringify([...log].sort((x, y) => y.ms - x.ms)[0])}`);
  if (rr.failures.length) throw new Error(`route dataplane failures: ${rr.failures.slice(0, 3).join('; ')}`);
  const toolMs = log.reduce((s, e) => s + e.ms, 0);
  const byCmd = new Map<string, { n: number; ms: number }>();
  for (const e of log) { const x = byCmd.get(e.cmd) ?? { n: 0, ms: 0 }; x.n++; x.ms += e.ms; byCmd.set(e.cmd, x); }
  progress(`felix commands: ${[...byCmd].sort((x, y) => y[1].ms - x[1].ms).map(([k, v]) => `${k} x${v.n} ${(v.ms / 1000).toFixed(2)} s`).join(', ')}`);
  const chains = [...dp.calc.chains.values()];
  const sets = [...dp.calc.ipsets().values()];
  const run: FelixRun = {
    calcMs: t1 - t0, policyMs: t2 - t1, routesMs: t3 - t2, totalMs: t3 - t0, toolMs, backend: dp.iptables.backend, targets, dp,
    chains: chains.length, rules: chains.reduce((s, ch) => s + ch.rules.length, 0), sets: sets.length, members: sets.reduce((s, x) => s + x.members.size, 0),
    change: [],
  };
  // One policy change at scale: a GlobalNetworkPolicy selecting N/20 endpoints gets a new port
  // and another source net; then a NetworkPolicy selecting the db pods of one namespace.
  const gnp = c.policies.find((p) => p.metadata.name === 'gnp-0') as GlobalNetworkPolicy;
  const np = c.policies.find((p) => p.metadata.name === 'allow-api-to-db' && p.metadata.namespace === 'ns-6') as NetworkPolicy;
  const changes: [string, () => void][] = [
    ['GlobalNetworkPolicy gnp-0 (selects app-0: N/20 endpoints): new port + source net', () => dp.calc.update({
      ...gnp, spec: { ...gnp.spec, ingress: [{ action: 'Deny', source: { nets: ['192.0.2.0/32', '198.51.100.0/24', '203.0.113.0/24'] } }, ...gnp.spec.ingress!.slice(1).map((r, i) => (i === 0 ? { ...r, destination: { ports: [9000, 9443, 9444] } } : r))] },
    })],
    ['NetworkPolicy ns-6/allow-api-to-db (selects the db pods of one namespace): new port', () => dp.calc.update({
      ...np, spec: { ...np.spec, ingress: [{ ...np.spec.ingress![0]!, destination: { ports: [5432, 6379, 27017] } }] },
    })],
  ];
  for (const [what, change] of changes) {
    const before = log.length;
    const t = performance.now();
    change();
    const r = await dp.apply();
    const ms = performance.now() - t;
    run.change.push({ what, ms, toolMs: log.slice(before).filter((e) => e.mutating).reduce((s, e) => s + e.ms, 0), chainsWritten: r.iptables.written.length });
  }
  return run;
}

async function timeRaw(ns: Netns, cmd: string, args: string[], input?: string): Promise<number> {
  const t = performance.now();
  const r = await realExec(cmd, args, { netns: ns.name, ...(input !== undefined && { input }), timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.slice(0, 500)}`);
  return performance.now() - t;
}

interface FloorRun { ipsetMs: number; iptablesMs: number; ipMs: number; sysctlMs: number; totalMs: number }

/** felix's cold-start desired state (dumped from its calculators, untimed) written by the raw tools. */
async function runFloor(ns: Netns, backend: IptablesBackend, c: Cluster): Promise<FloorRun> {
  const fresh = new PolicyDataplane(new PolicyCalculator({ nodeName: NODE }), new IptablesTable({ backend }), new IpsetApplier());
  const targets = routeTargets(c);
  const initialChains = [...fresh.calc.chains.keys()];
  for (const p of c.profiles) fresh.calc.update(p);
  for (const p of c.policies) fresh.calc.update(p);
  for (const w of c.weps) fresh.calc.update(w);
  const sets = [...fresh.calc.ipsets().values()];
  const ipsetText = [
    ...sets.flatMap((s) => [`create ${s.name} ${s.type} family inet maxelem 1048576`, ...[...s.members].map((m) => `add ${s.name} ${m}`)]),
    'COMMIT', '',
  ].join('\n');
  // Chains in the order felix writes them (its fixed chains, then the rest sorted by name, as
  // the calculator reports changes): iptables-nft-restore of the same chains in the
  // calculator's insertion order took 3-4x as long at 10k endpoints.
  const chains = [...initialChains, ...[...fresh.calc.chains.keys()].filter((k) => !initialChains.includes(k)).sort()].map((k) => fresh.calc.chains.get(k)!);
  const restore = renderChainsRestore(chains).replace(/COMMIT\n$/, ['-I INPUT 1 -j cali-INPUT', '-I FORWARD 1 -j cali-FORWARD', '-I OUTPUT 1 -j cali-OUTPUT', 'COMMIT', ''].join('\n'));
  const ipLines = [
    ...targets.neighbours.map((n) => `neigh replace ${n.ip} lladdr ${n.mac} dev ${n.dev} nud permanent`),
    ...targets.routes.map((r) => replaceArgs({ ...r, protocol: 80 }).join(' ')),
  ];
  const sysctlArgs = targets.sysctls.map((s) => `${s.path}=${s.value}`);
  const chunks: string[][] = [[]];
  let size = 0;
  for (const a of sysctlArgs) {
    if (size + a.length + 1 > 1_000_000) { chunks.push([]); size = 0; }
    chunks[chunks.length - 1]!.push(a);
    size += a.length + 1;
  }
  const dump = process.env.FELIX_SCALE_DUMP;
  if (dump) { // the floor's inputs, to rerun or vary the raw commands by hand
    writeFileSync(join(dump, 'ipset.restore'), ipsetText);
    writeFileSync(join(dump, 'iptables.restore'), restore);
    writeFileSync(join(dump, 'ip.batch'), ipLines.join('\n') + '\n');
  }
  progress('floor: running raw tools');
  const t0 = performance.now();
  const ipsetMs = await timeRaw(ns, 'ipset', ['restore'], ipsetText);
  const iptablesMs = await timeRaw(ns, iptablesCommands(backend).restore, ['--noflush'], restore);
  const ipMs = await timeRaw(ns, 'ip', ['-batch', '-'], ipLines.join('\n') + '\n');
  let sysctlMs = 0;
  for (const ch of chunks) {
    const t = performance.now();
    await realExec('sysctl', ['-q', '-w', ...ch], { netns: ns.name }); // accept_ra may warn, as for felix
    sysctlMs += performance.now() - t;
  }
  return { ipsetMs, iptablesMs, ipMs, sysctlMs, totalMs: performance.now() - t0 };
}

async function kernelState(ns: Netns, backend: IptablesBackend): Promise<{ routes: number; neigh: number; rules: number; members: number }> {
  const out = async (cmd: string, args: string[]) => (await realExec(cmd, args, { netns: ns.name })).stdout;
  const count = (s: string, re: RegExp) => s.split('\n').filter((l) => re.test(l)).length;
  return {
    routes: count(await out('ip', ['route', 'show', 'proto', '80']), /\S/),
    neigh: count(await out('ip', ['neigh', 'show', 'nud', 'permanent']), /\S/),
    rules: count(await out(iptablesCommands(backend).save, ['-t', 'filter']), /^-A .*cali/),
    members: count(await out('ipset', ['save']), /^add cali40/),
  };
}

const started = performance.now();
const progress = (msg: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${msg}\n`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  const args = process.argv.slice(2);
  const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 10_000);
  const runs = Number(args.find((a) => a.startsWith('--runs='))?.slice(7) ?? 1);
  const record = !args.includes('--no-record');
  const c = cluster(n);
  const felixRuns: FelixRun[] = [];
  const floorRuns: FloorRun[] = [];
  let states: string[] = [];
  for (let r = 0; r < runs; r++) {
    const a = createNetns('fscale-felix');
    const b = createNetns('fscale-floor');
    try {
      progress(`creating ${n} veth pairs (a cali* end in each namespace)`);
      makeInterfaces(a, b, c.weps);
      progress('interfaces ready');
      // Alternate the order so neither side always runs on a warmer machine.
      let f: FelixRun;
      let fl: FloorRun;
      const backend = await resolveIptablesBackend('auto', { netns: a.name });
      if (r % 2 === 0) { f = await runFelix(a, c); fl = await runFloor(b, backend, c); } else { fl = await runFloor(b, backend, c); f = await runFelix(a, c); }
      felixRuns.push(f);
      floorRuns.push(fl);
      const sa = await kernelState(a, f.backend);
      const sb = await kernelState(b, f.backend);
      states = [JSON.stringify(sa), JSON.stringify(sb)];
      process.stdout.write(`run ${r + 1}: felix ${(f.totalMs / 1000).toFixed(2)} s (calc ${(f.calcMs / 1000).toFixed(2)}, policy ${(f.policyMs / 1000).toFixed(2)}, routes ${(f.routesMs / 1000).toFixed(2)}; in tools ${(f.toolMs / 1000).toFixed(2)}), floor ${(fl.totalMs / 1000).toFixed(2)} s (ipset ${(fl.ipsetMs / 1000).toFixed(2)}, iptables ${(fl.iptablesMs / 1000).toFixed(2)}, ip ${(fl.ipMs / 1000).toFixed(2)}, sysctl ${(fl.sysctlMs / 1000).toFixed(2)})\n`);
      for (const ch of f.change) process.stdout.write(`  change: ${ch.what}: ${ch.ms.toFixed(0)} ms (restore commands ${ch.toolMs.toFixed(0)} ms, ${ch.chainsWritten} chains rewritten)\n`);
      process.stdout.write(`  kernel felix ${states[0]} floor ${states[1]}\n`);
    } finally {
      a.delete();
      b.delete();
    }
  }
  if (!record) return;
  const f = felixRuns;
  const fl = floorRuns;
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const first = f[0]!;
  const totalF = median(f.map((x) => x.totalMs));
  const totalFl = median(fl.map((x) => x.totalMs));
  const lines = [
    '',
    `## felix at scale, ${new Date().toISOString().slice(0, 10)} (${process.version}, ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores, iptables-${first.backend}, ${runs} run${runs > 1 ? 's, medians' : ''})`,
    '',
    `${n} local WorkloadEndpoints in ${NAMESPACES} namespaces (cali* veth ends), ${c.profiles.length} profiles, ${c.policies.length} policies`,
    `(${c.policies.filter((p) => p.kind === 'NetworkPolicy').length} NetworkPolicies, ${c.policies.filter((p) => p.kind === 'GlobalNetworkPolicy').length} GlobalNetworkPolicies). Desired state: ${first.chains} chains / ${first.rules} rules,`,
    `${first.sets} ipsets / ${first.members} members, ${first.targets.routes.length} routes, ${first.targets.neighbours.length} ARP entries, ${first.targets.sysctls.length} sysctls.`,
    `Kernel afterwards (routes, ARP, cali rules, set members): felix ${states[0]}, floor ${states[1]}.`,
    '',
    '| cold start | felix (s) | floor (s) | ratio |',
    '|---|---|---|---|',
    `| calculation (feed all resources, routes calc) | ${s(median(f.map((x) => x.calcMs)))} | - | |`,
    `| ipsets + filter table | ${s(median(f.map((x) => x.policyMs)))} | ${s(median(fl.map((x) => x.ipsetMs + x.iptablesMs)))} | ${(median(f.map((x) => x.policyMs)) / median(fl.map((x) => x.ipsetMs + x.iptablesMs))).toFixed(1)}x |`,
    `| ARP + routes + sysctls | ${s(median(f.map((x) => x.routesMs)))} | ${s(median(fl.map((x) => x.ipMs + x.sysctlMs)))} | ${(median(f.map((x) => x.routesMs)) / median(fl.map((x) => x.ipMs + x.sysctlMs))).toFixed(1)}x |`,
    `| **total** | **${s(totalF)}** | **${s(totalFl)}** | **${(totalF / totalFl).toFixed(1)}x** |`,
    `| of which inside tools (ipset/iptables/ip/sysctl/grep, incl. read-back) | ${s(median(f.map((x) => x.toolMs)))} | ${s(totalFl)} | |`,
    '',
    '| one policy change at that scale | felix (ms) | its restore commands alone (ms) | chains rewritten |',
    '|---|---|---|---|',
    ...first.change.map((ch, i) => `| ${ch.what} | ${median(f.map((x) => x.change[i]!.ms)).toFixed(0)} | ${median(f.map((x) => x.change[i]!.toolMs)).toFixed(0)} | ${ch.chainsWritten} |`),
    '',
  ];
  appendFileSync(join(ROOT, 'bench/RESULTS.md'), lines.join('\n'));
}

await main();

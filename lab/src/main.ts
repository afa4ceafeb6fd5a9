// The local multi-node lab behind the README's main command (`npm run lab`): real etcd, N node
// namespaces on a shared underlay, a top-of-rack namespace running BIRD 2, the node agent in
// every node, two pods per node created through the CNI plugin, and a report with each node's
// `ctl node status`, the workload endpoints and a cross-node ping matrix.
//
//   npm run lab [-- up] [--nodes N] [--mode bgp|vxlan] [--dual-stack]
//                                                          build it, report, exit 1 if anything fails
//   npm run lab -- status                                  the same report for the running lab
//   npm run lab -- exec <node-1|...|tor> -- <command...>   run a command inside a namespace, ctl configured
//   npm run lab -- node add [--no-pods] | node restart <node> [--kill]
//                                                          one more node; restart (or crash) an agent
//   npm run lab -- pod add|del <node> <pod> [--namespace NS]  a pod through the CNI plugin (ADD / DEL)
//   npm run lab -- down                                    remove every namespace, process and file

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { run, inNs, startDetached, stopPid, waitFor, alive, CommandError } from './sys.js';
import {
  CLUSTER_AS, ETCD_ENDPOINT, ETCD_IP, ETCD_IP6, NS_PREFIX, PODS_PER_NODE, POOL_CIDR, POOL6_CIDR, TOR_AS, TOR_IP, TOR_IP6, TOR_NS,
  UNDERLAY6_LEN, UNDERLAY_NS, labDir, nodeDir, nodeIp, nodeIp6, nodeName, nodeNs, podName, type LabState, type Mode,
} from './topology.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = {
  node: join(ROOT, 'packages/node/bin/tabby-node.js'),
  ctl: join(ROOT, 'packages/ctl/bin/ctl.js'),
  cni: join(ROOT, 'packages/cni/bin'),
};
const stateFile = () => join(labDir(), 'state.json');
const say = (s: string) => process.stdout.write(s + '\n');

function readState(): LabState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}
const saveState = (s: LabState) => writeFileSync(stateFile(), JSON.stringify(s, null, 2));

/** Environment for ctl and the agents inside node i's namespace. */
function nodeEnv(i: number, mode: Mode = readState()?.mode ?? 'bgp'): NodeJS.ProcessEnv {
  return {
    CALICO_NETWORKING_BACKEND: mode === 'bgp' ? 'bird' : 'vxlan',
    PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
    HOME: process.env['HOME'] ?? '/root',
    DATASTORE_TYPE: 'etcdv3',
    ETCD_ENDPOINTS: ETCD_ENDPOINT,
    NODENAME: nodeName(i),
    TABBY_STATE_DIR: nodeDir(i),
  };
}

function ctl(i: number, args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  return run(inNs(nodeNs(i), ['env', ...Object.entries(nodeEnv(i)).map(([k, v]) => `${k}=${v}`), process.execPath, BIN.ctl, ...args]), { allowFail: true, ...(input !== undefined ? { input } : {}) });
}

// ---- up --------------------------------------------------------------------------------------

function link(ns: string, ifname: string, peer: string, cidr: string, cidr6?: string): void {
  run(['ip', 'link', 'add', ifname, 'netns', ns, 'type', 'veth', 'peer', 'name', peer, 'netns', UNDERLAY_NS]);
  run(['ip', '-n', UNDERLAY_NS, 'link', 'set', peer, 'master', 'br0', 'up']);
  run(['ip', '-n', ns, 'addr', 'add', cidr, 'dev', ifname]);
  // nodad: usable at once (BGP binds to it); the lab hands out every underlay address itself.
  if (cidr6) run(['ip', '-n', ns, 'addr', 'add', cidr6, 'dev', ifname, 'nodad']);
  run(['ip', '-n', ns, 'link', 'set', ifname, 'up']);
  run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
}

function sysctl(ns: string, ...settings: string[]): void {
  for (const s of settings) run(inNs(ns, ['sysctl', '-qw', s]));
}

function torConfig(nodes: number, dualStack = false): string {
  const ids = Array.from({ length: nodes }, (_, k) => k + 1);
  // One template and one session per node for a family: IPv4 over the IPv4 underlay and, with
  // --dual-stack, IPv6 unicast over the IPv6 underlay.
  const family = (af: 'ipv4' | 'ipv6', template: string, suffix: string, local: string, nodeAddr: (i: number) => string) => `protocol kernel { ${af} { export all; }; }
template bgp ${template} {
  local ${local} as ${TOR_AS};
  connect retry time 2;
  error wait time 1, 10;
  ${af} { import all; export none; };
}
${ids.map((i) => `protocol bgp ${nodeName(i).replace('-', '_')}${suffix} from ${template} { neighbor ${nodeAddr(i)} as ${CLUSTER_AS}; }`).join('\n')}
`;
  return `router id ${TOR_IP};
protocol device {}
${family('ipv4', 'nodes', '', TOR_IP, nodeIp)}${dualStack ? family('ipv6', 'nodes6', '_v6', TOR_IP6, nodeIp6) : ''}`;
}


function agentEnv(i: number, mode: Mode, dualStack = false): NodeJS.ProcessEnv {
  return {
    ...nodeEnv(i, mode),
    ...(dualStack && {
      // Autodetected like a real node would (the only global IPv6 address on eth0), with the
      // default IPv6 pool and Calico's default /122 blocks.
      IP6: 'autodetect',
      IP6_AUTODETECTION_METHOD: 'interface=eth0',
      CALICO_IPV6POOL_CIDR: POOL6_CIDR,
      CALICO_IPV6POOL_VXLAN: 'Never',
      CALICO_IPV6POOL_NAT_OUTGOING: 'false',
    }),
    IP: `${nodeIp(i)}/24`,
    CALICO_IPV4POOL_CIDR: POOL_CIDR,
    CALICO_IPV4POOL_IPIP: 'Never', // this machine has no ipip module; nodes share one L2 anyway
    CALICO_IPV4POOL_VXLAN: mode === 'vxlan' ? 'Always' : 'Never',
    CALICO_IPV4POOL_NAT_OUTGOING: 'false',
    FELIX_ROUTEREFRESHINTERVAL: '30',
    FELIX_IPTABLESREFRESHINTERVAL: '30',
  };
}

/** Starts node i's agent; returns when it was started (epoch ms), for `node add --no-pods` timings. */
function startAgent(state: LabState, i: number): number {
  const startedAt = Date.now();
  state.agents[nodeName(i)] = startDetached(nodeNs(i), [process.execPath, BIN.node], join(nodeDir(i), 'agent.log'), agentEnv(i, state.mode, state.dualStack));
  saveState(state);
  say(`${nodeName(i)}: ${nodeIp(i)}, tabby-node pid ${state.agents[nodeName(i)]}`);
  return startedAt;
}

function addNode(state: LabState, i: number): number {
  run(['ip', 'netns', 'add', nodeNs(i)]);
  link(nodeNs(i), 'eth0', `vn${i}`, `${nodeIp(i)}/24`, state.dualStack ? `${nodeIp6(i)}/${UNDERLAY6_LEN}` : undefined);
  run(['ip', '-n', nodeNs(i), 'route', 'add', 'default', 'via', TOR_IP]);
  sysctl(nodeNs(i), 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');
  if (state.dualStack) {
    run(['ip', '-n', nodeNs(i), '-6', 'route', 'add', 'default', 'via', TOR_IP6]);
    sysctl(nodeNs(i), 'net.ipv6.conf.all.forwarding=1');
  }
  mkdirSync(nodeDir(i), { recursive: true });
  return startAgent(state, i);
}

async function waitReady(i: number): Promise<void> {
  await waitFor(`${nodeName(i)} ready (tabby-node -ready; see ${join(nodeDir(i), 'agent.log')})`, 120_000, () =>
    run(inNs(nodeNs(i), ['env', ...Object.entries(nodeEnv(i)).map(([k, v]) => `${k}=${v}`), process.execPath, BIN.node, '-ready']), { allowFail: true }).code === 0);
}

/**
 * `node add`: one more node joins (the ToR learns of it by a BIRD reconfigure). With
 * `--no-pods` it stops once the agent is ready (no pods, no report) and prints when the agent
 * started, so a benchmark can time what follows from that moment.
 */
async function nodeAdd(noPods = false): Promise<number> {
  const state = needState();
  const i = state.nodes + 1;
  state.nodes = i;
  const startedAt = addNode(state, i);
  if (state.mode === 'bgp') {
    writeFileSync(join(labDir(), 'tor', 'bird.conf'), torConfig(i, state.dualStack));
    run(inNs(TOR_NS, ['birdc', '-s', join(labDir(), 'tor', 'bird.ctl'), 'configure']));
  }
  await waitReady(i);
  if (noPods) {
    say(`${nodeName(i)} agent started at ${startedAt} (epoch ms), ready after ${Date.now() - startedAt} ms; no pods (--no-pods)`);
    return 0;
  }
  for (let j = 1; j <= PODS_PER_NODE; j++) state.pods.push(addPod(i, j, state.mode, 'default', state.dualStack));
  saveState(state);
  return report(state, true);
}

/** `node restart <node>`: stop its agent (SIGKILL with --kill, as a crash would) and start it again. */
async function nodeRestart(name: string, kill: boolean): Promise<number> {
  const state = needState();
  const i = nodeIndex(state, name);
  const pid = state.agents[name];
  if (pid && alive(pid)) {
    if (kill) process.kill(pid, 'SIGKILL');
    else await stopPid(pid);
    await waitFor(`${name}'s agent to exit`, 15_000, () => !alive(pid));
  }
  startAgent(state, i);
  await waitReady(i);
  say(`${name} restarted`);
  return 0;
}

const podNamespace = (p: LabState['pods'][number]) => p.namespace ?? 'default';

function podAdd(node: string, pod: string, namespace: string): number {
  const state = needState();
  const i = nodeIndex(state, node);
  if (state.pods.some((p) => p.name === pod && podNamespace(p) === namespace)) throw new CommandError(`pod ${namespace}/${pod} already exists`);
  const p = addPod(i, pod, state.mode, namespace, state.dualStack);
  state.pods.push(p);
  saveState(state);
  say(`${namespace === 'default' ? '' : `${namespace}/`}${pod} on ${node}: ${p.ip}${p.ip6 ? ` ${p.ip6}` : ''} (CNI ADD started at ${lastCniAdd.startedAt} epoch ms, took ${lastCniAdd.ms} ms)`);
  return 0;
}

function podDel(node: string, pod: string, namespace: string): number {
  const state = needState();
  const i = nodeIndex(state, node);
  const p = state.pods.find((x) => x.name === pod && x.node === node && podNamespace(x) === namespace);
  if (!p) throw new CommandError(`no pod ${namespace === 'default' ? '' : `${namespace}/`}${pod} on ${node}`);
  const r = run(inNs(nodeNs(i), ['env', ...Object.entries(cniEnv(i, 'DEL', pod, p.ns, namespace)).map(([k, v]) => `${k}=${v}`), join(BIN.cni, 'tabby')]), { input: JSON.stringify(cniConf(i, state.mode, state.dualStack)), allowFail: true });
  if (r.code !== 0) throw new CommandError(`CNI DEL of ${pod} on ${node} failed: ${r.stdout.trim()} ${r.stderr.trim()}`);
  run(['ip', 'netns', 'del', p.ns], { allowFail: true });
  state.pods = state.pods.filter((x) => x !== p);
  saveState(state);
  say(`${pod} deleted from ${node}`);
  return 0;
}

function needState(): LabState {
  const s = readState();
  if (!s) throw new CommandError('no lab is running (npm run lab first)');
  return s;
}

function nodeIndex(state: LabState, name: string): number {
  const m = /^node-(\d+)$/.exec(name);
  const i = m ? Number(m[1]) : NaN;
  if (!(i >= 1 && i <= state.nodes)) throw new CommandError(`unknown node ${JSON.stringify(name)}: use node-1 .. node-${state.nodes}`);
  return i;
}

function cniConf(i: number, mode: Mode, dualStack = false): object {
  return {
    cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tabby',
    datastore_type: 'etcdv3', etcd_endpoints: ETCD_ENDPOINT, nodename: nodeName(i),
    mtu: mode === 'vxlan' ? 1450 : 1500,
    ipam: dualStack ? { type: 'tabby-ipam', assign_ipv4: 'true', assign_ipv6: 'true' } : { type: 'tabby-ipam' },
    log_file_path: join(nodeDir(i), 'cni.log'),
    // Each lab node is a host of its own: its own IPAM lock.
    ipam_lock_file: join(nodeDir(i), 'ipam.lock'),
  };
}

function cniEnv(i: number, command: 'ADD' | 'DEL', pod: string, ns: string, namespace = 'default'): NodeJS.ProcessEnv {
  // Pods of the default namespace keep the ids they always had; others carry their namespace.
  const id = namespace === 'default' ? pod : `${namespace}-${pod}`;
  return {
    ...nodeEnv(i), CNI_COMMAND: command, CNI_CONTAINERID: `lab-${id}`, CNI_NETNS: `/var/run/netns/${ns}`,
    CNI_IFNAME: 'eth0', CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${pod}`, CNI_PATH: BIN.cni,
  };
}

async function up(nodes: number, mode: Mode, dualStack = false): Promise<number> {
  if (readState()) {
    say(`A lab is already running (${stateFile()}); showing it. Use 'npm run lab -- down' first to rebuild it.`);
    return report(readState()!, false);
  }
  mkdirSync(labDir(), { recursive: true });
  const state: LabState = { nodes, mode, ...(dualStack && { dualStack }), etcdPid: 0, agents: {}, pods: [] };
  saveState(state);
  say(`Building a ${nodes}-node lab (${mode} mode${dualStack ? ', dual stack' : ''}) in ${labDir()}`);

  // Underlay: a bridge in its own namespace, which also hosts etcd.
  run(['ip', 'netns', 'add', UNDERLAY_NS]);
  run(['ip', '-n', UNDERLAY_NS, 'link', 'set', 'lo', 'up']);
  run(['ip', '-n', UNDERLAY_NS, 'link', 'add', 'br0', 'type', 'bridge']);
  run(['ip', '-n', UNDERLAY_NS, 'addr', 'add', `${ETCD_IP}/24`, 'dev', 'br0']);
  if (dualStack) run(['ip', '-n', UNDERLAY_NS, 'addr', 'add', `${ETCD_IP6}/${UNDERLAY6_LEN}`, 'dev', 'br0', 'nodad']);
  run(['ip', '-n', UNDERLAY_NS, 'link', 'set', 'br0', 'up']);
  mkdirSync(join(labDir(), 'etcd'), { recursive: true });
  state.etcdPid = startDetached(UNDERLAY_NS, [
    'etcd', '--name', 'lab', '--data-dir', join(labDir(), 'etcd', 'data'),
    '--listen-client-urls', ETCD_ENDPOINT, '--advertise-client-urls', ETCD_ENDPOINT,
    '--listen-peer-urls', 'http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
    '--initial-cluster', 'lab=http://127.0.0.1:2380', '--log-level', 'warn', '--logger', 'zap',
  ], join(labDir(), 'etcd', 'etcd.log'));
  saveState(state);
  await waitFor('etcd', 30_000, () => run(inNs(UNDERLAY_NS, ['etcdctl', '--endpoints', ETCD_ENDPOINT, 'endpoint', 'health']), { allowFail: true, env: { ...process.env, ETCDCTL_API: '3' } }).code === 0);
  say(`etcd is up at ${ETCD_ENDPOINT}`);

  // The top-of-rack router.
  run(['ip', 'netns', 'add', TOR_NS]);
  link(TOR_NS, 'eth0', 'vtor', `${TOR_IP}/24`, dualStack ? `${TOR_IP6}/${UNDERLAY6_LEN}` : undefined);
  sysctl(TOR_NS, 'net.ipv4.ip_forward=1');
  if (dualStack) sysctl(TOR_NS, 'net.ipv6.conf.all.forwarding=1');
  if (mode === 'bgp') {
    mkdirSync(join(labDir(), 'tor'), { recursive: true });
    writeFileSync(join(labDir(), 'tor', 'bird.conf'), torConfig(nodes, dualStack));
    state.torPid = startDetached(TOR_NS, ['bird', '-f', '-c', join(labDir(), 'tor', 'bird.conf'), '-s', join(labDir(), 'tor', 'bird.ctl')], join(labDir(), 'tor', 'bird.log'));
    saveState(state);
    say(`tor: BIRD 2, AS ${TOR_AS}, at ${TOR_IP}${dualStack ? ` and ${TOR_IP6}` : ''}`);
  }

  // The nodes, each running the agent.
  for (let i = 1; i <= nodes; i++) addNode(state, i);
  if (mode === 'bgp') {
    let peer = `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: tor\nspec:\n  peerIP: ${TOR_IP}\n  asNumber: ${TOR_AS}\n`;
    if (dualStack) peer += `---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: tor-v6\nspec:\n  peerIP: ${TOR_IP6}\n  asNumber: ${TOR_AS}\n`;
    const r = await waitFor('the BGPPeer to the ToR to apply', 60_000, () => { const x = ctl(1, ['apply', '-f', '-'], peer); return x.code === 0 ? x : undefined; });
    say(r.stdout.trim());
  }

  // Two pods per node through the CNI plugin, as a container runtime would call it.
  say('waiting for the node agents to be ready ...');
  for (let i = 1; i <= nodes; i++) await waitReady(i);
  for (let i = 1; i <= nodes; i++) {
    for (let j = 1; j <= PODS_PER_NODE; j++) state.pods.push(addPod(i, j, mode, 'default', dualStack));
    saveState(state);
  }
  say(`created ${state.pods.length} pods`);
  return report(state, true);
}

/** When the last CNI ADD started (epoch ms) and how long the plugin ran, for `pod add`'s output. */
const lastCniAdd = { startedAt: 0, ms: 0 };

function addPod(i: number, j: number | string, mode: Mode, namespace = 'default', dualStack = false): LabState['pods'][number] {
  const pod = typeof j === 'number' ? podName(i, j) : j;
  const ns = `${NS_PREFIX}${nodeName(i)}-${namespace === 'default' ? '' : `${namespace}-`}${pod}`;
  run(['ip', 'netns', 'add', ns]);
  lastCniAdd.startedAt = Date.now();
  const r = run(inNs(nodeNs(i), ['env', ...Object.entries(cniEnv(i, 'ADD', pod, ns, namespace)).map(([k, v]) => `${k}=${v}`), join(BIN.cni, 'tabby')]), { input: JSON.stringify(cniConf(i, mode, dualStack)), allowFail: true });
  lastCniAdd.ms = Date.now() - lastCniAdd.startedAt;
  if (r.code !== 0) {
    run(['ip', 'netns', 'del', ns], { allowFail: true });
    throw new CommandError(`CNI ADD of ${pod} on ${nodeName(i)} failed: ${r.stdout.trim()} ${r.stderr.trim()}`);
  }
  const result = JSON.parse(r.stdout) as { ips: { address: string }[] };
  const addrs = result.ips.map((x) => x.address.split('/')[0]!);
  const ip = addrs.find((a) => !a.includes(':'));
  const ip6 = addrs.find((a) => a.includes(':'));
  if (!ip || (dualStack && !ip6)) throw new CommandError(`CNI ADD of ${pod} on ${nodeName(i)} returned ${addrs.join(', ') || 'no addresses'}: expected an IPv4${dualStack ? ' and an IPv6' : ''} address`);
  return { node: nodeName(i), name: pod, ns, ip, ...(ip6 && { ip6 }), ...(namespace !== 'default' && { namespace }) };
}

// ---- report ----------------------------------------------------------------------------------

function ping(fromNs: string, ip: string): Promise<boolean> {
  return new Promise((res) => {
    const p = spawn('ip', ['netns', 'exec', fromNs, 'ping', '-c', '1', '-W', '1', ip], { stdio: 'ignore' });
    p.on('close', (code) => res(code === 0));
    p.on('error', () => res(false));
  });
}

async function pingMatrix(state: LabState, retryMs: number, family: 4 | 6 = 4): Promise<{ table: string; failures: number }> {
  const pods = state.pods.map((p) => ({ ...p, ip: family === 4 ? p.ip : p.ip6 ?? '' }));
  const ok = new Map<string, boolean>();
  const end = Date.now() + retryMs;
  for (;;) {
    const todo = pods.flatMap((a) => pods.filter((b) => b !== a && !ok.get(`${a.name}>${b.name}`)).map((b) => [a, b] as const));
    const results = await Promise.all(todo.map(([a, b]) => ping(a.ns, b.ip)));
    todo.forEach(([a, b], k) => ok.set(`${a.name}>${b.name}`, results[k]!));
    if (results.every(Boolean) || Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const w = Math.max(8, ...pods.map((p) => p.name.length));
  const head = `${'from \\ to'.padEnd(w + 6)} ${pods.map((p) => p.name.padEnd(w)).join(' ')}`;
  const rows = pods.map((a) => `${a.name.padEnd(w)} ${a.node.padEnd(6)} ${pods.map((b) => (a === b ? '-' : ok.get(`${a.name}>${b.name}`) ? 'ok' : 'FAIL').padEnd(w)).join(' ')}`);
  const failures = [...ok.values()].filter((v) => !v).length;
  return { table: [head, ...rows].join('\n'), failures };
}

async function report(state: LabState, converge: boolean): Promise<number> {
  let problems = 0;
  if (state.mode === 'bgp') {
    const conf = ctl(1, ['get', 'bgpconfiguration', 'default', '-o', 'json']);
    const meshOff = conf.code === 0 && (JSON.parse(conf.stdout) as { spec?: { nodeToNodeMeshEnabled?: boolean } }).spec?.nodeToNodeMeshEnabled === false;
    if (meshOff) say('\n(node-to-node mesh disabled: each node peers with the ToR only)');
    // Sessions up per family: the peer address in the first column tells IPv4 from IPv6.
    const upCount = (out: string, family: 4 | 6) => out.split('\n').filter((l) => /\| up +\|/.test(l) && (l.split('|')[1] ?? '').includes(':') === (family === 6)).length;
    for (let i = 1; i <= state.nodes; i++) {
      const expectPeers = meshOff ? 1 : state.nodes; // N-1 mesh peers + the ToR, per family
      const families: (4 | 6)[] = state.dualStack ? [4, 6] : [4];
      const short = (out: string) => families.filter((f) => upCount(out, f) < expectPeers);
      const sessions = async () => {
        const r = ctl(i, ['node', 'status']);
        return short(r.stdout).length ? undefined : r;
      };
      const r = converge ? await waitFor(`${nodeName(i)}'s BGP sessions`, 90_000, sessions).catch(() => ctl(i, ['node', 'status'])) : ctl(i, ['node', 'status']);
      say(`\n== ${nodeName(i)} (${nodeIp(i)}${state.dualStack ? `, ${nodeIp6(i)}` : ''}): ctl node status`);
      say((r.stdout + r.stderr).trimEnd());
      for (const f of short(r.stdout)) {
        problems++;
        say(`!! ${nodeName(i)}: ${upCount(r.stdout, f)} of ${expectPeers} ${state.dualStack ? `IPv${f} ` : ''}BGP sessions up`);
      }
    }
    const tor = run(inNs(TOR_NS, ['birdc', '-s', join(labDir(), 'tor', 'bird.ctl'), 'show', 'route']), { allowFail: true });
    say(`\n== tor: routes learned from the nodes (birdc show route${state.dualStack ? ': IPv4 and IPv6 tables' : ''})`);
    say(tor.stdout.trimEnd());
  }
  const weps = ctl(1, ['get', 'wep', '-A', '-o', 'wide']);
  say('\n== ctl get wep -A -o wide');
  say((weps.stdout + weps.stderr).trimEnd());
  if (weps.code !== 0) problems++;
  if (!state.pods.length) {
    problems++;
    say('\n!! no pods (the lab was not finished; npm run lab -- down, then up again)');
  }
  const m = await pingMatrix(state, converge ? 60_000 : 3_000);
  say(`\n== ping matrix (${state.pods.length} pods on ${state.nodes} nodes)`);
  say(m.table);
  problems += m.failures;
  if (state.dualStack) {
    const m6 = await pingMatrix(state, converge ? 60_000 : 3_000, 6);
    say(`\n== ping6 matrix (the pods' IPv6 addresses)`);
    say(m6.table);
    problems += m6.failures;
  }
  say(problems ? `\nLAB NOT HEALTHY: ${problems} problem(s) above.` : `\nLab healthy: all sessions up, every pod reaches every other pod${state.dualStack ? ' over IPv4 and IPv6' : ''}. It keeps running; 'npm run lab -- down' removes it.`);
  return problems ? 1 : 0;
}

// ---- exec / down ---------------------------------------------------------------------------

function exec(target: string, argv: string[]): Promise<number> {
  const state = readState();
  if (!state) throw new CommandError('no lab is running (npm run lab first)');
  let ns: string;
  let env: NodeJS.ProcessEnv;
  const m = /^node-(\d+)$/.exec(target);
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= state.nodes) {
    ns = nodeNs(Number(m[1]));
    env = { ...process.env, ...nodeEnv(Number(m[1])) };
  } else if (target === 'tor') {
    ns = TOR_NS;
    env = { ...process.env, BIRD_SOCKET: join(labDir(), 'tor', 'bird.ctl') };
  } else {
    throw new CommandError(`unknown target ${JSON.stringify(target)}: use node-1 .. node-${state.nodes} or tor`);
  }
  if (!argv.length) throw new CommandError('nothing to run: npm run lab -- exec <node> -- <command...>');
  return new Promise((res) => {
    const p = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: 'inherit', env });
    p.on('close', (code) => res(code ?? 1));
    p.on('error', (e) => { process.stderr.write(`${e.message}\n`); res(127); });
  });
}

async function down(): Promise<number> {
  const state = readState();
  const pids = state ? [...Object.values(state.agents), state.torPid, state.etcdPid].filter((p): p is number => !!p) : [];
  // Agents first (they stop felix, confd and bgpd), then BIRD, then etcd.
  await Promise.all(pids.slice(0, -1).map((p) => stopPid(p)));
  if (pids.length) await stopPid(pids[pids.length - 1]!);
  const namespaces = run(['ip', 'netns', 'list'], { allowFail: true }).stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(NS_PREFIX));
  for (const ns of namespaces) {
    // Anything still running in a lab namespace was started by the lab.
    for (const pid of run(['ip', 'netns', 'pids', ns], { allowFail: true }).stdout.split(/\s+/).filter(Boolean).map(Number)) await stopPid(pid, 3000);
    run(['ip', 'netns', 'del', ns], { allowFail: true });
  }
  rmSync(labDir(), { recursive: true, force: true });
  say(`lab removed (${namespaces.length} namespaces, ${pids.filter((p) => !alive(p)).length} processes, ${labDir()})`);
  return 0;
}

// ---- CLI -----------------------------------------------------------------------------------

export async function main(argv: string[]): Promise<number> {
  const dashdash = argv.indexOf('--');
  const rest = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
  const args = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
  const opt = (name: string) => { const k = args.indexOf(name); return k >= 0 ? args[k + 1] : args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1); };
  const positional = args.filter((a, k) => !a.startsWith('--') && !(k > 0 && /^--(nodes|mode|namespace)$/.test(args[k - 1]!)));
  const cmd = positional[0] ?? 'up';
  if (process.getuid?.() !== 0) {
    process.stderr.write('lab: must run as root (it creates network namespaces)\n');
    return 1;
  }
  try {
    switch (cmd) {
      case 'up': {
        const nodes = Number(opt('--nodes') ?? 3);
        const mode = (opt('--mode') ?? 'bgp') as Mode;
        if (!Number.isInteger(nodes) || nodes < 1 || nodes > 50) throw new CommandError(`--nodes ${opt('--nodes')}: must be an integer from 1 to 50`);
        if (mode !== 'bgp' && mode !== 'vxlan') throw new CommandError(`--mode ${mode}: must be bgp or vxlan`);
        const dualStack = args.includes('--dual-stack');
        // felix programs VXLAN for IPv4 pools only (no IPv6 VTEP, routes or FDB entries).
        if (dualStack && mode === 'vxlan') throw new CommandError('--dual-stack needs --mode bgp: felix does not do VXLAN for IPv6 pools yet');
        return await up(nodes, mode, dualStack);
      }
      case 'status': {
        const s = readState();
        if (!s) throw new CommandError('no lab is running (npm run lab first)');
        return await report(s, false);
      }
      case 'exec':
        return await exec(positional[1] ?? '', rest);
      case 'down':
        return await down();
      case 'node':
        if (positional[1] === 'add') return await nodeAdd(args.includes('--no-pods'));
        if (positional[1] === 'restart') return await nodeRestart(positional[2] ?? '', args.includes('--kill'));
        throw new CommandError('use: node add [--no-pods] | node restart <node> [--kill]');
      case 'pod': {
        const namespace = opt('--namespace') ?? 'default';
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) throw new CommandError(`--namespace ${namespace}: not a Kubernetes namespace name`);
        if (positional[1] === 'add') return podAdd(positional[2] ?? '', positional[3] ?? '', namespace);
        if (positional[1] === 'del') return podDel(positional[2] ?? '', positional[3] ?? '', namespace);
        throw new CommandError('use: pod add <node> <name> [--namespace NS] | pod del <node> <name> [--namespace NS]');
      }
      default:
        throw new CommandError(`unknown command ${JSON.stringify(cmd)}: use up (default), status, exec <node> -- <command>, node add, node restart <node> [--kill], pod add|del <node> <pod> [--namespace NS], or down`);
    }
  } catch (e) {
    process.stderr.write(`lab: ${(e as Error).message}\n`);
    if (cmd === 'up' && existsSync(stateFile())) process.stderr.write("lab: the partial lab is still there: 'npm run lab -- status' to inspect, 'npm run lab -- down' to remove it\n");
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

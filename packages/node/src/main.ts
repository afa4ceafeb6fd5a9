// `tabby-node`: the calico-node equivalent. Reads Calico's environment, registers the node,
// prepares the cluster (ClusterInformation, default pools, tunnel addresses), then supervises
// felix and (with the BIRD backend) confd + bgpd, and serves /liveness and /readiness.
//
//   tabby-node                        run the agent (SIGTERM/SIGINT: clean shutdown)
//   tabby-node -felix-live|-felix-ready|-bird-live|-bird-ready|-live|-ready
//                                     probes for Kubernetes exec checks: exit 0 healthy, 1 not

import { createServer, type Server } from 'node:http';
import { mkdirSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createLogger, type Logger } from '@tabby/log';
import { createDatastore, loadClientConfig, type Datastore } from '@tabby/datastore';
import { BlockAffinityIpam } from '@tabby/ipam';
import { configFromEnv, EnvError, type NodeAgentConfig } from './env.js';
import { detectAddress } from './autodetect.js';
import { ensureClusterInformation, ensureDefaultPools, ensureTunnelAddresses, registerNode, type NodeAddresses } from './startup.js';
import { Supervisor } from './supervisor.js';
import { bgpdLive, bgpdReady, felixLive, felixReady, type ProbeResult } from './probes.js';
import { NodeMetrics, serveNodeMetrics } from './metrics.js';

const bin = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
const BINS = {
  felix: () => process.env['TABBY_FELIX_BIN'] || bin('../../felix/bin/felix.js'),
  confd: () => process.env['TABBY_CONFD_BIN'] || bin('../../confd/bin/confd.js'),
  bgpd: () => process.env['TABBY_BGPD_BIN'] || bin('../../bgpd/bin/bgpd.js'),
};

export interface Paths {
  bgpdConfig: string;
  bgpdSocket: string;
  bgpdPid: string;
}

export function pathsOf(cfg: NodeAgentConfig): Paths {
  return { bgpdConfig: join(cfg.stateDir, 'bgpd.yaml'), bgpdSocket: join(cfg.stateDir, 'bgpd.ctl'), bgpdPid: join(cfg.stateDir, 'bgpd.pid') };
}

type Probe = () => Promise<ProbeResult>;

function probesFor(cfg: NodeAgentConfig): { live: Probe[]; ready: Probe[] } {
  const p = pathsOf(cfg);
  const live: Probe[] = [];
  const ready: Probe[] = [];
  if (cfg.runFelix) {
    live.push(() => felixLive(cfg.felixHealthPort));
    ready.push(() => felixReady(cfg.felixHealthPort));
  }
  if (cfg.backend === 'bird') {
    live.push(() => bgpdLive(p.bgpdSocket));
    ready.push(() => bgpdReady(p.bgpdSocket));
  }
  return { live, ready };
}

async function runProbes(probes: Probe[]): Promise<ProbeResult> {
  const results = await Promise.all(probes.map((f) => f()));
  return { ok: results.every((r) => r.ok), detail: results.map((r) => r.detail).join('\n') };
}

async function probeFlag(flag: string): Promise<number> {
  const cfg = configFromEnv();
  const p = pathsOf(cfg);
  const table: Record<string, Probe> = {
    'felix-live': () => felixLive(cfg.felixHealthPort),
    'felix-ready': () => felixReady(cfg.felixHealthPort),
    'bird-live': () => bgpdLive(p.bgpdSocket),
    'bird-ready': () => bgpdReady(p.bgpdSocket),
    live: () => runProbes(probesFor(cfg).live),
    ready: () => runProbes(probesFor(cfg).ready),
  };
  const probe = table[flag];
  if (!probe) {
    process.stderr.write(`tabby-node: unknown flag -${flag} (probes: ${Object.keys(table).map((k) => `-${k}`).join(' ')})\n`);
    return 2;
  }
  const r = await probe();
  (r.ok ? process.stdout : process.stderr).write(r.detail + '\n');
  return r.ok ? 0 : 1;
}

/**
 * Start-up steps are retried with backoff rather than ending the agent: a slow or briefly
 * unreachable etcd (many nodes starting at once) must not leave a node half set up.
 */
async function retrying<T>(log: Logger, what: string, fn: () => Promise<T>): Promise<T> {
  for (let delay = 1000; ; delay = Math.min(delay * 2, 30_000)) {
    try {
      return await fn();
    } catch (e) {
      log.warn(`${what} failed; retrying`, { error: (e as Error).message, inMs: delay });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

async function connectDatastore(log: Logger): Promise<Datastore> {
  for (let delay = 1000; ; delay = Math.min(delay * 2, 30_000)) {
    try {
      const ds = await createDatastore(await loadClientConfig({ env: process.env }));
      await ds.list('ClusterInformation');
      return ds;
    } catch (e) {
      log.warn('datastore not reachable yet; retrying', { error: (e as Error).message, inMs: delay });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

async function addresses(cfg: NodeAgentConfig): Promise<NodeAddresses> {
  const out: NodeAddresses = {};
  if (cfg.ip.kind === 'fixed') out.ipv4 = cfg.ip.cidr;
  else if (cfg.ip.kind === 'autodetect') out.ipv4 = (await detectAddress(4, cfg.autodetect4)).cidr;
  if (cfg.ip6.kind === 'fixed') out.ipv6 = cfg.ip6.cidr;
  else if (cfg.ip6.kind === 'autodetect') out.ipv6 = (await detectAddress(6, cfg.autodetect6)).cidr;
  return out;
}

function serveHealth(cfg: NodeAgentConfig, sup: Supervisor, log: Logger): Promise<Server | undefined> {
  if (!cfg.healthPort) return Promise.resolve(undefined);
  const probes = probesFor(cfg);
  const server = createServer((req, res) => {
    const route = async (): Promise<[number, string]> => {
      if (req.url === '/liveness') { const r = await runProbes(probes.live); return [r.ok ? 200 : 503, r.detail]; }
      if (req.url === '/readiness') { const r = await runProbes(probes.ready); return [r.ok ? 200 : 503, r.detail]; }
      if (req.url === '/status') return [200, JSON.stringify({ node: cfg.nodename, children: sup.status() }, null, 2)];
      return [404, 'not found: try /liveness, /readiness or /status'];
    };
    route().then(([code, body]) => {
      res.writeHead(code, { 'content-type': req.url === '/status' ? 'application/json' : 'text/plain' });
      res.end(body + '\n');
    }, (e: Error) => { res.writeHead(500); res.end(e.message + '\n'); });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.healthPort, cfg.healthHost, () => {
      log.info('health endpoints up', { address: `${cfg.healthHost}:${cfg.healthPort}` });
      resolve(server);
    });
  });
}

const execFileP = promisify(execFile);

const pidFile = (cfg: NodeAgentConfig, child: string) => join(cfg.stateDir, `${child}.pid`);

/**
 * Children left behind by an agent that was killed outright (SIGKILL, OOM): in a container they
 * die with it, on a plain host they keep running and would hold bgpd's port and felix's health
 * port. Each child's PID is recorded; at start, a recorded PID still running the same program
 * is stopped before new children start.
 */
async function stopLeftovers(cfg: NodeAgentConfig, log: Logger): Promise<void> {
  for (const [child, binPath] of [['felix', BINS.felix()], ['bgpd', BINS.bgpd()], ['confd', BINS.confd()]] as const) {
    let pid: number;
    try {
      pid = Number(readFileSync(pidFile(cfg, child), 'utf8').trim());
    } catch {
      continue;
    }
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // not running
    }
    if (!pid || !cmdline.includes(binPath)) continue;
    log.warn('stopping a child left behind by a previous agent', { child, pid });
    try { process.kill(pid, 'SIGTERM'); } catch { continue; }
    for (let i = 0; i < 100; i++) {
      try { process.kill(pid, 0); } catch { break; }
      await new Promise((r) => setTimeout(r, 100));
    }
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

async function agent(): Promise<number> {
  let cfg: NodeAgentConfig;
  try {
    cfg = configFromEnv();
  } catch (e) {
    if (!(e instanceof EnvError)) throw e;
    process.stderr.write(`tabby-node: ${e.message}\n`);
    return 2;
  }
  const log = createLogger('node');
  const paths = pathsOf(cfg);
  mkdirSync(cfg.stateDir, { recursive: true });
  log.info('starting', { node: cfg.nodename, backend: cfg.backend, stateDir: cfg.stateDir });

  const ds = await connectDatastore(log);
  const addrs = await retrying(log, 'detecting the node address', () => addresses(cfg));
  await retrying(log, 'registering the node', () => registerNode(ds, cfg, addrs, log));
  await retrying(log, 'ClusterInformation', () => ensureClusterInformation(ds, cfg.backend));
  await retrying(log, 'default pools', () => ensureDefaultPools(ds, cfg, log));
  await retrying(log, 'tunnel addresses', () => ensureTunnelAddresses(ds, new BlockAffinityIpam(ds), cfg, log));
  await ds.close();

  await stopLeftovers(cfg, log);
  const env = { ...process.env, NODENAME: cfg.nodename };
  const sup = new Supervisor(log);
  const recordPid = (child: string) => (pid: number) => writeFileSync(pidFile(cfg, child), `${pid}\n`);
  if (cfg.runFelix) sup.add({ name: 'felix', argv: [process.execPath, BINS.felix()], env, onStart: recordPid('felix') });
  if (cfg.backend === 'bird') {
    // bgpd needs its config before it starts: confd renders it once, then keeps it current.
    await retrying(log, 'rendering the first bgpd config (confd --once)', () => execFileP(process.execPath, [BINS.confd(), '--once', '--config-out', paths.bgpdConfig], { env }));
    sup.add({
      name: 'bgpd',
      argv: [process.execPath, BINS.bgpd(), '--config', paths.bgpdConfig, '--socket', paths.bgpdSocket],
      env,
      onStart: recordPid('bgpd'),
    });
    sup.add({ name: 'confd', argv: [process.execPath, BINS.confd(), '--config-out', paths.bgpdConfig, '--reload-pid-file', paths.bgpdPid], env, onStart: recordPid('confd') });
  }
  const health = await serveHealth(cfg, sup, log);
  const probes = probesFor(cfg);
  // A metrics port in use is logged, not fatal: the children keep running.
  const metrics = cfg.metricsPort
    ? await serveNodeMetrics(new NodeMetrics({ children: () => sup.status(), live: () => runProbes(probes.live), ready: () => runProbes(probes.ready) }).registry, cfg.metricsPort, cfg.metricsHost).then(
      (srv) => { log.info('metrics served', { port: cfg.metricsPort }); return srv; },
      (e: Error) => { log.error('cannot serve metrics; running without them', { port: cfg.metricsPort, error: e.message }); return undefined; },
    )
    : undefined;

  await new Promise<void>((res) => {
    process.once('SIGTERM', res);
    process.once('SIGINT', res);
  });
  log.info('stopping');
  await sup.stop();
  await new Promise<void>((res) => (health ? health.close(() => res()) : res()));
  metrics?.close();
  for (const child of ['felix', 'bgpd', 'confd']) rmSync(pidFile(cfg, child), { force: true });
  log.info('stopped');
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const flag = argv.find((a) => /^--?[a-z-]+$/.test(a));
  if (flag === '--version' || flag === '-version' || flag === '-v') {
    process.stdout.write('tabby-node 0.1.0\n');
    return 0;
  }
  if (flag) return probeFlag(flag.replace(/^--?/, ''));
  return agent();
}

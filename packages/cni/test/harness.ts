// A node for CNI integration tests: a "host" network namespace (the plugin runs inside it, so
// the host ends of the veths land there and never in the machine's real namespace), a real
// etcd reachable from inside it, an uplink with a default route (as any real host has, which
// proxy ARP for 169.254.1.1 needs), and a way to call the plugin executables exactly as a
// runtime does: env CNI_*, config on stdin, CNI_PATH at packages/cni/bin.

import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtcdDatastore, type Datastore } from '@tabby/datastore';
import { createNetns, startEtcd, tmpDir, type EtcdServer, type Netns } from '@tabby/test-support';

const here = dirname(fileURLToPath(import.meta.url));
/** packages/cni/bin, whatever the working directory. */
export const BIN_DIR = join(here, '..', '..', 'bin');
const ETCD_PORT_IN_HOST = 2379;

export interface PluginRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed, if it is JSON. */
  json: Record<string, unknown> | undefined;
}

export interface PluginCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION';
  containerID?: string;
  netns?: string;
  ifName?: string;
  args?: string;
  path?: string;
  config: Record<string, unknown> | string;
  /** Replace or remove (undefined) variables. */
  env?: Record<string, string | undefined>;
}

/** Starts a child and resolves once it prints "ready". */
function startReady(argv: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${argv.join(' ')} did not get ready: ${err}`)); }, 15_000);
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    p.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) { clearTimeout(timer); resolve(p); }
    });
    p.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${argv.join(' ')} exited ${code}: ${err}`)); });
  });
}

export async function stopChild(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise<void>((res) => p.once('exit', () => res()));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 3000);
  await done;
  clearTimeout(t);
}

/** Where Debian's containernetworking-plugins installs its binaries (portmap, host-local, ...). */
export const DEBIAN_CNI_DIR = '/usr/lib/cni';

export interface TestNodeOptions {
  /** This node's `nodename` (default node-1). */
  nodename?: string;
  /** An etcd shared with other nodes; it is then neither started nor stopped by this node. */
  etcd?: EtcdServer;
}

export class TestNode {
  readonly dir = tmpDir('tabby-cni-');
  readonly nodename: string;
  readonly logFile = join(this.dir, 'cni.log');
  hostns!: Netns;
  etcd!: EtcdServer;
  private readonly sharedEtcd: boolean;
  ds!: Datastore;
  private bridge?: Server;
  private forwarder?: ChildProcess;
  private readonly children = new Set<ChildProcess>();
  private readonly pods: Netns[] = [];

  constructor(opts: TestNodeOptions = {}) {
    this.nodename = opts.nodename ?? 'node-1';
    this.sharedEtcd = !!opts.etcd;
    if (opts.etcd) this.etcd = opts.etcd;
  }

  async start(): Promise<void> {
    if (!this.sharedEtcd) this.etcd = await startEtcd();
    this.ds = new EtcdDatastore({ endpoints: [this.etcd.endpoint] });
    const etcdPort = Number(new URL(this.etcd.endpoint).port);
    const sock = join(this.dir, 'etcd.sock');
    this.bridge = createServer((c) => {
      const e = connect(etcdPort, '127.0.0.1');
      c.pipe(e);
      e.pipe(c);
      c.on('error', () => e.destroy());
      e.on('error', () => c.destroy());
      c.on('close', () => e.destroy());
      e.on('close', () => c.destroy());
    });
    await new Promise<void>((res) => this.bridge!.listen(sock, res));
    this.hostns = createNetns('host');
    this.forwarder = await startReady(['ip', 'netns', 'exec', this.hostns.name, process.execPath, join(here, 'fwd.js'), String(ETCD_PORT_IN_HOST), sock]);
    // An uplink with a default route: proxy ARP answers only for addresses routed elsewhere.
    this.hostns.run('ip', ['link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1']);
    this.hostns.run('ip', ['link', 'set', 'up0', 'up']);
    this.hostns.run('ip', ['link', 'set', 'up1', 'up']);
    this.hostns.run('ip', ['route', 'add', 'default', 'dev', 'up0']);
  }

  async stop(): Promise<void> {
    for (const c of this.children) await stopChild(c);
    for (const p of this.pods) p.delete();
    await stopChild(this.forwarder);
    this.hostns?.delete();
    await new Promise<void>((res) => (this.bridge ? this.bridge.close(() => res()) : res()));
    await this.ds?.close();
    if (!this.sharedEtcd) await this.etcd?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A pod network namespace (removed by deletePods/stop). */
  createPod(tag = 'pod'): Netns {
    const ns = createNetns(tag);
    this.pods.push(ns);
    return ns;
  }

  deletePods(): void {
    for (const p of this.pods.splice(0)) p.delete();
  }

  netnsPath(ns: Netns): string {
    return `/var/run/netns/${ns.name}`;
  }

  /** The conflist entry a cluster on etcd would install, pointing at this node's etcd. */
  config(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tabby', datastore_type: 'etcdv3',
      etcd_endpoints: `http://127.0.0.1:${ETCD_PORT_IN_HOST}`, nodename: this.nodename, mtu: 1450,
      log_level: 'debug', log_file_path: this.logFile, ipam_lock_file: join(this.dir, 'ipam.lock'), ipam: { type: 'tabby-ipam' }, ...extra,
    };
  }

  /**
   * Runs bin/<plugin> (or, given a path, that executable, e.g. Debian's portmap) inside the host
   * namespace, as a runtime would.
   */
  run(plugin: 'tabby' | 'tabby-ipam' | `/${string}`, call: PluginCall): Promise<PluginRun> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: call.command,
      CNI_CONTAINERID: call.containerID ?? '',
      CNI_NETNS: call.netns ?? '',
      CNI_IFNAME: call.ifName ?? 'eth0',
      CNI_ARGS: call.args ?? '',
      CNI_PATH: call.path ?? BIN_DIR,
    };
    for (const [k, v] of Object.entries(call.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const stdin = typeof call.config === 'string' ? call.config : JSON.stringify(call.config);
    return new Promise((resolve, reject) => {
      // cwd "/" shows that the executables do not depend on the working directory.
      const p = spawn('ip', ['netns', 'exec', this.hostns.name, plugin.startsWith('/') ? plugin : join(BIN_DIR, plugin)], { env, cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
      this.children.add(p);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      p.stdout.on('data', (d: Buffer) => out.push(d));
      p.stderr.on('data', (d: Buffer) => err.push(d));
      p.on('error', reject);
      p.on('close', (code) => {
        this.children.delete(p);
        const stdout = Buffer.concat(out).toString();
        let json: Record<string, unknown> | undefined;
        try { json = JSON.parse(stdout) as Record<string, unknown>; } catch { json = undefined; }
        resolve({ code, stdout, stderr: Buffer.concat(err).toString(), json });
      });
      p.stdin.end(stdin);
    });
  }

  /** A TCP echo server inside a namespace (stopped by stop()). */
  async echoServer(ns: Netns, ip: string, port: number): Promise<ChildProcess> {
    const p = await startReady(['ip', 'netns', 'exec', ns.name, process.execPath, join(here, 'echo.js'), 'server', ip, String(port)]);
    this.children.add(p);
    return p;
  }

  /** Connects from a namespace, sends `text`, returns the answer (throws if unreachable). */
  echoClient(ns: Netns, ip: string, port: number, text: string): string {
    const r = ns.tryRun(process.execPath, [join(here, 'echo.js'), 'client', ip, String(port), text]);
    if (r.code !== 0) throw new Error(`echo client ${ip}:${port} from ${ns.name} failed: ${r.stderr.trim()}`);
    return r.stdout.trim();
  }
}

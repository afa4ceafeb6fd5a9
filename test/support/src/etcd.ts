// A real etcd server for tests: free loopback ports, a temporary data dir, optional TLS with
// throwaway certificates, and a stop() that always kills it (by PID) and cleans up. A process
// exit kills whatever is still running and removes its directory.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdTls {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface EtcdServer {
  /** Client URL, e.g. http://127.0.0.1:41234 (https with TLS). */
  endpoint: string;
  /** All client URLs (one today; a list as ETCD_ENDPOINTS takes). */
  clientUrls: string[];
  /** Temporary directory holding the data dir (and certificates); removed by stop(). */
  dataDir: string;
  /** PID of the current etcd process (changes on restart). */
  pid: number;
  /** Client certificate material when started with TLS. */
  tls?: EtcdTls;
  /** Runs etcdctl (API v3) against this server; throws with stderr on failure. */
  etcdctl(...args: string[]): string;
  /** Kills etcd (SIGKILL with `hard`, else SIGTERM) and starts it again on the same ports and data. */
  restart(opts?: { hard?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
const dirs = new Set<string>();
process.on('exit', () => {
  for (const p of running) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function tmpDir(prefix = 'tabby-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run openssl (is it installed?): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all throwaway. */
function makeCerts(dir: string): { ca: string; serverCert: string; serverKey: string; client: EtcdTls } {
  writeFileSync(join(dir, 'server.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  writeFileSync(join(dir, 'client.cnf'), 'extendedKeyUsage=clientAuth\n');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tabby-test-ca'], dir);
  for (const name of ['server', 'client']) {
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=tabby-${name}`], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.cnf`], dir);
  }
  return {
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    client: { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'client.pem'), keyFile: join(dir, 'client.key') },
  };
}

function etcdctlArgs(endpoint: string, tls: EtcdTls | undefined): string[] {
  return ['--endpoints', endpoint, ...(tls ? ['--cacert', tls.caFile, '--cert', tls.certFile, '--key', tls.keyFile] : [])];
}

function runEtcdctl(endpoint: string, tls: EtcdTls | undefined, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('etcdctl', [...etcdctlArgs(endpoint, tls), ...args], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr || r.error?.message || '' };
}

async function waitHealthy(endpoint: string, tls: EtcdTls | undefined, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`etcd exited (${proc.exitCode ?? proc.signalCode}): ${log()}`);
    if (runEtcdctl(endpoint, tls, ['endpoint', 'health', '--command-timeout=1s']).code === 0) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`etcd at ${endpoint} did not become healthy within 15 s: ${log()}`);
}

async function kill(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise<void>((res) => proc.once('exit', () => res()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
  running.delete(proc);
}

/** Starts etcd on free loopback ports and resolves once it answers a health check. */
export async function startEtcd(opts: { tls?: boolean } = {}): Promise<EtcdServer> {
  const dir = tmpDir('tabby-etcd-');
  dirs.add(dir);
  let proc: ChildProcess | undefined;
  try {
    const clientPort = await freePort();
    let peerPort = await freePort();
    while (peerPort === clientPort) peerPort = await freePort();
    const endpoint = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const args = [
      '--name', 'tabby-test', '--data-dir', join(dir, 'data'),
      '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `tabby-test=${peer}`,
      '--log-level', 'error', '--logger', 'zap',
    ];
    let client: EtcdTls | undefined;
    if (opts.tls) {
      const certs = makeCerts(dir);
      client = certs.client;
      args.push('--cert-file', certs.serverCert, '--key-file', certs.serverKey, '--trusted-ca-file', certs.ca, '--client-cert-auth');
    }
    let stderr = '';
    const launch = async () => {
      const p = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      running.add(p);
      proc = p;
      p.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
      await waitHealthy(endpoint, client, p, () => stderr);
    };
    await launch();
    const server: EtcdServer = {
      endpoint,
      clientUrls: [endpoint],
      dataDir: dir,
      pid: proc!.pid!,
      ...(client ? { tls: client } : {}),
      etcdctl: (...a) => {
        const r = runEtcdctl(endpoint, client, a);
        if (r.code !== 0) throw new Error(`etcdctl ${a.join(' ')} failed: ${r.stderr.trim()}`);
        return r.stdout;
      },
      restart: async (o = {}) => {
        await kill(proc!, o.hard ? 'SIGKILL' : 'SIGTERM');
        await launch();
        server.pid = proc!.pid!;
      },
      stop: async () => {
        if (proc) await kill(proc, 'SIGTERM');
        rmSync(dir, { recursive: true, force: true });
        dirs.delete(dir);
      },
    };
    return server;
  } catch (e) {
    if (proc) await kill(proc, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
    throw e;
  }
}

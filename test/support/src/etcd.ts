// A real etcd server for tests: free loopback ports, a temporary data dir, optional TLS with
// throwaway certificates, and a stop() that always kills it (by PID) and cleans up.

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
  dataDir: string;
  pid: number;
  /** Client certificate material when started with TLS. */
  tls?: EtcdTls;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
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
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all throwaway. */
function makeCerts(dir: string): { ca: string; serverCert: string; serverKey: string; client: EtcdTls } {
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  writeFileSync(join(dir, 'client.cnf'), 'extendedKeyUsage=clientAuth\n');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tabby-test-ca'], dir);
  for (const [name, ext] of [['server', 'san.cnf'], ['client', 'client.cnf']] as const) {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=tabby-${name}`], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', ext], dir);
  }
  return {
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    client: { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'client.pem'), keyFile: join(dir, 'client.key') },
  };
}

async function waitHealthy(endpoint: string, tls: EtcdTls | undefined, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  const args = ['--endpoints', endpoint, 'endpoint', 'health', '--command-timeout=1s'];
  if (tls) args.push('--cacert', tls.caFile, '--cert', tls.certFile, '--key', tls.keyFile);
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode}: ${log()}`);
    const r = spawnSync('etcdctl', args, { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' });
    if (r.status === 0) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`etcd at ${endpoint} did not become healthy within 15 s: ${log()}`);
}

export async function startEtcd(opts: { tls?: boolean } = {}): Promise<EtcdServer> {
  const dir = tmpDir('tabby-etcd-');
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const scheme = opts.tls ? 'https' : 'http';
  const endpoint = `${scheme}://127.0.0.1:${clientPort}`;
  const args = [
    '--name', 'tabby-test',
    '--data-dir', join(dir, 'data'),
    '--listen-client-urls', endpoint,
    '--advertise-client-urls', endpoint,
    '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-cluster', `tabby-test=http://127.0.0.1:${peerPort}`,
    '--log-level', 'error',
    '--logger', 'zap',
  ];
  let client: EtcdTls | undefined;
  if (opts.tls) {
    const certs = makeCerts(dir);
    client = certs.client;
    args.push('--cert-file', certs.serverCert, '--key-file', certs.serverKey, '--trusted-ca-file', certs.ca, '--client-cert-auth');
  }
  const proc = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(proc);
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((res) => proc.once('exit', () => res()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(endpoint, client, proc, () => stderr);
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoint, dataDir: dir, pid: proc.pid!, ...(client ? { tls: client } : {}), stop };
}

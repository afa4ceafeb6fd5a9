// bgpd as the loopback daemon tests run it: router 10.9.9.9, AS 65000, listening on 127.0.0.1
// at a free port, its control socket and config in a temporary directory, its output kept.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, freePort, tmpDir } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));

export interface LoopbackBgpd {
  readonly dir: string;
  readonly port: number;
  /** The control socket. */
  readonly sock: string;
  readonly process: ChildProcess;
  /** stdout and stderr so far (the last 200 KB). */
  logs(): string;
  status(): Promise<PeerStatus[]>;
  /** SIGTERM, wait for the exit, remove the directory. */
  stop(): Promise<void>;
}

/**
 * Starts bgpd with `rest` after the fixed head of its YAML (peers, originate, kernel, ...) and
 * waits until its control socket answers and `ready` (if given) holds for the peer list.
 */
export async function startLoopbackBgpd(tag: string, rest: string, opts: { args?: string[]; ready?: (peers: PeerStatus[]) => boolean } = {}): Promise<LoopbackBgpd> {
  const dir = tmpDir(`tabby-${tag}-`);
  const port = await freePort();
  const sock = join(dir, 'bgpd.ctl');
  writeFileSync(join(dir, 'bgpd.yaml'), `routerId: 10.9.9.9
asNumber: 65000
listen: { address: 127.0.0.1, port: ${port} }
${rest}`);
  const child = spawn(process.execPath, [BGPD, '--config', join(dir, 'bgpd.yaml'), '--socket', sock, ...(opts.args ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => { out = (out + d).slice(-200_000); });
  const status = async () => (await request(sock, { cmd: 'status' })) as PeerStatus[];
  const d: LoopbackBgpd = {
    dir, port, sock, process: child, status,
    logs: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await eventually(async () => { const st = await status(); return !opts.ready || opts.ready(st); }, 10_000, `bgpd up; output: ${out.slice(-2000)}`);
  } catch (e) {
    await d.stop();
    throw e;
  }
  return d;
}

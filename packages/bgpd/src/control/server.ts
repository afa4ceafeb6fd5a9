// The control socket (like bird.ctl): one JSON request per line, one JSON response per line.

import { createServer, type Server } from 'node:net';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Speaker } from '../speaker.js';

export type ControlRequest = { cmd: 'status' } | { cmd: 'routes' } | { cmd: 'stats' } | { cmd: 'stats-reset' } | { cmd: 'bfd' }
  /** Route refresh: `in` asks peers to resend their routes, `out` resends ours (one peer or all). */
  | { cmd: 'refresh'; direction: 'in' | 'out'; peer?: string };
export type ControlResponse = { ok: true; result: unknown } | { ok: false; error: string };

export const DEFAULT_SOCKET = '/var/run/tabby/bgpd.ctl';

export async function serveControl(path: string, speaker: Speaker): Promise<Server> {
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  const server = createServer((s) => {
    let buf = '';
    s.setEncoding('utf8');
    s.on('error', () => undefined);
    s.on('data', (d: string) => {
      buf += d;
      if (buf.length > 65536) return void s.destroy();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        s.write(JSON.stringify(handle(line, speaker)) + '\n');
      }
    });
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(path, () => res());
  });
  return server;
}

function handle(line: string, speaker: Speaker): ControlResponse {
  let req: ControlRequest;
  try {
    req = JSON.parse(line) as ControlRequest;
  } catch {
    return { ok: false, error: 'request is not JSON' };
  }
  switch (req.cmd) {
    case 'status': return { ok: true, result: speaker.status() };
    case 'routes': return { ok: true, result: speaker.routes() };
    case 'stats': return { ok: true, result: speaker.stats() };
    case 'stats-reset': speaker.resetStats(); return { ok: true, result: null };
    case 'bfd': return { ok: true, result: speaker.bfdStatus() };
    case 'refresh': {
      if (req.direction !== 'in' && req.direction !== 'out') return { ok: false, error: 'refresh: direction must be in or out' };
      if (req.peer !== undefined && typeof req.peer !== 'string') return { ok: false, error: 'refresh: peer must be an address' };
      try {
        return { ok: true, result: { peers: speaker.refresh(req.direction, req.peer) } };
      } catch (e) {
        return { ok: false, error: `refresh: ${(e as Error).message}` };
      }
    }
    default: return { ok: false, error: `unknown command ${JSON.stringify((req as { cmd?: unknown }).cmd)}` };
  }
}

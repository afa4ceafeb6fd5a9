// Health of the parts, as calico-node's probe flags report it: felix through its health port,
// bgpd through its control socket. Used by the agent's HTTP endpoints and by `tabby-node
// -felix-live|-felix-ready|-bird-live|-bird-ready` (exit 0 healthy, 1 not, with the reason).

import { request as httpRequest } from 'node:http';
import { request as bgpdRequest, type PeerStatus } from '@tabby/bgpd';

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

function httpOk(host: string, port: number, path: string, timeoutMs = 2000): Promise<ProbeResult> {
  return new Promise((res) => {
    const req = httpRequest({ host, port, path, method: 'GET', timeout: timeoutMs }, (r) => {
      r.resume();
      const ok = (r.statusCode ?? 500) < 300;
      res({ ok, detail: `felix ${path}: HTTP ${r.statusCode}` });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => res({ ok: false, detail: `felix ${path}: ${e.message}` }));
    req.end();
  });
}

export const felixLive = (port: number, host = '127.0.0.1') => httpOk(host, port, '/liveness');
export const felixReady = (port: number, host = '127.0.0.1') => httpOk(host, port, '/readiness');

/** bgpd answers on its control socket. */
export async function bgpdLive(socket: string): Promise<ProbeResult> {
  try {
    await bgpdRequest(socket, { cmd: 'status' });
    return { ok: true, detail: 'bgpd is running' };
  } catch (e) {
    return { ok: false, detail: `bgpd is not running: ${(e as Error).message}` };
  }
}

/** Every configured BGP session is Established (as calico-node -bird-ready asks). */
export async function bgpdReady(socket: string): Promise<ProbeResult> {
  let peers: PeerStatus[];
  try {
    peers = (await bgpdRequest(socket, { cmd: 'status' })) as PeerStatus[];
  } catch (e) {
    return { ok: false, detail: `bgpd is not ready: ${(e as Error).message}` };
  }
  const down = peers.filter((p) => p.state !== 'up');
  if (down.length) return { ok: false, detail: `bgpd is not ready: BGP not established with ${down.map((p) => p.address).join(',')}` };
  return { ok: true, detail: `bgpd is ready: ${peers.length} session(s) established` };
}

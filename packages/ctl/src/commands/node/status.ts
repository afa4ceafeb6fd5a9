// node status: the BGP peer table calicoctl prints, read from bgpd's control socket.

import { ControlUnavailable, DEFAULT_SOCKET, request, type PeerStatus } from '@tabby/bgpd';
import { renderBordered } from '../../output/table.js';
import { CtlError } from '../../errors.js';
import type { Session } from '../../session.js';

const PEER_TYPE: Record<string, string> = { mesh: 'node-to-node mesh', global: 'global', node: 'node specific' };

/** calicoctl shows HH:MM:SS for today and the date for older times. */
export function formatSince(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (d.toDateString() === now.toDateString()) return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function renderNodeStatus(peers: PeerStatus[], now = new Date()): string {
  let out = 'Tabby process is running.\n';
  for (const [family, label] of [[4, 'IPv4'], [6, 'IPv6']] as const) {
    const rows = peers
      .filter((p) => (p.address.includes(':') ? 6 : 4) === family)
      // BFD (when enabled for the peer) goes into Info, keeping calicoctl's columns.
      .map((p) => [p.address, PEER_TYPE[p.type] ?? p.type, p.state, formatSince(p.since, now), p.fsmState + (p.info ? ` ${p.info}` : '') + (p.bfd ? ` (BFD ${p.bfd})` : '')]);
    out += `\n${label} BGP status\n`;
    out += rows.length ? renderBordered(['Peer address', 'Peer type', 'State', 'Since', 'Info'], rows) : `No ${label} peers found.\n`;
  }
  return out + '\n';
}

export async function runNodeStatus(session: Session, opts: { socket?: string }): Promise<void> {
  let peers: PeerStatus[];
  try {
    peers = (await request(opts.socket ?? DEFAULT_SOCKET, { cmd: 'status' })) as PeerStatus[];
  } catch (e) {
    if (e instanceof ControlUnavailable) throw new CtlError(`Tabby process is not running: ${e.message}.`);
    throw e;
  }
  session.io.out(renderNodeStatus(peers));
}

// What a session may use, from both OPENs (pure).

import { AFI, SAFI, type AddPathFamily, type Capability } from '../wire/capabilities.js';
import type { PerFamily } from '../wire/context.js';
import { AS_TRANS, type OpenMessage } from '../wire/open.js';
import { ErrorCode, OpenSubcode, WireError } from '../wire/errors.js';

export interface Negotiated {
  peerAs: number;
  peerId: string;
  fourOctetAs: boolean;
  extendedMessage: boolean;
  routeRefresh: boolean;
  /** Both sides advertised enhanced route refresh (RFC 7313): refreshes are framed by BoRR/EoRR. */
  enhancedRouteRefresh: boolean;
  /**
   * ADD-PATH (RFC 7911) per family (1 IPv4, 2 IPv6 unicast): `receive` when we offered to
   * receive and the peer to send (its NLRI carry path identifiers), `send` the other way round.
   */
  addPath?: { receive: PerFamily; send: PerFamily };
  ipv4: boolean;
  ipv6: boolean;
  holdTime: number;
  /** Both sides advertised graceful restart: the peer's side of it (undefined otherwise). */
  gracefulRestart?: {
    /** Seconds the peer asks us to keep its routes while it restarts. */
    restartTime: number;
    /** The peer has just restarted (R bit). */
    restarting: boolean;
    /** Both sides set the N bit: a NOTIFICATION (other than Hard Reset) also starts graceful restart. */
    notification: boolean;
    /** Families the peer keeps forwarding state for across its restart (F bit), e.g. "1/1". */
    forwarding: string[];
    /** Families the peer covers by graceful restart at all. */
    families: string[];
  };
}

export interface GracefulRestartOptions {
  restartTime: number;
  /** Set on the first sessions after our own restart (R bit), when forwarding state was kept. */
  restarting: boolean;
}

export function peerAsOf(open: OpenMessage): number {
  const four = open.capabilities.find((c): c is Extract<Capability, { type: 'four-octet-as' }> => c.type === 'four-octet-as');
  return four ? four.asn : open.myAs;
}

/** ADD-PATH directions we offer (RFC 7911), for every unicast family we run. */
export interface AddPathOptions {
  send: boolean;
  receive: boolean;
}

/** Our capabilities for a session. */
export function ourCapabilities(localAs: number, families: { ipv4: boolean; ipv6: boolean }, gr?: GracefulRestartOptions, addPath?: AddPathOptions): Capability[] {
  const caps: Capability[] = [];
  if (families.ipv4) caps.push({ type: 'multiprotocol', afi: AFI.IPV4, safi: SAFI.UNICAST });
  if (families.ipv6) caps.push({ type: 'multiprotocol', afi: AFI.IPV6, safi: SAFI.UNICAST });
  caps.push({ type: 'route-refresh' }, { type: 'enhanced-route-refresh' }, { type: 'four-octet-as', asn: localAs }, { type: 'extended-message' });
  if (gr) {
    // Forwarding state is kept across our restarts (the kernel routes stay), so F is set.
    const fams = [...(families.ipv4 ? [AFI.IPV4] : []), ...(families.ipv6 ? [AFI.IPV6] : [])].map((afi) => ({ afi, safi: SAFI.UNICAST, forwarding: true }));
    caps.push({ type: 'graceful-restart', restarting: gr.restarting, notification: true, time: gr.restartTime, families: fams });
  }
  if (addPath && (addPath.send || addPath.receive)) {
    const fams = [...(families.ipv4 ? [AFI.IPV4] : []), ...(families.ipv6 ? [AFI.IPV6] : [])];
    caps.push({ type: 'add-path', families: fams.map((afi) => ({ afi, safi: SAFI.UNICAST, send: addPath.send, receive: addPath.receive })) });
  }
  return caps;
}

export function twoOctetAs(localAs: number): number {
  return localAs > 0xffff ? AS_TRANS : localAs;
}

/**
 * Checks the peer's OPEN against what we expect (RFC 4271 §6.2) and works out the session's
 * features. Throws WireError with the NOTIFICATION to send.
 */
export function negotiate(ours: Capability[], open: OpenMessage, expect: { peerAs: number; localId: string }): Negotiated {
  const peerAs = peerAsOf(open);
  if (peerAs !== expect.peerAs) {
    const data = new Uint8Array([open.myAs >> 8, open.myAs & 0xff]);
    throw new WireError(ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_PEER_AS, data, `peer AS ${peerAs}, expected ${expect.peerAs}`);
  }
  if (open.bgpId === expect.localId) {
    throw new WireError(ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_BGP_ID, undefined, `peer uses our BGP identifier ${open.bgpId}`);
  }
  const theirs = open.capabilities;
  const has = (caps: Capability[], t: Capability['type']) => caps.some((c) => c.type === t);
  const mp = (caps: Capability[], afi: number) => caps.some((c) => c.type === 'multiprotocol' && c.afi === afi && c.safi === SAFI.UNICAST);
  const theirMp = theirs.some((c) => c.type === 'multiprotocol');
  // A peer without MP capabilities speaks IPv4 unicast only (RFC 4760 §8).
  const ipv4 = mp(ours, AFI.IPV4) && (theirMp ? mp(theirs, AFI.IPV4) : true);
  const ipv6 = mp(ours, AFI.IPV6) && mp(theirs, AFI.IPV6);
  return {
    peerAs,
    peerId: open.bgpId,
    fourOctetAs: has(ours, 'four-octet-as') && has(theirs, 'four-octet-as'),
    extendedMessage: has(ours, 'extended-message') && has(theirs, 'extended-message'),
    routeRefresh: has(theirs, 'route-refresh') || has(theirs, 'route-refresh-old'),
    enhancedRouteRefresh: has(ours, 'enhanced-route-refresh') && has(theirs, 'enhanced-route-refresh') && (has(theirs, 'route-refresh') || has(theirs, 'route-refresh-old')),
    ipv4,
    ipv6,
    holdTime: open.holdTime,
    ...gracefulRestartOf(ours, theirs),
    ...addPathOf(ours, theirs),
  };
}

function addPathOf(ours: Capability[], theirs: Capability[]): Pick<Negotiated, 'addPath'> {
  const fams = (caps: Capability[]): AddPathFamily[] => caps.flatMap((c) => (c.type === 'add-path' ? c.families : []));
  const mine = fams(ours);
  const peer = fams(theirs);
  if (!mine.length || !peer.length) return {};
  const receive: PerFamily = {};
  const send: PerFamily = {};
  for (const afi of [1, 2] as const) {
    const m = mine.find((f) => f.afi === afi && f.safi === SAFI.UNICAST);
    const p = peer.find((f) => f.afi === afi && f.safi === SAFI.UNICAST);
    if (!m || !p) continue;
    if (m.receive && p.send) receive[afi] = true;
    if (m.send && p.receive) send[afi] = true;
  }
  return Object.keys(receive).length || Object.keys(send).length ? { addPath: { receive, send } } : {};
}

function gracefulRestartOf(ours: Capability[], theirs: Capability[]): Pick<Negotiated, 'gracefulRestart'> {
  const mine = ours.find((c): c is Extract<Capability, { type: 'graceful-restart' }> => c.type === 'graceful-restart');
  const peer = theirs.find((c): c is Extract<Capability, { type: 'graceful-restart' }> => c.type === 'graceful-restart');
  if (!mine || !peer) return {};
  const key = (f: { afi: number; safi: number }) => `${f.afi}/${f.safi}`;
  return {
    gracefulRestart: {
      restartTime: peer.time,
      restarting: peer.restarting,
      notification: mine.notification && peer.notification,
      forwarding: peer.families.filter((f) => f.forwarding).map(key),
      families: peer.families.map(key),
    },
  };
}

// Graceful restart (RFC 4724, N bit per RFC 8538): which session ends keep a peer's routes, and
// the family keys used to track stale routes and End-of-RIB markers.

import type { DownReason } from './fsm.js';
import type { Negotiated } from './negotiate.js';

/** "afi/safi" of a prefix: 1/1 IPv4 unicast, 2/1 IPv6 unicast. */
export const familyOf = (prefix: string): string => (prefix.includes(':') ? '2/1' : '1/1');

/** The families a session negotiated, as "afi/safi" keys. */
export function sessionFamilies(n: Negotiated): string[] {
  return [...(n.ipv4 ? ['1/1'] : []), ...(n.ipv6 ? ['2/1'] : [])];
}

/**
 * Does this end of an established session start the peer's graceful restart (its routes are
 * kept, stale, for its restart time)? A lost TCP connection does (RFC 4724); with the N bit
 * negotiated so does a NOTIFICATION either way and our hold timer expiring, except Cease /
 * Hard Reset (RFC 8538). Removing the peer ourselves never does.
 */
export function gracefulDown(reason: DownReason, n: Negotiated | undefined): boolean {
  const gr = n?.gracefulRestart;
  if (!gr) return false;
  switch (reason.kind) {
    case 'connection-closed':
    case 'connection-failed':
      return true;
    case 'hold-timer-expired':
      return gr.notification;
    case 'notification-received':
    case 'notification-sent':
      return gr.notification && !(reason.notification.code === 6 && reason.notification.subcode === 9);
    default:
      return false;
  }
}

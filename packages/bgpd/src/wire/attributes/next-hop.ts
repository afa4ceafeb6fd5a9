// NEXT_HOP (RFC 4271 §5.1.3): an IPv4 address, used for NLRI in the UPDATE's own field.
// Whether it is one of our own addresses is the caller's business; whether it can be a host
// address at all is checked by `usableIPv4NextHop` (validation, not decoding).

import { formatIPv4, parseIPv4, parseIPv6 } from '../address.js';
import type { Writer } from '../writer.js';
import { expectLength } from './common.js';

export function decodeNextHop(value: Uint8Array): string {
  expectLength('NEXT_HOP', value, 4);
  return formatIPv4(value);
}

export function encodeNextHop(w: Writer, nextHop: string): void {
  w.bytes(parseIPv4(nextHop));
}

/** Not 0.0.0.0/8, not multicast (224/4), not the limited broadcast address. */
export function usableIPv4NextHop(nextHop: string): boolean {
  const b = parseIPv4(nextHop);
  if (b[0] === 0 || (b[0]! & 0xf0) === 224) return false;
  return !b.every((x) => x === 255);
}

/**
 * An MP_REACH IPv6 next hop set: the global address must not be multicast, and may be "::"
 * only when a link-local address follows (peers with nothing but a link-local do that).
 */
export function usableIPv6NextHops(nextHops: readonly string[]): boolean {
  const global = nextHops[0];
  if (global === undefined) return false;
  const g = parseIPv6(global);
  if (g[0] === 0xff) return false;
  if (g.every((x) => x === 0)) return nextHops.length > 1 && !parseIPv6(nextHops[1]!).every((x) => x === 0);
  return true;
}

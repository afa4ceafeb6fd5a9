// NLRI (RFC 4271 §4.3, RFC 4760 §5): prefixes as (length in bits, just enough address
// bytes), each preceded by a 4-byte path identifier when ADD-PATH is negotiated for the
// family and direction (RFC 7911 §3).

import { ErrorCode, UpdateSubcode, WireError } from './errors.js';
import { formatIPv4, formatIPv6, parseAddress, type Afi4or6 } from './address.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface Prefix {
  /** Canonical CIDR text, host bits cleared: 10.0.0.0/24, fd00::/64. */
  prefix: string;
  /** ADD-PATH path identifier (RFC 7911), when negotiated. */
  pathId?: number;
}

export const PATH_ID_LENGTH = 4;

/** RFC 4271 §6.3 Invalid Network Field; RFC 7606 §5.3: NLRI that cannot be parsed end the session. */
export const invalidNetwork = () => new WireError(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.INVALID_NETWORK, undefined, 'malformed NLRI', 'reset');

const scratch = new Uint8Array(16);

/** Reads one prefix; a length beyond the family's is reported as `bad` (Invalid Network Field). */
export function readPrefix(r: Reader, afi: Afi4or6, addPath: boolean, bad: () => WireError = invalidNetwork): Prefix {
  const pathId = addPath ? r.u32() : undefined;
  const len = r.u8();
  if (len > (afi === 1 ? 32 : 128)) throw bad();
  const n = (len + 7) >> 3;
  const bytes = r.bytes(n);
  scratch.fill(0);
  scratch.set(bytes);
  // Bits past the length are ignored (RFC 4271 §4.3), so the text is canonical.
  if (len % 8) scratch[n - 1]! &= 0xff << (8 - (len % 8));
  const text = `${afi === 1 ? formatIPv4(scratch) : formatIPv6(scratch)}/${len}`;
  return pathId === undefined ? { prefix: text } : { prefix: text, pathId };
}

/** Reads prefixes until the reader is exhausted. */
export function readPrefixes(r: Reader, afi: Afi4or6, addPath: boolean, bad: () => WireError = invalidNetwork): Prefix[] {
  const out: Prefix[] = [];
  while (r.remaining) out.push(readPrefix(r, afi, addPath, bad));
  return out;
}

export function prefixFamily(prefix: string): Afi4or6 {
  return prefix.includes(':') ? 2 : 1;
}

function prefixLength(p: Prefix): number {
  return Number(p.prefix.slice(p.prefix.indexOf('/') + 1));
}

/** Encoded size of one prefix. */
export function prefixSize(p: Prefix, addPath: boolean): number {
  return (addPath ? PATH_ID_LENGTH : 0) + 1 + ((prefixLength(p) + 7) >> 3);
}

export function writePrefix(w: Writer, p: Prefix, addPath: boolean): void {
  const slash = p.prefix.indexOf('/');
  const afi = prefixFamily(p.prefix);
  const len = Number(p.prefix.slice(slash + 1));
  if (slash < 0 || !Number.isInteger(len) || len < 0 || len > (afi === 1 ? 32 : 128)) throw new Error(`not a prefix: ${p.prefix}`);
  const addr = parseAddress(afi, p.prefix.slice(0, slash));
  const n = (len + 7) >> 3;
  if (len % 8) addr[n - 1]! &= 0xff << (8 - (len % 8)); // host bits never go on the wire
  if (addPath) w.u32(p.pathId ?? 0);
  w.u8(len).bytes(addr.subarray(0, n));
}

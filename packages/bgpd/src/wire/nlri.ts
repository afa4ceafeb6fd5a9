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

/** The number after the slash, or -1 when there is none. Hand-rolled: this runs per prefix. */
function prefixLength(text: string, slash: number): number {
  if (slash < 0 || slash === text.length - 1 || text.length - slash > 4) return -1;
  let n = 0;
  for (let i = slash + 1; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Dotted-quad text into `out`; false if it is not one. Hand-rolled for the same reason. */
function parseIPv4Into(text: string, end: number, out: Uint8Array): boolean {
  let octet = 0;
  let digits = 0;
  let part = 0;
  for (let i = 0; i <= end; i++) {
    const c = i === end ? 46 : text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || octet > 255 || part > 3) return false;
      out[part++] = octet;
      octet = 0;
      digits = 0;
    } else {
      const d = c - 48;
      if (d < 0 || d > 9 || ++digits > 3) return false;
      octet = octet * 10 + d;
    }
  }
  return part === 4;
}

/** Encoded size of one prefix. */
export function prefixSize(p: Prefix, addPath: boolean): number {
  const len = prefixLength(p.prefix, p.prefix.indexOf('/'));
  if (len < 0) throw new Error(`not a prefix: ${p.prefix}`);
  return (addPath ? PATH_ID_LENGTH : 0) + 1 + ((len + 7) >> 3);
}

const addressScratch = new Uint8Array(16);

export function writePrefix(w: Writer, p: Prefix, addPath: boolean): void {
  const text = p.prefix;
  const slash = text.indexOf('/');
  const len = prefixLength(text, slash);
  const afi = prefixFamily(text);
  if (len < 0 || len > (afi === 1 ? 32 : 128)) throw new Error(`not a prefix: ${text}`);
  let addr: Uint8Array;
  if (afi === 2) {
    addr = parseAddress(2, text.slice(0, slash));
  } else {
    addr = addressScratch;
    if (!parseIPv4Into(text, slash, addr)) throw new Error(`not a prefix: ${text}`);
  }
  const n = (len + 7) >> 3;
  if (addPath) w.u32(p.pathId ?? 0);
  w.u8(len);
  for (let i = 0; i < n; i++) {
    // Host bits past the length never go on the wire.
    const mask = i === n - 1 && len % 8 ? (0xff << (8 - (len % 8))) & 0xff : 0xff;
    w.u8(addr[i]! & mask);
  }
}

// NLRI: prefixes as (length, significant bytes), optionally preceded by an ADD-PATH path ID.

import { ErrorCode, UpdateSubcode, WireError } from './errors.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface Prefix {
  /** Canonical CIDR text: 10.0.0.0/24, fd00::/64. */
  prefix: string;
  /** ADD-PATH path identifier (RFC 7911), when negotiated. */
  pathId?: number;
}

export const invalidNetwork = () => new WireError(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.INVALID_NETWORK, undefined, 'malformed NLRI');

export function formatAddress(afi: 1 | 2, bytes: Uint8Array): string {
  if (afi === 1) return `${bytes[0] ?? 0}.${bytes[1] ?? 0}.${bytes[2] ?? 0}.${bytes[3] ?? 0}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bs = -1, bl = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bl && j - i >= 2) { bs = i; bl = j - i; }
    i = j;
  }
  const h = g.map((x) => x.toString(16));
  return bs < 0 ? h.join(':') : `${h.slice(0, bs).join(':')}::${h.slice(bs + bl).join(':')}`;
}

export function parseAddress(afi: 1 | 2, s: string): Uint8Array {
  if (afi === 1) {
    const p = s.split('.').map(Number);
    if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`not an IPv4 address: ${s}`);
    return Uint8Array.from(p);
  }
  let head = s;
  let tail: number[] = [];
  const last = s.lastIndexOf(':');
  if (s.slice(last + 1).includes('.')) {
    tail = [...parseAddress(1, s.slice(last + 1))];
    head = s.slice(0, last + 1) + '0:0';
  }
  const [l, r] = head.includes('::') ? (head.split('::') as [string, string]) : [head, undefined];
  const lg = l ? l.split(':') : [];
  const rg = r ? r.split(':') : [];
  const groups = r !== undefined ? [...lg, ...Array(8 - lg.length - rg.length).fill('0'), ...rg] : lg;
  if (groups.length !== 8) throw new Error(`not an IPv6 address: ${s}`);
  const out = new Uint8Array(16);
  groups.forEach((g: string, i: number) => {
    const v = parseInt(g, 16);
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new Error(`not an IPv6 address: ${s}`);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  if (tail.length) out.set(tail, 12);
  return out;
}

export function readPrefix(r: Reader, afi: 1 | 2, addPath: boolean): Prefix {
  const pathId = addPath ? r.u32() : undefined;
  const len = r.u8();
  const max = afi === 1 ? 32 : 128;
  if (len > max) throw invalidNetwork();
  const n = (len + 7) >> 3;
  const bytes = new Uint8Array(afi === 1 ? 4 : 16);
  bytes.set(r.bytes(n));
  // Clear bits beyond the prefix length so the text is canonical.
  if (len % 8 && n > 0) bytes[n - 1]! &= 0xff << (8 - (len % 8));
  const p: Prefix = { prefix: `${formatAddress(afi, bytes)}/${len}` };
  if (pathId !== undefined) p.pathId = pathId;
  return p;
}

export function readPrefixes(r: Reader, afi: 1 | 2, addPath: boolean): Prefix[] {
  const out: Prefix[] = [];
  while (r.remaining) out.push(readPrefix(r, afi, addPath));
  return out;
}

export function prefixFamily(prefix: string): 1 | 2 {
  return prefix.includes(':') ? 2 : 1;
}

/** Encoded size of one prefix. */
export function prefixSize(p: Prefix, addPath: boolean): number {
  const len = Number(p.prefix.slice(p.prefix.indexOf('/') + 1));
  return (addPath ? 4 : 0) + 1 + ((len + 7) >> 3);
}

export function writePrefix(w: Writer, p: Prefix, addPath: boolean): void {
  const slash = p.prefix.indexOf('/');
  const afi = prefixFamily(p.prefix);
  const len = Number(p.prefix.slice(slash + 1));
  const addr = parseAddress(afi, p.prefix.slice(0, slash));
  if (addPath) w.u32(p.pathId ?? 0);
  w.u8(len).bytes(addr.subarray(0, (len + 7) >> 3));
}

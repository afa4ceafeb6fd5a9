// COMMUNITIES (RFC 1997), EXTENDED COMMUNITIES (RFC 4360, kept as raw 8-byte values) and
// LARGE_COMMUNITY (RFC 8092). RFC 7606 §7.8/7.14 and RFC 8092 §6: each must hold at least one
// whole element.

import type { Writer } from '../writer.js';
import { expectMultiple, u32At } from './common.js';

export function decodeCommunities(value: Uint8Array): number[] {
  expectMultiple('COMMUNITIES', value, 4);
  const out: number[] = new Array<number>(value.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = u32At(value, i * 4);
  return out;
}

export function encodeCommunities(w: Writer, communities: readonly number[]): void {
  for (const c of communities) w.u32(c);
}

export function decodeExtendedCommunities(value: Uint8Array): Uint8Array[] {
  expectMultiple('EXTENDED_COMMUNITIES', value, 8);
  const out: Uint8Array[] = [];
  for (let at = 0; at < value.length; at += 8) out.push(value.slice(at, at + 8));
  return out;
}

export function encodeExtendedCommunities(w: Writer, communities: readonly Uint8Array[]): void {
  for (const c of communities) {
    if (c.length !== 8) throw new Error(`extended community of ${c.length} bytes`);
    w.bytes(c);
  }
}

/** RFC 8092 §5: duplicates are not an error; they are dropped here. */
export function decodeLargeCommunities(value: Uint8Array): [number, number, number][] {
  expectMultiple('LARGE_COMMUNITY', value, 12);
  const out: [number, number, number][] = [];
  const seen = new Set<string>();
  for (let at = 0; at < value.length; at += 12) {
    const c: [number, number, number] = [u32At(value, at), u32At(value, at + 4), u32At(value, at + 8)];
    const key = c.join(':');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(c);
  }
  return out;
}

export function encodeLargeCommunities(w: Writer, communities: readonly (readonly [number, number, number])[]): void {
  for (const [g, l1, l2] of communities) w.u32(g).u32(l1).u32(l2);
}

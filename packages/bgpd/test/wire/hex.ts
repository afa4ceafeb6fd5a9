// Test helpers: bytes from commented hex, independent of the encoder under test.
import { expect } from 'chai';
import { WireError } from '@tabby/bgpd';

/** Hex digits with `#` comments and any whitespace. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (clean.length % 2) throw new Error(`odd hex: ${clean}`);
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

export const MARKER = 'ffffffffffffffffffffffffffffffff';

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** A whole message: marker, length computed here, type, then the body's hex. */
export function message(type: number, body: string): Uint8Array {
  const b = hex(body);
  const len = 19 + b.length;
  return new Uint8Array([...hex(MARKER), len >> 8, len & 0xff, type, ...b]);
}

/** An UPDATE from attribute hex and NLRI hex (no withdrawals), lengths computed here. */
export function update(attrs: string, nlri = '', withdrawn = ''): Uint8Array {
  const a = hex(attrs);
  const w = hex(withdrawn);
  return message(2, `${toHex(Uint8Array.of(w.length >> 8, w.length & 0xff))} ${toHex(w)} ${toHex(Uint8Array.of(a.length >> 8, a.length & 0xff))} ${toHex(a)} ${nlri}`);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Runs f, which must throw a WireError, and returns it. */
export function errorOf(f: () => unknown): WireError {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(WireError);
    return e as WireError;
  }
  throw new Error('expected a WireError');
}

/** code/subcode/data(hex)/action of an error, for one deep-equal. */
export function summary(e: WireError | undefined): { code: number; subcode: number; data: string; action: string } | undefined {
  return e && { code: e.code, subcode: e.subcode, data: toHex(e.data), action: e.action };
}

/** A small deterministic generator (tests must not flake). */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

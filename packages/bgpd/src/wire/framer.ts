// Framing: byte chunks in, whole BGP messages out. The header (marker, length, type) is checked
// before the body is awaited, so a bad peer cannot make us buffer without limit.

import { ErrorCode, HeaderSubcode, WireError } from './errors.js';

export const HEADER_LENGTH = 19;
export const MAX_MESSAGE_LENGTH = 4096;
export const MAX_EXTENDED_LENGTH = 65535;

export const MessageType = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;

/** Minimum total length per type (RFC 4271 §4; ROUTE-REFRESH RFC 2918). */
const MIN_LENGTH: Record<number, number> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 23 };

export interface Frame {
  type: number;
  /** The whole message including the header (a view; copy to keep). */
  bytes: Uint8Array;
}

function u16be(v: number): Uint8Array {
  return new Uint8Array([(v >>> 8) & 0xff, v & 0xff]);
}

/** Checks a header; returns the total length. */
export function checkHeader(h: Uint8Array, maxLength: number): { length: number; type: number } {
  for (let i = 0; i < 16; i++) {
    if (h[i] !== 0xff) throw new WireError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.NOT_SYNCHRONIZED, undefined, 'marker is not all ones');
  }
  const length = (h[16]! << 8) | h[17]!;
  const type = h[18]!;
  const min = MIN_LENGTH[type];
  if (min === undefined) throw new WireError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_TYPE, new Uint8Array([type]), `unknown message type ${type}`);
  // KEEPALIVE must be exactly 19; OPEN and KEEPALIVE never use the extended size (RFC 8654).
  const max = type === MessageType.KEEPALIVE ? HEADER_LENGTH : type === MessageType.OPEN ? MAX_MESSAGE_LENGTH : maxLength;
  if (length < min || length > max) throw new WireError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_LENGTH, u16be(length), `length ${length} for type ${type}`);
  return { length, type };
}

export class Framer {
  private pending: Uint8Array | undefined;
  /** Raised to 65535 once extended messages are negotiated (RFC 8654). */
  maxLength = MAX_MESSAGE_LENGTH;

  /** Feeds a chunk; returns the complete frames it finished. Throws WireError on a bad header. */
  push(chunk: Uint8Array): Frame[] {
    let buf: Uint8Array;
    if (!this.pending || this.pending.length === 0) {
      buf = chunk; // adopt as is: nothing to join
    } else {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending, 0);
      buf.set(chunk, this.pending.length);
    }
    const frames: Frame[] = [];
    let off = 0;
    while (buf.length - off >= HEADER_LENGTH) {
      const { length, type } = checkHeader(buf.subarray(off, off + HEADER_LENGTH), this.maxLength);
      if (buf.length - off < length) break;
      frames.push({ type, bytes: buf.subarray(off, off + length) });
      off += length;
    }
    // Keep only the unconsumed tail, copied so the big chunk is not pinned.
    this.pending = off === buf.length ? undefined : buf.slice(off);
    return frames;
  }

  get buffered(): number {
    return this.pending?.length ?? 0;
  }
}

// Helpers shared by the per-attribute codecs.

import { ErrorCode, UpdateSubcode, WireError } from '../errors.js';
import type { Writer } from '../writer.js';
import { Flag } from './types.js';

/**
 * A problem with one attribute. The list decoder turns it into the final error by adding the
 * attribute's bytes as data and the RFC 7606 action from the table.
 */
export function problem(subcode: number, detail: string): WireError {
  return new WireError(ErrorCode.UPDATE_MESSAGE, subcode, undefined, detail);
}

export function lengthError(name: string, length: number): WireError {
  return problem(UpdateSubcode.ATTRIBUTE_LENGTH, `${name} length ${length}`);
}

export function expectLength(name: string, value: Uint8Array, n: number): void {
  if (value.length !== n) throw lengthError(name, value.length);
}

/** RFC 7606 §7: list attributes must hold at least one element and whole elements only. */
export function expectMultiple(name: string, value: Uint8Array, n: number): void {
  if (value.length === 0 || value.length % n !== 0) throw lengthError(name, value.length);
}

export function u32At(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!;
}

/**
 * Writes one attribute: flags, type, length, value. The Extended Length bit is chosen from the
 * value's final size, so `body` can write any amount without knowing it in advance.
 */
export function writeAttribute(w: Writer, flags: number, code: number, body: (w: Writer) => void): void {
  const start = w.length;
  w.u8(flags | Flag.EXTENDED).u8(code).u16(0);
  const valueAt = w.length;
  body(w);
  const len = w.length - valueAt;
  if (len > 0xffff) throw new Error(`attribute ${code} too long (${len} bytes)`);
  if (len > 255) {
    w.patch16(start + 2, len);
  } else {
    w.patch8(start, flags & ~Flag.EXTENDED).patch8(start + 2, len).removeByte(start + 3);
  }
}

// A bounds-checked cursor over a borrowed buffer. Every overrun becomes the WireError the
// caller chose for "this structure is too short", never a RangeError or an undefined byte.

import type { WireError } from './errors.js';

export class Reader {
  private pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
    /** Makes the error thrown when a read would pass the end. */
    private readonly overrun: () => WireError,
  ) {
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw this.overrun();
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  /** The next byte without consuming it. */
  peek(): number {
    this.need(1);
    return this.buf[this.pos]!;
  }

  u16(): number {
    this.need(2);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) >>> 0) + (b[p + 1]! << 16) + (b[p + 2]! << 8) + b[p + 3]!;
  }

  /** A view (no copy): copy it before keeping it beyond the current message. */
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Everything left, as a view. */
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }

  /** A reader over the next n bytes (its overruns reported as `overrun`); this one skips them. */
  sub(n: number, overrun: () => WireError = this.overrun): Reader {
    this.need(n);
    const r = new Reader(this.buf, this.pos, this.pos + n, overrun);
    this.pos += n;
    return r;
  }
}

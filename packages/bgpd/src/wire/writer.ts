// A growable byte writer for building messages: chained writes, back-patched lengths.

export class Writer {
  private buf: Uint8Array;
  private len = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(Math.max(16, initial));
  }

  get length(): number {
    return this.len;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf[this.len++] = (v >>> 24) & 0xff;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** Overwrites one byte at `at` (e.g. flags decided at the end). */
  patch8(at: number, v: number): this {
    this.buf[at] = v & 0xff;
    return this;
  }

  /** Overwrites a 16-bit value at `at` (e.g. a length known only at the end). */
  patch16(at: number, v: number): this {
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
    return this;
  }

  /** Removes the byte at `at`, moving what follows one place left. */
  removeByte(at: number): this {
    this.buf.copyWithin(at, at + 1, this.len);
    this.len--;
    return this;
  }

  /** Drops everything from `at` on (undoes a write that did not fit). */
  truncate(at: number): this {
    this.len = Math.min(this.len, at);
    return this;
  }

  /** The bytes written so far, as an exactly sized copy. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

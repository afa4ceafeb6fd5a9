// Framing: byte chunks in, whole BGP messages out. Nothing here decodes a body.
//
// - The header is checked as soon as its bytes are here (the marker byte by byte), so a bad
//   peer is answered at once and can never make us buffer more than one message.
// - When nothing is pending, frames are cut out of the incoming chunk as views (no copy).
// - Only an incomplete tail is copied, into a buffer of exactly the frame's size once the
//   header says what that is (no doubling needed: the length is known after 19 bytes). A chunk
//   is never referenced after push() returns, so a 64 KB socket read is not kept alive by a
//   few pending bytes.
// - A buffer that yielded a frame is never written again, so frames stay valid after the
//   next push. Copy a frame's bytes (or what was decoded from them) to keep them for long.

import {
  HEADER_LENGTH, MAX_EXTENDED_LENGTH, MAX_MESSAGE_LENGTH, MessageType, checkHeader, checkMarker,
} from './header.js';

// Re-exported for callers that met these names here first.
export { HEADER_LENGTH, MAX_EXTENDED_LENGTH, MAX_MESSAGE_LENGTH, MessageType };

export interface Frame {
  /** The message type from the header (1..5). */
  type: number;
  /** The whole message including its header: a view, valid until you drop it. */
  bytes: Uint8Array;
}

export class Framer {
  /** 4096; set to 65535 (MAX_EXTENDED_LENGTH) once extended messages are negotiated (RFC 8654). */
  maxLength = MAX_MESSAGE_LENGTH;
  /** The incomplete message, copied out of the chunks it came in. */
  private pending: Uint8Array | undefined;
  private filled = 0;
  /** Its total length once the header has been read, else 0. */
  private expected = 0;

  /** Bytes held back waiting for the rest of a message. */
  get buffered(): number {
    return this.filled;
  }

  /**
   * Feeds a chunk; returns the messages it completed, in order. Throws WireError (Message Header
   * Error) for a bad header; the framer is unusable afterwards, as is the session.
   */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let off = 0;
    if (this.filled > 0) {
      off = this.completePending(chunk, frames);
      if (this.filled > 0) return frames; // the chunk was used up
    }
    // Whole messages straight out of the chunk.
    while (chunk.length - off >= HEADER_LENGTH) {
      const { length, type } = checkHeader(chunk, this.maxLength, off);
      if (chunk.length - off < length) break;
      frames.push({ type, bytes: chunk.subarray(off, off + length) });
      off += length;
    }
    if (off < chunk.length) this.keep(chunk, off);
    return frames;
  }

  /** Moves bytes from `chunk` into the pending message until it is whole; returns bytes used. */
  private completePending(chunk: Uint8Array, frames: Frame[]): number {
    let off = 0;
    if (this.expected === 0) {
      // Still inside the header: take just enough to finish it, then size the buffer.
      const take = Math.min(HEADER_LENGTH - this.filled, chunk.length);
      checkMarker(chunk, 0, Math.max(0, 16 - this.filled));
      this.pending!.set(chunk.subarray(0, take), this.filled);
      this.filled += take;
      off = take;
      if (this.filled < HEADER_LENGTH) return off;
      const { length } = checkHeader(this.pending!, this.maxLength);
      this.expected = length;
      if (length > this.pending!.length) {
        const grown = new Uint8Array(length);
        grown.set(this.pending!.subarray(0, this.filled));
        this.pending = grown;
      }
    }
    const take = Math.min(this.expected - this.filled, chunk.length - off);
    this.pending!.set(chunk.subarray(off, off + take), this.filled);
    this.filled += take;
    off += take;
    if (this.filled === this.expected) {
      const bytes = this.pending!.subarray(0, this.expected);
      frames.push({ type: bytes[18]!, bytes });
      this.pending = undefined;
      this.filled = 0;
      this.expected = 0;
    }
    return off;
  }

  /** Copies the incomplete tail `chunk[off..]` so the chunk itself can be let go. */
  private keep(chunk: Uint8Array, off: number): void {
    const tail = chunk.length - off;
    checkMarker(chunk, off, chunk.length);
    if (tail >= HEADER_LENGTH) {
      this.expected = checkHeader(chunk, this.maxLength, off).length;
      this.pending = new Uint8Array(this.expected);
    } else {
      this.expected = 0;
      this.pending = new Uint8Array(HEADER_LENGTH);
    }
    this.pending.set(chunk.subarray(off));
    this.filled = tail;
  }
}

// Writing the 19-byte header; the length is back-patched when the message is complete.

import type { Writer } from './writer.js';

export function writeHeader(w: Writer, type: number): void {
  for (let i = 0; i < 16; i++) w.u8(0xff);
  w.u16(0).u8(type);
}

export function finishHeader(w: Writer): Uint8Array {
  w.patch16(16, w.length);
  return w.finish();
}

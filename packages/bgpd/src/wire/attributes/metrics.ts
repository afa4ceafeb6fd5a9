// MULTI_EXIT_DISC (RFC 4271 §5.1.4) and LOCAL_PREF (§5.1.5): one 32-bit number each.

import type { Writer } from '../writer.js';
import { expectLength, u32At } from './common.js';

export function decodeMed(value: Uint8Array): number {
  expectLength('MULTI_EXIT_DISC', value, 4);
  return u32At(value, 0);
}

export function decodeLocalPref(value: Uint8Array): number {
  expectLength('LOCAL_PREF', value, 4);
  return u32At(value, 0);
}

export function encodeU32(w: Writer, v: number): void {
  w.u32(v);
}

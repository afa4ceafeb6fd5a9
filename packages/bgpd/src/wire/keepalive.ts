// KEEPALIVE (RFC 4271 §4.4): the header alone. Decoding it allocates nothing.

import { MessageType, finishHeader, writeHeader } from './header.js';
import { Writer } from './writer.js';

export interface KeepaliveMessage {
  readonly type: 'keepalive';
}

/** The one KEEPALIVE value every decode returns. */
export const KEEPALIVE: KeepaliveMessage = Object.freeze({ type: 'keepalive' as const });

const KEEPALIVE_BYTES = (() => {
  const w = new Writer(19);
  writeHeader(w, MessageType.KEEPALIVE);
  return finishHeader(w);
})();

/** The shared 19 bytes of a KEEPALIVE: write them out, do not modify them. */
export function encodeKeepalive(): Uint8Array {
  return KEEPALIVE_BYTES;
}

/** The framer has already checked that a KEEPALIVE is exactly 19 bytes. */
export function decodeKeepalive(): KeepaliveMessage {
  return KEEPALIVE;
}

// The 19-byte message header (RFC 4271 §4.1): 16 bytes of ones, a 2-byte total length and a
// 1-byte type. Checked on the way in before the body is awaited; written with the length
// back-patched once the message is complete.

import { ErrorCode, HeaderSubcode, WireError } from './errors.js';
import type { Writer } from './writer.js';

export const HEADER_LENGTH = 19;
export const MARKER_LENGTH = 16;
/** RFC 4271 §4: no message is longer. */
export const MAX_MESSAGE_LENGTH = 4096;
/** RFC 8654: once both sides advertise extended messages (OPEN and KEEPALIVE excepted). */
export const MAX_EXTENDED_LENGTH = 65535;

export const MessageType = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

export const MESSAGE_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'OPEN', 2: 'UPDATE', 3: 'NOTIFICATION', 4: 'KEEPALIVE', 5: 'ROUTE-REFRESH',
};

/** The smallest valid total length per type (RFC 4271 §4.2-4.5, RFC 2918 §3). */
const MIN_LENGTH: Readonly<Record<number, number>> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 23 };

function lengthData(length: number): Uint8Array {
  return Uint8Array.of((length >>> 8) & 0xff, length & 0xff);
}

function notSynchronized(): WireError {
  return new WireError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.NOT_SYNCHRONIZED, undefined, 'marker is not all ones');
}

/**
 * Checks as much of a header as `bytes[at..end)` holds, so a broken marker is reported from the
 * first bad byte instead of after 19 bytes have arrived.
 */
export function checkMarker(bytes: Uint8Array, at: number, end: number): void {
  const stop = Math.min(end, at + MARKER_LENGTH, bytes.length);
  for (let i = at; i < stop; i++) if (bytes[i] !== 0xff) throw notSynchronized();
}

/**
 * Checks a complete header at `bytes[at]` and returns its length and type. `maxLength` is 4096,
 * or 65535 once extended messages are negotiated. Errors carry the data RFC 4271 §6.1 asks for:
 * the bad length (2 bytes) or the bad type (1 byte).
 */
export function checkHeader(bytes: Uint8Array, maxLength: number, at = 0): { length: number; type: number } {
  checkMarker(bytes, at, at + MARKER_LENGTH);
  const length = (bytes[at + 16]! << 8) | bytes[at + 17]!;
  const type = bytes[at + 18]!;
  const badLength = (why: string) => new WireError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_LENGTH, lengthData(length), why);
  if (length < HEADER_LENGTH || length > Math.max(maxLength, MAX_MESSAGE_LENGTH)) throw badLength(`length ${length}`);
  const min = MIN_LENGTH[type];
  if (min === undefined) {
    throw new WireError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_TYPE, Uint8Array.of(type), `unknown message type ${type}`);
  }
  // KEEPALIVE is exactly the header; OPEN and KEEPALIVE never use the extended size (RFC 8654 §3).
  const max = type === MessageType.KEEPALIVE ? HEADER_LENGTH : type === MessageType.OPEN ? MAX_MESSAGE_LENGTH : maxLength;
  if (length < min || length > max) throw badLength(`length ${length} for ${MESSAGE_TYPE_NAMES[type]}`);
  return { length, type };
}

/** Starts a message: marker, a length placeholder and the type. */
export function writeHeader(w: Writer, type: number): void {
  for (let i = 0; i < MARKER_LENGTH; i++) w.u8(0xff);
  w.u16(0).u8(type);
}

/** Fills in the length of a message started with `writeHeader` and returns its bytes. */
export function finishHeader(w: Writer): Uint8Array {
  w.patch16(MARKER_LENGTH, w.length);
  return w.finish();
}

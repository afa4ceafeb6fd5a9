// NOTIFICATION (RFC 4271 §4.5), with the shutdown communication of RFC 8203 / RFC 9003 that
// Cease / Administrative Shutdown and Administrative Reset may carry.

import { CeaseSubcode, ErrorCode, HeaderSubcode, WireError } from './errors.js';
import { HEADER_LENGTH, MessageType, finishHeader, writeHeader } from './header.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  /** A copy: safe to keep. */
  data: Uint8Array;
  /** RFC 8203/9003 shutdown communication (Cease 2 or 4), when present and valid UTF-8. */
  shutdownText?: string;
}

/** RFC 9003 §2: at most 255 bytes of UTF-8. */
export const MAX_SHUTDOWN_TEXT = 255;

const tooShort = () => new WireError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_LENGTH, undefined, 'NOTIFICATION too short');

function hasShutdownText(code: number, subcode: number): boolean {
  return code === ErrorCode.CEASE && (subcode === CeaseSubcode.ADMIN_SHUTDOWN || subcode === CeaseSubcode.ADMIN_RESET);
}

/** The shutdown text, or undefined when it is absent or malformed (RFC 8203 §4: log, not fail). */
function shutdownText(data: Uint8Array): string | undefined {
  if (data.length < 1 || data[0] === 0 || 1 + data[0]! > data.length) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(1, 1 + data[0]!));
  } catch {
    return undefined;
  }
}

export function decodeNotification(frame: Uint8Array): NotificationMessage {
  const r = new Reader(frame, HEADER_LENGTH, frame.length, tooShort);
  const code = r.u8();
  const subcode = r.u8();
  const data = r.rest().slice();
  const m: NotificationMessage = { type: 'notification', code, subcode, data };
  if (hasShutdownText(code, subcode)) {
    const text = shutdownText(data);
    if (text !== undefined) m.shutdownText = text;
  }
  return m;
}

export function encodeNotification(code: number, subcode: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const w = new Writer(HEADER_LENGTH + 2 + data.length);
  writeHeader(w, MessageType.NOTIFICATION);
  w.u8(code).u8(subcode).bytes(data);
  return finishHeader(w);
}

/** Data for a Cease 2/4 with a shutdown communication, cut at 255 bytes on a character boundary. */
export function shutdownData(text: string): Uint8Array {
  let t = new TextEncoder().encode(text);
  if (t.length > MAX_SHUTDOWN_TEXT) {
    let end = MAX_SHUTDOWN_TEXT;
    while (end > 0 && (t[end]! & 0xc0) === 0x80) end--; // do not split a UTF-8 sequence
    t = t.subarray(0, end);
  }
  const out = new Uint8Array(1 + t.length);
  out[0] = t.length;
  out.set(t, 1);
  return out;
}

// KEEPALIVE, NOTIFICATION (with RFC 8203 shutdown text) and ROUTE-REFRESH (RFC 2918 / 7313).

import { ErrorCode, WireError } from './errors.js';
import { HEADER_LENGTH, MessageType } from './framer.js';
import { finishHeader, writeHeader } from './header.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

export interface KeepaliveMessage {
  type: 'keepalive';
}
export const KEEPALIVE: KeepaliveMessage = Object.freeze({ type: 'keepalive' as const });

export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  data: Uint8Array;
  /** RFC 8203/9003 shutdown communication for Cease 2 / 4. */
  shutdownText?: string;
}

export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
  /** 0 normal request, 1 BoRR, 2 EoRR (RFC 7313). */
  subtype: number;
}

const KEEPALIVE_BYTES = (() => {
  const w = new Writer(19);
  writeHeader(w, MessageType.KEEPALIVE);
  return finishHeader(w);
})();

export function encodeKeepalive(): Uint8Array {
  return KEEPALIVE_BYTES;
}

export function decodeNotification(frame: Uint8Array): NotificationMessage {
  const r = new Reader(frame, HEADER_LENGTH, frame.length, () => new WireError(ErrorCode.MESSAGE_HEADER, 2));
  const code = r.u8();
  const subcode = r.u8();
  const data = r.bytes(r.remaining).slice();
  const m: NotificationMessage = { type: 'notification', code, subcode, data };
  if (code === ErrorCode.CEASE && (subcode === 2 || subcode === 4) && data.length >= 1 && data[0]! + 1 <= data.length) {
    m.shutdownText = new TextDecoder('utf-8', { fatal: false }).decode(data.subarray(1, 1 + data[0]!));
  }
  return m;
}

export function encodeNotification(code: number, subcode: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const w = new Writer(21 + data.length);
  writeHeader(w, MessageType.NOTIFICATION);
  w.u8(code).u8(subcode).bytes(data);
  return finishHeader(w);
}

/** Cease with an RFC 8203 shutdown communication (at most 255 bytes of UTF-8). */
export function shutdownData(text: string): Uint8Array {
  let t = new TextEncoder().encode(text);
  if (t.length > 255) t = t.subarray(0, 255);
  const out = new Uint8Array(1 + t.length);
  out[0] = t.length;
  out.set(t, 1);
  return out;
}

export function decodeRouteRefresh(frame: Uint8Array): RouteRefreshMessage {
  const r = new Reader(frame, HEADER_LENGTH, frame.length, () => new WireError(ErrorCode.MESSAGE_HEADER, 2));
  if (frame.length !== 23) throw new WireError(ErrorCode.ROUTE_REFRESH, 1, frame.slice(HEADER_LENGTH), 'invalid message length');
  const afi = r.u16();
  const subtype = r.u8();
  return { type: 'route-refresh', afi, subtype, safi: r.u8() };
}

export function encodeRouteRefresh(afi: number, safi: number, subtype = 0): Uint8Array {
  const w = new Writer(23);
  writeHeader(w, MessageType.ROUTE_REFRESH);
  w.u16(afi).u8(subtype).u8(safi);
  return finishHeader(w);
}

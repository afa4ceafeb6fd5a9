// ROUTE-REFRESH (RFC 2918) with the enhanced route refresh subtypes of RFC 7313.

import { ErrorCode, RouteRefreshSubcode, WireError } from './errors.js';
import { HEADER_LENGTH, MessageType, finishHeader, writeHeader } from './header.js';
import { Writer } from './writer.js';

export const RouteRefreshSubtype = {
  /** A plain request to resend (RFC 2918). */
  REQUEST: 0,
  /** Beginning of Route Refresh (RFC 7313). */
  BORR: 1,
  /** End of Route Refresh (RFC 7313). */
  EORR: 2,
} as const;

export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
  /** 0 request, 1 BoRR, 2 EoRR; RFC 7313 §5: ignore a message with any other value. */
  subtype: number;
}

const ROUTE_REFRESH_LENGTH = HEADER_LENGTH + 4;

export function decodeRouteRefresh(frame: Uint8Array): RouteRefreshMessage {
  if (frame.length !== ROUTE_REFRESH_LENGTH) {
    // RFC 7313 §5: the data is the complete ROUTE-REFRESH message.
    throw new WireError(ErrorCode.ROUTE_REFRESH, RouteRefreshSubcode.INVALID_LENGTH, frame.slice(), `length ${frame.length}`);
  }
  const afi = (frame[19]! << 8) | frame[20]!;
  return { type: 'route-refresh', afi, subtype: frame[21]!, safi: frame[22]! };
}

export function encodeRouteRefresh(afi: number, safi: number, subtype: number = RouteRefreshSubtype.REQUEST): Uint8Array {
  const w = new Writer(ROUTE_REFRESH_LENGTH);
  writeHeader(w, MessageType.ROUTE_REFRESH);
  w.u16(afi).u8(subtype).u8(safi);
  return finishHeader(w);
}

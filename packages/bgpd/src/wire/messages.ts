// Every BGP message as one discriminated union, with one decode entry point (a frame from the
// framer in, a typed message out) and one encode entry point. The per-message codecs live in
// open.ts, update.ts, notification.ts, route-refresh.ts and keepalive.ts.

import type { DecodeContext, EncodeContext } from './context.js';
import { ErrorCode, HeaderSubcode, WireError } from './errors.js';
import { MessageType } from './header.js';
import { KEEPALIVE, encodeKeepalive, type KeepaliveMessage } from './keepalive.js';
import { decodeNotification, encodeNotification, type NotificationMessage } from './notification.js';
import { decodeOpen, encodeOpen, type OpenMessage } from './open.js';
import { decodeRouteRefresh, encodeRouteRefresh, type RouteRefreshMessage } from './route-refresh.js';
import { decodeUpdate, encodeUpdate, type DecodedUpdate, type UpdateMessage } from './update.js';

/** A message to send (or one received, with UPDATE attribute problems set aside). */
export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** What decodeMessage returns: an UPDATE comes with its attribute problems, for validateUpdate. */
export type DecodedMessage = OpenMessage | DecodedUpdate | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

export type MessageName = BgpMessage['type'];

/**
 * Decodes one frame (header included, as the framer yields it). Throws WireError with the
 * NOTIFICATION to send when the message cannot be used at all.
 */
export function decodeMessage(frame: Uint8Array, ctx: DecodeContext): DecodedMessage {
  const type = frame[18];
  switch (type) {
    case MessageType.OPEN: return decodeOpen(frame);
    case MessageType.UPDATE: return decodeUpdate(frame, ctx);
    case MessageType.NOTIFICATION: return decodeNotification(frame);
    case MessageType.KEEPALIVE: return KEEPALIVE;
    case MessageType.ROUTE_REFRESH: return decodeRouteRefresh(frame);
    default:
      // The framer has rejected these already; a frame from elsewhere gets the same answer.
      throw new WireError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_TYPE, Uint8Array.of(type ?? 0), `message type ${type}`);
  }
}

/** Encodes one message. UPDATEs must fit in one message; use buildUpdates() to pack many prefixes. */
export function encodeMessage(m: BgpMessage, ctx: EncodeContext): Uint8Array {
  switch (m.type) {
    case 'open': return encodeOpen(m);
    case 'update': return encodeUpdate(m, ctx);
    case 'notification': return encodeNotification(m.code, m.subcode, m.data);
    case 'keepalive': return encodeKeepalive();
    case 'route-refresh': return encodeRouteRefresh(m.afi, m.safi, m.subtype);
    default: {
      const never: never = m;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
}

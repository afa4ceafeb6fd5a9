// What a session negotiated, handed to the decoder and encoder (never kept in globals): the
// same bytes mean different things depending on it.

import { MAX_EXTENDED_LENGTH, MAX_MESSAGE_LENGTH } from './header.js';

/** Per address family (1 = IPv4, 2 = IPv6, unicast). */
export type PerFamily = { 1?: boolean; 2?: boolean };

export interface CodecContext {
  /** Both sides advertised the 4-octet AS capability (RFC 6793): AS numbers are 4 octets. */
  fourOctetAs: boolean;
  /**
   * ADD-PATH (RFC 7911) in the direction being coded: when decoding, families we may
   * receive path identifiers for; when encoding, families we may send them for.
   */
  addPath?: PerFamily;
  /** Both sides advertised extended messages (RFC 8654): up to 65535 bytes. */
  extendedMessage?: boolean;
}

export type DecodeContext = CodecContext;
export type EncodeContext = CodecContext;

/** The largest UPDATE / NOTIFICATION / ROUTE-REFRESH a session may send. */
export function maxUpdateLength(ctx: CodecContext & { maxLength?: number }): number {
  return ctx.maxLength ?? (ctx.extendedMessage ? MAX_EXTENDED_LENGTH : MAX_MESSAGE_LENGTH);
}

// UPDATE (RFC 4271 §4.3): withdrawn routes, path attributes, NLRI. Decoding throws only when
// the message cannot be taken apart at all (RFC 7606 §5.3: session reset); problems inside
// attributes are collected for validate.ts, which decides what they cost. End-of-RIB markers
// (RFC 4724 §2) live here too; packing many prefixes is update-builder.ts.

import { maxUpdateLength, type DecodeContext, type EncodeContext } from './context.js';
import { ErrorCode, UpdateSubcode, WireError } from './errors.js';
import { HEADER_LENGTH, MessageType, finishHeader, writeHeader } from './header.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { decodeAttributeList, encodeAttributes } from './attributes.js';
import type { PathAttributes } from './attributes/types.js';
import { invalidNetwork, prefixFamily, readPrefixes, writePrefix, type Prefix } from './nlri.js';

export { validateUpdate, type UpdateVerdict, type ValidateOptions } from './validate.js';
export { buildUpdates, type Announcement, type BuildContext } from './update-builder.js';

export interface UpdateMessage {
  type: 'update';
  /** IPv4 prefixes from the Withdrawn Routes field (other families are in mpUnreach). */
  withdrawn: Prefix[];
  attributes: PathAttributes;
  /** IPv4 prefixes from the NLRI field (other families are in mpReach). */
  nlri: Prefix[];
}

export interface DecodedUpdate {
  type: 'update';
  /** What could be decoded; attributes with problems are left out of it. */
  message: UpdateMessage;
  /** Problems in individual attributes, each with its RFC 7606 action. */
  attributeErrors: WireError[];
  /** Each attribute as received (first occurrence), views into the frame: for validation only. */
  raw: Map<number, Uint8Array>;
}

/** RFC 4271 §6.3: a Withdrawn Routes Length or Total Attribute Length past the end. */
const malformedList = () => new WireError(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, undefined, 'lengths exceed the message', 'reset');

/** Decodes an UPDATE frame (header included). Throws WireError only when nothing can be trusted. */
export function decodeUpdate(frame: Uint8Array, ctx: DecodeContext): DecodedUpdate {
  const r = new Reader(frame, HEADER_LENGTH, frame.length, malformedList);
  const addPath = !!ctx.addPath?.[1];
  const withdrawnReader = r.sub(r.u16(), invalidNetwork);
  const attributesLength = r.u16();
  const attributesAt = r.offset;
  r.sub(attributesLength);
  const withdrawn = readPrefixes(withdrawnReader, 1, addPath);
  const nlri = readPrefixes(r.sub(r.remaining, invalidNetwork), 1, addPath);
  const { attributes, errors, raw } = decodeAttributeList(frame, attributesAt, attributesAt + attributesLength, ctx);
  return { type: 'update', message: { type: 'update', withdrawn, attributes, nlri }, attributeErrors: errors, raw };
}

/**
 * Encodes one UPDATE exactly as given (MP_REACH/MP_UNREACH taken from its attributes). Throws
 * Error if it does not fit the session's size limit; buildUpdates() splits large sets instead.
 */
export function encodeUpdate(m: Omit<UpdateMessage, 'type'>, ctx: EncodeContext & { maxLength?: number }): Uint8Array {
  const addPath = !!ctx.addPath?.[1];
  for (const p of [...m.withdrawn, ...m.nlri]) {
    if (prefixFamily(p.prefix) !== 1) throw new Error(`${p.prefix} belongs in MP_REACH_NLRI / MP_UNREACH_NLRI`);
  }
  const w = new Writer(256);
  writeHeader(w, MessageType.UPDATE);
  const withdrawnAt = w.length;
  w.u16(0);
  for (const p of m.withdrawn) writePrefix(w, p, addPath);
  w.patch16(withdrawnAt, w.length - withdrawnAt - 2);
  const attributesAt = w.length;
  w.u16(0);
  encodeAttributes(w, m.attributes, ctx);
  w.patch16(attributesAt, w.length - attributesAt - 2);
  for (const p of m.nlri) writePrefix(w, p, addPath);
  const max = maxUpdateLength(ctx);
  if (w.length > max) throw new Error(`UPDATE of ${w.length} bytes exceeds ${max}`);
  return finishHeader(w);
}

/** End-of-RIB (RFC 4724 §2): the empty UPDATE for IPv4 unicast, an empty MP_UNREACH otherwise. */
export function encodeEndOfRib(afi: number, safi: number): Uint8Array {
  const ipv4 = afi === 1 && safi === 1;
  const attributes: PathAttributes = ipv4 ? {} : { mpUnreach: { afi, safi, withdrawn: [] } };
  return encodeUpdate({ withdrawn: [], attributes, nlri: [] }, { fourOctetAs: true });
}

/** The family an UPDATE marks as complete, if it is an End-of-RIB marker. */
export function endOfRibFamily(m: UpdateMessage): { afi: number; safi: number } | undefined {
  if (m.withdrawn.length || m.nlri.length) return undefined;
  const keys = Object.keys(m.attributes) as (keyof PathAttributes)[];
  if (keys.length === 0) return { afi: 1, safi: 1 };
  const u = m.attributes.mpUnreach;
  if (keys.length === 1 && u && u.withdrawn.length === 0) return { afi: u.afi, safi: u.safi };
  return undefined;
}

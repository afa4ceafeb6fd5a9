// UPDATE (RFC 4271 §4.3): decoding keeps per-attribute errors apart so validation can apply
// RFC 4271 or RFC 7606 handling; the builder packs prefixes that share attributes into as few
// messages as the negotiated size allows.

import { ErrorCode, UpdateSubcode, WireError, stronger } from './errors.js';
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, MessageType } from './framer.js';
import { finishHeader, writeHeader } from './header.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import {
  AttrType, Flag, decodeAttribute, encodeAttributes, mergeAs4Path,
  type AsPathSegment, type DecodeContext, type EncodeContext, type PathAttributes,
} from './attributes.js';
import { invalidNetwork, parseAddress, prefixFamily, prefixSize, readPrefixes, writePrefix, type Prefix } from './nlri.js';

export interface UpdateMessage {
  type: 'update';
  withdrawn: Prefix[];
  attributes: PathAttributes;
  nlri: Prefix[];
}

export interface DecodedUpdate {
  message: UpdateMessage;
  /** Problems found in individual attributes (already mapped to their RFC 7606 action). */
  attributeErrors: WireError[];
  /** Attribute type codes seen, in order (for duplicate and presence checks). */
  seen: number[];
}

const malformedList = () => new WireError(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, undefined, 'malformed UPDATE', 'reset');

/** Decodes an UPDATE frame. Throws WireError only for errors that leave nothing parseable. */
export function decodeUpdate(frame: Uint8Array, ctx: DecodeContext): DecodedUpdate {
  const r = new Reader(frame, HEADER_LENGTH, frame.length, malformedList);
  const withdrawnLen = r.u16();
  const withdrawn = readPrefixes(r.sub(withdrawnLen, invalidNetwork), 1, !!ctx.addPath?.[1]);
  const attrLen = r.u16();
  const ar = r.sub(attrLen);
  const nlri = readPrefixes(r.sub(r.remaining, invalidNetwork), 1, !!ctx.addPath?.[1]);

  const attributes: PathAttributes = {};
  const attributeErrors: WireError[] = [];
  const seen: number[] = [];
  const as4: { path?: AsPathSegment[]; aggregator?: { asn: number; address: string } } = {};
  while (ar.remaining) {
    const start = ar.offset;
    let flags: number, code: number, len: number;
    try {
      flags = ar.u8();
      code = ar.u8();
      len = flags & Flag.EXTENDED ? ar.u16() : ar.u8();
    } catch {
      // A truncated attribute header: the rest of the list cannot be trusted (RFC 7606 §4).
      attributeErrors.push(new WireError(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, undefined, 'truncated attribute header', 'treat-as-withdraw'));
      break;
    }
    if (len > ar.remaining) {
      attributeErrors.push(new WireError(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.ATTRIBUTE_LENGTH, frame.slice(start, frame.length), `attribute ${code} overruns the attribute list`, 'treat-as-withdraw'));
      break;
    }
    const value = ar.bytes(len);
    const raw = frame.subarray(start, start + (ar.offset - start));
    if (seen.includes(code)) {
      // Duplicates: keep the first; duplicate MP attributes cannot be resolved (RFC 7606 §3.g).
      const action = code === AttrType.MP_REACH || code === AttrType.MP_UNREACH ? 'reset' : 'attribute-discard';
      attributeErrors.push(new WireError(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, undefined, `attribute ${code} appears twice`, action));
      continue;
    }
    seen.push(code);
    const err = decodeAttribute(flags, code, value, raw, attributes, ctx, as4);
    if (err) attributeErrors.push(err);
  }
  if (!ctx.fourOctetAs) {
    if (as4.path && attributes.asPath) attributes.asPath = mergeAs4Path(attributes.asPath, as4.path);
    if (as4.aggregator && attributes.aggregator?.asn === 23456) attributes.aggregator = as4.aggregator;
  }
  return { message: { type: 'update', withdrawn, attributes, nlri }, attributeErrors, seen };
}

export type UpdateVerdict =
  | { action: 'accept'; discarded: WireError[] }
  /** Treat every announced prefix (NLRI and MP_REACH) as withdrawn; the session stays up. */
  | { action: 'treat-as-withdraw'; error: WireError; withdraw: Prefix[] }
  | { action: 'reset'; error: WireError };

function missing(code: number): WireError {
  return new WireError(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.MISSING_WELL_KNOWN, Uint8Array.of(code), `missing well-known attribute ${code}`, 'treat-as-withdraw');
}

/** RFC 4271 §6.3 checks on a decoded UPDATE, with RFC 7606 actions attached. */
export function validateUpdate(d: DecodedUpdate, opts: { ibgp: boolean }): UpdateVerdict {
  const { message: m } = d;
  let worst: WireError | undefined;
  for (const e of d.attributeErrors) worst = stronger(worst, e);
  const announces = m.nlri.length > 0 || (m.attributes.mpReach?.nlri.length ?? 0) > 0;
  const a = m.attributes;
  if (announces) {
    if (a.origin === undefined && !d.seen.includes(AttrType.ORIGIN)) worst = stronger(worst, missing(AttrType.ORIGIN));
    if (a.asPath === undefined && !d.seen.includes(AttrType.AS_PATH)) worst = stronger(worst, missing(AttrType.AS_PATH));
    if (m.nlri.length && !d.seen.includes(AttrType.NEXT_HOP)) worst = stronger(worst, missing(AttrType.NEXT_HOP));
    if (opts.ibgp && !d.seen.includes(AttrType.LOCAL_PREF)) worst = stronger(worst, missing(AttrType.LOCAL_PREF));
  }
  if (a.nextHop && m.nlri.length) {
    const b = parseAddress(1, a.nextHop);
    if (b[0] === 0 || b[0]! >= 224 || b[0] === 127) {
      const raw = Uint8Array.of(0x40, AttrType.NEXT_HOP, 4, ...b);
      worst = stronger(worst, new WireError(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.INVALID_NEXT_HOP, raw, `invalid NEXT_HOP ${a.nextHop}`, 'treat-as-withdraw'));
    }
  }
  if (!worst || worst.action === 'attribute-discard') return { action: 'accept', discarded: d.attributeErrors.filter((e) => e.action === 'attribute-discard') };
  if (worst.action === 'treat-as-withdraw') return { action: 'treat-as-withdraw', error: worst, withdraw: [...m.nlri, ...(m.attributes.mpReach?.nlri ?? [])] };
  return { action: 'reset', error: worst };
}

// ---- encoding -------------------------------------------------------------------------

export interface BuildContext extends EncodeContext {
  /** 4096, or 65535 with extended messages. */
  maxLength?: number;
}

export interface Announcement {
  attributes: PathAttributes;
  prefixes: Prefix[];
  /** IPv6 next hops (global, optional link-local) for MP_REACH; IPv4 uses attributes.nextHop. */
  ipv6NextHops?: string[];
}

function beginUpdate(): Writer {
  const w = new Writer(1024);
  writeHeader(w, MessageType.UPDATE);
  return w;
}

/** Packs IPv4 withdrawals into as few UPDATEs as fit. */
function ipv4Withdrawals(prefixes: Prefix[], ctx: BuildContext, max: number, out: Uint8Array[]): void {
  const addPath = !!ctx.addPath?.[1];
  let i = 0;
  while (i < prefixes.length) {
    const w = beginUpdate();
    const lenAt = w.length;
    w.u16(0);
    let used = HEADER_LENGTH + 4;
    while (i < prefixes.length && used + prefixSize(prefixes[i]!, addPath) <= max) {
      used += prefixSize(prefixes[i]!, addPath);
      writePrefix(w, prefixes[i++]!, addPath);
    }
    w.patch16(lenAt, w.length - lenAt - 2);
    w.u16(0);
    out.push(finishHeader(w));
  }
}

function mpUnreach(prefixes: Prefix[], ctx: BuildContext, max: number, out: Uint8Array[]): void {
  const addPath = !!ctx.addPath?.[2];
  let i = 0;
  while (i < prefixes.length) {
    const w = beginUpdate();
    w.u16(0);
    const attrLenAt = w.length;
    w.u16(0);
    w.u8(Flag.OPTIONAL | Flag.EXTENDED).u8(AttrType.MP_UNREACH);
    const valLenAt = w.length;
    w.u16(0).u16(2).u8(1);
    while (i < prefixes.length && w.length + prefixSize(prefixes[i]!, addPath) <= max) writePrefix(w, prefixes[i++]!, addPath);
    w.patch16(valLenAt, w.length - valLenAt - 2);
    w.patch16(attrLenAt, w.length - attrLenAt - 2);
    out.push(finishHeader(w));
  }
}

function announce(a: Announcement, ctx: BuildContext, max: number, out: Uint8Array[]): void {
  const fixed = new Writer(256);
  encodeAttributes(fixed, a.attributes, ctx);
  const attrs = fixed.finish();
  const v4 = a.prefixes.filter((p) => prefixFamily(p.prefix) === 1);
  const v6 = a.prefixes.filter((p) => prefixFamily(p.prefix) === 2);
  if (HEADER_LENGTH + 4 + attrs.length + 64 > max) throw new Error('path attributes do not fit in one UPDATE');

  const addPath4 = !!ctx.addPath?.[1];
  for (let i = 0; i < v4.length; ) {
    const w = beginUpdate();
    w.u16(0).u16(attrs.length).bytes(attrs);
    while (i < v4.length && w.length + prefixSize(v4[i]!, addPath4) <= max) writePrefix(w, v4[i++]!, addPath4);
    out.push(finishHeader(w));
  }

  const addPath6 = !!ctx.addPath?.[2];
  const nh = (a.ipv6NextHops ?? []).map((x) => parseAddress(2, x));
  if (v6.length && !nh.length) throw new Error('IPv6 prefixes need an IPv6 next hop');
  for (let i = 0; i < v6.length; ) {
    const w = beginUpdate();
    w.u16(0);
    const attrLenAt = w.length;
    w.u16(0);
    w.u8(Flag.OPTIONAL | Flag.EXTENDED).u8(AttrType.MP_REACH);
    const valLenAt = w.length;
    w.u16(0).u16(2).u8(1).u8(nh.length * 16);
    for (const h of nh) w.bytes(h);
    w.u8(0);
    // Leave room for the other attributes, written after the MP_REACH block.
    while (i < v6.length && w.length + attrs.length + prefixSize(v6[i]!, addPath6) <= max) writePrefix(w, v6[i++]!, addPath6);
    w.patch16(valLenAt, w.length - valLenAt - 2);
    w.bytes(attrs);
    w.patch16(attrLenAt, w.length - attrLenAt - 2);
    out.push(finishHeader(w));
  }
}

/** Builds the UPDATEs for a set of withdrawals and announcements, packed to the size limit. */
export function buildUpdates(withdrawn: Prefix[], announcements: Announcement[], ctx: BuildContext): Uint8Array[] {
  const max = ctx.maxLength ?? MAX_MESSAGE_LENGTH;
  const out: Uint8Array[] = [];
  ipv4Withdrawals(withdrawn.filter((p) => prefixFamily(p.prefix) === 1), ctx, max, out);
  mpUnreach(withdrawn.filter((p) => prefixFamily(p.prefix) === 2), ctx, max, out);
  for (const a of announcements) announce(a, ctx, max, out);
  return out;
}

/** End-of-RIB marker (RFC 4724): empty UPDATE for IPv4 unicast, empty MP_UNREACH otherwise. */
export function encodeEndOfRib(afi: number, safi: number): Uint8Array {
  const w = beginUpdate();
  if (afi === 1 && safi === 1) {
    w.u16(0).u16(0);
  } else {
    w.u16(0).u16(6).u8(Flag.OPTIONAL).u8(AttrType.MP_UNREACH).u8(3).u16(afi).u8(safi);
  }
  return finishHeader(w);
}

/** The family an UPDATE marks as complete, if it is an End-of-RIB marker. */
export function endOfRibFamily(m: UpdateMessage): { afi: number; safi: number } | undefined {
  const a = m.attributes;
  if (!m.withdrawn.length && !m.nlri.length && Object.keys(a).length === 0) return { afi: 1, safi: 1 };
  const keys = Object.keys(a);
  if (!m.withdrawn.length && !m.nlri.length && keys.length === 1 && a.mpUnreach && a.mpUnreach.withdrawn.length === 0) {
    return { afi: a.mpUnreach.afi, safi: a.mpUnreach.safi };
  }
  return undefined;
}

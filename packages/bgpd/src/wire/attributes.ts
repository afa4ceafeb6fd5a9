// The path attribute list of an UPDATE: walking it, dispatching each attribute to its codec
// in attributes/, and turning each problem into a WireError that carries the RFC 7606 action
// from the table (attributes/table.ts). A malformed attribute is reported, not thrown, so one
// bad attribute never hides the rest.

import type { DecodeContext, EncodeContext } from './context.js';
import { ErrorCode, UpdateSubcode, WireError, type ErrorAction } from './errors.js';
import type { Writer } from './writer.js';
import { ATTRIBUTE_RULES, UNKNOWN_OPTIONAL, UNKNOWN_WELL_KNOWN_ACTION, attributeName } from './attributes/table.js';
import { AttrType, Flag, type Aggregator, type AsPathSegment, type PathAttributes } from './attributes/types.js';
import { problem, writeAttribute } from './attributes/common.js';
import { decodeOrigin, encodeOrigin } from './attributes/origin.js';
import {
  as4PathSegments, decodeAs4Path, decodeAsPath, encodeAsPath, mergeAs4Path, needsAs4Path,
} from './attributes/as-path.js';
import { decodeNextHop, encodeNextHop } from './attributes/next-hop.js';
import { decodeLocalPref, decodeMed, encodeU32 } from './attributes/metrics.js';
import { decodeAggregator, decodeAs4Aggregator, decodeAtomicAggregate, encodeAggregator } from './attributes/aggregator.js';
import {
  decodeCommunities, decodeExtendedCommunities, decodeLargeCommunities,
  encodeCommunities, encodeExtendedCommunities, encodeLargeCommunities,
} from './attributes/communities.js';
import { decodeClusterList, decodeOriginatorId, encodeClusterList, encodeOriginatorId } from './attributes/reflection.js';
import { decodeMpReach, decodeMpUnreach, encodeMpReach, encodeMpUnreach } from './attributes/mp-nlri.js';
import { AS_TRANS } from './asn.js';

export {
  AttrType, Flag, Origin, SegmentType,
  type Aggregator, type AsPathSegment, type MpReach, type MpUnreach, type OriginValue, type PathAttributes,
  type UnknownAttribute,
} from './attributes/types.js';
export { ATTRIBUTE_RULES, attributeName, type AttributeRule } from './attributes/table.js';
export { asPathLength, mergeAs4Path } from './attributes/as-path.js';
export type { DecodeContext, EncodeContext } from './context.js';

export interface DecodedAttributes {
  attributes: PathAttributes;
  /** One error per problem found, each with its RFC 7606 action and attribute type code. */
  errors: WireError[];
  /**
   * Each attribute's bytes as received (flags, type, length, value), first occurrence only, in
   * arrival order. Views into the frame: for NOTIFICATION data, not for keeping.
   */
  raw: Map<number, Uint8Array>;
}

/** AS4_PATH / AS4_AGGREGATOR from a 2-octet peer, held until the whole list is read. */
interface As4Parts {
  path?: AsPathSegment[];
  aggregator?: Aggregator;
}

/** The smallest attribute that could carry NLRI: MP_UNREACH with AFI and SAFI only. */
const MIN_MP_ATTRIBUTE = 6;

/** Walks `frame[start..end)`, the attribute list of an UPDATE. Never throws for bad input. */
export function decodeAttributeList(frame: Uint8Array, start: number, end: number, ctx: DecodeContext): DecodedAttributes {
  const attributes: PathAttributes = {};
  const errors: WireError[] = [];
  const raw = new Map<number, Uint8Array>();
  const as4: As4Parts = {};
  let off = start;
  while (off < end) {
    const flags = frame[off]!;
    const headerLength = flags & Flag.EXTENDED ? 4 : 3;
    if (end - off < headerLength) {
      errors.push(listBroken(raw, end - off, undefined, 'truncated attribute header'));
      break;
    }
    const code = frame[off + 1]!;
    const length = headerLength === 4 ? (frame[off + 2]! << 8) | frame[off + 3]! : frame[off + 2]!;
    const valueAt = off + headerLength;
    if (valueAt + length > end) {
      errors.push(listBroken(raw, end - valueAt, code, `${attributeName(code)} runs past the attribute list`));
      break;
    }
    const bytes = frame.subarray(off, valueAt + length);
    off = valueAt + length;
    if (raw.has(code)) {
      const action = ATTRIBUTE_RULES[code]?.duplicate ?? UNKNOWN_OPTIONAL.duplicate;
      const detail = `${attributeName(code)} appears twice`;
      errors.push(new WireError(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, undefined, detail, action, code));
      continue;
    }
    raw.set(code, bytes);
    try {
      decodeOne(flags, code, bytes.subarray(headerLength), attributes, ctx, as4);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      errors.push(finalError(e, code, bytes));
    }
  }
  if (!ctx.fourOctetAs) applyAs4(attributes, as4);
  return { attributes, errors, raw };
}

/**
 * RFC 7606 §4: a list whose lengths do not add up is handled by treat-as-withdraw, but only if
 * no MP_REACH/MP_UNREACH can hide in the part we could not read (§5.3); otherwise the NLRI
 * cannot be located and the session must be reset.
 */
function listBroken(raw: Map<number, Uint8Array>, unread: number, code: number | undefined, detail: string): WireError {
  const isMp = code === AttrType.MP_REACH || code === AttrType.MP_UNREACH;
  const allMpSeen = raw.has(AttrType.MP_REACH) && raw.has(AttrType.MP_UNREACH);
  const nlriLocated = !isMp && (allMpSeen || unread < MIN_MP_ATTRIBUTE);
  const action: ErrorAction = nlriLocated ? 'treat-as-withdraw' : 'reset';
  // About the list, not one attribute: no attribute code, so no per-attribute rule applies.
  return new WireError(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, undefined, detail, action);
}

/** Adds the data RFC 4271 §6.3 asks for and the action the table gives. */
function finalError(e: WireError, code: number, bytes: Uint8Array): WireError {
  const wellKnownUnknown = e.subcode === UpdateSubcode.UNRECOGNIZED_WELL_KNOWN;
  const action = wellKnownUnknown ? UNKNOWN_WELL_KNOWN_ACTION : ATTRIBUTE_RULES[code]?.malformed ?? UNKNOWN_OPTIONAL.malformed;
  // Malformed AS_PATH has no data; the others carry the whole attribute.
  const data = e.subcode === UpdateSubcode.MALFORMED_AS_PATH ? new Uint8Array(0) : bytes.slice();
  return new WireError(ErrorCode.UPDATE_MESSAGE, e.subcode, data, e.detail, action, code);
}

function decodeOne(flags: number, code: number, value: Uint8Array, into: PathAttributes, ctx: DecodeContext, as4: As4Parts): void {
  const rule = ATTRIBUTE_RULES[code];
  if (!rule) {
    if (!(flags & Flag.OPTIONAL)) throw problem(UpdateSubcode.UNRECOGNIZED_WELL_KNOWN, `unrecognized well-known attribute ${code}`);
    // Unknown optional transitive attributes travel on; non-transitive ones are dropped (RFC 4271 §5).
    if (flags & Flag.TRANSITIVE) (into.unknown ??= []).push({ flags: flags & 0xf0 & ~Flag.EXTENDED, code, value: value.slice() });
    return;
  }
  // RFC 7606 §3(c): only the Optional and Transitive bits are checked.
  if ((flags & (Flag.OPTIONAL | Flag.TRANSITIVE)) !== rule.flags) {
    throw problem(UpdateSubcode.ATTRIBUTE_FLAGS, `${rule.name} flags 0x${flags.toString(16)}`);
  }
  const asnSize = ctx.fourOctetAs ? 4 : 2;
  switch (code) {
    case AttrType.ORIGIN: into.origin = decodeOrigin(value); return;
    case AttrType.AS_PATH: into.asPath = decodeAsPath(value, asnSize); return;
    case AttrType.NEXT_HOP: into.nextHop = decodeNextHop(value); return;
    case AttrType.MED: into.med = decodeMed(value); return;
    case AttrType.LOCAL_PREF: into.localPref = decodeLocalPref(value); return;
    case AttrType.ATOMIC_AGGREGATE: into.atomicAggregate = decodeAtomicAggregate(value); return;
    case AttrType.AGGREGATOR: into.aggregator = decodeAggregator(value, asnSize); return;
    case AttrType.COMMUNITIES: into.communities = decodeCommunities(value); return;
    case AttrType.ORIGINATOR_ID: into.originatorId = decodeOriginatorId(value); return;
    case AttrType.CLUSTER_LIST: into.clusterList = decodeClusterList(value); return;
    case AttrType.MP_REACH: into.mpReach = decodeMpReach(value, ctx); return;
    case AttrType.MP_UNREACH: into.mpUnreach = decodeMpUnreach(value, ctx); return;
    case AttrType.EXT_COMMUNITIES: into.extendedCommunities = decodeExtendedCommunities(value); return;
    case AttrType.LARGE_COMMUNITIES: into.largeCommunities = decodeLargeCommunities(value); return;
    // RFC 6793 §4.1: between two 4-octet speakers these are not used, and are dropped unread.
    case AttrType.AS4_PATH: if (!ctx.fourOctetAs) as4.path = decodeAs4Path(value); return;
    case AttrType.AS4_AGGREGATOR: if (!ctx.fourOctetAs) as4.aggregator = decodeAs4Aggregator(value); return;
    default: return;
  }
}

/** RFC 6793 §4.2.3: AS4 attributes count only when AGGREGATOR (if any) says AS_TRANS. */
function applyAs4(a: PathAttributes, as4: As4Parts): void {
  if (a.aggregator && a.aggregator.asn !== AS_TRANS) return;
  if (as4.aggregator && a.aggregator) a.aggregator = as4.aggregator;
  if (as4.path && a.asPath) a.asPath = mergeAs4Path(a.asPath, as4.path);
}

// ---- encoding -------------------------------------------------------------------------

const WELL_KNOWN = Flag.TRANSITIVE;
const OPTIONAL = Flag.OPTIONAL;
const OPTIONAL_TRANSITIVE = Flag.OPTIONAL | Flag.TRANSITIVE;

type Emit = [code: number, flags: number, body: (w: Writer) => void];

/**
 * Writes the attributes of `a`: MP_REACH_NLRI and MP_UNREACH_NLRI first (RFC 7606 §5.1), the
 * rest in ascending type order (RFC 4271 §5). With a 2-octet peer, 4-octet AS numbers go out as
 * AS_TRANS plus AS4_PATH / AS4_AGGREGATOR. Unknown optional transitive attributes are passed
 * on with the Partial bit set; unknown non-transitive ones are not passed on.
 */
export function encodeAttributes(w: Writer, a: PathAttributes, ctx: EncodeContext): void {
  const asnSize = ctx.fourOctetAs ? 4 : 2;
  const out: Emit[] = [];
  const add = (code: number, flags: number, body: (w: Writer) => void) => out.push([code, flags, body]);
  if (a.origin !== undefined) add(AttrType.ORIGIN, WELL_KNOWN, (x) => encodeOrigin(x, a.origin!));
  if (a.asPath) {
    const path = a.asPath;
    add(AttrType.AS_PATH, WELL_KNOWN, (x) => encodeAsPath(x, path, asnSize));
    if (asnSize === 2 && needsAs4Path(path)) add(AttrType.AS4_PATH, OPTIONAL_TRANSITIVE, (x) => encodeAsPath(x, as4PathSegments(path), 4));
  }
  if (a.nextHop !== undefined) add(AttrType.NEXT_HOP, WELL_KNOWN, (x) => encodeNextHop(x, a.nextHop!));
  if (a.med !== undefined) add(AttrType.MED, OPTIONAL, (x) => encodeU32(x, a.med!));
  if (a.localPref !== undefined) add(AttrType.LOCAL_PREF, WELL_KNOWN, (x) => encodeU32(x, a.localPref!));
  if (a.atomicAggregate) add(AttrType.ATOMIC_AGGREGATE, WELL_KNOWN, () => undefined);
  if (a.aggregator) {
    const agg = a.aggregator;
    add(AttrType.AGGREGATOR, OPTIONAL_TRANSITIVE, (x) => encodeAggregator(x, agg, asnSize));
    if (asnSize === 2 && agg.asn > 0xffff) add(AttrType.AS4_AGGREGATOR, OPTIONAL_TRANSITIVE, (x) => encodeAggregator(x, agg, 4));
  }
  if (a.communities?.length) add(AttrType.COMMUNITIES, OPTIONAL_TRANSITIVE, (x) => encodeCommunities(x, a.communities!));
  if (a.originatorId !== undefined) add(AttrType.ORIGINATOR_ID, OPTIONAL, (x) => encodeOriginatorId(x, a.originatorId!));
  if (a.clusterList?.length) add(AttrType.CLUSTER_LIST, OPTIONAL, (x) => encodeClusterList(x, a.clusterList!));
  if (a.extendedCommunities?.length) add(AttrType.EXT_COMMUNITIES, OPTIONAL_TRANSITIVE, (x) => encodeExtendedCommunities(x, a.extendedCommunities!));
  if (a.largeCommunities?.length) add(AttrType.LARGE_COMMUNITIES, OPTIONAL_TRANSITIVE, (x) => encodeLargeCommunities(x, a.largeCommunities!));
  for (const u of a.unknown ?? []) {
    if (!(u.flags & Flag.OPTIONAL) || !(u.flags & Flag.TRANSITIVE) || ATTRIBUTE_RULES[u.code]) continue;
    add(u.code, (u.flags & (Flag.OPTIONAL | Flag.TRANSITIVE)) | Flag.PARTIAL, (x) => x.bytes(u.value));
  }
  out.sort((x, y) => x[0] - y[0]);
  if (a.mpReach) writeAttribute(w, OPTIONAL, AttrType.MP_REACH, (x) => encodeMpReach(x, a.mpReach!, ctx));
  if (a.mpUnreach) writeAttribute(w, OPTIONAL, AttrType.MP_UNREACH, (x) => encodeMpUnreach(x, a.mpUnreach!, ctx));
  for (const [code, flags, body] of out) writeAttribute(w, flags, code, body);
}

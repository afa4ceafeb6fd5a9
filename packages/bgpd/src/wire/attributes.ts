// Path attributes (RFC 4271 §5 and extensions): one decoder/encoder per type, and the RFC 7606
// action for each type kept in a single table.

import { ErrorCode, UpdateSubcode, WireError, type ErrorAction } from './errors.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';
import { formatAddress, parseAddress, readPrefixes, type Prefix } from './nlri.js';

export const AttrType = {
  ORIGIN: 1, AS_PATH: 2, NEXT_HOP: 3, MED: 4, LOCAL_PREF: 5, ATOMIC_AGGREGATE: 6, AGGREGATOR: 7,
  COMMUNITIES: 8, ORIGINATOR_ID: 9, CLUSTER_LIST: 10, MP_REACH: 14, MP_UNREACH: 15, EXT_COMMUNITIES: 16,
  AS4_PATH: 17, AS4_AGGREGATOR: 18, LARGE_COMMUNITIES: 32,
} as const;

export const Flag = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED: 0x10 } as const;

/** RFC 7606 §7: how a malformed attribute of each type is handled. Unknown types: discard. */
export const ATTRIBUTE_ERROR_ACTION: Record<number, ErrorAction> = {
  1: 'treat-as-withdraw', 2: 'treat-as-withdraw', 3: 'treat-as-withdraw', 4: 'treat-as-withdraw',
  5: 'treat-as-withdraw', 6: 'attribute-discard', 7: 'attribute-discard', 8: 'treat-as-withdraw',
  9: 'treat-as-withdraw', 10: 'treat-as-withdraw', 14: 'reset', 15: 'reset', 16: 'treat-as-withdraw',
  17: 'attribute-discard', 18: 'attribute-discard', 32: 'treat-as-withdraw',
};

/** The flags each known attribute must carry (optional, transitive). */
const EXPECTED_FLAGS: Record<number, number> = {
  1: 0x40, 2: 0x40, 3: 0x40, 4: 0x80, 5: 0x40, 6: 0x40, 7: 0xc0, 8: 0xc0, 9: 0x80, 10: 0x80,
  14: 0x80, 15: 0x80, 16: 0xc0, 17: 0xc0, 18: 0xc0, 32: 0xc0,
};

export type AsPathSegment = { type: 1 | 2 | 3 | 4; asns: number[] }; // SET, SEQUENCE, CONFED_SEQ, CONFED_SET

export interface MpReach {
  afi: number;
  safi: number;
  /** Global next hop, then the link-local one when 32 bytes were sent (IPv6). */
  nextHops: string[];
  nlri: Prefix[];
}

export interface MpUnreach {
  afi: number;
  safi: number;
  withdrawn: Prefix[];
}

export interface UnknownAttribute {
  flags: number;
  code: number;
  value: Uint8Array;
}

export interface PathAttributes {
  origin?: 0 | 1 | 2;
  asPath?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: string };
  communities?: number[];
  originatorId?: string;
  clusterList?: string[];
  extendedCommunities?: Uint8Array[];
  largeCommunities?: [number, number, number][];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  unknown?: UnknownAttribute[];
}

export interface DecodeContext {
  /** Both sides advertised the 4-octet AS capability. */
  fourOctetAs: boolean;
  /** ADD-PATH receive negotiated, per AFI (1 = IPv4, 2 = IPv6). */
  addPath?: { 1?: boolean; 2?: boolean };
}

/** Builds the error for a malformed attribute: data is the whole attribute (RFC 4271 §6.3). */
function attrError(subcode: number, code: number, raw: Uint8Array, detail: string): WireError {
  return new WireError(ErrorCode.UPDATE_MESSAGE, subcode, raw.slice(), detail, ATTRIBUTE_ERROR_ACTION[code] ?? 'attribute-discard');
}

function readAsPath(value: Uint8Array, asnSize: 2 | 4, onBad: () => WireError): AsPathSegment[] {
  const r = new Reader(value, 0, value.length, onBad);
  const segs: AsPathSegment[] = [];
  while (r.remaining) {
    const type = r.u8();
    const count = r.u8();
    if (type < 1 || type > 4 || count === 0) throw onBad();
    const asns: number[] = [];
    for (let i = 0; i < count; i++) asns.push(asnSize === 4 ? r.u32() : r.u16());
    segs.push({ type: type as AsPathSegment['type'], asns });
  }
  return segs;
}

export function asPathLength(segs: readonly AsPathSegment[] | undefined): number {
  let n = 0;
  for (const s of segs ?? []) n += s.type === 2 ? s.asns.length : s.type === 1 ? 1 : 0;
  return n;
}

/** RFC 6793 §4.2.3: rebuild the real path from a 2-octet AS_PATH and an AS4_PATH. */
export function mergeAs4Path(asPath: AsPathSegment[], as4: AsPathSegment[]): AsPathSegment[] {
  const n = asPathLength(asPath);
  const m = asPathLength(as4);
  if (m > n) return asPath;
  let keep = n - m;
  const out: AsPathSegment[] = [];
  for (const s of asPath) {
    if (keep <= 0) break;
    if (s.type === 2) {
      const take = s.asns.slice(0, keep);
      out.push({ type: 2, asns: take });
      keep -= take.length;
    } else {
      out.push(s);
      if (s.type === 1) keep -= 1;
    }
  }
  return [...out, ...as4];
}

function ipv4(value: Uint8Array): string {
  return formatAddress(1, value);
}

/**
 * Decodes one attribute's value into `attrs`. Returns an error (not thrown) for a malformed
 * attribute so the caller can apply RFC 7606; structure-level problems are thrown.
 */
export function decodeAttribute(flags: number, code: number, value: Uint8Array, raw: Uint8Array, attrs: PathAttributes, ctx: DecodeContext, as4: { path?: AsPathSegment[]; aggregator?: { asn: number; address: string } }): WireError | undefined {
  const expected = EXPECTED_FLAGS[code];
  if (expected !== undefined && (flags & 0xc0) !== expected) {
    return attrError(UpdateSubcode.ATTRIBUTE_FLAGS, code, raw, `attribute ${code} flags 0x${flags.toString(16)}`);
  }
  const lenError = () => attrError(UpdateSubcode.ATTRIBUTE_LENGTH, code, raw, `attribute ${code} length ${value.length}`);
  const fixed = (n: number) => value.length === n;
  const u32 = (o = 0) => ((value[o]! << 24) >>> 0) + (value[o + 1]! << 16) + (value[o + 2]! << 8) + value[o + 3]!;
  try {
    switch (code) {
      case AttrType.ORIGIN:
        if (!fixed(1)) return lenError();
        if (value[0]! > 2) return attrError(UpdateSubcode.INVALID_ORIGIN, code, raw, `ORIGIN ${value[0]}`);
        attrs.origin = value[0] as 0 | 1 | 2;
        return undefined;
      case AttrType.AS_PATH:
        attrs.asPath = readAsPath(value, ctx.fourOctetAs ? 4 : 2, () => attrError(UpdateSubcode.MALFORMED_AS_PATH, code, raw, 'malformed AS_PATH'));
        return undefined;
      case AttrType.NEXT_HOP:
        if (!fixed(4)) return lenError();
        attrs.nextHop = ipv4(value);
        return undefined;
      case AttrType.MED:
        if (!fixed(4)) return lenError();
        attrs.med = u32();
        return undefined;
      case AttrType.LOCAL_PREF:
        if (!fixed(4)) return lenError();
        attrs.localPref = u32();
        return undefined;
      case AttrType.ATOMIC_AGGREGATE:
        if (!fixed(0)) return lenError();
        attrs.atomicAggregate = true;
        return undefined;
      case AttrType.AGGREGATOR: {
        const size = ctx.fourOctetAs ? 8 : 6;
        if (!fixed(size)) return lenError();
        attrs.aggregator = size === 8 ? { asn: u32(), address: ipv4(value.subarray(4)) } : { asn: (value[0]! << 8) | value[1]!, address: ipv4(value.subarray(2)) };
        return undefined;
      }
      case AttrType.COMMUNITIES:
        if (value.length % 4) return lenError();
        attrs.communities = [];
        for (let o = 0; o < value.length; o += 4) attrs.communities.push(u32(o));
        return undefined;
      case AttrType.ORIGINATOR_ID:
        if (!fixed(4)) return lenError();
        attrs.originatorId = ipv4(value);
        return undefined;
      case AttrType.CLUSTER_LIST:
        if (value.length % 4) return lenError();
        attrs.clusterList = [];
        for (let o = 0; o < value.length; o += 4) attrs.clusterList.push(ipv4(value.subarray(o, o + 4)));
        return undefined;
      case AttrType.EXT_COMMUNITIES:
        if (value.length % 8) return lenError();
        attrs.extendedCommunities = [];
        for (let o = 0; o < value.length; o += 8) attrs.extendedCommunities.push(value.slice(o, o + 8));
        return undefined;
      case AttrType.LARGE_COMMUNITIES:
        if (value.length % 12 || value.length === 0) return lenError();
        attrs.largeCommunities = [];
        for (let o = 0; o < value.length; o += 12) attrs.largeCommunities.push([u32(o), u32(o + 4), u32(o + 8)]);
        return undefined;
      case AttrType.AS4_PATH:
        as4.path = readAsPath(value, 4, () => attrError(UpdateSubcode.MALFORMED_AS_PATH, code, raw, 'malformed AS4_PATH'));
        return undefined;
      case AttrType.AS4_AGGREGATOR:
        if (!fixed(8)) return lenError();
        as4.aggregator = { asn: u32(), address: ipv4(value.subarray(4)) };
        return undefined;
      case AttrType.MP_REACH: {
        const bad = () => attrError(UpdateSubcode.OPTIONAL_ATTRIBUTE, code, raw, 'malformed MP_REACH_NLRI');
        const r = new Reader(value, 0, value.length, bad);
        const afi = r.u16();
        const safi = r.u8();
        const nhLen = r.u8();
        const nh = r.bytes(nhLen);
        r.u8(); // reserved
        const nextHops: string[] = [];
        if (afi === 2 && (nhLen === 16 || nhLen === 32)) {
          nextHops.push(formatAddress(2, nh.subarray(0, 16)));
          if (nhLen === 32) nextHops.push(formatAddress(2, nh.subarray(16, 32)));
        } else if (afi === 1 && nhLen === 4) {
          nextHops.push(formatAddress(1, nh));
        } else if (afi === 1 || afi === 2) {
          return bad();
        }
        const nlri = afi === 1 || afi === 2 ? readPrefixes(r.sub(r.remaining, bad), afi, !!ctx.addPath?.[afi]) : [];
        attrs.mpReach = { afi, safi, nextHops, nlri };
        return undefined;
      }
      case AttrType.MP_UNREACH: {
        const bad = () => attrError(UpdateSubcode.OPTIONAL_ATTRIBUTE, code, raw, 'malformed MP_UNREACH_NLRI');
        const r = new Reader(value, 0, value.length, bad);
        const afi = r.u16();
        const safi = r.u8();
        const withdrawn = afi === 1 || afi === 2 ? readPrefixes(r.sub(r.remaining, bad), afi, !!ctx.addPath?.[afi]) : [];
        attrs.mpUnreach = { afi, safi, withdrawn };
        return undefined;
      }
      default:
        if (!(flags & Flag.OPTIONAL)) {
          return new WireError(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.UNRECOGNIZED_WELL_KNOWN, raw.slice(), `unrecognized well-known attribute ${code}`, 'reset');
        }
        (attrs.unknown ??= []).push({ flags, code, value: value.slice() });
        return undefined;
    }
  } catch (e) {
    if (e instanceof WireError) return e.code === ErrorCode.UPDATE_MESSAGE ? new WireError(e.code, e.subcode, raw.slice(), e.message, e.subcode === UpdateSubcode.INVALID_NETWORK ? 'reset' : ATTRIBUTE_ERROR_ACTION[code] ?? 'attribute-discard') : e;
    throw e;
  }
}

// ---- encoding -------------------------------------------------------------------------

export interface EncodeContext {
  fourOctetAs: boolean;
  addPath?: { 1?: boolean; 2?: boolean };
}

function attr(w: Writer, flags: number, code: number, body: Uint8Array): void {
  const ext = body.length > 255;
  w.u8(flags | (ext ? Flag.EXTENDED : 0)).u8(code);
  if (ext) w.u16(body.length);
  else w.u8(body.length);
  w.bytes(body);
}

function u32s(values: readonly number[]): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  values.forEach((v, i) => {
    b[i * 4] = v >>> 24; b[i * 4 + 1] = (v >>> 16) & 0xff; b[i * 4 + 2] = (v >>> 8) & 0xff; b[i * 4 + 3] = v & 0xff;
  });
  return b;
}

function asPathBytes(segs: readonly AsPathSegment[], size: 2 | 4): Uint8Array {
  const out: number[] = [];
  for (const s of segs) {
    for (let i = 0; i < s.asns.length; i += 255) {
      const chunk = s.asns.slice(i, i + 255);
      out.push(s.type, chunk.length);
      for (const a of chunk) {
        if (size === 4) out.push(a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff);
        else { const v = a > 0xffff ? 23456 : a; out.push(v >>> 8, v & 0xff); }
      }
    }
  }
  return Uint8Array.from(out);
}

/** Encodes everything except MP_REACH/MP_UNREACH (the UPDATE builder adds those per batch). */
export function encodeAttributes(w: Writer, a: PathAttributes, ctx: EncodeContext): void {
  if (a.origin !== undefined) attr(w, 0x40, AttrType.ORIGIN, Uint8Array.of(a.origin));
  if (a.asPath) {
    attr(w, 0x40, AttrType.AS_PATH, asPathBytes(a.asPath, ctx.fourOctetAs ? 4 : 2));
    if (!ctx.fourOctetAs && a.asPath.some((s) => s.asns.some((x) => x > 0xffff))) {
      attr(w, 0xc0, AttrType.AS4_PATH, asPathBytes(a.asPath, 4));
    }
  }
  if (a.nextHop) attr(w, 0x40, AttrType.NEXT_HOP, parseAddress(1, a.nextHop));
  if (a.med !== undefined) attr(w, 0x80, AttrType.MED, u32s([a.med]));
  if (a.localPref !== undefined) attr(w, 0x40, AttrType.LOCAL_PREF, u32s([a.localPref]));
  if (a.atomicAggregate) attr(w, 0x40, AttrType.ATOMIC_AGGREGATE, new Uint8Array(0));
  if (a.aggregator) {
    const addr = parseAddress(1, a.aggregator.address);
    if (ctx.fourOctetAs) attr(w, 0xc0, AttrType.AGGREGATOR, Uint8Array.from([...u32s([a.aggregator.asn]), ...addr]));
    else {
      const two = a.aggregator.asn > 0xffff ? 23456 : a.aggregator.asn;
      attr(w, 0xc0, AttrType.AGGREGATOR, Uint8Array.from([two >>> 8, two & 0xff, ...addr]));
      if (a.aggregator.asn > 0xffff) attr(w, 0xc0, AttrType.AS4_AGGREGATOR, Uint8Array.from([...u32s([a.aggregator.asn]), ...addr]));
    }
  }
  if (a.communities?.length) attr(w, 0xc0, AttrType.COMMUNITIES, u32s(a.communities));
  if (a.originatorId) attr(w, 0x80, AttrType.ORIGINATOR_ID, parseAddress(1, a.originatorId));
  if (a.clusterList?.length) attr(w, 0x80, AttrType.CLUSTER_LIST, Uint8Array.from(a.clusterList.flatMap((c) => [...parseAddress(1, c)])));
  if (a.extendedCommunities?.length) {
    const b = new Uint8Array(a.extendedCommunities.length * 8);
    a.extendedCommunities.forEach((c, i) => b.set(c.subarray(0, 8), i * 8));
    attr(w, 0xc0, AttrType.EXT_COMMUNITIES, b);
  }
  if (a.largeCommunities?.length) attr(w, 0xc0, AttrType.LARGE_COMMUNITIES, u32s(a.largeCommunities.flat()));
  for (const u of a.unknown ?? []) {
    // Optional transitive attributes we do not understand travel on marked Partial (RFC 4271 §5).
    const transitive = (u.flags & Flag.TRANSITIVE) !== 0;
    if (!transitive) continue;
    attr(w, (u.flags & 0xe0) | Flag.PARTIAL, u.code, u.value);
  }
}

// AS_PATH (RFC 4271 §5.1.2) and AS4_PATH (RFC 6793): segments of 2- or 4-octet AS numbers,
// and the RFC 6793 §4.2.3 merge that recovers the real path from a 2-octet speaker.

import { UpdateSubcode } from '../errors.js';
import { twoOctetAs } from '../asn.js';
import { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { problem } from './common.js';
import { SegmentType, type AsPathSegment } from './types.js';

const MAX_SEGMENT = 255;

function isConfed(s: AsPathSegment): boolean {
  return s.type === SegmentType.AS_CONFED_SEQUENCE || s.type === SegmentType.AS_CONFED_SET;
}

/**
 * RFC 7606 §7.2: malformed means an unknown segment type, a segment of length zero, a segment
 * running past the end, or a single byte left over.
 */
export function decodeAsPath(value: Uint8Array, asnSize: 2 | 4, name = 'AS_PATH', subcode: number = UpdateSubcode.MALFORMED_AS_PATH): AsPathSegment[] {
  const bad = () => problem(subcode, `malformed ${name}`);
  const r = new Reader(value, 0, value.length, bad);
  const segments: AsPathSegment[] = [];
  while (r.remaining) {
    const type = r.u8();
    const count = r.u8();
    if (type < SegmentType.AS_SET || type > SegmentType.AS_CONFED_SET || count === 0) throw bad();
    const asns: number[] = new Array<number>(count);
    for (let i = 0; i < count; i++) asns[i] = asnSize === 4 ? r.u32() : r.u16();
    segments.push({ type: type as AsPathSegment['type'], asns });
  }
  return segments;
}

/** RFC 6793 §6: AS4_PATH never carries confederation segments; one that does is ignored. */
export function decodeAs4Path(value: Uint8Array): AsPathSegment[] {
  const segments = decodeAsPath(value, 4, 'AS4_PATH', UpdateSubcode.OPTIONAL_ATTRIBUTE);
  if (segments.some(isConfed)) throw problem(UpdateSubcode.OPTIONAL_ATTRIBUTE, 'AS4_PATH with confederation segments');
  return segments;
}

/** Writes segments, splitting any longer than 255 and dropping empty ones (length 0 is malformed). */
export function encodeAsPath(w: Writer, segments: readonly AsPathSegment[], asnSize: 2 | 4): void {
  for (const s of segments) {
    for (let i = 0; i < s.asns.length; i += MAX_SEGMENT) {
      const part = s.asns.slice(i, i + MAX_SEGMENT);
      w.u8(s.type).u8(part.length);
      for (const asn of part) {
        if (asnSize === 4) w.u32(asn);
        else w.u16(twoOctetAs(asn));
      }
    }
  }
}

/** True when a 2-octet peer must also be sent AS4_PATH to see the real path. */
export function needsAs4Path(segments: readonly AsPathSegment[]): boolean {
  return segments.some((s) => s.asns.some((a) => a > 0xffff));
}

/** The segments that go into AS4_PATH: everything but confederation segments (RFC 6793 §3). */
export function as4PathSegments(segments: readonly AsPathSegment[]): AsPathSegment[] {
  return segments.filter((s) => !isConfed(s));
}

/** Path length for best-path selection (RFC 4271 §9.1.2.2): a set counts 1, confederations 0. */
export function asPathLength(segments: readonly AsPathSegment[] | undefined): number {
  let n = 0;
  for (const s of segments ?? []) {
    if (s.type === SegmentType.AS_SEQUENCE) n += s.asns.length;
    else if (s.type === SegmentType.AS_SET) n += 1;
  }
  return n;
}

/**
 * RFC 6793 §4.2.3: the real path is as many leading AS numbers of AS_PATH as AS4_PATH lacks,
 * followed by AS4_PATH. An AS4_PATH longer than AS_PATH is ignored. Confederation segments
 * that lead or adjoin the taken part are kept.
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  let need = asPathLength(asPath) - asPathLength(as4Path);
  if (need < 0) return asPath.map((s) => ({ type: s.type, asns: [...s.asns] }));
  const out: AsPathSegment[] = [];
  for (const s of asPath) {
    if (isConfed(s)) {
      out.push({ type: s.type, asns: [...s.asns] });
      continue;
    }
    if (need === 0) break;
    if (s.type === SegmentType.AS_SEQUENCE) {
      const taken = s.asns.slice(0, need);
      out.push({ type: s.type, asns: taken });
      need -= taken.length;
    } else {
      out.push({ type: s.type, asns: [...s.asns] });
      need -= 1;
    }
  }
  for (const s of as4Path) {
    const last = out[out.length - 1];
    // Join sequences split only by where the two attributes met.
    if (last && last.type === SegmentType.AS_SEQUENCE && s.type === SegmentType.AS_SEQUENCE && last.asns.length + s.asns.length <= MAX_SEGMENT) {
      last.asns.push(...s.asns);
    } else {
      out.push({ type: s.type, asns: [...s.asns] });
    }
  }
  return out;
}

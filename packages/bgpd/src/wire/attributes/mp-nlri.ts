// MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760 §3-4) for IPv4 and IPv6 unicast. IPv6 next
// hops are 16 bytes (global) or 32 (global + link-local, RFC 2545 §3). Other families are
// recognised but not parsed: their NLRI come back empty, for the session to ignore.

import { formatIPv4, formatIPv6, parseAddress } from '../address.js';
import { UpdateSubcode } from '../errors.js';
import type { DecodeContext, EncodeContext } from '../context.js';
import { readPrefixes, writePrefix } from '../nlri.js';
import { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { problem } from './common.js';
import type { MpReach, MpUnreach } from './types.js';

const UNICAST = 1;

function parsedFamily(afi: number, safi: number): afi is 1 | 2 {
  return (afi === 1 || afi === 2) && safi === UNICAST;
}

function malformed(name: string, why: string) {
  return () => problem(UpdateSubcode.OPTIONAL_ATTRIBUTE, `${name}: ${why}`);
}

export function decodeMpReach(value: Uint8Array, ctx: DecodeContext): MpReach {
  const r = new Reader(value, 0, value.length, malformed('MP_REACH_NLRI', 'truncated'));
  const afi = r.u16();
  const safi = r.u8();
  const nh = r.bytes(r.u8());
  r.u8(); // reserved (once the SNPA count): ignored on receipt
  if (!parsedFamily(afi, safi)) return { afi, safi, nextHops: [], nlri: [] };
  let nextHops: string[];
  if (afi === 1 && nh.length === 4) nextHops = [formatIPv4(nh)];
  else if (afi === 2 && nh.length === 16) nextHops = [formatIPv6(nh)];
  else if (afi === 2 && nh.length === 32) nextHops = [formatIPv6(nh), formatIPv6(nh, 16)];
  else throw malformed('MP_REACH_NLRI', `next hop length ${nh.length} for AFI ${afi}`)();
  const bad = malformed('MP_REACH_NLRI', 'bad NLRI');
  const nlri = readPrefixes(r.sub(r.remaining, bad), afi, !!ctx.addPath?.[afi], bad);
  return { afi, safi, nextHops, nlri };
}

export function decodeMpUnreach(value: Uint8Array, ctx: DecodeContext): MpUnreach {
  const r = new Reader(value, 0, value.length, malformed('MP_UNREACH_NLRI', 'truncated'));
  const afi = r.u16();
  const safi = r.u8();
  if (!parsedFamily(afi, safi)) return { afi, safi, withdrawn: [] };
  const bad = malformed('MP_UNREACH_NLRI', 'bad NLRI');
  return { afi, safi, withdrawn: readPrefixes(r.sub(r.remaining, bad), afi, !!ctx.addPath?.[afi], bad) };
}

/** Everything of MP_REACH_NLRI before the NLRI. */
export function writeMpReachHead(w: Writer, afi: number, safi: number, nextHops: readonly string[]): void {
  const fam = afi === 2 ? 2 : 1;
  const hops = nextHops.map((h) => parseAddress(fam, h));
  w.u16(afi).u8(safi).u8(hops.reduce((n, h) => n + h.length, 0));
  for (const h of hops) w.bytes(h);
  w.u8(0);
}

export function writeMpUnreachHead(w: Writer, afi: number, safi: number): void {
  w.u16(afi).u8(safi);
}

export function encodeMpReach(w: Writer, m: MpReach, ctx: EncodeContext): void {
  writeMpReachHead(w, m.afi, m.safi, m.nextHops);
  const addPath = !!ctx.addPath?.[m.afi === 2 ? 2 : 1];
  for (const p of m.nlri) writePrefix(w, p, addPath);
}

export function encodeMpUnreach(w: Writer, m: MpUnreach, ctx: EncodeContext): void {
  writeMpUnreachHead(w, m.afi, m.safi);
  const addPath = !!ctx.addPath?.[m.afi === 2 ? 2 : 1];
  for (const p of m.withdrawn) writePrefix(w, p, addPath);
}

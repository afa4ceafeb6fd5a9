// Packing: turns "these prefixes share these attributes" and "these prefixes are gone" into
// as few UPDATEs as the session's size limit allows (BIRD's buckets, one attribute set per
// message). IPv4 goes in the UPDATE's own Withdrawn Routes / NLRI fields, IPv6 in
// MP_UNREACH_NLRI / MP_REACH_NLRI, placed first (RFC 7606 §5.1).

import { maxUpdateLength, type EncodeContext } from './context.js';
import { HEADER_LENGTH, MessageType, finishHeader, writeHeader } from './header.js';
import { Writer } from './writer.js';
import { encodeAttributes } from './attributes.js';
import { writeAttribute } from './attributes/common.js';
import { writeMpReachHead, writeMpUnreachHead } from './attributes/mp-nlri.js';
import { AttrType, Flag, type PathAttributes } from './attributes/types.js';
import { prefixFamily, prefixSize, writePrefix, type Prefix } from './nlri.js';

export interface BuildContext extends EncodeContext {
  /** Overrides the limit implied by `extendedMessage` (4096 or 65535). */
  maxLength?: number;
}

export interface Announcement {
  /** Shared by every prefix; MP_REACH/MP_UNREACH here are ignored (the builder writes them). */
  attributes: PathAttributes;
  /** IPv4 prefixes need attributes.nextHop; IPv6 ones need ipv6NextHops. */
  prefixes: Prefix[];
  /** Global next hop, then optionally a link-local one (RFC 2545 §3). */
  ipv6NextHops?: string[];
}

const UNICAST = 1;
/** Withdrawn Routes Length and Total Path Attribute Length. */
const LENGTH_FIELDS = 4;

function begin(): Writer {
  const w = new Writer(1024);
  writeHeader(w, MessageType.UPDATE);
  return w;
}

function attributeBlock(a: PathAttributes, ctx: BuildContext, withNextHop: boolean): Uint8Array {
  const { mpReach: _r, mpUnreach: _u, ...rest } = a;
  if (!withNextHop) delete rest.nextHop;
  const w = new Writer(128);
  encodeAttributes(w, rest, ctx);
  return w.finish();
}

/** Fills `w` with prefixes from `list[i..]` while they fit under `limit`; returns the next index. */
function fill(w: Writer, list: readonly Prefix[], i: number, addPath: boolean, limit: number): number {
  while (i < list.length && w.length + prefixSize(list[i]!, addPath) <= limit) writePrefix(w, list[i++]!, addPath);
  return i;
}

function ipv4Withdrawals(list: Prefix[], ctx: BuildContext, max: number, out: Uint8Array[]): void {
  const addPath = !!ctx.addPath?.[1];
  for (let i = 0; i < list.length; ) {
    const w = begin();
    w.u16(0);
    i = fill(w, list, i, addPath, max - 2);
    w.patch16(HEADER_LENGTH, w.length - HEADER_LENGTH - 2);
    w.u16(0);
    out.push(finishHeader(w));
  }
}

function mpWithdrawals(list: Prefix[], afi: number, ctx: BuildContext, max: number, out: Uint8Array[]): void {
  const addPath = !!ctx.addPath?.[afi === 2 ? 2 : 1];
  for (let i = 0; i < list.length; ) {
    const w = begin();
    w.u16(0).u16(0);
    writeAttribute(w, Flag.OPTIONAL, AttrType.MP_UNREACH, (x) => {
      writeMpUnreachHead(x, afi, UNICAST);
      i = fill(x, list, i, addPath, max);
    });
    w.patch16(HEADER_LENGTH + 2, w.length - HEADER_LENGTH - LENGTH_FIELDS);
    out.push(finishHeader(w));
  }
}

function ipv4Announcements(list: Prefix[], block: Uint8Array, ctx: BuildContext, max: number, out: Uint8Array[]): void {
  const addPath = !!ctx.addPath?.[1];
  for (let i = 0; i < list.length; ) {
    const w = begin();
    w.u16(0).u16(block.length).bytes(block);
    const next = fill(w, list, i, addPath, max);
    if (next === i) throw new Error(`path attributes (${block.length} bytes) leave no room for NLRI`);
    i = next;
    out.push(finishHeader(w));
  }
}

function mpAnnouncements(list: Prefix[], afi: number, nextHops: string[], block: Uint8Array, ctx: BuildContext, max: number, out: Uint8Array[]): void {
  const addPath = !!ctx.addPath?.[afi === 2 ? 2 : 1];
  for (let i = 0; i < list.length; ) {
    const w = begin();
    w.u16(0).u16(0);
    const first = i;
    writeAttribute(w, Flag.OPTIONAL, AttrType.MP_REACH, (x) => {
      writeMpReachHead(x, afi, UNICAST, nextHops);
      i = fill(x, list, i, addPath, max - block.length);
    });
    if (i === first) throw new Error(`path attributes (${block.length} bytes) leave no room for NLRI`);
    w.bytes(block);
    w.patch16(HEADER_LENGTH + 2, w.length - HEADER_LENGTH - LENGTH_FIELDS);
    out.push(finishHeader(w));
  }
}

/**
 * Builds the UPDATEs for a batch of withdrawals and announcements: withdrawals first, then each
 * announcement's prefixes packed under its attributes, no message over the session's limit.
 */
export function buildUpdates(withdrawn: Prefix[], announcements: Announcement[], ctx: BuildContext): Uint8Array[] {
  const max = maxUpdateLength(ctx);
  const out: Uint8Array[] = [];
  ipv4Withdrawals(withdrawn.filter((p) => prefixFamily(p.prefix) === 1), ctx, max, out);
  mpWithdrawals(withdrawn.filter((p) => prefixFamily(p.prefix) === 2), 2, ctx, max, out);
  for (const a of announcements) {
    const v4 = a.prefixes.filter((p) => prefixFamily(p.prefix) === 1);
    const v6 = a.prefixes.filter((p) => prefixFamily(p.prefix) === 2);
    if (v4.length) {
      if (a.attributes.nextHop === undefined) throw new Error('IPv4 prefixes need attributes.nextHop');
      ipv4Announcements(v4, attributeBlock(a.attributes, ctx, true), ctx, max, out);
    }
    if (v6.length) {
      if (!a.ipv6NextHops?.length) throw new Error('IPv6 prefixes need an IPv6 next hop');
      mpAnnouncements(v6, 2, a.ipv6NextHops, attributeBlock(a.attributes, ctx, false), ctx, max, out);
    }
  }
  return out;
}

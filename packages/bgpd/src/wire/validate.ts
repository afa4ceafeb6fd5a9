// UPDATE validation (RFC 4271 §6.3 with RFC 7606), separate from decoding: takes what
// decodeUpdate() produced and answers accept, treat-as-withdraw or reset, with the
// NOTIFICATION (code 3 and its subcode and data) that explains it. The per-attribute policy
// comes from the one table in attributes/table.ts.
//
// Left to the caller: whether NEXT_HOP is one of our own addresses, the first AS of an eBGP
// peer's AS_PATH, AS loops, and whether a family was negotiated at all.

import { ErrorCode, UpdateSubcode, WireError, stronger } from './errors.js';
import { ATTRIBUTE_RULES, attributeName } from './attributes/table.js';
import { AttrType, SegmentType, type PathAttributes } from './attributes/types.js';
import { usableIPv4NextHop, usableIPv6NextHops } from './attributes/next-hop.js';
import type { Prefix } from './nlri.js';
import type { DecodedUpdate } from './update.js';

export interface ValidateOptions {
  /** The peer is in our AS: LOCAL_PREF is required, and ORIGINATOR_ID / CLUSTER_LIST are kept. */
  ibgp: boolean;
}

export type UpdateVerdict =
  /** Use the message; `discarded` lists the attributes dropped from it (RFC 7606 attribute-discard). */
  | { action: 'accept'; discarded: WireError[] }
  /**
   * Keep the session, withdraw `withdraw` (every prefix the UPDATE names: its withdrawals and
   * its announcements) and use nothing else from it. `error` says why, for the log.
   */
  | { action: 'treat-as-withdraw'; error: WireError; withdraw: Prefix[]; discarded: WireError[] }
  /** Send `error` as a NOTIFICATION and close the session. */
  | { action: 'reset'; error: WireError };

function updateError(subcode: number, data: Uint8Array | undefined, detail: string, action: WireError['action'], attribute?: number): WireError {
  return new WireError(ErrorCode.UPDATE_MESSAGE, subcode, data, detail, action, attribute);
}

/** RFC 4271 §6.3: the data is the missing attribute's type code. RFC 7606 §3(d): treat-as-withdraw. */
function missing(code: number): WireError {
  return updateError(UpdateSubcode.MISSING_WELL_KNOWN, Uint8Array.of(code), `missing ${attributeName(code)}`, 'treat-as-withdraw', code);
}

function invalidNextHop(d: DecodedUpdate, code: number, text: string): WireError {
  return updateError(UpdateSubcode.INVALID_NEXT_HOP, d.raw.get(code)?.slice(), `invalid next hop ${text}`, 'treat-as-withdraw', code);
}

/**
 * Validates a decoded UPDATE. Attributes that RFC 7606 says to discard are removed from
 * `d.message.attributes` here, so an accepted message can be used as it is.
 */
export function validateUpdate(d: DecodedUpdate, opts: ValidateOptions): UpdateVerdict {
  const m = d.message;
  const a = m.attributes;
  const problems: WireError[] = [];

  for (const e of d.attributeErrors) {
    const fromEbgp = !opts.ibgp && e.attribute !== undefined ? ATTRIBUTE_RULES[e.attribute]?.fromEbgp : undefined;
    problems.push(fromEbgp ? e.withAction(fromEbgp) : e);
  }

  // RFC 7606 §7.5, 7.9, 7.10: attributes that only make sense inside an AS are dropped from eBGP peers.
  if (!opts.ibgp) {
    for (const code of d.raw.keys()) {
      const rule = ATTRIBUTE_RULES[code];
      if (!rule?.fromEbgp || !rule.field || a[rule.field] === undefined) continue;
      problems.push(updateError(0, undefined, `${rule.name} from an eBGP peer`, rule.fromEbgp, code));
    }
  }

  const announces = m.nlri.length > 0 || (a.mpReach?.nlri.length ?? 0) > 0;
  if (announces) {
    for (const [key, rule] of Object.entries(ATTRIBUTE_RULES)) {
      const code = Number(key);
      const required = rule.mandatory === 'always' || (rule.mandatory === 'with-ipv4-nlri' && m.nlri.length > 0) || (rule.mandatory === 'ibgp' && opts.ibgp);
      if (required && !d.raw.has(code)) problems.push(missing(code));
    }
  }

  if (m.nlri.length > 0 && a.nextHop !== undefined && !usableIPv4NextHop(a.nextHop)) {
    problems.push(invalidNextHop(d, AttrType.NEXT_HOP, a.nextHop));
  }
  const mp = a.mpReach;
  if (mp && mp.nlri.length > 0) {
    const ok = mp.afi === 2 ? usableIPv6NextHops(mp.nextHops) : usableIPv4NextHop(mp.nextHops[0]!);
    if (!ok) problems.push(invalidNextHop(d, AttrType.MP_REACH, mp.nextHops.join(' ')));
  }

  // RFC 5065 §5.1: confederation segments from outside the confederation (we are never in one).
  if (!opts.ibgp && a.asPath?.some((s) => s.type === SegmentType.AS_CONFED_SEQUENCE || s.type === SegmentType.AS_CONFED_SET)) {
    problems.push(updateError(UpdateSubcode.MALFORMED_AS_PATH, undefined, 'confederation segments from an eBGP peer', 'treat-as-withdraw', AttrType.AS_PATH));
  }

  let worst: WireError | undefined;
  for (const p of problems) worst = stronger(worst, p);
  const discarded = problems.filter((p) => p.action === 'attribute-discard');
  dropDiscarded(a, discarded);
  if (!worst || worst.action === 'attribute-discard') return { action: 'accept', discarded };
  if (worst.action === 'treat-as-withdraw') {
    const withdraw = [...m.withdrawn, ...(a.mpUnreach?.withdrawn ?? []), ...m.nlri, ...(a.mpReach?.nlri ?? [])];
    return { action: 'treat-as-withdraw', error: worst, withdraw, discarded };
  }
  // AFI/SAFI disable is not offered by the session, so it ends like a reset.
  return { action: 'reset', error: worst };
}

function dropDiscarded(a: PathAttributes, discarded: readonly WireError[]): void {
  for (const e of discarded) {
    const field = e.attribute === undefined ? undefined : ATTRIBUTE_RULES[e.attribute]?.field;
    // Duplicates are reported as discarded too, but the first copy stays.
    if (field && e.subcode !== UpdateSubcode.MALFORMED_ATTRIBUTE_LIST) delete a[field];
  }
}

// Everything RFC 4271 §6.3 and RFC 7606 say about each known attribute, in one table keyed by
// type code: the flags it must carry, when it is mandatory, and what to do when it is
// malformed, duplicated or comes from where it does not belong. Decoder and validator read
// their policy from here and nowhere else.

import type { ErrorAction } from '../errors.js';
import { AttrType, Flag, type PathAttributes } from './types.js';

export interface AttributeRule {
  name: string;
  /** Where a decoded value lives (AS4_* are merged into AS_PATH / AGGREGATOR instead). */
  field?: keyof PathAttributes;
  /** The Optional and Transitive bits it must carry; any conflict is an Attribute Flags Error. */
  flags: number;
  /** RFC 7606 §7 action when it is malformed (bad flags, length or value). */
  malformed: ErrorAction;
  /** RFC 7606 §3(g) action when it appears again; the first one is kept. */
  duplicate: ErrorAction;
  /** RFC 7606 §7.5/7.9/7.10: attributes meaningful inside an AS only, dropped from eBGP peers. */
  fromEbgp?: ErrorAction;
  /** RFC 4271 §6.3 / RFC 4760 §4: when an announcing UPDATE must carry it. */
  mandatory?: 'always' | 'with-ipv4-nlri' | 'ibgp';
}

const WELL_KNOWN = Flag.TRANSITIVE;
const OPTIONAL_TRANSITIVE = Flag.OPTIONAL | Flag.TRANSITIVE;
const OPTIONAL = Flag.OPTIONAL;
const WITHDRAW: ErrorAction = 'treat-as-withdraw';
const DISCARD: ErrorAction = 'attribute-discard';

function row(name: string, field: keyof PathAttributes | undefined, flags: number, malformed: ErrorAction, extra: Partial<AttributeRule> = {}): AttributeRule {
  return { name, ...(field ? { field } : {}), flags, malformed, duplicate: DISCARD, ...extra };
}

export const ATTRIBUTE_RULES: Readonly<Record<number, AttributeRule>> = {
  [AttrType.ORIGIN]: row('ORIGIN', 'origin', WELL_KNOWN, WITHDRAW, { mandatory: 'always' }),
  [AttrType.AS_PATH]: row('AS_PATH', 'asPath', WELL_KNOWN, WITHDRAW, { mandatory: 'always' }),
  [AttrType.NEXT_HOP]: row('NEXT_HOP', 'nextHop', WELL_KNOWN, WITHDRAW, { mandatory: 'with-ipv4-nlri' }),
  [AttrType.MED]: row('MULTI_EXIT_DISC', 'med', OPTIONAL, WITHDRAW),
  [AttrType.LOCAL_PREF]: row('LOCAL_PREF', 'localPref', WELL_KNOWN, WITHDRAW, { mandatory: 'ibgp', fromEbgp: DISCARD }),
  [AttrType.ATOMIC_AGGREGATE]: row('ATOMIC_AGGREGATE', 'atomicAggregate', WELL_KNOWN, DISCARD),
  [AttrType.AGGREGATOR]: row('AGGREGATOR', 'aggregator', OPTIONAL_TRANSITIVE, DISCARD),
  [AttrType.COMMUNITIES]: row('COMMUNITIES', 'communities', OPTIONAL_TRANSITIVE, WITHDRAW),
  [AttrType.ORIGINATOR_ID]: row('ORIGINATOR_ID', 'originatorId', OPTIONAL, WITHDRAW, { fromEbgp: DISCARD }),
  [AttrType.CLUSTER_LIST]: row('CLUSTER_LIST', 'clusterList', OPTIONAL, WITHDRAW, { fromEbgp: DISCARD }),
  // RFC 7606 §7.11, §3(g): the NLRI cannot be trusted, so the session goes (no AFI/SAFI disable here).
  [AttrType.MP_REACH]: row('MP_REACH_NLRI', 'mpReach', OPTIONAL, 'reset', { duplicate: 'reset' }),
  [AttrType.MP_UNREACH]: row('MP_UNREACH_NLRI', 'mpUnreach', OPTIONAL, 'reset', { duplicate: 'reset' }),
  [AttrType.EXT_COMMUNITIES]: row('EXTENDED_COMMUNITIES', 'extendedCommunities', OPTIONAL_TRANSITIVE, WITHDRAW),
  // RFC 6793 §6: a malformed AS4_PATH / AS4_AGGREGATOR is ignored, as if it were not there.
  [AttrType.AS4_PATH]: row('AS4_PATH', undefined, OPTIONAL_TRANSITIVE, DISCARD),
  [AttrType.AS4_AGGREGATOR]: row('AS4_AGGREGATOR', undefined, OPTIONAL_TRANSITIVE, DISCARD),
  [AttrType.LARGE_COMMUNITIES]: row('LARGE_COMMUNITY', 'largeCommunities', OPTIONAL_TRANSITIVE, WITHDRAW),
};

/** Unknown optional attributes: kept when transitive, ignored otherwise (RFC 4271 §5). */
export const UNKNOWN_OPTIONAL: Pick<AttributeRule, 'malformed' | 'duplicate'> = { malformed: 'attribute-discard', duplicate: 'attribute-discard' };

/** An unrecognized well-known attribute ends the session (RFC 4271 §6.3, unchanged by RFC 7606). */
export const UNKNOWN_WELL_KNOWN_ACTION: ErrorAction = 'reset';

export function attributeName(code: number): string {
  return ATTRIBUTE_RULES[code]?.name ?? `attribute ${code}`;
}

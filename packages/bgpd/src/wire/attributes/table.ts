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

export const ATTRIBUTE_RULES: Readonly<Record<number, AttributeRule>> = {
  [AttrType.ORIGIN]: { name: 'ORIGIN', field: 'origin', flags: WELL_KNOWN, malformed: 'treat-as-withdraw', duplicate: 'attribute-discard', mandatory: 'always' },
  [AttrType.AS_PATH]: { name: 'AS_PATH', field: 'asPath', flags: WELL_KNOWN, malformed: 'treat-as-withdraw', duplicate: 'attribute-discard', mandatory: 'always' },
  [AttrType.NEXT_HOP]: { name: 'NEXT_HOP', field: 'nextHop', flags: WELL_KNOWN, malformed: 'treat-as-withdraw', duplicate: 'attribute-discard', mandatory: 'with-ipv4-nlri' },
  [AttrType.MED]: { name: 'MULTI_EXIT_DISC', field: 'med', flags: OPTIONAL, malformed: 'treat-as-withdraw', duplicate: 'attribute-discard' },
  [AttrType.LOCAL_PREF]: { name: 'LOCAL_PREF', field: 'localPref', flags: WELL_KNOWN, malformed: 'treat-as-withdraw', duplicate: 'attribute-discard', fromEbgp: 'attribute-discard', mandatory: 'ibgp' },
  [AttrType.ATOMIC_AGGREGATE]: { name: 'ATOMIC_AGGREGATE', field: 'atomicAggregate', flags: WELL_KNOWN, malformed: 'attribute-discard', duplicate: 'attribute-discard' },
  [AttrType.AGGREGATOR]: { name: 'AGGREGATOR', field: 'aggregator', flags: OPTIONAL_TRANSITIVE, malformed: 'attribute-discard', duplicate: 'attribute-discard' },
  [AttrType.COMMUNITIES]: { name: 'COMMUNITIES', field: 'communities', flags: OPTIONAL_TRANSITIVE, malformed: 'treat-as-withdraw', duplicate: 'attribute-discard' },
  [AttrType.ORIGINATOR_ID]: { name: 'ORIGINATOR_ID', field: 'originatorId', flags: OPTIONAL, malformed: 'treat-as-withdraw', duplicate: 'attribute-discard', fromEbgp: 'attribute-discard' },
  [AttrType.CLUSTER_LIST]: { name: 'CLUSTER_LIST', field: 'clusterList', flags: OPTIONAL, malformed: 'treat-as-withdraw', duplicate: 'attribute-discard', fromEbgp: 'attribute-discard' },
  // RFC 7606 §7.11, §3(g): the NLRI cannot be trusted, so the session goes (no AFI/SAFI disable here).
  [AttrType.MP_REACH]: { name: 'MP_REACH_NLRI', field: 'mpReach', flags: OPTIONAL, malformed: 'reset', duplicate: 'reset' },
  [AttrType.MP_UNREACH]: { name: 'MP_UNREACH_NLRI', field: 'mpUnreach', flags: OPTIONAL, malformed: 'reset', duplicate: 'reset' },
  [AttrType.EXT_COMMUNITIES]: { name: 'EXTENDED_COMMUNITIES', field: 'extendedCommunities', flags: OPTIONAL_TRANSITIVE, malformed: 'treat-as-withdraw', duplicate: 'attribute-discard' },
  // RFC 6793 §6: a malformed AS4_PATH / AS4_AGGREGATOR is ignored, as if it were not there.
  [AttrType.AS4_PATH]: { name: 'AS4_PATH', flags: OPTIONAL_TRANSITIVE, malformed: 'attribute-discard', duplicate: 'attribute-discard' },
  [AttrType.AS4_AGGREGATOR]: { name: 'AS4_AGGREGATOR', flags: OPTIONAL_TRANSITIVE, malformed: 'attribute-discard', duplicate: 'attribute-discard' },
  [AttrType.LARGE_COMMUNITIES]: { name: 'LARGE_COMMUNITY', field: 'largeCommunities', flags: OPTIONAL_TRANSITIVE, malformed: 'treat-as-withdraw', duplicate: 'attribute-discard' },
};

/** Unknown optional attributes: kept when transitive, ignored otherwise (RFC 4271 §5). */
export const UNKNOWN_OPTIONAL: Pick<AttributeRule, 'malformed' | 'duplicate'> = { malformed: 'attribute-discard', duplicate: 'attribute-discard' };

/** An unrecognized well-known attribute ends the session (RFC 4271 §6.3, unchanged by RFC 7606). */
export const UNKNOWN_WELL_KNOWN_ACTION: ErrorAction = 'reset';

export function attributeName(code: number): string {
  return ATTRIBUTE_RULES[code]?.name ?? `attribute ${code}`;
}

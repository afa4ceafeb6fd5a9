// Path attributes as plain data. A decoded UPDATE's attributes never refer to the frame
// they came from, so they can be kept (and interned) as they are.

import type { Prefix } from '../nlri.js';

export const AttrType = {
  ORIGIN: 1, AS_PATH: 2, NEXT_HOP: 3, MED: 4, LOCAL_PREF: 5, ATOMIC_AGGREGATE: 6, AGGREGATOR: 7,
  COMMUNITIES: 8, ORIGINATOR_ID: 9, CLUSTER_LIST: 10, MP_REACH: 14, MP_UNREACH: 15, EXT_COMMUNITIES: 16,
  AS4_PATH: 17, AS4_AGGREGATOR: 18, LARGE_COMMUNITIES: 32,
} as const;

/** Attribute flag bits (RFC 4271 §4.3); the low four bits are unused and ignored. */
export const Flag = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED: 0x10 } as const;

export const Origin = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;
export type OriginValue = 0 | 1 | 2;

export const SegmentType = { AS_SET: 1, AS_SEQUENCE: 2, AS_CONFED_SEQUENCE: 3, AS_CONFED_SET: 4 } as const;
export type AsPathSegment = { type: 1 | 2 | 3 | 4; asns: number[] };

export interface Aggregator {
  asn: number;
  address: string;
}

export interface MpReach {
  afi: number;
  safi: number;
  /**
   * IPv4 or IPv6 next hops: for IPv6 the global address, then the link-local one when 32
   * bytes were sent (RFC 2545 §3). Empty for families this codec does not parse.
   */
  nextHops: string[];
  /** Announced prefixes; empty for families other than IPv4/IPv6 unicast (not parsed). */
  nlri: Prefix[];
}

export interface MpUnreach {
  afi: number;
  safi: number;
  withdrawn: Prefix[];
}

/** An attribute this codec does not know, kept when it is optional transitive (to pass on). */
export interface UnknownAttribute {
  flags: number;
  code: number;
  value: Uint8Array;
}

export interface PathAttributes {
  origin?: OriginValue;
  asPath?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: Aggregator;
  /** RFC 1997 communities as 32-bit values (high 16 bits the AS). */
  communities?: number[];
  originatorId?: string;
  clusterList?: string[];
  /** RFC 4360 extended communities as raw 8-byte values. */
  extendedCommunities?: Uint8Array[];
  /** RFC 8092 [global administrator, local data 1, local data 2]. */
  largeCommunities?: [number, number, number][];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  unknown?: UnknownAttribute[];
}

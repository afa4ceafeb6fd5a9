// Communities written as text in the config: RFC 1997 `AS:value` (16 bits each), RFC 8092
// `global:local1:local2` (32 bits each), and the well-known names (RFC 1997, RFC 3765, RFC 7999,
// RFC 8326). Pure parsing and formatting.

export type LargeCommunity = [number, number, number];

export interface CommunitySet {
  communities: number[];
  largeCommunities: LargeCommunity[];
}

export const WELL_KNOWN_COMMUNITIES: Readonly<Record<string, number>> = {
  'graceful-shutdown': 0xffff0000,
  'accept-own': 0xffff0001,
  'blackhole': 0xffff029a,
  'no-export': 0xffffff01,
  'no-advertise': 0xffffff02,
  'no-export-subconfed': 0xffffff03,
  'no-peer': 0xffffff04,
};

export type ParsedCommunity = { kind: 'standard'; value: number } | { kind: 'large'; value: LargeCommunity };

/** Parses one community; returns an error text (naming what is wrong) instead of throwing. */
export function parseCommunity(text: unknown): ParsedCommunity | string {
  if (typeof text !== 'string') return 'must be a string such as 65000:100, 65000:1:2 or no-export';
  const named = WELL_KNOWN_COMMUNITIES[text.toLowerCase()];
  if (named !== undefined) return { kind: 'standard', value: named };
  const parts = text.split(':');
  if ((parts.length !== 2 && parts.length !== 3) || parts.some((p) => !/^\d{1,10}$/.test(p))) {
    return `must be AS:value (RFC 1997), global:local1:local2 (RFC 8092) or one of ${Object.keys(WELL_KNOWN_COMMUNITIES).join(', ')}`;
  }
  const n = parts.map(Number);
  if (n.length === 2) {
    if (n[0]! > 0xffff || n[1]! > 0xffff) return 'each part of a standard community must be 0-65535 (use three parts for a large community)';
    return { kind: 'standard', value: ((n[0]! << 16) | n[1]!) >>> 0 };
  }
  if (n.some((x) => x > 0xffffffff)) return 'each part of a large community must be 0-4294967295';
  return { kind: 'large', value: [n[0]!, n[1]!, n[2]!] };
}

/** Parses a list; `fail(index, value, reason)` reports the first bad entry. Duplicates are dropped. */
export function parseCommunities(list: readonly unknown[], fail: (index: number, value: unknown, reason: string) => never): CommunitySet {
  const out: CommunitySet = { communities: [], largeCommunities: [] };
  list.forEach((v, i) => {
    const c = parseCommunity(v);
    if (typeof c === 'string') fail(i, v, c);
    if (c.kind === 'standard') {
      if (!out.communities.includes(c.value)) out.communities.push(c.value);
    } else if (!out.largeCommunities.some((l) => l.every((x, j) => x === c.value[j]))) {
      out.largeCommunities.push(c.value);
    }
  });
  return out;
}

export function formatCommunity(c: number): string {
  const name = Object.entries(WELL_KNOWN_COMMUNITIES).find(([, v]) => v === c)?.[0];
  return name ?? `${c >>> 16}:${c & 0xffff}`;
}

/**
 * RFC 1997: may a learned route with these communities not go to this peer? NO_ADVERTISE: to no
 * peer; NO_EXPORT and NO_EXPORT_SUBCONFED (no confederations here): to no eBGP peer.
 */
export function wellKnownStops(communities: readonly number[] | undefined, ibgp: boolean): boolean {
  if (!communities?.length) return false;
  if (communities.includes(WELL_KNOWN_COMMUNITIES['no-advertise']!)) return true;
  return !ibgp && (communities.includes(WELL_KNOWN_COMMUNITIES['no-export']!) || communities.includes(WELL_KNOWN_COMMUNITIES['no-export-subconfed']!));
}

/** Does a route carrying these communities carry `c`? */
export function hasCommunity(c: ParsedCommunity, communities: readonly number[] | undefined, large: readonly LargeCommunity[] | undefined): boolean {
  if (c.kind === 'standard') return !!communities?.includes(c.value);
  return !!large?.some((l) => l[0] === c.value[0] && l[1] === c.value[1] && l[2] === c.value[2]);
}

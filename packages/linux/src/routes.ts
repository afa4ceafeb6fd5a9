// Routes as plain data, their iproute2 argv, and parsing of `ip -json -N route show`.

import { canonicalCidr, parseCidrOrIpLoose } from './cidr.js';

export type RouteType = 'unicast' | 'blackhole' | 'unreachable' | 'prohibit';

export interface NextHop {
  via?: string;
  dev?: string;
  weight?: number;
  /** Treat the gateway as directly reachable on `dev` even without a covering route. */
  onlink?: boolean;
}

export interface Route {
  /** Destination CIDR in canonical form (10.0.0.0/24, fd00::/64, 0.0.0.0/0). */
  dst: string;
  type?: RouteType;
  /** Empty for blackhole-style routes; more than one makes an ECMP (multipath) route. */
  nexthops: NextHop[];
  protocol?: number;
  scope?: 'global' | 'link' | 'host' | number;
  table?: number;
  metric?: number;
  src?: string;
}

export function normaliseDst(dst: string, family: 4 | 6): string {
  if (dst === 'default') return family === 4 ? '0.0.0.0/0' : '::/0';
  const c = parseCidrOrIpLoose(dst);
  if (!c) throw new Error(`not a route destination: ${dst}`);
  return canonicalCidr(c);
}

/** The kernel's metric when none is given: 0 for IPv4, 1024 for IPv6. */
export function effectiveMetric(r: Route): number {
  return r.metric ?? (r.dst.includes(':') ? 1024 : 0);
}

/** A stable identity for comparing desired and kernel routes (the kernel keys them the same way). */
export function routeKey(r: Route): string {
  return `${r.table ?? 254}|${r.dst}|${effectiveMetric(r)}`;
}

function hopsKey(r: Route): string {
  return [...r.nexthops]
    .map((h) => `${h.via ?? ''}@${h.dev ?? ''}w${r.nexthops.length > 1 ? h.weight ?? 1 : ''}${h.onlink ? 'o' : ''}`)
    .sort()
    .join(',');
}

/**
 * Is the kernel route `have` already what `want` asks for? Fields `want` leaves open (scope,
 * src) are the kernel's choice and do not count as a difference. IPv6 routes have no scope in
 * the kernel (it accepts `scope link` and forgets it), so scope counts for IPv4 only.
 */
export function routeMatches(have: Route, want: Route): boolean {
  if (routeKey(have) !== routeKey(want)) return false;
  if ((have.type ?? 'unicast') !== (want.type ?? 'unicast')) return false;
  if (hopsKey(have) !== hopsKey(want)) return false;
  if (want.scope !== undefined && !want.dst.includes(':') && scopeName(have.scope) !== scopeName(want.scope)) return false;
  if (want.src !== undefined && have.src !== want.src) return false;
  return true;
}

function scopeName(s: Route['scope']): string | undefined {
  if (s === undefined) return undefined;
  if (typeof s === 'number') return ({ 0: 'global', 253: 'link', 254: 'host' } as Record<number, string>)[s] ?? String(s);
  return s;
}

function hopArgs(h: NextHop): string[] {
  const a: string[] = [];
  if (h.via) a.push('via', h.via);
  if (h.dev) a.push('dev', h.dev);
  if (h.onlink) a.push('onlink');
  return a;
}

/** `ip route replace ...` argv (without the leading "ip"). */
export function replaceArgs(r: Route): string[] {
  const a = ['route', 'replace'];
  if (r.type && r.type !== 'unicast') a.push(r.type);
  a.push(r.dst);
  if (r.table !== undefined) a.push('table', String(r.table));
  if (r.protocol !== undefined) a.push('proto', String(r.protocol));
  if (r.metric !== undefined) a.push('metric', String(r.metric));
  const scope = scopeName(r.scope);
  if (scope !== undefined) a.push('scope', scope);
  if (r.src) a.push('src', r.src);
  if (r.nexthops.length === 1) a.push(...hopArgs(r.nexthops[0]!));
  else for (const h of r.nexthops) a.push('nexthop', ...hopArgs(h), 'weight', String(h.weight ?? 1));
  return a;
}

export function deleteArgs(r: Route): string[] {
  const a = ['route', 'del'];
  if (r.type && r.type !== 'unicast') a.push(r.type);
  a.push(r.dst);
  if (r.table !== undefined) a.push('table', String(r.table));
  if (r.protocol !== undefined) a.push('proto', String(r.protocol));
  if (r.metric !== undefined) a.push('metric', String(r.metric));
  return a;
}

interface IpJsonHop {
  gateway?: string;
  dev?: string;
  weight?: number;
  flags?: string[];
}

export interface IpJsonRoute extends IpJsonHop {
  type?: string;
  dst: string;
  protocol?: string | number;
  scope?: string | number;
  table?: string | number;
  metric?: number;
  prefsrc?: string;
  nexthops?: IpJsonHop[];
}

function hopFromJson(h: IpJsonHop): NextHop {
  return {
    ...(h.gateway ? { via: h.gateway } : {}),
    ...(h.dev ? { dev: h.dev } : {}),
    ...(h.weight !== undefined ? { weight: h.weight } : {}),
    ...(h.flags?.includes('onlink') ? { onlink: true } : {}),
  };
}

const TABLE_NAMES: Record<string, number> = { main: 254, local: 255, default: 253 };

const TYPE_NUMBERS: Record<string, RouteType> = { '1': 'unicast', '6': 'blackhole', '7': 'unreachable', '8': 'prohibit' };

/**
 * A route from `ip -json route show`. When the listing was filtered by table or protocol, ip
 * leaves those fields out, so the caller passes what it filtered on.
 */
export function routeFromJson(j: IpJsonRoute, family: 4 | 6, table: number, filteredProtocol?: number): Route {
  const type = (TYPE_NUMBERS[String(j.type)] ?? j.type ?? 'unicast') as RouteType;
  const nexthops = j.nexthops ? j.nexthops.map(hopFromJson) : j.gateway || j.dev ? [hopFromJson(j)] : [];
  const tbl = j.table === undefined ? table : typeof j.table === 'number' ? j.table : TABLE_NAMES[j.table] ?? Number(j.table);
  const protocol = j.protocol === undefined ? filteredProtocol : Number(j.protocol);
  const scope = j.scope === undefined ? undefined : typeof j.scope === 'number' ? j.scope : Number.isNaN(Number(j.scope)) ? (j.scope as 'link') : Number(j.scope);
  return {
    dst: normaliseDst(j.dst, family),
    ...(type !== 'unicast' ? { type } : {}),
    nexthops,
    ...(protocol !== undefined && !Number.isNaN(protocol) ? { protocol } : {}),
    ...(scope !== undefined ? { scope } : {}),
    table: tbl,
    ...(j.metric !== undefined ? { metric: j.metric } : {}),
    ...(j.prefsrc ? { src: j.prefsrc } : {}),
  };
}

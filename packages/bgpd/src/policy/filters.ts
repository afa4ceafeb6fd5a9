// Route filters modelled on Calico's BGPFilter: named filters, each with rule lists for
// export/import and IPv4/IPv6; a peer applies its filters in order and the first rule that
// matches decides (Accept or Reject). No matching rule: the default behaviour applies
// (import: accept; export: what bgpd would send anyway). Parsing and matching only (pure).

import { isIP } from 'node:net';
import { parseCidrOrIpLoose } from '@tabby/linux';
import { hasCommunity, parseCommunity, type LargeCommunity, type ParsedCommunity } from './communities.js';

export type FilterAction = 'Accept' | 'Reject';
export type MatchOperator = 'Equal' | 'NotEqual' | 'In' | 'NotIn';
export type FilterDirection = 'import' | 'export';

export interface FilterRule {
  action: FilterAction;
  /** Prefix condition (with `matchOperator`, default `In`). */
  cidr?: string;
  matchOperator: MatchOperator;
  /** For In/NotIn: the route's prefix length must lie in [min, max] (defaults: the cidr's length, 32/128). */
  prefixLength?: { min?: number; max?: number };
  /** `RemotePeers`: only routes learned from BGP peers (not those we originate). */
  source?: 'RemotePeers';
  /**
   * Interface glob of routes learned from an interface. bgpd exports no interface routes, so a
   * rule with `interface` never matches; it is accepted so that Calico filters load unchanged.
   */
  interface?: string;
  /** Only towards/from peers of this type (iBGP: same AS). */
  peerType?: 'eBGP' | 'iBGP';
  /** The route must carry every one of these communities. */
  communities?: string[];
}

export interface FilterSpec {
  exportV4: FilterRule[];
  importV4: FilterRule[];
  exportV6: FilterRule[];
  importV6: FilterRule[];
}

export type FilterFail = (field: string, value: unknown, reason: string) => never;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const RULE_FIELDS = ['action', 'cidr', 'matchOperator', 'prefixLength', 'source', 'interface', 'peerType', 'communities'] as const;
const LISTS = ['exportV4', 'importV4', 'exportV6', 'importV6'] as const;

function parseRule(v: unknown, path: string, v6: boolean, fail: FilterFail): FilterRule {
  if (!isObj(v)) fail(path, v, 'must be a mapping {action, cidr, matchOperator, prefixLength, source, interface, peerType, communities}');
  for (const k of Object.keys(v)) if (!(RULE_FIELDS as readonly string[]).includes(k)) fail(`${path}.${k}`, v[k], `unknown field; expected one of ${RULE_FIELDS.join(', ')}`);
  const action = v['action'];
  if (action !== 'Accept' && action !== 'Reject') fail(`${path}.action`, action, 'must be Accept or Reject');
  const op = v['matchOperator'] ?? 'In';
  if (op !== 'Equal' && op !== 'NotEqual' && op !== 'In' && op !== 'NotIn') fail(`${path}.matchOperator`, op, 'must be Equal, NotEqual, In or NotIn');
  const rule: FilterRule = { action, matchOperator: op };
  const bits = v6 ? 128 : 32;
  let cidrLen = 0;
  if (v['cidr'] !== undefined) {
    const c = v['cidr'];
    const m = typeof c === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(c) : null;
    const parsed = m && isIP(m[1]!) ? parseCidrOrIpLoose(c as string) : undefined;
    if (!parsed) fail(`${path}.cidr`, c, 'must be a prefix such as 10.0.0.0/8');
    if ((parsed.family === 6) !== v6) fail(`${path}.cidr`, c, `must be an IPv${v6 ? 6 : 4} prefix in this list`);
    rule.cidr = c as string;
    cidrLen = parsed.len;
  } else if (v['matchOperator'] !== undefined) {
    fail(`${path}.matchOperator`, op, 'needs cidr');
  }
  if (v['prefixLength'] !== undefined) {
    const pl = v['prefixLength'];
    if (!isObj(pl)) fail(`${path}.prefixLength`, pl, 'must be a mapping {min, max}');
    for (const k of Object.keys(pl)) if (k !== 'min' && k !== 'max') fail(`${path}.prefixLength.${k}`, pl[k], 'unknown field; expected min or max');
    const num = (x: unknown, f: string) => {
      if (x === undefined) return undefined;
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > bits) fail(`${path}.prefixLength.${f}`, x, `must be an integer from 0 to ${bits}`);
      return x;
    };
    const min = num(pl['min'], 'min');
    const max = num(pl['max'], 'max');
    if (min !== undefined && max !== undefined && min > max) fail(`${path}.prefixLength`, pl, 'min must not exceed max');
    if (rule.cidr && min !== undefined && min < cidrLen) fail(`${path}.prefixLength.min`, min, `must be at least the cidr's length (${cidrLen})`);
    rule.prefixLength = { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
  }
  if (v['source'] !== undefined) {
    if (v['source'] !== 'RemotePeers') fail(`${path}.source`, v['source'], 'must be RemotePeers');
    rule.source = 'RemotePeers';
  }
  if (v['interface'] !== undefined) {
    if (typeof v['interface'] !== 'string' || v['interface'] === '') fail(`${path}.interface`, v['interface'], 'must be an interface name or glob');
    rule.interface = v['interface'];
  }
  if (v['peerType'] !== undefined) {
    if (v['peerType'] !== 'eBGP' && v['peerType'] !== 'iBGP') fail(`${path}.peerType`, v['peerType'], 'must be eBGP or iBGP');
    rule.peerType = v['peerType'];
  }
  if (v['communities'] !== undefined) {
    const cs = v['communities'];
    if (!Array.isArray(cs) || !cs.length) fail(`${path}.communities`, cs, 'must be a non-empty list of communities');
    cs.forEach((c, i) => {
      const p = parseCommunity(c);
      if (typeof p === 'string') fail(`${path}.communities[${i}]`, c, p);
    });
    rule.communities = cs as string[];
  }
  return rule;
}

/** Parses the top-level `filters` mapping (name -> lists of rules). */
export function parseFilters(v: unknown, path: string, fail: FilterFail): Record<string, FilterSpec> {
  if (v === undefined) return {};
  if (!isObj(v)) fail(path, v, 'must be a mapping of filter name to {exportV4, importV4, exportV6, importV6}');
  const out: Record<string, FilterSpec> = {};
  for (const [name, spec] of Object.entries(v)) {
    const p = `${path}.${name}`;
    if (!isObj(spec)) fail(p, spec, 'must be a mapping {exportV4, importV4, exportV6, importV6}');
    for (const k of Object.keys(spec)) if (!(LISTS as readonly string[]).includes(k)) fail(`${p}.${k}`, spec[k], `unknown field; expected one of ${LISTS.join(', ')}`);
    const list = (k: (typeof LISTS)[number]) => {
      const l = spec[k] ?? [];
      if (!Array.isArray(l)) fail(`${p}.${k}`, l, 'must be a list of rules');
      return l.map((r, i) => parseRule(r, `${p}.${k}[${i}]`, k.endsWith('V6'), fail));
    };
    out[name] = { exportV4: list('exportV4'), importV4: list('importV4'), exportV6: list('exportV6'), importV6: list('importV6') };
  }
  return out;
}

/** What a rule looks at. */
export interface RouteFacts {
  prefix: string;
  /** Learned from a BGP peer (false: originated by us). */
  remote: boolean;
  /** The peer the route goes to (export) or comes from (import) is iBGP. */
  ibgp: boolean;
  communities?: readonly number[];
  largeCommunities?: readonly LargeCommunity[];
}

interface Compiled {
  rule: FilterRule;
  net?: { addr: bigint; len: number; bits: number };
  min: number;
  max: number;
  communities: ParsedCommunity[];
}

const compiledCache = new WeakMap<FilterRule, Compiled>();

function compile(rule: FilterRule): Compiled {
  let c = compiledCache.get(rule);
  if (c) return c;
  const p = rule.cidr ? parseCidrOrIpLoose(rule.cidr) : undefined;
  const bits = p?.family === 6 ? 128 : 32;
  const net = p ? { addr: p.addr, len: p.len, bits } : undefined;
  c = {
    rule,
    ...(net ? { net } : {}),
    min: rule.prefixLength?.min ?? net?.len ?? 0,
    max: rule.prefixLength?.max ?? bits,
    communities: (rule.communities ?? []).map((x) => parseCommunity(x) as ParsedCommunity),
  };
  compiledCache.set(rule, c);
  return c;
}

/** Does `prefix` lie inside `net` (equal included)? */
function inside(net: { addr: bigint; len: number; bits: number }, addr: bigint, len: number): boolean {
  if (len < net.len) return false;
  const shift = BigInt(net.bits - net.len);
  return addr >> shift === net.addr >> shift;
}

export function ruleMatches(rule: FilterRule, r: RouteFacts): boolean {
  const c = compile(rule);
  if (rule.source === 'RemotePeers' && !r.remote) return false;
  if (rule.interface !== undefined) return false;
  if (rule.peerType && (rule.peerType === 'iBGP') !== r.ibgp) return false;
  if (c.communities.some((x) => !hasCommunity(x, r.communities, r.largeCommunities))) return false;
  if (c.net) {
    const p = parseCidrOrIpLoose(r.prefix);
    if (!p || (p.family === 6 ? 128 : 32) !== c.net.bits) return false;
    const equal = p.len === c.net.len && p.addr === c.net.addr;
    switch (rule.matchOperator) {
      case 'Equal': return equal;
      case 'NotEqual': return !equal;
      case 'In': return inside(c.net, p.addr, p.len) && p.len >= c.min && p.len <= c.max;
      case 'NotIn': return !(inside(c.net, p.addr, p.len) && p.len >= c.min && p.len <= c.max);
    }
  }
  return true;
}

/**
 * The decision of `names` (in order) for a route: the action of the first matching rule of the
 * list for `direction` and the route's family, or undefined when no rule matches.
 */
export function evaluateFilters(filters: Readonly<Record<string, FilterSpec>>, names: readonly string[], direction: FilterDirection, r: RouteFacts): FilterAction | undefined {
  const v6 = r.prefix.includes(':');
  const key = `${direction}${v6 ? 'V6' : 'V4'}` as keyof FilterSpec;
  for (const name of names) {
    const spec = filters[name];
    if (!spec) continue;
    for (const rule of spec[key]) if (ruleMatches(rule, r)) return rule.action;
  }
  return undefined;
}

/** The rules a peer's filters apply in one direction (to tell whether a reload changed them). */
export function effectiveRules(filters: Readonly<Record<string, FilterSpec>>, names: readonly string[], direction: FilterDirection): string {
  return JSON.stringify(names.map((n) => {
    const s = filters[n];
    return s ? (direction === 'import' ? [s.importV4, s.importV6] : [s.exportV4, s.exportV6]) : null;
  }));
}

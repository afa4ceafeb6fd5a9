// One v3 policy rule -> iptables rules for a policy or profile chain, for one IP family
// (iptables for IPv4, ip6tables for IPv6).
//
// A v3 rule can list several alternatives (nets, ports, named ports) on each side, but one
// iptables rule holds one source CIDR, one destination CIDR and one multiport of at most 15
// slots. When a rule needs more, it is rendered as "match blocks" over two scratch mark bits,
// as Felix does: scratch0 = "every block so far matched", scratch1 = "this block matched";
// the final rule requires scratch0 and carries the action, so each packet gets the action at
// most once (a Log rule never logs twice).

import {
  formatIP, networkOf, parsePort, parseCidrOrIp, protocolNumber, type EntityRule, type Rule as ApiRule, type RulePort, type Selector,
} from '@tabby/api';
import type { Match, MarkBits, PortRange, Rule } from './model.js';
import type { IpVersion } from './names.js';
import { entitySelectors } from './selectors.js';

export type NamedPortProtocol = 'tcp' | 'udp' | 'sctp' | 'any';

/** Hands out kernel set names for the selectors and named ports rules refer to. */
export interface SetResolver {
  selectorSet(sel: Selector): string;
  namedPortSet(sel: Selector, protocol: NamedPortProtocol, port: string): string;
}

export interface RuleRenderContext {
  marks: MarkBits;
  sets: SetResolver;
  /** Prefix of LOG rules (Calico's LogPrefix, default `calico-packet`). */
  logPrefix: string;
  /** Selector used for named ports on a side without a selector: all(). */
  allSelector: Selector;
  /** The family rendered (default 4): other-family rules are skipped, ICMP becomes ICMPv6. */
  ipVersion?: IpVersion;
}

const MULTIPORT_SLOTS = 15;

const PROTOCOL_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 132: 'sctp', 136: 'udplite', 58: 'ipv6-icmp' };

function protocolToken(p: string | number): string {
  const n = protocolNumber(p);
  if (n === undefined) throw new Error(`invalid protocol ${JSON.stringify(p)}`);
  return PROTOCOL_NAMES[n] ?? `${n}`;
}

function namedPortProtocol(p: string | number | undefined): NamedPortProtocol {
  if (p === undefined) return 'any';
  const n = protocolNumber(p);
  return n === 6 ? 'tcp' : n === 17 ? 'udp' : n === 132 ? 'sctp' : 'any';
}

/** Splits port ranges into multiport-sized chunks (a range uses two of the 15 slots). */
export function chunkPorts(ranges: readonly PortRange[]): PortRange[][] {
  const chunks: PortRange[][] = [];
  let cur: PortRange[] = [];
  let used = 0;
  for (const r of ranges) {
    const cost = r.min === r.max ? 1 : 2;
    if (used + cost > MULTIPORT_SLOTS) { chunks.push(cur); cur = []; used = 0; }
    cur.push(r);
    used += cost;
  }
  if (cur.length) chunks.push(cur);
  return chunks;
}

interface SplitPorts { ranges: PortRange[]; named: string[] }

function splitPorts(ports: readonly RulePort[] | undefined): SplitPorts {
  const out: SplitPorts = { ranges: [], named: [] };
  for (const p of ports ?? []) {
    const r = parsePort(p);
    if (!r.ok) throw new Error(`invalid port ${JSON.stringify(p)}: ${r.reason}`);
    if (r.port.kind === 'range') out.ranges.push({ min: r.port.min, max: r.port.max });
    else out.named.push(r.port.name);
  }
  return out;
}

/**
 * Does the rule apply to this family at all? As Calico: a rule with the other `ipVersion`, an
 * ICMP rule for IPv6 or an ICMPv6 rule for IPv4, and a rule where some side's nets (or notNets)
 * are all of the other family (it can never match this family) are skipped.
 */
function appliesToVersion(rule: ApiRule, version: IpVersion): boolean {
  if (rule.ipVersion !== undefined && rule.ipVersion !== version) return false;
  for (const p of [rule.protocol, rule.notProtocol]) {
    if (p === undefined) continue;
    const n = protocolNumber(p);
    if ((n === 58 && version === 4) || (n === 1 && version === 6)) return false;
  }
  for (const side of [rule.source, rule.destination]) {
    for (const list of [side?.nets, side?.notNets]) {
      if (list?.length && familyNets(list, version).length === 0) return false;
    }
  }
  return true;
}

/** The CIDRs of one family (others, and unparsable ones for the other family, dropped). */
function familyNets(nets: readonly string[], version: IpVersion): string[] {
  // Unparsable CIDRs are kept so normaliseCidr reports them.
  return nets.filter((n) => { const c = parseCidrOrIp(n); return !c || c.version === version; });
}

/** Canonical masked CIDR text for iptables and ipsets (host bits cleared, prefix explicit). */
export function normaliseCidr(s: string): string {
  const c = parseCidrOrIp(s);
  if (!c) throw new Error(`invalid CIDR ${JSON.stringify(s)}`);
  return `${formatIP(c.version, networkOf(c))}/${c.prefixLen}`;
}

/**
 * Renders one API rule. `namespace` is the owning policy's namespace ('' for global policies
 * and profiles). Returns [] for rules the IPv4 dataplane skips (IPv6-only rules, service
 * matches Felix cannot resolve without Kubernetes endpoints).
 */
export function renderApiRule(rule: ApiRule, namespace: string, ctx: RuleRenderContext): Rule[] {
  const version = ctx.ipVersion ?? 4;
  if (!appliesToVersion(rule, version)) return [];
  if (rule.source?.services || rule.destination?.services) return [];

  const fixed: Match[] = [];
  /** Groups of alternatives: the rule matches when, in every group, some alternative matches. */
  const groups: Match[][][] = [];
  /** Negated CIDRs beyond the first on a side: any hit vetoes the rule. */
  const vetoes: Match[] = [];

  if (rule.protocol !== undefined) fixed.push({ kind: 'protocol', protocol: protocolToken(rule.protocol) });
  if (rule.notProtocol !== undefined) fixed.push({ kind: 'protocol', protocol: protocolToken(rule.notProtocol), negate: true });
  if (rule.icmp?.type !== undefined) fixed.push(icmpMatch(rule.icmp.type, rule.icmp.code, false, version));
  if (rule.notICMP?.type !== undefined) fixed.push(icmpMatch(rule.notICMP.type, rule.notICMP.code, true, version));

  const proto = namedPortProtocol(rule.protocol);
  const side = (er: EntityRule | undefined, dir: 'src' | 'dst'): void => {
    if (!er) return;
    const sels = entitySelectors(er, namespace);
    if (sels.selector) fixed.push({ kind: 'ipset', set: ctx.sets.selectorSet(sels.selector), flags: dir });
    if (sels.notSelector) fixed.push({ kind: 'ipset', set: ctx.sets.selectorSet(sels.notSelector), flags: dir, negate: true });

    const nets = familyNets(er.nets ?? [], version).map(normaliseCidr);
    if (nets.length === 1) fixed.push({ kind: 'net', dir, cidr: nets[0]! });
    else if (nets.length > 1) groups.push(nets.map((cidr) => [{ kind: 'net', dir, cidr }]));
    const notNets = familyNets(er.notNets ?? [], version).map(normaliseCidr);
    // One rule holds one -s/-d: a negated CIDR can be inlined only when no positive one is.
    notNets.forEach((cidr, i) => {
      if (i === 0 && nets.length !== 1) fixed.push({ kind: 'net', dir, cidr, negate: true });
      else vetoes.push({ kind: 'net', dir, cidr });
    });

    // Named ports belong to the endpoints this side selects (all endpoints when it selects none).
    const portSel = sels.selector ?? ctx.allSelector;
    const flags = `${dir},${dir}`;
    const ports = splitPorts(er.ports);
    const alts: Match[][] = chunkPorts(ports.ranges).map((chunk) => [{ kind: 'ports', dir, ports: chunk }]);
    for (const name of ports.named) alts.push([{ kind: 'ipset', set: ctx.sets.namedPortSet(portSel, proto, name), flags }]);
    if (alts.length === 1) fixed.push(...alts[0]!);
    else if (alts.length > 1) groups.push(alts);

    const notPorts = splitPorts(er.notPorts);
    for (const chunk of chunkPorts(notPorts.ranges)) fixed.push({ kind: 'ports', dir, ports: chunk, negate: true });
    for (const name of notPorts.named) {
      fixed.push({ kind: 'ipset', set: ctx.sets.namedPortSet(portSel, proto, name), flags, negate: true });
    }
  };
  side(rule.source, 'src');
  side(rule.destination, 'dst');

  const out: Rule[] = [];
  let finalMatch = fixed;
  if (groups.length || vetoes.length) {
    const { scratch0: s0, scratch1: s1 } = ctx.marks;
    out.push({ match: [], action: { kind: 'set-mark', value: s0, mask: s0 | s1 } });
    for (const group of groups) {
      for (const alt of group) {
        out.push({ match: [{ kind: 'mark', value: s0, mask: s0 }, ...alt], action: { kind: 'set-mark', value: s1, mask: s1 } });
      }
      out.push({ match: [{ kind: 'mark', value: 0, mask: s1 }], action: { kind: 'set-mark', value: 0, mask: s0 } });
      out.push({ match: [], action: { kind: 'set-mark', value: 0, mask: s1 } });
    }
    for (const v of vetoes) out.push({ match: [v], action: { kind: 'set-mark', value: 0, mask: s0 } });
    finalMatch = [{ kind: 'mark', value: s0, mask: s0 }, ...fixed];
  }
  out.push(...actionRules(rule, finalMatch, ctx));
  return out;
}

function icmpMatch(type: number, code: number | undefined, negate: boolean, version: IpVersion): Match {
  const m: Match = { kind: 'icmp', type, ...(code !== undefined && { code }), ...(version === 6 && { v6: true as const }) };
  return negate ? { ...m, negate: true } : m;
}

function actionRules(rule: ApiRule, match: Match[], ctx: RuleRenderContext): Rule[] {
  switch (rule.action) {
    case 'Allow':
    case 'Pass': {
      const bit = rule.action === 'Allow' ? ctx.marks.accept : ctx.marks.pass;
      return [
        { match, action: { kind: 'set-mark', value: bit, mask: bit } },
        { match: [{ kind: 'mark', value: bit, mask: bit }], action: { kind: 'return' } },
      ];
    }
    case 'Deny':
      return [{ match, action: { kind: 'drop' } }];
    case 'Log':
      return [{ match, action: { kind: 'log', prefix: ctx.logPrefix } }];
    default:
      throw new Error(`unknown rule action ${JSON.stringify((rule as { action: unknown }).action)}`);
  }
}

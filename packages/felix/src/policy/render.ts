// Rendering the abstract model to iptables-restore syntax, and the rule hashes that let the
// applier recognise its own rules in `iptables-save` output without parsing matches back.

import { createHash } from 'node:crypto';
import type { Action, Chain, Match, PortRange, Rule } from './model.js';

export const HASH_LENGTH = 16;
export const HASH_COMMENT_PREFIX = 'cali:';

const hex = (n: number): string => `0x${n.toString(16)}`;

function quote(s: string): string {
  // iptables-restore splits on whitespace and honours double quotes; comments are ours, so
  // drop characters that could break the quoting instead of escaping them.
  return `"${s.replace(/["\\\n\r]/g, '')}"`;
}

function portList(ports: readonly PortRange[]): string {
  return ports.map((p) => (p.min === p.max ? `${p.min}` : `${p.min}:${p.max}`)).join(',');
}

const not = (negate: boolean | undefined): string[] => (negate ? ['!'] : []);

export function renderMatch(m: Match): string[] {
  switch (m.kind) {
    case 'protocol':
      return [...not(m.negate), '-p', m.protocol];
    case 'net':
      return [...not(m.negate), m.dir === 'src' ? '-s' : '-d', m.cidr];
    case 'ports':
      return ['-m', 'multiport', ...not(m.negate), m.dir === 'src' ? '--sports' : '--dports', portList(m.ports)];
    case 'ipset':
      return ['-m', 'set', ...not(m.negate), '--match-set', m.set, m.flags];
    case 'icmp':
      return ['-m', m.v6 ? 'icmp6' : 'icmp', ...not(m.negate), m.v6 ? '--icmpv6-type' : '--icmp-type', m.code === undefined ? `${m.type}` : `${m.type}/${m.code}`];
    case 'conntrack':
      return ['-m', 'conntrack', '--ctstate', m.states.join(',')];
    case 'mark':
      return ['-m', 'mark', '--mark', `${hex(m.value)}/${hex(m.mask)}`];
    case 'iface':
      return [...not(m.negate), m.dir === 'in' ? '-i' : '-o', m.name];
  }
}

export function renderAction(a: Action): string[] {
  switch (a.kind) {
    case 'accept': return ['-j', 'ACCEPT'];
    case 'drop': return ['-j', 'DROP'];
    case 'return': return ['-j', 'RETURN'];
    case 'jump': return ['-j', a.target];
    case 'goto': return ['-g', a.target];
    case 'set-mark': return ['-j', 'MARK', '--set-xmark', `${hex(a.value)}/${hex(a.mask)}`];
    case 'masquerade': return a.randomFully ? ['-j', 'MASQUERADE', '--random-fully'] : ['-j', 'MASQUERADE'];
    case 'log': return ['-j', 'LOG', '--log-prefix', quote(`${a.prefix}: `), '--log-level', '5'];
  }
}

/** Matches, comment and action of a rule without the hash comment (what the hash covers). */
export function renderRuleBody(rule: Rule): string {
  const parts: string[] = [];
  if (rule.comment) parts.push('-m', 'comment', '--comment', quote(rule.comment));
  for (const m of rule.match) parts.push(...renderMatch(m));
  parts.push(...renderAction(rule.action));
  return parts.join(' ');
}

/**
 * One hash per rule: SHA-224 seeded with the chain name, then chained through the previous
 * rule's hash and this rule's text, so a rule's hash also pins its position and everything
 * before it. base64url, first 16 characters.
 */
export function ruleHashes(chainName: string, rules: readonly Rule[]): string[] {
  let prev = createHash('sha224').update(chainName, 'utf8').digest();
  return rules.map((r) => {
    prev = createHash('sha224').update(prev).update(`-A ${chainName} ${renderRuleBody(r)}`, 'utf8').digest();
    return prev.toString('base64url').slice(0, HASH_LENGTH);
  });
}

/** The rule as it follows `-A <chain> ` / `-I <chain> <n> ` in iptables-restore input. */
export function renderRule(rule: Rule, hash: string): string {
  return `-m comment --comment "${HASH_COMMENT_PREFIX}${hash}" ${renderRuleBody(rule)}`;
}

/**
 * The `-A` lines of a whole chain (without its `:chain` header). Pass the chain's hashes when
 * they are already known (hashing is most of the cost of rendering a large table).
 */
export function renderChainRules(chain: Chain, hashes: readonly string[] = ruleHashes(chain.name, chain.rules)): string[] {
  return chain.rules.map((r, i) => `-A ${chain.name} ${renderRule(r, hashes[i]!)}`);
}

/** A complete, standalone `iptables-restore --noflush` transaction that (re)writes these chains. */
export function renderChainsRestore(chains: readonly Chain[]): string {
  const lines = ['*filter'];
  for (const c of chains) lines.push(`:${c.name} - [0:0]`);
  for (const c of chains) for (const l of renderChainRules(c)) lines.push(l);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

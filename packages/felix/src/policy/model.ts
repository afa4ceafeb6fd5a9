// The abstract iptables model the policy calculation produces and the appliers consume:
// chains of rules, each rule a list of match criteria plus one action. Plain data, so
// calculation output can be compared, diffed and golden-tested without touching the kernel.

/** One match criterion; all criteria of a rule must hold (AND). */
export type Match =
  | { kind: 'protocol'; protocol: string; negate?: boolean }
  | { kind: 'net'; dir: 'src' | 'dst'; cidr: string; negate?: boolean }
  /** `-m multiport --sports/--dports`; at most 15 slots (a range takes two). */
  | { kind: 'ports'; dir: 'src' | 'dst'; ports: readonly PortRange[]; negate?: boolean }
  /** `-m set --match-set <set> src|dst` (named-port sets use `dst,dst` style flags). */
  | { kind: 'ipset'; set: string; flags: string; negate?: boolean }
  /** `-m icmp --icmp-type`, or with v6 `-m icmp6 --icmpv6-type` (ip6tables). */
  | { kind: 'icmp'; type: number; code?: number; negate?: boolean; v6?: true }
  | { kind: 'conntrack'; states: readonly string[] }
  /** `-m mark --mark value/mask`: the masked bits equal value. */
  | { kind: 'mark'; value: number; mask: number }
  | { kind: 'iface'; dir: 'in' | 'out'; name: string; negate?: boolean };

export interface PortRange {
  min: number;
  max: number;
}

export type Action =
  | { kind: 'accept' }
  | { kind: 'drop' }
  | { kind: 'return' }
  | { kind: 'jump'; target: string }
  | { kind: 'goto'; target: string }
  /** `-j MARK --set-xmark value/mask`: clears the mask bits, then sets value. */
  | { kind: 'set-mark'; value: number; mask: number }
  | { kind: 'log'; prefix: string }
  /** `-j MASQUERADE` (nat table), optionally `--random-fully`. */
  | { kind: 'masquerade'; randomFully?: boolean };

export interface Rule {
  match: readonly Match[];
  action: Action;
  /** Human-readable comments, rendered after the hash comment. */
  comment?: string;
}

export interface Chain {
  name: string;
  rules: readonly Rule[];
}

/**
 * Calico's mark bits, allocated in order from `IptablesMarkMask` 0xffff0000: accept, pass,
 * drop (reserved, Deny renders as a plain DROP), scratch0, scratch1.
 */
export interface MarkBits {
  accept: number;
  pass: number;
  drop: number;
  scratch0: number;
  scratch1: number;
}

export const DEFAULT_MARKS: MarkBits = Object.freeze({
  accept: 0x10000,
  pass: 0x20000,
  drop: 0x40000,
  scratch0: 0x80000,
  scratch1: 0x100000,
});

/** Kernel chains of the filter table and the Calico chains they jump to, in hook order. */
export const FILTER_HOOKS: ReadonlyArray<{ kernel: string; chain: string }> = Object.freeze([
  { kernel: 'INPUT', chain: 'cali-INPUT' },
  { kernel: 'FORWARD', chain: 'cali-FORWARD' },
  { kernel: 'OUTPUT', chain: 'cali-OUTPUT' },
]);

export const CHAIN_PREFIX = 'cali-';
export const FROM_WL_DISPATCH = 'cali-from-wl-dispatch';
export const TO_WL_DISPATCH = 'cali-to-wl-dispatch';
export const WL_TO_HOST = 'cali-wl-to-host';

export function rulesEqual(a: readonly Rule[], b: readonly Rule[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) return false;
  }
  return true;
}

/** An IP set the rules refer to. */
export interface IpSetSpec {
  /** Kernel name, e.g. `cali40s:qMt7iLlGDhvLnCjM0l9nzx`. */
  name: string;
  type: 'hash:net' | 'hash:ip,port';
  /** Canonical members: `10.0.0.1/32` (hash:net) or `10.0.0.1,tcp:80` (hash:ip,port). */
  members: ReadonlySet<string>;
}

// Policy rules shared by NetworkPolicy, GlobalNetworkPolicy and Profile: the types, the structural
// schema, and the cross-field checks Calico's validator applies to every Rule and EntityRule.
// Direction-specific checks (services, HTTP on egress) live with the policy kinds.

import { parseCidrOrIp, type IpVersion } from '../net.js';
import { joinPath, type Issues } from '../validate/issues.js';
import { arr, checkSchema, custom, int, isPlainObject, map, obj, oneOf, str, typeName, type Check, type Schema } from '../validate/schema.js';
import { checkDnsSubdomain, checkMaskedCidr, checkSelector } from '../validate/common.js';
import { isLabelKey } from '../validate/resource.js';

export type RuleAction = 'Allow' | 'Deny' | 'Log' | 'Pass';
export type PolicyType = 'Ingress' | 'Egress';
/** A protocol name (`TCP`, `UDP`, `ICMP`, `ICMPv6`, `SCTP`, `UDPLite`) or number 1-255 (also as a decimal string). */
export type Protocol = string | number;
/** A port: a number, a `"min:max"` range, or a named port (also a decimal string). */
export type RulePort = number | string;

export interface ICMPFields {
  type?: number;
  code?: number;
}

export interface ServiceAccountMatch {
  names?: string[];
  selector?: string;
}

export interface ServiceMatch {
  name?: string;
  namespace?: string;
}

export interface EntityRule {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  ports?: RulePort[];
  notPorts?: RulePort[];
  serviceAccounts?: ServiceAccountMatch;
  services?: ServiceMatch;
}

export interface HTTPPath {
  exact?: string;
  prefix?: string;
}

export interface HTTPMatch {
  methods?: string[];
  paths?: HTTPPath[];
}

export interface RuleMetadata {
  annotations?: Record<string, string>;
}

export interface Rule {
  action: RuleAction;
  ipVersion?: IpVersion;
  protocol?: Protocol;
  notProtocol?: Protocol;
  icmp?: ICMPFields;
  notICMP?: ICMPFields;
  source?: EntityRule;
  destination?: EntityRule;
  http?: HTTPMatch;
  metadata?: RuleMetadata;
}

// ---------------------------------------------------------------------------------------------
// Protocols and ports

export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  TCP: 6, UDP: 17, ICMP: 1, ICMPv6: 58, SCTP: 132, UDPLite: 136,
};

/** The IP protocol number of a valid protocol value, or undefined if it is not one. */
export function protocolNumber(p: Protocol): number | undefined {
  if (typeof p === 'number') return Number.isInteger(p) && p >= 1 && p <= 255 ? p : undefined;
  if (/^\d+$/.test(p)) {
    const n = Number(p);
    return n >= 1 && n <= 255 ? n : undefined;
  }
  return Object.hasOwn(PROTOCOL_NUMBERS, p) ? PROTOCOL_NUMBERS[p] : undefined;
}

/** Calico lets ports be matched only for TCP, UDP and SCTP (by name or number). */
export function protocolSupportsPorts(p: Protocol): boolean {
  const n = protocolNumber(p);
  return n === 6 || n === 17 || n === 132;
}

export const checkProtocol: Check = (v, path, issues) => {
  if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v))) {
    if (protocolNumber(v) === undefined) issues.add(path, v, 'protocol number must be between 1 and 255');
  } else if (typeof v !== 'string' || !Object.hasOwn(PROTOCOL_NUMBERS, v)) {
    issues.add(path, v, 'protocol must be one of TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite (case-sensitive) or a number 1-255');
  }
};

export type ParsedPort = { kind: 'range'; min: number; max: number } | { kind: 'named'; name: string };
export type PortParse = { ok: true; port: ParsedPort } | { ok: false; reason: string };

/** Kubernetes IANA service names: what a named port may be called. */
export function isPortName(s: string): boolean {
  return s.length >= 1 && s.length <= 15 && /^[-a-z0-9]+$/.test(s) && /[a-z]/.test(s) &&
    !s.includes('--') && !s.startsWith('-') && !s.endsWith('-');
}

const PORT_RANGE_REASON = 'port number must be between 1 and 65535';

/** Parses a rule port as Calico's numorstring.Port does, then applies its validator's rules. */
export function parsePort(v: unknown): PortParse {
  const range = (min: number, max: number): PortParse => {
    if (min > 65535 || max > 65535) return { ok: false, reason: PORT_RANGE_REASON };
    if (min > max) return { ok: false, reason: `port range is invalid: minimum ${min} is greater than maximum ${max}` };
    if (min < 1) return { ok: false, reason: PORT_RANGE_REASON };
    return { ok: true, port: { kind: 'range', min, max } };
  };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return { ok: false, reason: 'port must be a whole number' };
    return range(v, v);
  }
  if (typeof v !== 'string') return { ok: false, reason: `port must be a number or a string, not ${typeName(v)}` };
  if (/^\d+$/.test(v)) return range(Number(v), Number(v));
  const m = /^(\d+):(\d+)$/.exec(v);
  if (m) return range(Number(m[1]), Number(m[2]));
  if (!isPortName(v)) {
    return { ok: false, reason: 'must be a port number, a range "min:max" or a port name (1-15 lower case alphanumerics or "-", with at least one letter, no "--", not starting or ending with "-")' };
  }
  return { ok: true, port: { kind: 'named', name: v } };
}

export const checkRulePort: Check = (v, path, issues) => {
  const r = parsePort(v);
  if (!r.ok) issues.add(path, v, r.reason);
};

// ---------------------------------------------------------------------------------------------
// Structural schema

/** Skips the check for "" — Go's `omitempty` validation tags do the same. */
export function unlessEmpty(check: Check): Check {
  return (v, path, issues) => { if (v !== '') check(v, path, issues); };
}

export function maxLength(n: number, check?: Check): Check {
  return (v, path, issues) => {
    if (typeof v === 'string' && v.length > n) { issues.add(path, v, `must be at most ${n} characters`); return; }
    check?.(v, path, issues);
  };
}

export const selectorField: Schema = str(maxLength(1024, checkSelector));

const checkIpVersion: Check = (v, path, issues) => {
  if (v !== 4 && v !== 6) issues.add(path, v, 'ipVersion must be 4 or 6');
};

/** Annotation keys are Kubernetes qualified names (checked lower-cased); the total size is capped. */
export const checkAnnotations: Check = (v, path, issues) => {
  if (!isPlainObject(v)) return;
  let size = 0;
  for (const [k, val] of Object.entries(v)) {
    if (!isLabelKey(k.toLowerCase())) {
      issues.add(joinPath(path, k), k, 'invalid annotation key: an optional DNS subdomain prefix and "/", then up to 63 alphanumerics, "-", "_" or "." starting and ending with an alphanumeric');
    }
    size += k.length + (typeof val === 'string' ? val.length : 0);
  }
  if (size > 256 * 1024) issues.add(path, size, `total size of annotations must be at most 262144 bytes`);
};

const icmpSchema = obj({ type: int(0, 254), code: int(0, 255) });

export const entityRuleSchema: Schema = obj({
  nets: arr(str(checkMaskedCidr), 256),
  notNets: arr(str(checkMaskedCidr), 256),
  selector: selectorField,
  notSelector: selectorField,
  namespaceSelector: selectorField,
  ports: arr(custom(checkRulePort), 50),
  notPorts: arr(custom(checkRulePort), 50),
  serviceAccounts: obj({ names: arr(str()), selector: selectorField }),
  services: obj({
    name: str(maxLength(253, unlessEmpty(checkDnsSubdomain))),
    namespace: str(maxLength(253, unlessEmpty(checkDnsSubdomain))),
  }),
});

export const ruleSchema: Schema = obj({
  action: oneOf('Allow', 'Deny', 'Log', 'Pass'),
  ipVersion: custom(checkIpVersion),
  protocol: custom(checkProtocol),
  notProtocol: custom(checkProtocol),
  icmp: icmpSchema,
  notICMP: icmpSchema,
  source: entityRuleSchema,
  destination: entityRuleSchema,
  http: obj({
    methods: arr(str(), 20),
    paths: arr(obj({ exact: str(maxLength(1024)), prefix: str(maxLength(1024)) }), 20),
  }),
  metadata: obj({ annotations: custom((v, p, i) => { checkSchema(v, map(str()), p, i); checkAnnotations(v, p, i); }) }),
}, ['action']);

export const rulesSchema: Schema = arr(ruleSchema, 1024);

// ---------------------------------------------------------------------------------------------
// Semantic checks (run on structurally valid rules)

const PORT_FIELDS = ['ports', 'notPorts'] as const;
const SIDES = ['source', 'destination'] as const;

/** Checks one rule at `path` (e.g. `spec.ingress[0]`). */
export function validateRule(rule: Rule, path: string, issues: Issues): void {
  checkRulePorts(rule, path, issues);
  checkIcmp(rule, path, issues);
  checkRuleNets(rule, path, issues);
  checkHttp(rule, path, issues);
  for (const side of SIDES) {
    const e = rule[side];
    if (e) validateEntityRule(e, joinPath(path, side), issues);
  }
  const dst = rule.destination;
  if (dst?.services) {
    for (const f of PORT_FIELDS) {
      if (dst[f]?.length) issues.add(joinPath(joinPath(path, 'destination'), f), dst[f], `${f} cannot be specified together with destination services (a service rule uses the ports of the service's endpoints)`);
    }
  }
}

export function validateRules(rules: readonly Rule[] | undefined, path: string, issues: Issues): void {
  rules?.forEach((r, i) => validateRule(r, joinPath(path, i), issues));
}

function checkRulePorts(rule: Rule, path: string, issues: Issues): void {
  for (const side of SIDES) {
    for (const f of PORT_FIELDS) {
      rule[side]?.[f]?.forEach((p, i) => {
        const at = joinPath(joinPath(joinPath(path, side), f), i);
        if (rule.protocol === undefined) {
          // Named ports may stand without a protocol (the endpoint's port says which); numbers may not.
          const parsed = parsePort(p);
          if (parsed.ok && parsed.port.kind === 'range') {
            issues.add(at, p, 'rules with numeric port or port range must set protocol to TCP, UDP or SCTP');
          }
        } else if (!protocolSupportsPorts(rule.protocol)) {
          issues.add(at, p, `protocol ${rule.protocol} has no ports: rules that specify ports must set protocol to TCP, UDP or SCTP`);
        }
      });
    }
  }
}

function checkIcmp(rule: Rule, path: string, issues: Issues): void {
  for (const f of ['icmp', 'notICMP'] as const) {
    const icmp = rule[f];
    if (icmp?.code !== undefined && icmp.type === undefined) {
      issues.add(joinPath(joinPath(path, f), 'code'), icmp.code, 'ICMP code specified without an ICMP type');
    }
  }
  const proto = rule.protocol === undefined ? undefined : protocolNumber(rule.protocol);
  if (rule.icmp && proto !== 1 && proto !== 58) {
    issues.add(joinPath(path, 'icmp'), rule.icmp, 'ICMP fields require protocol to be ICMP or ICMPv6');
  }
  if (rule.ipVersion === undefined) return;
  for (const f of ['protocol', 'notProtocol'] as const) {
    const p = rule[f];
    const n = p === undefined ? undefined : protocolNumber(p);
    if (n === 1 && rule.ipVersion !== 4) issues.add(joinPath(path, 'ipVersion'), rule.ipVersion, `${f} ICMP requires ipVersion 4`);
    if (n === 58 && rule.ipVersion !== 6) issues.add(joinPath(path, 'ipVersion'), rule.ipVersion, `${f} ICMPv6 requires ipVersion 6`);
  }
}

/** All CIDRs of a rule must share one IP version, matching ipVersion if set; negated catch-alls are refused. */
function checkRuleNets(rule: Rule, path: string, issues: Issues): void {
  let seen: { version: IpVersion; at: string } | undefined;
  for (const side of SIDES) {
    for (const f of ['nets', 'notNets'] as const) {
      rule[side]?.[f]?.forEach((n, i) => {
        const at = joinPath(joinPath(joinPath(path, side), f), i);
        const c = parseCidrOrIp(n);
        if (!c) return; // reported by the schema
        if (f === 'notNets' && c.prefixLen === 0) {
          issues.add(at, n, 'a catch-all CIDR in notNets matches no traffic at all (logical contradiction)');
        }
        if (rule.ipVersion !== undefined && c.version !== rule.ipVersion) {
          issues.add(at, n, `rule ipVersion ${rule.ipVersion} does not match this IPv${c.version} CIDR`);
        } else if (seen && seen.version !== c.version) {
          issues.add(at, n, `rule contains both IPv4 and IPv6 CIDRs (${seen.at} is IPv${seen.version})`);
        }
        seen ??= { version: c.version, at };
      });
    }
  }
}

function checkHttp(rule: Rule, path: string, issues: Issues): void {
  const http = rule.http;
  if (!http) return;
  const at = joinPath(path, 'http');
  if (rule.action !== 'Allow') issues.add(at, http, `HTTP match is only valid on Allow rules, not ${rule.action}`);
  if (rule.protocol !== undefined && protocolNumber(rule.protocol) !== 6) {
    issues.add(joinPath(path, 'protocol'), rule.protocol, 'rules with HTTP match must have protocol TCP or no protocol');
  }
  const methods = http.methods ?? [];
  methods.forEach((m, i) => {
    if (methods.indexOf(m) !== i) issues.add(joinPath(joinPath(at, 'methods'), i), m, 'HTTP method listed more than once');
  });
  http.paths?.forEach((p, i) => {
    const pat = joinPath(joinPath(at, 'paths'), i);
    if (p.exact && p.prefix) { issues.add(pat, p, 'set exactly one of exact or prefix, not both'); return; }
    const v = p.exact || p.prefix;
    if (!v) { issues.add(pat, p, 'one of exact or prefix must be set'); return; }
    if (!v.startsWith('/') || /[? #]/.test(v)) {
      issues.add(joinPath(pat, p.exact ? 'exact' : 'prefix'), v, 'HTTP path must start with "/" and must not contain "?", "#" or spaces');
    }
  });
}

export function validateEntityRule(e: EntityRule, path: string, issues: Issues): void {
  if (e.selector?.includes('global(')) {
    issues.add(joinPath(path, 'selector'), e.selector, 'global() can only be used in an EntityRule namespaceSelector');
  }
  const ns = e.namespaceSelector;
  if (ns?.includes('global(') && ns.replace(/\s+/g, '') !== 'global()') {
    issues.add(joinPath(path, 'namespaceSelector'), ns, 'global() cannot be combined with other selectors');
  }
  const svc = e.services;
  if (!svc) return;
  const at = joinPath(path, 'services');
  if (!svc.name) issues.add(joinPath(at, 'name'), svc.name, 'services must specify a service name');
  const conflicts: [keyof EntityRule, boolean][] = [
    ['namespaceSelector', !!e.namespaceSelector],
    ['selector', !!e.selector],
    ['notSelector', !!e.notSelector],
    ['serviceAccounts', e.serviceAccounts !== undefined],
    ['nets', !!e.nets?.length],
    ['notNets', !!e.notNets?.length],
  ];
  for (const [f, set] of conflicts) {
    if (set) issues.add(joinPath(path, f), e[f], `cannot be specified together with services on the same rule`);
  }
}

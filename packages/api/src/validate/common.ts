// Field checks shared by many kinds: names, ASNs, IPs, CIDRs, selectors.

import { parseCidr, parseCidrOrIp, parseIP, isMasked, type IpVersion } from '../net.js';
import { parseSelector } from '../selector/index.js';
import type { Check } from './schema.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const INTERFACE_NAME = /^[a-zA-Z0-9_.-]{1,15}$/;

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

export function isInterfaceName(s: string): boolean {
  return INTERFACE_NAME.test(s);
}

/** Parses an AS number in asplain ("64512", 64512) or asdot ("1.10") notation. */
export function parseAsn(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : undefined;
  if (typeof v !== 'string') return undefined;
  let m = /^(\d+)$/.exec(v);
  if (m) {
    const n = Number(m[1]);
    return n <= 0xffffffff ? n : undefined;
  }
  m = /^(\d+)\.(\d+)$/.exec(v);
  if (m) {
    const hi = Number(m[1]);
    const lo = Number(m[2]);
    return hi <= 0xffff && lo <= 0xffff ? hi * 65536 + lo : undefined;
  }
  return undefined;
}

export const checkDnsSubdomain: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !isDns1123Subdomain(v)) {
    issues.add(path, v, 'must be a DNS-1123 subdomain: lower case alphanumerics, "-" and ".", starting and ending with an alphanumeric');
  }
};

export const checkDnsLabel: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !isDns1123Label(v)) {
    issues.add(path, v, 'must be a DNS-1123 label: lower case alphanumerics and "-", starting and ending with an alphanumeric, at most 63 characters');
  }
};

export const checkInterfaceName: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !isInterfaceName(v)) {
    issues.add(path, v, 'must be an interface name of 1-15 characters from [a-zA-Z0-9_.-]');
  }
};

export const checkAsn: Check = (v, path, issues) => {
  if (parseAsn(v) === undefined) issues.add(path, v, 'must be an AS number: 0-4294967295 (asplain) or A.B with A and B in 0-65535 (asdot)');
};

export const checkIP: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !parseIP(v)) issues.add(path, v, 'must be an IPv4 or IPv6 address');
};

export const checkIPv4: Check = (v, path, issues) => {
  if (typeof v !== 'string' || parseIP(v)?.version !== 4) issues.add(path, v, 'must be an IPv4 address');
};

export const checkIPv6: Check = (v, path, issues) => {
  if (typeof v !== 'string' || parseIP(v)?.version !== 6) issues.add(path, v, 'must be an IPv6 address');
};

/** A CIDR whose host bits are all zero (Calico rejects 10.0.0.1/24 for pools and rule nets). */
export const checkMaskedCidr: Check = (v, path, issues) => {
  const c = typeof v === 'string' ? parseCidrOrIp(v) : undefined;
  if (!c) { issues.add(path, v, 'must be a CIDR such as 10.0.0.0/24 or fd00::/64'); return; }
  if (!isMasked(c)) issues.add(path, v, 'must be strictly masked (no host bits set), e.g. 10.0.0.0/24 rather than 10.0.0.1/24');
};

/** An address with prefix length, host bits allowed (Node spec.bgp.ipv4Address: 10.0.0.5/24). */
export function checkIfaceCidr(version: IpVersion): Check {
  return (v, path, issues) => {
    const c = typeof v === 'string' ? (v.includes('/') ? parseCidr(v) : parseCidrOrIp(v)) : undefined;
    if (!c || c.version !== version) issues.add(path, v, `must be an IPv${version} address, optionally with a prefix length (e.g. ${version === 4 ? '10.0.0.5/24' : 'fd00::5/64'})`);
  };
}

export const checkSelector: Check = (v, path, issues) => {
  if (typeof v !== 'string') { issues.add(path, v, 'must be a selector string'); return; }
  try {
    parseSelector(v);
  } catch (e) {
    issues.add(path, v, `invalid selector: ${(e as Error).message}`);
  }
};

/** Go-style durations as Calico accepts them: "90s", "1m30s", "2h", "500ms". */
export const DURATION_RE = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
export const checkDuration: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !DURATION_RE.test(v)) issues.add(path, v, 'must be a duration such as 90s, 2m or 1h30m');
};

export function parseDurationSeconds(s: string): number | undefined {
  if (!DURATION_RE.test(s)) return undefined;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * unit[m[2]!]!;
  return total;
}

// Names of Calico's chains and IP sets. iptables limits chain names to 28 characters and ipset
// names to 31; Calico keeps short names readable and replaces long ones with a hash.

import { createHash } from 'node:crypto';

export const MAX_CHAIN_NAME = 28;
export const MAX_IPSET_NAME = 31;
const HASHED_MARKER = '_';

/**
 * `prefix + suffix` when it fits in `maxLength`; otherwise (or when the suffix itself starts
 * with the marker `_`, so a real name can never look like a hashed one) `prefix + "_" +` as much
 * of base64url(SHA-256(suffix)) as fits.
 */
export function lengthLimitedId(prefix: string, suffix: string, maxLength = MAX_CHAIN_NAME): string {
  if (prefix.length + suffix.length <= maxLength && !suffix.startsWith(HASHED_MARKER)) return prefix + suffix;
  const room = maxLength - prefix.length - 1;
  if (room <= 0) throw new Error(`chain prefix ${JSON.stringify(prefix)} leaves no room for a name within ${maxLength} characters`);
  const hash = createHash('sha256').update(suffix, 'utf8').digest('base64url');
  return prefix + HASHED_MARKER + hash.slice(0, room);
}

export type PolicyDirection = 'ingress' | 'egress';

/** `cali-tw-<iface>` (to workload: ingress) or `cali-fw-<iface>` (from workload: egress). */
export function endpointChainName(dir: PolicyDirection, iface: string): string {
  return lengthLimitedId(dir === 'ingress' ? 'cali-tw-' : 'cali-fw-', iface);
}

/** `cali-pi-<id>` / `cali-po-<id>`; the id is `<namespace>/<name>` or a global policy's name. */
export function policyChainName(dir: PolicyDirection, policyId: string): string {
  return lengthLimitedId(dir === 'ingress' ? 'cali-pi-' : 'cali-po-', policyId);
}

/** `cali-pri-<profile>` / `cali-pro-<profile>`. */
export function profileChainName(dir: PolicyDirection, profile: string): string {
  return lengthLimitedId(dir === 'ingress' ? 'cali-pri-' : 'cali-pro-', profile);
}

export type IpVersion = 4 | 6;

/** Main set name for a set ID: `cali40` (IPv4) or `cali60` (IPv6) + ID, cut to 31 characters. */
export function ipsetName(setId: string, version: IpVersion = 4): string {
  return `cali${version}0${setId}`.slice(0, MAX_IPSET_NAME);
}

/** Temporary set used to rewrite a set atomically (filled, then swapped in): `cali4t<n>` / `cali6t<n>`. */
export function tempIpsetName(n: number, version: IpVersion = 4): string {
  return `cali${version}t${n}`;
}

/** Is this kernel set one of ours (main or temporary) for this IP version? */
export function isOurIpset(name: string, version: IpVersion = 4): boolean {
  return name.startsWith(`cali${version}0`) || new RegExp(`^cali${version}t\\d+$`).test(name);
}

// This node's address, found as calico-node finds it (IP_AUTODETECTION_METHOD). The choice is a
// pure function over `ip -json addr` rows; reading them (and `ip route get`) is the only I/O.

import { ipJson } from '@tabby/linux';
import { parseCidrOrIpLoose } from '@tabby/linux';
import type { AutodetectMethod } from './env.js';

export interface IpAddrRow {
  ifname: string;
  flags?: string[];
  addr_info: { family?: string; local?: string; prefixlen?: number; scope?: string }[];
}

/** Interfaces calico-node never takes an address from with first-found. */
export const DEFAULT_SKIP = [
  /^docker.*/, /^cbr.*/, /^dummy.*/, /^virbr.*/, /^lxcbr.*/, /^veth.*/, /^lo$/, /^cali.*/, /^tunl.*/,
  /^flannel.*/, /^kube-ipvs.*/, /^cni.*/, /^vxlan\.calico$/, /^vxlan-v6\.calico$/, /^wireguard\.cali$/, /^nodelocaldns.*/, /^br-.*/,
];

export interface Candidate {
  ifname: string;
  /** Address with prefix length, as the Node records it (10.0.0.5/24). */
  cidr: string;
}

/** Global-scope addresses of one family, interface by interface, in kernel order. */
export function candidates(rows: readonly IpAddrRow[], family: 4 | 6): Candidate[] {
  const fam = family === 4 ? 'inet' : 'inet6';
  const out: Candidate[] = [];
  for (const r of rows) {
    for (const a of r.addr_info ?? []) {
      if (a.family !== fam || !a.local || a.scope !== 'global') continue;
      out.push({ ifname: r.ifname, cidr: `${a.local}/${a.prefixlen ?? (family === 4 ? 32 : 128)}` });
    }
  }
  return out;
}

function inCidr(ip: string, cidr: string): boolean {
  const a = parseCidrOrIpLoose(ip);
  const c = parseCidrOrIpLoose(cidr);
  if (!a || !c || a.family !== c.family) return false;
  const shift = BigInt((a.family === 4 ? 32 : 128) - c.len);
  return a.addr >> shift === c.addr >> shift;
}

/** The address a method picks from the rows (can-reach needs the route lookup: see detectAddress). */
export function choose(rows: readonly IpAddrRow[], family: 4 | 6, method: AutodetectMethod): Candidate | undefined {
  const all = candidates(rows, family);
  switch (method.kind) {
    case 'first-found':
      return all.find((c) => !DEFAULT_SKIP.some((p) => p.test(c.ifname)));
    case 'interface':
      return all.find((c) => method.patterns.some((p) => p.test(c.ifname)));
    case 'skip-interface':
      return all.find((c) => !method.patterns.some((p) => p.test(c.ifname)) && !DEFAULT_SKIP.some((p) => p.test(c.ifname)));
    case 'cidr':
      return all.find((c) => method.cidrs.some((n) => inCidr(c.cidr.split('/')[0]!, n)));
    case 'can-reach':
      return undefined;
  }
}

export class AutodetectError extends Error {
  override name = 'AutodetectError';
}

/** Runs the method against this namespace's interfaces. */
export async function detectAddress(family: 4 | 6, method: AutodetectMethod, opts: { netns?: string } = {}): Promise<Candidate> {
  const rows = await ipJson<IpAddrRow[]>([`-${family}`, 'addr', 'show'], opts);
  if (method.kind === 'can-reach') {
    let dest = method.destination;
    if (!parseCidrOrIpLoose(dest)) {
      const { lookup } = await import('node:dns/promises');
      dest = (await lookup(dest, { family })).address;
    }
    const route = await ipJson<{ prefsrc?: string; dev?: string }[]>([`-${family}`, 'route', 'get', dest], opts);
    const src = route[0]?.prefsrc;
    const c = src ? candidates(rows, family).find((x) => x.cidr.split('/')[0] === src) : undefined;
    if (!c) throw new AutodetectError(`IPv${family} autodetection (can-reach=${method.destination}): no local address routes to ${dest}`);
    return c;
  }
  const c = choose(rows, family, method);
  if (!c) throw new AutodetectError(`IPv${family} autodetection (${describe(method)}): no interface has a matching global address`);
  return c;
}

function describe(m: AutodetectMethod): string {
  switch (m.kind) {
    case 'first-found': return 'first-found';
    case 'can-reach': return `can-reach=${m.destination}`;
    case 'interface': return `interface=${m.patterns.map((p) => p.source).join(',')}`;
    case 'skip-interface': return `skip-interface=${m.patterns.map((p) => p.source).join(',')}`;
    case 'cidr': return `cidr=${m.cidrs.join(',')}`;
  }
}

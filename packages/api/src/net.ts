// Pure IP address and CIDR helpers. Addresses are held as bigint so IPv4 and IPv6 share one code path.

export type IpVersion = 4 | 6;

export interface IpAddr {
  version: IpVersion;
  value: bigint;
}

export interface Cidr {
  version: IpVersion;
  /** The address part exactly as written (not masked). */
  addr: bigint;
  prefixLen: number;
}

const V4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIPv4(s: string): bigint | undefined {
  const m = V4_RE.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part.startsWith('0')) return undefined; // no octal-looking octets
    const n = Number(part);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

export function parseIPv6(s: string): bigint | undefined {
  if (s.length === 0 || s.includes('%')) return undefined;
  let head = s;
  let tailV4: bigint | undefined;
  // Embedded IPv4 in the last 32 bits (::ffff:1.2.3.4).
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIPv4(s.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (p: string): number[] | undefined => {
    if (p === '') return [];
    const out: number[] = [];
    for (const g of p.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parseGroups(halves[0]!);
  const right = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!left || !right) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const fill = 8 - left.length - right.length;
    if (fill < 1) return undefined;
    groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  } else {
    if (left.length !== 8) return undefined;
    groups = left;
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  if (tailV4 !== undefined) v = (v & ~0xffffffffn) | tailV4;
  return v;
}

export function parseIP(s: string): IpAddr | undefined {
  const v4 = parseIPv4(s);
  if (v4 !== undefined) return { version: 4, value: v4 };
  const v6 = parseIPv6(s);
  if (v6 !== undefined) return { version: 6, value: v6 };
  return undefined;
}

export function bits(version: IpVersion): number {
  return version === 4 ? 32 : 128;
}

export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(s.slice(0, slash));
  const lenStr = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(lenStr)) return undefined;
  const prefixLen = Number(lenStr);
  if (prefixLen > bits(ip.version)) return undefined;
  return { version: ip.version, addr: ip.value, prefixLen };
}

/** Accepts "10.0.0.1" as "10.0.0.1/32" (and v6 likewise), the way Calico's IPNet unmarshalling does. */
export function parseCidrOrIp(s: string): Cidr | undefined {
  if (s.includes('/')) return parseCidr(s);
  const ip = parseIP(s);
  return ip ? { version: ip.version, addr: ip.value, prefixLen: bits(ip.version) } : undefined;
}

export function maskOf(version: IpVersion, prefixLen: number): bigint {
  const total = BigInt(bits(version));
  const all = (1n << total) - 1n;
  return (all >> BigInt(prefixLen)) ^ all;
}

export function networkOf(c: Cidr): bigint {
  return c.addr & maskOf(c.version, c.prefixLen);
}

/** True when no host bits are set ("strictly masked"). */
export function isMasked(c: Cidr): boolean {
  return networkOf(c) === c.addr;
}

export function formatIP(version: IpVersion, value: bigint): string {
  if (version === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (length >= 2) of zero groups, the first one on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

export function formatCidr(c: Cidr): string {
  return `${formatIP(c.version, c.addr)}/${c.prefixLen}`;
}

/** The canonical (masked, normalised) text of a CIDR. */
export function canonicalCidr(c: Cidr): string {
  return formatCidr({ ...c, addr: networkOf(c) });
}

export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.version !== inner.version || inner.prefixLen < outer.prefixLen) return false;
  return (inner.addr & maskOf(outer.version, outer.prefixLen)) === networkOf(outer);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(bits(c.version) - c.prefixLen);
}

// Minimal CIDR parsing for route destinations (this package depends on nothing of ours).

import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  family: 4 | 6;
  addr: bigint;
  len: number;
}

function v4ToBig(s: string): bigint {
  return s.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

function v6ToBig(s: string): bigint {
  let head = s;
  let tail4: bigint | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tail4 = v4ToBig(s.slice(lastColon + 1));
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const [l, r] = head.includes('::') ? head.split('::') as [string, string] : [head, undefined];
  const lg = l ? l.split(':') : [];
  const rg = r !== undefined && r !== '' ? r.split(':') : [];
  const groups = r !== undefined ? [...lg, ...new Array(8 - lg.length - rg.length).fill('0'), ...rg] : lg;
  let v = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (tail4 !== undefined) v = (v & ~0xffffffffn) | tail4;
  return v;
}

export function parseCidrOrIpLoose(s: string): Cidr | undefined {
  const [ip, lenStr] = s.split('/') as [string, string | undefined];
  const family = isIPv4(ip) ? 4 : isIPv6(ip) ? 6 : undefined;
  if (!family) return undefined;
  const max = family === 4 ? 32 : 128;
  const len = lenStr === undefined ? max : Number(lenStr);
  if (!Number.isInteger(len) || len < 0 || len > max) return undefined;
  return { family, addr: family === 4 ? v4ToBig(ip) : v6ToBig(ip), len };
}

function fmt(c: Cidr, addr: bigint): string {
  if (c.family === 4) return [24n, 16n, 8n, 0n].map((sh) => String((addr >> sh) & 0xffn)).join('.');
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((addr >> BigInt(i * 16)) & 0xffffn));
  let bs = -1, bl = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bl && j - i >= 2) { bs = i; bl = j - i; }
    i = j;
  }
  const h = g.map((x) => x.toString(16));
  return bs < 0 ? h.join(':') : `${h.slice(0, bs).join(':')}::${h.slice(bs + bl).join(':')}`;
}

/** Masked, RFC 5952 text: what the kernel reports for the same destination. */
export function canonicalCidr(c: Cidr): string {
  const bits = BigInt(c.family === 4 ? 32 : 128);
  const all = (1n << bits) - 1n;
  const mask = (all >> BigInt(c.len)) ^ all;
  return `${fmt(c, c.addr & mask)}/${c.len}`;
}

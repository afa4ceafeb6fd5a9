// The order in which a host tries a pool's block-sized subnets. As in libcalico-go's
// randomBlockGenerator: a start index drawn from a PRNG seeded with the FNV-1 32-bit hash of
// the hostname, then every subnet in address order from there, wrapping around once. Hosts thus
// start in different places (fewer claim races) and one host always starts in the same place.
//
// Calico draws the start index with Go's math/rand, whose 607-word state table is not
// reproduced here; the start index is therefore not Calico's own, only its construction.

import { bits, canonicalCidr, networkOf, type Cidr } from '@tabby/api';

/** FNV-1 (not 1a), 32 bits, over the UTF-8 bytes: Go's hash/fnv New32. */
export function fnv1_32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h = (h ^ byte) >>> 0;
  }
  return h >>> 0;
}

/** mulberry32: a small deterministic 32-bit generator. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform in [0, n) by rejection sampling over 32-bit words (n can exceed 2^53 for IPv6 pools). */
export function randomBelow(n: bigint, next: () => number): bigint {
  if (n <= 1n) return 0n;
  let words = 0;
  for (let x = n - 1n; x > 0n; x >>= 32n) words++;
  const span = 1n << BigInt(32 * words);
  const limit = span - (span % n);
  for (;;) {
    let v = 0n;
    for (let i = 0; i < words; i++) v = (v << 32n) | BigInt(next());
    if (v < limit) return v % n;
  }
}

export interface PoolGeometry {
  /** The pool CIDR (masked). */
  pool: Cidr;
  blockSize: number;
}

export function blockCount(g: PoolGeometry): bigint {
  return 1n << BigInt(g.blockSize - g.pool.prefixLen);
}

/** The CIDR of the i-th block of a pool. */
export function blockAt(g: PoolGeometry, i: bigint): string {
  const step = 1n << BigInt(bits(g.pool.version) - g.blockSize);
  return canonicalCidr({ version: g.pool.version, addr: networkOf(g.pool) + i * step, prefixLen: g.blockSize });
}

/** Index of a block (given by its network address) inside the pool. */
export function blockIndex(g: PoolGeometry, blockAddr: bigint): bigint {
  const step = 1n << BigInt(bits(g.pool.version) - g.blockSize);
  return (blockAddr - networkOf(g.pool)) / step;
}

/**
 * Where a host starts walking a pool. Single-address blocks (/32, /128) get a random start
 * instead, as in Calico: with one address per block every host would otherwise collide.
 */
export function startIndex(g: PoolGeometry, host: string, random: () => number = () => Math.floor(Math.random() * 2 ** 32)): bigint {
  const n = blockCount(g);
  const seeded = g.blockSize === bits(g.pool.version) ? prng(random()) : prng(fnv1_32(host));
  return randomBelow(n, seeded);
}

/** Every block of the pool once, starting at the host's start index and wrapping around. */
export function* blockOrder(g: PoolGeometry, host: string): Generator<string> {
  const n = blockCount(g);
  const start = startIndex(g, host);
  for (let k = 0n; k < n; k++) yield blockAt(g, (start + k) % n);
}

/** How far after `start` (in walking order) block index `i` comes. */
export function walkOffset(start: bigint, i: bigint, n: bigint): bigint {
  return (((i - start) % n) + n) % n;
}

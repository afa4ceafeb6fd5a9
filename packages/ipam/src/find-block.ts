// Choosing blocks by walking order without visiting every subnet: the pool's existing blocks
// are placed at their offset from the host's start index, so the first free subnet is the
// first gap. Same answer as walking blockOrder() subnet by subnet, in O(blocks) instead of
// O(subnets) (an IPv6 /64 pool has 2^58 /122 subnets).

import { bits, networkOf, type IPAMBlock } from '@tabby/api';
import { blockAt, blockCount, blockIndex, startIndex, walkOffset } from './block-order.js';
import { freeCount, hostAffinity, parseBlockCidr } from './block.js';
import type { Pool } from './pools.js';

interface Occupied {
  /** First and last walk offsets the block covers (inclusive). */
  from: bigint;
  to: bigint;
  block: IPAMBlock;
}

/** The blocks inside a pool with the walk offsets of the subnets they cover, in walking order. */
function occupiedByOffset(pool: Pool, blocks: readonly IPAMBlock[], start: bigint): Occupied[] {
  const n = blockCount(pool);
  const width = BigInt(bits(pool.pool.version) - pool.blockSize);
  const out: Occupied[] = [];
  for (const b of blocks) {
    const c = parseBlockCidr(b.spec.cidr);
    if (c.version !== pool.pool.version) continue;
    const lo = networkOf(c);
    const hi = lo + (1n << BigInt(bits(c.version) - c.prefixLen)) - 1n;
    const poolLo = networkOf(pool.pool);
    const poolHi = poolLo + (n << width) - 1n;
    if (hi < poolLo || lo > poolHi) continue;
    // A block of another size (from an older pool) still occupies every subnet it touches.
    const first = blockIndex(pool, lo < poolLo ? poolLo : lo);
    const last = blockIndex(pool, hi > poolHi ? poolHi : hi);
    const from = walkOffset(start, first, n);
    const to = from + (last - first);
    if (to < n) out.push({ from, to, block: b });
    else {
      out.push({ from, to: n - 1n, block: b });
      out.push({ from: 0n, to: to - n, block: b });
    }
  }
  return out.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
}

/**
 * libcalico-go's findUsableBlock for one pool: the first subnet in the host's walking order that
 * has no block, or an existing block already affine to the host with free addresses.
 */
export function findUsableInPool(pool: Pool, blocks: readonly IPAMBlock[], host: string, random?: () => number): string | undefined {
  const n = blockCount(pool);
  const start = startIndex(pool, host, random);
  let k = 0n;
  for (const o of occupiedByOffset(pool, blocks, start)) {
    if (o.from > k) break;
    const b = o.block.spec;
    if (b.affinity === hostAffinity(host) && freeCount(b) > 0 && parseBlockCidr(b.cidr).prefixLen === pool.blockSize) return b.cidr;
    if (o.to + 1n > k) k = o.to + 1n;
  }
  return k < n ? blockAt(pool, (start + k) % n) : undefined;
}

/** Existing blocks of a pool with free addresses, in the host's walking order (for borrowing). */
export function blocksWithSpace(pool: Pool, blocks: readonly IPAMBlock[], host: string, random?: () => number): IPAMBlock[] {
  const start = startIndex(pool, host, random);
  const seen = new Set<string>();
  const out: IPAMBlock[] = [];
  for (const o of occupiedByOffset(pool, blocks, start)) {
    if (seen.has(o.block.spec.cidr) || freeCount(o.block.spec) === 0) continue;
    seen.add(o.block.spec.cidr);
    out.push(o.block);
  }
  return out;
}

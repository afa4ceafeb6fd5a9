// Which pools a request may use: enabled pools of the right family, the requested ones (by
// CIDR or name) or else those whose nodeSelector matches the node, filtered by allowedUses.

import {
  canonicalCidr, cidrContains, convertLegacyIPPoolSpec, defaultIPPool, networkOf, parseCidr, parseSelector, bits,
  type AllowedUse, type Cidr, type IPPool, type IpAddr, type IpVersion, type Labels,
} from '@tabby/api';
import { IpamError } from './errors.js';
import type { PoolGeometry } from './block-order.js';

export interface Pool extends PoolGeometry {
  name: string;
  /** Canonical CIDR text. */
  cidr: string;
  disabled: boolean;
  nodeSelector: string;
  allowedUses: AllowedUse[];
  manual: boolean;
}

/** Normalises a stored IPPool (defaults, legacy fields); undefined if its CIDR is unusable. */
export function poolOf(p: IPPool): Pool | undefined {
  const r = defaultIPPool({ ...p, spec: convertLegacyIPPoolSpec(p.spec) });
  const c = parseCidr(r.spec.cidr);
  if (!c) return undefined;
  const pool: Cidr = { ...c, addr: networkOf(c) };
  const blockSize = r.spec.blockSize ?? (c.version === 4 ? 26 : 122);
  if (blockSize < pool.prefixLen || blockSize > bits(c.version)) return undefined;
  return {
    name: r.metadata.name,
    cidr: canonicalCidr(pool),
    pool,
    blockSize,
    disabled: r.spec.disabled === true,
    nodeSelector: r.spec.nodeSelector || 'all()',
    allowedUses: r.spec.allowedUses ?? ['Workload', 'Tunnel'],
    manual: r.spec.assignmentMode === 'Manual',
  };
}

export function poolsOf(items: readonly IPPool[]): Pool[] {
  return items.map(poolOf).filter((p): p is Pool => p !== undefined);
}

export function poolContaining(pools: readonly Pool[], ip: IpAddr): Pool | undefined {
  const inner: Cidr = { version: ip.version, addr: ip.value, prefixLen: bits(ip.version) };
  return pools.find((p) => cidrContains(p.pool, inner));
}

export function poolContainingBlock(pools: readonly Pool[], block: Cidr): Pool | undefined {
  return pools.find((p) => cidrContains(p.pool, block));
}

export function selectsNode(pool: Pool, labels: Labels): boolean {
  try {
    return parseSelector(pool.nodeSelector).evaluate(labels);
  } catch (e) {
    throw new IpamError(`IPPool ${pool.name}: invalid nodeSelector "${pool.nodeSelector}": ${(e as Error).message}`);
  }
}

export interface PoolChoice {
  /** Pools this request may assign from, in order. */
  usable: Pool[];
  /** Enabled pools of the family that select the node (whatever their use). */
  selecting: Pool[];
}

/**
 * libcalico-go's determinePools + filterPoolsByUse. Requested pools (CIDR or name) must exist
 * and be enabled and are used as given (their selectors are ignored, as in Calico); otherwise
 * the enabled automatic pools whose nodeSelector matches the node's labels.
 */
export function choosePools(all: readonly Pool[], version: IpVersion, host: string, labels: Labels, requested: readonly string[] | undefined, use: AllowedUse): PoolChoice {
  const enabled = all.filter((p) => !p.disabled && p.pool.version === version);
  let selecting: Pool[];
  if (requested && requested.length > 0) {
    selecting = requested.map((want) => {
      const c = parseCidr(want);
      const key = c ? canonicalCidr(c) : undefined;
      const p = enabled.find((e) => e.name === want || e.cidr === key);
      if (!p) {
        if (c && c.version !== version) throw new IpamError(`the requested IPv${version} pools contain ${want}, which is an IPv${c.version} CIDR`);
        throw new IpamError(`the given pool (${key ?? want}) does not exist, or is not enabled`);
      }
      return p;
    });
  } else {
    selecting = enabled.filter((p) => !p.manual && selectsNode(p, labels));
  }
  if (selecting.length === 0) throw new IpamError(`no configured Calico pools for node ${host}`);
  const usable = selecting.filter((p) => p.allowedUses.includes(use));
  if (usable.length === 0) throw new IpamError(`no configured Calico pools for node ${host}: no pools match the required use (${use})`);
  return { usable, selecting };
}

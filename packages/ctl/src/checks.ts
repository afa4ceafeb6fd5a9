// Cross-resource rules that Calico's client (not the field validator) enforces on writes.

import { canonicalCidr, cidrsOverlap, parseCidr, type AnyResource, type IPPool } from '@tabby/api';
import type { Datastore } from '@tabby/datastore';
import { CtlError } from './errors.js';

export type WriteAction = 'create' | 'apply' | 'replace' | 'delete' | 'patch' | 'label';

/** Kinds calico-node owns; calicoctl refuses to write them. */
const READ_ONLY = new Set(['ClusterInformation']);

export function checkWritable(kind: string, action: WriteAction): void {
  if (READ_ONLY.has(kind)) {
    throw new CtlError(`operation ${action} is not supported on ${kind}: resource is readonly`);
  }
}

/**
 * IPPool rules: a new pool may not overlap an existing one; an existing pool's cidr and
 * blockSize cannot change (allocations already depend on them).
 */
export async function checkPoolWrite(ds: Datastore, r: AnyResource, existing: AnyResource | undefined): Promise<void> {
  if (r.kind !== 'IPPool') return;
  const pool = r as IPPool;
  const spec = pool.spec;
  const cidr = parseCidr(spec.cidr);
  if (existing) {
    const old = (existing as IPPool).spec;
    const oldCidr = parseCidr(old.cidr);
    if (oldCidr && cidr && canonicalCidr(oldCidr) !== canonicalCidr(cidr)) {
      throw new CtlError(`error with field IPPool.Spec.CIDR = '${spec.cidr}' (IPPool CIDR cannot be modified)`);
    }
    if (old.blockSize !== undefined && spec.blockSize !== undefined && old.blockSize !== spec.blockSize) {
      throw new CtlError(`error with field IPPool.Spec.BlockSize = '${spec.blockSize}' (IPPool BlockSize cannot be modified)`);
    }
    return;
  }
  if (!cidr) return;
  const { items } = await ds.list('IPPool');
  for (const other of items) {
    if (other.metadata.name === pool.metadata.name) continue;
    const oc = parseCidr(other.spec.cidr);
    if (oc && cidrsOverlap(oc, cidr)) {
      throw new CtlError(`IPPool(${pool.metadata.name}) CIDR ${spec.cidr} overlaps with IPPool(${other.metadata.name}) CIDR ${other.spec.cidr}`);
    }
  }
}

// The block-affinity claim protocol (libcalico-go's blockReaderWriter):
//
//   claim:    affinity `pending` (create, or CAS back to pending) -> create the block naming the
//             host -> affinity `confirmed` (CAS). A block that already exists and names another
//             host means we lost: our pending affinity is deleted again.
//   use:      an affinity whose block names another host is stale and deleted; an unconfirmed
//             one is confirmed by pending -> CAS-write the block (new revision, so any writer
//             holding the old one fails) -> confirmed.
//   release:  affinity `pendingDeletion` -> delete the block if empty (else clear its affinity)
//             with a CAS -> delete the affinity with a CAS.
//
// Every step is a compare-and-swap; a lost race surfaces as ConflictError (or NotFoundError when
// the object vanished) and the caller starts over from fresh reads.

import { AlreadyExistsError } from '@tabby/datastore';
import type { BlockAffinity, IPAMBlock } from '@tabby/api';
import { hostAffinity, isEmpty, newBlockSpec } from './block.js';
import { BlockClaimConflict, StaleAffinity } from './errors.js';
import { isConflict, isNotFound, type IpamStore } from './store.js';

/** Sequence numbers start from the clock (µs, so they stay exact in a JS number) so a re-created block never repeats one. */
function initialSequenceNumber(): number {
  return Date.now() * 1000;
}

function claimTime(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Creates the host's affinity as pending, or sets an existing one back to pending (CAS). */
export async function pendingAffinity(store: IpamStore, host: string, cidr: string): Promise<BlockAffinity> {
  try {
    return await store.createAffinity(host, cidr, 'pending');
  } catch (e) {
    if (!(e instanceof AlreadyExistsError)) throw e;
  }
  const cur = await store.getAffinity(host, cidr);
  if (!cur) throw new AlreadyExistsError({ kind: 'BlockAffinity', name: `${host} ${cidr}` }); // vanished: caller retries
  return store.setAffinityState(cur, 'pending');
}

/** Creates the block for a pending affinity and confirms the affinity. */
export async function claimAffineBlock(store: IpamStore, aff: BlockAffinity): Promise<IPAMBlock> {
  const host = aff.spec.node;
  const cidr = aff.spec.cidr;
  let block: IPAMBlock;
  try {
    block = await store.createBlock(newBlockSpec(cidr, hostAffinity(host), claimTime(), initialSequenceNumber()));
  } catch (e) {
    if (!(e instanceof AlreadyExistsError)) throw e;
    const existing = await store.getBlock(cidr);
    if (!existing) throw e; // deleted in between: retry from the top
    if (existing.spec.affinity === hostAffinity(host)) {
      // Another process on this host claimed it first: share it.
      await store.setAffinityState(aff, 'confirmed');
      return existing;
    }
    await store.deleteAffinity(aff).catch((err: unknown) => {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    });
    throw new BlockClaimConflict(cidr, existing.spec.affinity);
  }
  await store.setAffinityState(aff, 'confirmed');
  return block;
}

/**
 * The block an affinity refers to, creating it when missing and confirming the affinity when
 * needed. Throws StaleAffinity (after deleting it) when the block names someone else.
 */
export async function blockFromAffinity(store: IpamStore, aff: BlockAffinity): Promise<IPAMBlock> {
  const host = aff.spec.node;
  const cidr = aff.spec.cidr;
  const block = await store.getBlock(cidr);
  if (!block) {
    const pending = await store.setAffinityState(aff, 'pending');
    return claimAffineBlock(store, pending);
  }
  if (block.spec.affinity !== hostAffinity(host)) {
    await store.deleteAffinity(aff);
    throw new StaleAffinity(host, cidr);
  }
  if (aff.spec.state !== 'confirmed') {
    const pending = await store.setAffinityState(aff, 'pending');
    // A new revision of the block invalidates whatever anyone else read before our claim.
    const bumped = await store.updateBlock(block, block.spec);
    await store.setAffinityState(pending, 'confirmed');
    return bumped;
  }
  return block;
}

export type AffinityRelease = 'released' | 'not-ours' | 'not-empty' | 'no-block';

/**
 * Gives up a host's affinity for a block: the block is deleted if empty, otherwise kept with no
 * affinity (its addresses stay allocated). With `requireEmpty` a non-empty block is left alone.
 * One attempt; ConflictError means a race was lost and the caller may try again.
 */
export async function releaseBlockAffinity(store: IpamStore, host: string, cidr: string, requireEmpty: boolean): Promise<AffinityRelease> {
  const block = await store.getBlock(cidr);
  if (!block) {
    const dangling = await store.getAffinity(host, cidr);
    if (dangling) await store.deleteAffinity(dangling);
    return 'no-block';
  }
  if (block.spec.affinity && block.spec.affinity !== hostAffinity(host)) {
    // The block is someone else's: an affinity record of ours for it is stale.
    const stale = await store.getAffinity(host, cidr);
    if (stale) await store.deleteAffinity(stale);
    return 'not-ours';
  }
  const empty = isEmpty(block.spec);
  if (requireEmpty && !empty) return 'not-empty';

  const aff = await store.getAffinity(host, cidr);
  const marked = aff ? await store.setAffinityState(aff, 'pendingDeletion') : undefined;
  try {
    if (empty) {
      await store.deleteBlock(block);
    } else {
      const { affinityClaimTime: _t, ...rest } = block.spec;
      await store.updateBlock(block, { ...rest, affinity: null });
    }
  } catch (e) {
    // The block moved on (someone assigned from it or re-confirmed it): undo our mark if
    // nobody has touched the affinity since, and let the caller look again.
    if (marked) await store.setAffinityState(marked, 'confirmed').catch(() => undefined);
    throw e;
  }
  if (marked) {
    await store.deleteAffinity(marked).catch((e: unknown) => {
      // Re-claimed meanwhile (conflict) or already gone: either way not ours to remove now.
      if (!isConflict(e) && !isNotFound(e)) throw e;
    });
  }
  return 'released';
}

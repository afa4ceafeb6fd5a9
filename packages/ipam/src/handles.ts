// IPAMHandle bookkeeping: how many addresses a handle holds per block. The handle is raised
// before a block write and lowered if that write fails (as libcalico-go does), so it may
// briefly overstate but never understate what the blocks hold.

import { AlreadyExistsError } from '@tabby/datastore';
import { IpamRetryError } from './errors.js';
import { isConflict, isNotFound, type IpamStore } from './store.js';

export const DATASTORE_RETRIES = 100;

export async function incrementHandle(store: IpamStore, handleID: string, blockCidr: string, n: number): Promise<void> {
  for (let i = 0; i < DATASTORE_RETRIES; i++) {
    const h = await store.getHandle(handleID);
    try {
      if (!h) {
        await store.createHandle(handleID, { [blockCidr]: n });
      } else {
        const block = { ...h.spec.block, [blockCidr]: (h.spec.block[blockCidr] ?? 0) + n };
        await store.updateHandle(h, block);
      }
      return;
    } catch (e) {
      if (isConflict(e) || isNotFound(e) || e instanceof AlreadyExistsError) continue;
      throw e;
    }
  }
  throw new IpamRetryError(`incrementing handle ${handleID}`);
}

/** Lowers a handle's count for a block (dropping the block, and the handle once it holds nothing). */
export async function decrementHandle(store: IpamStore, handleID: string, blockCidr: string, n: number): Promise<void> {
  for (let i = 0; i < DATASTORE_RETRIES; i++) {
    const h = await store.getHandle(handleID);
    if (!h) return;
    const block = { ...h.spec.block };
    const left = (block[blockCidr] ?? 0) - n;
    if (left > 0) block[blockCidr] = left;
    else delete block[blockCidr];
    try {
      if (Object.keys(block).length === 0) await store.deleteHandle(h);
      else await store.updateHandle(h, block);
      return;
    } catch (e) {
      if (isConflict(e)) continue;
      if (isNotFound(e)) return;
      throw e;
    }
  }
  throw new IpamRetryError(`decrementing handle ${handleID}`);
}

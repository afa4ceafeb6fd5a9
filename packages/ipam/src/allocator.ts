// BlockAffinityIpam: Calico's block-affinity IPAM over the Datastore (libcalico-go lib/ipam).
// Assignment order: the host's affine blocks -> a newly claimed block (walking order seeded by
// the hostname, up to the per-host block limit) -> unless strictAffinity, addresses borrowed
// from other hosts' blocks. Every block, affinity and handle write is a compare-and-swap that
// is retried from fresh reads when it loses a race.

import { type IPAMBlock, type IpVersion, type Labels } from '@tabby/api';
import { AlreadyExistsError, type Datastore } from '@tabby/datastore';
import { createLogger } from '@tabby/log';
import {
  IpamExhaustedError, type AllocationAttrs, type AssignedAddress, type AutoAssignRequest, type AutoAssignResult, type Ipam,
} from './contract.js';
import { blockFromAffinity, claimAffineBlock, pendingAffinity, releaseBlockAffinity, type AffinityRelease } from './affinity.js';
import {
  addressOf, affinityHost, assignFromBlock, assignOrdinal, blockCidrFor, cloneBlock, freeCount, hostAffinity, isEmpty,
  ordinalOf, ordinalsByHandle, parseAddress, parseBlockCidr, releaseOrdinals,
} from './block.js';
import { BlockClaimConflict, BlockLimitError, IpamError, IpamRetryError, StaleAffinity } from './errors.js';
import { blocksWithSpace, findUsableInPool } from './find-block.js';
import { DATASTORE_RETRIES, decrementHandle, incrementHandle } from './handles.js';
import { choosePools, poolContaining, poolContainingBlock, poolsOf, type Pool } from './pools.js';
import { IpamStore, isConflict, isNotFound } from './store.js';

const log = createLogger('ipam');

/** Without a limit from IPAMConfig or the request, a host holds at most this many blocks (as Calico). */
export const DEFAULT_MAX_BLOCKS_PER_HOST = 20;

const HANDLE_ID = /^[A-Za-z0-9._-]{1,253}$/;
const HOSTNAME = /^[A-Za-z0-9._-]{1,253}$/;

export interface BlockAffinityIpamOptions {
  /** Random source for the start index of single-address (/32, /128) blocks; tests pin it. */
  random?: () => number;
}

/** A lost race or a vanished object: read again and retry. */
function retryable(e: unknown): boolean {
  return isConflict(e) || isNotFound(e) || e instanceof AlreadyExistsError;
}

/** The smaller of the request's and the config's limits, or 20 when neither sets one. */
export function blockLimit(requested: number | undefined, configured: number): number {
  const r = requested && requested > 0 ? requested : 0;
  const c = configured > 0 ? configured : 0;
  if (r && c) return Math.min(r, c);
  return r || c || DEFAULT_MAX_BLOCKS_PER_HOST;
}

function assigned(block: IPAMBlock, ordinal: number, host: string): AssignedAddress {
  const c = parseBlockCidr(block.spec.cidr);
  const address = addressOf(c, ordinal);
  return { cidr: `${address}/${c.prefixLen}`, address, block: block.spec.cidr, borrowed: block.spec.affinity !== hostAffinity(host) };
}

interface FamilyRequest {
  version: IpVersion;
  num: number;
  handleID: string;
  attrs: AllocationAttrs;
  host: string;
  requested: string[] | undefined;
  maxBlocks: number | undefined;
  use: 'Workload' | 'Tunnel';
}

export class BlockAffinityIpam implements Ipam {
  readonly store: IpamStore;
  private readonly random: (() => number) | undefined;

  constructor(readonly ds: Datastore, opts: BlockAffinityIpamOptions = {}) {
    this.store = new IpamStore(ds);
    this.random = opts.random;
  }

  async autoAssign(req: AutoAssignRequest): Promise<AutoAssignResult> {
    for (const [field, v] of [['num4', req.num4], ['num6', req.num6]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new IpamError(`autoAssign: ${field} must be a whole number >= 0, got ${String(v)}`);
    }
    checkHandle(req.handleID);
    checkHost(req.hostname);
    const attrs: AllocationAttrs = { ...(req.attrs ?? {}) };
    attrs.node ??= req.hostname;
    const base = { handleID: req.handleID, attrs, host: req.hostname, maxBlocks: req.maxBlocksPerHost, use: req.use ?? 'Workload' } as const;
    const ipv4 = req.num4 > 0 ? await this.assignFamily({ ...base, version: 4, num: req.num4, requested: req.ipv4Pools }) : [];
    let ipv6: AssignedAddress[] = [];
    try {
      if (req.num6 > 0) ipv6 = await this.assignFamily({ ...base, version: 6, num: req.num6, requested: req.ipv6Pools });
    } catch (e) {
      await this.releaseIPs(ipv4.map((a) => a.address));
      throw e;
    }
    return { ipv4, ipv6 };
  }

  private async nodeLabels(host: string): Promise<Labels> {
    try {
      return (await this.ds.get('Node', host)).metadata.labels ?? {};
    } catch (e) {
      if (!isNotFound(e)) throw e;
      log.debug('node not found; matching pools against no labels', { node: host });
      return {};
    }
  }

  private async assignFamily(r: FamilyRequest): Promise<AssignedAddress[]> {
    const pools = poolsOf((await this.ds.list('IPPool')).items);
    const { usable, selecting } = choosePools(pools, r.version, r.host, await this.nodeLabels(r.host), r.requested, r.use);
    const cfg = await this.store.getConfig();
    const limit = blockLimit(r.maxBlocks, cfg.maxBlocksPerHost);

    const affine: string[] = [];
    for (const a of await this.store.listAffinities(r.host, r.version)) {
      const c = parseBlockCidr(a.spec.cidr);
      if (poolContainingBlock(usable, c)) affine.push(a.spec.cidr);
      else if (!poolContainingBlock(selecting, c)) await this.bestEffort(() => releaseBlockAffinity(this.store, r.host, a.spec.cidr, true), 'releasing an empty block of a pool that no longer selects the node');
    }
    let owned = affine.length;
    const got: AssignedAddress[] = [];
    const reasons: string[] = [];
    try {
      for (let round = 0; got.length < r.num; round++) {
        if (round > DATASTORE_RETRIES) throw new IpamRetryError(`assigning IPv${r.version} addresses for ${r.host}`);
        const found = await this.findOrClaimBlock(r.host, usable, affine, owned < limit, cfg.autoAllocateBlocks);
        if (found === 'limit') throw new BlockLimitError(limit);
        if (found === 'none') {
          reasons.push(cfg.strictAffinity ? 'No more free affine blocks and strict affinity enabled' : 'no free blocks to claim');
          break;
        }
        if (found.claimed) owned++;
        got.push(...await this.assignFrom(found.block, r.num - got.length, r, cfg.strictAffinity, true));
      }
      if (got.length < r.num && !cfg.strictAffinity) got.push(...await this.borrow(usable, r.num - got.length, r, reasons));
    } catch (e) {
      await this.releaseIPs(got.map((a) => a.address));
      if (e instanceof BlockLimitError) throw new IpamExhaustedError(r.version, r.num, got.length, e.message);
      throw e;
    }
    if (got.length < r.num) {
      await this.releaseIPs(got.map((a) => a.address));
      throw new IpamExhaustedError(r.version, r.num, got.length, reasons.join('; ') || 'no addresses left');
    }
    log.debug('assigned', { host: r.host, handle: r.handleID, addresses: got.map((a) => a.address) });
    return got;
  }

  /** An affine block with room (popping `affine`), else a newly claimed one; 'none' / 'limit' when neither. */
  private async findOrClaimBlock(host: string, pools: Pool[], affine: string[], allowNew: boolean, autoAllocate: boolean): Promise<{ block: IPAMBlock; claimed: boolean } | 'none' | 'limit'> {
    while (affine.length > 0) {
      const cidr = affine.shift()!;
      for (let i = 0; i < DATASTORE_RETRIES; i++) {
        const aff = await this.store.getAffinity(host, cidr);
        if (!aff) break;
        try {
          const block = await blockFromAffinity(this.store, aff);
          if (freeCount(block.spec) > 0) {
            affine.unshift(cidr); // may still have room for a later round
            return { block, claimed: false };
          }
          break;
        } catch (e) {
          if (retryable(e)) continue;
          if (e instanceof StaleAffinity || e instanceof BlockClaimConflict) break;
          throw e;
        }
      }
    }
    if (!allowNew) return 'limit';
    if (!autoAllocate) return 'none';
    for (let i = 0; i < DATASTORE_RETRIES; i++) {
      const blocks = await this.store.listBlocks();
      let subnet: string | undefined;
      for (const p of pools) if ((subnet = findUsableInPool(p, blocks, host, this.random))) break;
      if (!subnet) return 'none';
      for (let j = 0; j < DATASTORE_RETRIES; j++) {
        try {
          const aff = await pendingAffinity(this.store, host, subnet);
          const block = await blockFromAffinity(this.store, aff);
          if (freeCount(block.spec) > 0) {
            affine.push(subnet);
            return { block, claimed: true };
          }
          break;
        } catch (e) {
          if (e instanceof StaleAffinity || e instanceof BlockClaimConflict) break;
          if (retryable(e)) continue;
          throw e;
        }
      }
    }
    throw new IpamRetryError(`claiming a block for ${host}`);
  }

  /**
   * Assigns up to `num` addresses from a block (raising the handle first, CAS on the block). A
   * lost race re-reads the block; with `sameOwner` a block that changed hands meanwhile (emptied,
   * released and claimed by another node) yields nothing, so the caller picks again instead of
   * borrowing by accident.
   */
  private async assignFrom(start: IPAMBlock, num: number, r: FamilyRequest, affinityCheck: boolean, sameOwner: boolean): Promise<AssignedAddress[]> {
    let block: IPAMBlock | undefined = start;
    for (let i = 0; i < DATASTORE_RETRIES && block; i++) {
      if (sameOwner && block.spec.affinity !== start.spec.affinity) return [];
      const spec = cloneBlock(block.spec);
      let ordinals: number[];
      try {
        ordinals = assignFromBlock(spec, num, r.handleID, r.attrs, r.host, affinityCheck);
      } catch (e) {
        if (e instanceof IpamError) return []; // the block changed hands since we picked it
        throw e;
      }
      if (ordinals.length === 0) return [];
      await incrementHandle(this.store, r.handleID, spec.cidr, ordinals.length);
      try {
        const written = await this.store.updateBlock(block, spec);
        return ordinals.map((o) => assigned(written, o, r.host));
      } catch (e) {
        await decrementHandle(this.store, r.handleID, spec.cidr, ordinals.length);
        if (!retryable(e)) throw e;
        block = await this.store.getBlock(spec.cidr);
      }
    }
    return [];
  }

  /** Non-strict affinity: take free addresses from any existing block, in walking order. */
  private async borrow(pools: Pool[], num: number, r: FamilyRequest, reasons: string[]): Promise<AssignedAddress[]> {
    const got: AssignedAddress[] = [];
    const blocks = await this.store.listBlocks();
    const exhausted: string[] = [];
    for (const p of pools) {
      for (const b of blocksWithSpace(p, blocks, r.host, this.random)) {
        if (got.length >= num) break;
        got.push(...await this.assignFrom(b, num - got.length, r, false, false));
      }
      if (got.length >= num) break;
      exhausted.push(p.cidr);
    }
    if (got.length < num) reasons.push(`No IPs available in pools: [${exhausted.join(' ')}]`);
    return got;
  }

  async assignIP(req: { address: string; handleID: string; attrs?: AllocationAttrs; hostname: string }): Promise<AssignedAddress> {
    checkHandle(req.handleID);
    checkHost(req.hostname);
    const ip = parseAddress(req.address);
    const pools = poolsOf((await this.ds.list('IPPool')).items).filter((p) => !p.disabled);
    const pool = poolContaining(pools, ip);
    if (!pool) throw new IpamError(`The provided IP address ${req.address} is not in a configured pool`);
    const attrs: AllocationAttrs = { ...(req.attrs ?? {}) };
    attrs.node ??= req.hostname;
    const cidr = blockCidrFor(ip, pool.blockSize);
    const cfg = await this.store.getConfig();
    for (let i = 0; i < DATASTORE_RETRIES; i++) {
      let block = await this.store.getBlock(cidr);
      if (!block) {
        try {
          block = await claimAffineBlock(this.store, await pendingAffinity(this.store, req.hostname, cidr));
        } catch (e) {
          if (e instanceof BlockClaimConflict || retryable(e)) continue;
          throw e;
        }
      }
      const spec = cloneBlock(block.spec);
      const ordinal = ordinalOf(parseBlockCidr(cidr), ip);
      assignOrdinal(spec, ordinal, req.handleID, attrs, req.hostname, cfg.strictAffinity);
      await incrementHandle(this.store, req.handleID, cidr, 1);
      try {
        const written = await this.store.updateBlock(block, spec);
        return assigned(written, ordinal, req.hostname);
      } catch (e) {
        await decrementHandle(this.store, req.handleID, cidr, 1);
        if (!retryable(e)) throw e;
      }
    }
    throw new IpamRetryError(`assigning ${req.address}`);
  }

  async releaseIPs(addresses: string[]): Promise<string[]> {
    // Parse everything first: a bad address fails the call before anything is written.
    const parsed = addresses.map((a) => ({ text: a, ip: parseAddress(a) }));
    if (parsed.length === 0) return [];
    const blocks = await this.store.listBlocks();
    const byBlock = new Map<string, { text: string; ordinal: number }[]>();
    const notAllocated: string[] = [];
    for (const { text, ip } of parsed) {
      const b = blocks.find((x) => { try { ordinalOf(parseBlockCidr(x.spec.cidr), ip); return true; } catch { return false; } });
      if (!b) {
        notAllocated.push(text);
        continue;
      }
      const list = byBlock.get(b.spec.cidr) ?? [];
      list.push({ text, ordinal: ordinalOf(parseBlockCidr(b.spec.cidr), ip) });
      byBlock.set(b.spec.cidr, list);
    }
    for (const [cidr, items] of byBlock) {
      const { notAllocated: missed } = await this.releaseFromBlock(cidr, items.map((x) => x.ordinal), undefined);
      for (const x of items) if (missed.includes(x.ordinal)) notAllocated.push(x.text);
    }
    const order = new Map(addresses.map((a, i) => [a, i]));
    return notAllocated.sort((a, b) => order.get(a)! - order.get(b)!);
  }

  /**
   * Releases ordinals (or, with `handleID`, every address of that handle) from one block.
   * Handles are lowered afterwards, and a block left empty gives up its affinity and is deleted.
   */
  private async releaseFromBlock(cidr: string, ordinals: number[] | undefined, handleID: string | undefined): Promise<{ released: number[]; notAllocated: number[] }> {
    for (let i = 0; i < DATASTORE_RETRIES; i++) {
      const block = await this.store.getBlock(cidr);
      if (!block) return { released: [], notAllocated: ordinals ?? [] };
      const spec = cloneBlock(block.spec);
      const res = releaseOrdinals(spec, ordinals ?? ordinalsByHandle(spec, handleID!));
      if (res.released.length === 0) return res;
      try {
        if (isEmpty(spec) && !spec.affinity) await this.store.deleteBlock(block);
        else await this.store.updateBlock(block, spec);
      } catch (e) {
        if (retryable(e)) continue;
        throw e;
      }
      for (const [h, n] of res.handles) await decrementHandle(this.store, h, cidr, h === handleID ? Number.MAX_SAFE_INTEGER : n);
      if (isEmpty(spec) && spec.affinity) await this.releaseEmptyBlock(cidr);
      return res;
    }
    throw new IpamRetryError(`releasing addresses in ${cidr}`);
  }

  /** An empty block's affinity is released and the block deleted (Calico leaves this to its GC). */
  private async releaseEmptyBlock(cidr: string): Promise<void> {
    for (let i = 0; i < DATASTORE_RETRIES; i++) {
      const block = await this.store.getBlock(cidr);
      if (!block || !isEmpty(block.spec)) return;
      const host = affinityHost(block.spec.affinity);
      if (!host) return;
      try {
        await releaseBlockAffinity(this.store, host, cidr, true);
        return;
      } catch (e) {
        if (retryable(e)) continue;
        log.warn('could not release the affinity of an empty block', { block: cidr, error: (e as Error).message });
        return;
      }
    }
  }

  async releaseByHandle(handleID: string): Promise<string[]> {
    checkHandle(handleID);
    const handle = await this.store.getHandle(handleID);
    if (!handle) return [];
    const released: string[] = [];
    for (const cidr of Object.keys(handle.spec.block)) {
      const before = await this.store.getBlock(cidr);
      const mine = before ? ordinalsByHandle(before.spec, handleID) : [];
      if (mine.length === 0) {
        // The handle overstated this block (a write that failed after it was raised): settle it.
        await decrementHandle(this.store, handleID, cidr, Number.MAX_SAFE_INTEGER);
        continue;
      }
      const c = parseBlockCidr(cidr);
      const res = await this.releaseFromBlock(cidr, undefined, handleID);
      if (res.released.length === 0) await decrementHandle(this.store, handleID, cidr, Number.MAX_SAFE_INTEGER);
      for (const o of res.released.sort((a, b) => a - b)) released.push(addressOf(c, o));
    }
    return released;
  }

  async ipsByHandle(handleID: string): Promise<string[]> {
    checkHandle(handleID);
    const handle = await this.store.getHandle(handleID);
    if (!handle) return [];
    const out: string[] = [];
    for (const cidr of Object.keys(handle.spec.block)) {
      const block = await this.store.getBlock(cidr);
      if (!block) continue;
      const c = parseBlockCidr(cidr);
      for (const o of ordinalsByHandle(block.spec, handleID)) out.push(addressOf(c, o));
    }
    return out;
  }

  /**
   * A node is gone: release every affinity it holds. Empty blocks are deleted; blocks with
   * addresses keep them but lose their affinity (libcalico-go's ReleaseHostAffinities with
   * mustBeEmpty=false). Returns what happened per block.
   */
  async releaseNodeAffinities(host: string): Promise<{ cidr: string; result: AffinityRelease }[]> {
    checkHost(host);
    const out: { cidr: string; result: AffinityRelease }[] = [];
    for (const a of await this.store.listAffinities(host)) {
      for (let i = 0; ; i++) {
        try {
          out.push({ cidr: a.spec.cidr, result: await releaseBlockAffinity(this.store, host, a.spec.cidr, false) });
          break;
        } catch (e) {
          if (!retryable(e) || i >= DATASTORE_RETRIES) throw e;
        }
      }
    }
    return out;
  }

  private async bestEffort(fn: () => Promise<unknown>, what: string): Promise<void> {
    try {
      await fn();
    } catch (e) {
      log.warn(`failed ${what}`, { error: (e as Error).message });
    }
  }
}

function checkHandle(handleID: string): void {
  if (typeof handleID !== 'string' || !HANDLE_ID.test(handleID)) {
    throw new IpamError(`handleID ${JSON.stringify(handleID)} is not valid: use 1-253 letters, digits, ".", "_" and "-"`);
  }
}

function checkHost(host: string): void {
  if (typeof host !== 'string' || !HOSTNAME.test(host)) {
    throw new IpamError(`hostname ${JSON.stringify(host)} is not valid: use 1-253 letters, digits, ".", "_" and "-"`);
  }
}

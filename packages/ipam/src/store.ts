// Typed access to the IPAM objects in the datastore. Every write that can race carries the
// resourceVersion it read (compare-and-swap); callers retry on ConflictError.

import {
  API_VERSION, blockNameFromCidr, defaultIPAMConfig,
  type BlockAffinity, type BlockAffinityState, type IPAMBlock, type IPAMBlockSpec, type IPAMConfigSpec, type IPAMHandle, type IpVersion,
} from '@tabby/api';
import { ConflictError, NotFoundError, type Datastore } from '@tabby/datastore';

export function isConflict(e: unknown): boolean {
  return e instanceof ConflictError;
}

export function isNotFound(e: unknown): boolean {
  return e instanceof NotFoundError;
}

/** The BlockAffinity resource name the etcd backend expects: `<node>-<block name>`. */
export function affinityName(host: string, cidr: string): string {
  return `${host}-${blockNameFromCidr(cidr)}`;
}

export class IpamStore {
  constructor(readonly ds: Datastore) {}

  // ---- blocks ----
  async getBlock(cidr: string): Promise<IPAMBlock | undefined> {
    try {
      return await this.ds.get('IPAMBlock', blockNameFromCidr(cidr));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async listBlocks(): Promise<IPAMBlock[]> {
    return (await this.ds.list('IPAMBlock')).items;
  }

  createBlock(spec: IPAMBlockSpec): Promise<IPAMBlock> {
    return this.ds.create<IPAMBlock>({ apiVersion: API_VERSION, kind: 'IPAMBlock', metadata: { name: blockNameFromCidr(spec.cidr) }, spec });
  }

  /** CAS on the block's resourceVersion: ConflictError if it changed, NotFoundError if it was deleted. */
  updateBlock(b: IPAMBlock, spec: IPAMBlockSpec): Promise<IPAMBlock> {
    return this.ds.update<IPAMBlock>({ ...b, spec });
  }

  async deleteBlock(b: IPAMBlock): Promise<void> {
    await this.ds.delete('IPAMBlock', b.metadata.name, undefined, { resourceVersion: b.metadata.resourceVersion! });
  }

  // ---- affinities ----
  async getAffinity(host: string, cidr: string): Promise<BlockAffinity | undefined> {
    try {
      return await this.ds.get('BlockAffinity', affinityName(host, cidr));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Affinities of one host (or all hosts), optionally of one IP family. */
  async listAffinities(host?: string, version?: IpVersion): Promise<BlockAffinity[]> {
    const all = (await this.ds.list('BlockAffinity')).items;
    return all.filter((a) => (host === undefined || a.spec.node === host) && (version === undefined || a.spec.cidr.includes(':') === (version === 6)));
  }

  createAffinity(host: string, cidr: string, state: BlockAffinityState): Promise<BlockAffinity> {
    return this.ds.create<BlockAffinity>({
      apiVersion: API_VERSION, kind: 'BlockAffinity', metadata: { name: affinityName(host, cidr) },
      spec: { state, node: host, cidr, type: 'host', deleted: false },
    });
  }

  setAffinityState(a: BlockAffinity, state: BlockAffinityState): Promise<BlockAffinity> {
    return this.ds.update<BlockAffinity>({ ...a, spec: { ...a.spec, state } });
  }

  async deleteAffinity(a: BlockAffinity): Promise<void> {
    await this.ds.delete('BlockAffinity', a.metadata.name, undefined, { resourceVersion: a.metadata.resourceVersion! });
  }

  // ---- handles ----
  async getHandle(handleID: string): Promise<IPAMHandle | undefined> {
    try {
      return await this.ds.get('IPAMHandle', handleID);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async listHandles(): Promise<IPAMHandle[]> {
    return (await this.ds.list('IPAMHandle')).items;
  }

  createHandle(handleID: string, block: Record<string, number>): Promise<IPAMHandle> {
    return this.ds.create<IPAMHandle>({ apiVersion: API_VERSION, kind: 'IPAMHandle', metadata: { name: handleID }, spec: { handleID, block, deleted: false } });
  }

  updateHandle(h: IPAMHandle, block: Record<string, number>): Promise<IPAMHandle> {
    return this.ds.update<IPAMHandle>({ ...h, spec: { ...h.spec, block } });
  }

  async deleteHandle(h: IPAMHandle): Promise<void> {
    await this.ds.delete('IPAMHandle', h.metadata.name, undefined, { resourceVersion: h.metadata.resourceVersion! });
  }

  // ---- config ----
  /** IPAMConfig, or Calico's defaults when none is stored (strictAffinity false, autoAllocateBlocks true, maxBlocksPerHost 0). */
  async getConfig(): Promise<Required<IPAMConfigSpec>> {
    try {
      const c = defaultIPAMConfig(await this.ds.get('IPAMConfig', 'default')).spec;
      return { strictAffinity: c.strictAffinity, autoAllocateBlocks: c.autoAllocateBlocks, maxBlocksPerHost: c.maxBlocksPerHost ?? 0 };
    } catch (e) {
      if (isNotFound(e)) return { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 };
      throw e;
    }
  }
}

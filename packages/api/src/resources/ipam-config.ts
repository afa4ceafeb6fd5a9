// IPAMConfig (calicoctl's IPAMConfiguration; always named "default"): cluster-wide IPAM settings.

import type { ResourceOf } from '../meta.js';
import type { Issues } from '../validate/issues.js';
import { bool, int, obj, type Schema } from '../validate/schema.js';

export interface IPAMConfigSpec {
  /** No borrowing: a node only uses addresses from blocks affine to it. */
  strictAffinity: boolean;
  /** Nodes may claim new blocks when theirs are full. */
  autoAllocateBlocks: boolean;
  /** Most blocks one node may hold; 0 means no limit of its own (IPAM then caps at 20). */
  maxBlocksPerHost?: number;
}
export type IPAMConfig = ResourceOf<'IPAMConfig', IPAMConfigSpec>;

export const ipamConfigSpecSchema: Schema = obj({ strictAffinity: bool, autoAllocateBlocks: bool, maxBlocksPerHost: int(0, 1000000) });

export function defaultIPAMConfig(r: IPAMConfig): IPAMConfig {
  return {
    ...r,
    spec: { strictAffinity: r.spec.strictAffinity ?? false, autoAllocateBlocks: r.spec.autoAllocateBlocks ?? true, maxBlocksPerHost: r.spec.maxBlocksPerHost ?? 0 },
  };
}

export function validateIPAMConfig(r: IPAMConfig, issues: Issues): void {
  if (r.metadata.name !== 'default') issues.add('metadata.name', r.metadata.name, 'must be "default": there is one IPAM configuration per cluster');
}

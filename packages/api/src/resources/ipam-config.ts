// IPAMConfig (calicoctl's IPAMConfiguration; always "default"): cluster-wide IPAM settings.

import type { ResourceOf } from '../meta.js';
import type { Issues } from '../validate/issues.js';
import { bool, int, obj, type Schema } from '../validate/schema.js';

export interface IPAMConfigSpec {
  strictAffinity: boolean;
  autoAllocateBlocks: boolean;
  /** 0 means no limit. */
  maxBlocksPerHost?: number;
}
export type IPAMConfig = ResourceOf<'IPAMConfig', IPAMConfigSpec>;

export const ipamConfigSpecSchema: Schema = obj({ strictAffinity: bool, autoAllocateBlocks: bool, maxBlocksPerHost: int(0, 2147483647) });

export function defaultIPAMConfig(r: IPAMConfig): IPAMConfig {
  return { ...r, spec: { strictAffinity: r.spec.strictAffinity ?? false, autoAllocateBlocks: r.spec.autoAllocateBlocks ?? true, maxBlocksPerHost: r.spec.maxBlocksPerHost ?? 0 } };
}

export function validateIPAMConfig(r: IPAMConfig, issues: Issues): void {
  if (r.metadata.name !== 'default') issues.add('metadata.name', r.metadata.name, 'must be "default"');
}

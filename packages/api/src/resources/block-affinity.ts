// PLACEHOLDER: the full BlockAffinity type, schema, defaults and validation land with the api work.
import type { ResourceOf } from '../meta.js';
import { any, type Schema } from '../validate/schema.js';
import type { Issues } from '../validate/issues.js';

export interface BlockAffinitySpec {
  [field: string]: unknown;
}
export type BlockAffinity = ResourceOf<'BlockAffinity', BlockAffinitySpec>;

export const blockAffinitySpecSchema: Schema = any;

export function defaultBlockAffinity(r: BlockAffinity): BlockAffinity {
  return r;
}

export function validateBlockAffinity(_r: BlockAffinity, _issues: Issues): void {}

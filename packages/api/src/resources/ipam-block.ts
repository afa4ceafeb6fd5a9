// PLACEHOLDER: the full IPAMBlock type, schema, defaults and validation land with the api work.
import type { ResourceOf } from '../meta.js';
import { any, type Schema } from '../validate/schema.js';
import type { Issues } from '../validate/issues.js';

export interface IPAMBlockSpec {
  [field: string]: unknown;
}
export type IPAMBlock = ResourceOf<'IPAMBlock', IPAMBlockSpec>;

export const ipamBlockSpecSchema: Schema = any;

export function defaultIPAMBlock(r: IPAMBlock): IPAMBlock {
  return r;
}

export function validateIPAMBlock(_r: IPAMBlock, _issues: Issues): void {}

// PLACEHOLDER: the full IPPool type, schema, defaults and validation land with the api work.
import type { ResourceOf } from '../meta.js';
import { any, type Schema } from '../validate/schema.js';
import type { Issues } from '../validate/issues.js';

export interface IPPoolSpec {
  [field: string]: unknown;
}
export type IPPool = ResourceOf<'IPPool', IPPoolSpec>;

export const ipPoolSpecSchema: Schema = any;

export function defaultIPPool(r: IPPool): IPPool {
  return r;
}

export function validateIPPool(_r: IPPool, _issues: Issues): void {}

// PLACEHOLDER: the full IPAMConfig type, schema, defaults and validation land with the api work.
import type { ResourceOf } from '../meta.js';
import { any, type Schema } from '../validate/schema.js';
import type { Issues } from '../validate/issues.js';

export interface IPAMConfigSpec {
  [field: string]: unknown;
}
export type IPAMConfig = ResourceOf<'IPAMConfig', IPAMConfigSpec>;

export const ipamConfigSpecSchema: Schema = any;

export function defaultIPAMConfig(r: IPAMConfig): IPAMConfig {
  return r;
}

export function validateIPAMConfig(_r: IPAMConfig, _issues: Issues): void {}

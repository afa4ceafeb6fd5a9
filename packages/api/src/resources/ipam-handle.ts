// PLACEHOLDER: the full IPAMHandle type, schema, defaults and validation land with the api work.
import type { ResourceOf } from '../meta.js';
import { any, type Schema } from '../validate/schema.js';
import type { Issues } from '../validate/issues.js';

export interface IPAMHandleSpec {
  [field: string]: unknown;
}
export type IPAMHandle = ResourceOf<'IPAMHandle', IPAMHandleSpec>;

export const ipamHandleSpecSchema: Schema = any;

export function defaultIPAMHandle(r: IPAMHandle): IPAMHandle {
  return r;
}

export function validateIPAMHandle(_r: IPAMHandle, _issues: Issues): void {}

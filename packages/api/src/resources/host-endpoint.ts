// PLACEHOLDER: the full HostEndpoint type, schema, defaults and validation land with the api work.
import type { ResourceOf } from '../meta.js';
import { any, type Schema } from '../validate/schema.js';
import type { Issues } from '../validate/issues.js';

export interface HostEndpointSpec {
  [field: string]: unknown;
}
export type HostEndpoint = ResourceOf<'HostEndpoint', HostEndpointSpec>;

export const hostEndpointSpecSchema: Schema = any;

export function defaultHostEndpoint(r: HostEndpoint): HostEndpoint {
  return r;
}

export function validateHostEndpoint(_r: HostEndpoint, _issues: Issues): void {}

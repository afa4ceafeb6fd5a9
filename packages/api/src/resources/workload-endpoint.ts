// PLACEHOLDER: the full WorkloadEndpoint type, schema, defaults and validation land with the api work.
import type { ResourceOf } from '../meta.js';
import { any, type Schema } from '../validate/schema.js';
import type { Issues } from '../validate/issues.js';

export interface WorkloadEndpointSpec {
  [field: string]: unknown;
}
export type WorkloadEndpoint = ResourceOf<'WorkloadEndpoint', WorkloadEndpointSpec>;

export const workloadEndpointSpecSchema: Schema = any;

export function defaultWorkloadEndpoint(r: WorkloadEndpoint): WorkloadEndpoint {
  return r;
}

export function validateWorkloadEndpoint(_r: WorkloadEndpoint, _issues: Issues): void {}

// PLACEHOLDER: the full ClusterInformation type, schema, defaults and validation land with the api work.
import type { ResourceOf } from '../meta.js';
import { any, type Schema } from '../validate/schema.js';
import type { Issues } from '../validate/issues.js';

export interface ClusterInformationSpec {
  [field: string]: unknown;
}
export type ClusterInformation = ResourceOf<'ClusterInformation', ClusterInformationSpec>;

export const clusterInformationSpecSchema: Schema = any;

export function defaultClusterInformation(r: ClusterInformation): ClusterInformation {
  return r;
}

export function validateClusterInformation(_r: ClusterInformation, _issues: Issues): void {}

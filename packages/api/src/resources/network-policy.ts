// PLACEHOLDER: the full NetworkPolicy type, schema, defaults and validation land with the api work.
import type { ResourceOf } from '../meta.js';
import { any, type Schema } from '../validate/schema.js';
import type { Issues } from '../validate/issues.js';

export interface NetworkPolicySpec {
  [field: string]: unknown;
}
export type NetworkPolicy = ResourceOf<'NetworkPolicy', NetworkPolicySpec>;

export const networkPolicySpecSchema: Schema = any;

export function defaultNetworkPolicy(r: NetworkPolicy): NetworkPolicy {
  return r;
}

export function validateNetworkPolicy(_r: NetworkPolicy, _issues: Issues): void {}

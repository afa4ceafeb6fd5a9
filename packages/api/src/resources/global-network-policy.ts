// PLACEHOLDER: the full GlobalNetworkPolicy type, schema, defaults and validation land with the api work.
import type { ResourceOf } from '../meta.js';
import { any, type Schema } from '../validate/schema.js';
import type { Issues } from '../validate/issues.js';

export interface GlobalNetworkPolicySpec {
  [field: string]: unknown;
}
export type GlobalNetworkPolicy = ResourceOf<'GlobalNetworkPolicy', GlobalNetworkPolicySpec>;

export const globalNetworkPolicySpecSchema: Schema = any;

export function defaultGlobalNetworkPolicy(r: GlobalNetworkPolicy): GlobalNetworkPolicy {
  return r;
}

export function validateGlobalNetworkPolicy(_r: GlobalNetworkPolicy, _issues: Issues): void {}

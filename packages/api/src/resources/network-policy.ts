// NetworkPolicy (namespaced): an ordered set of rules applied to the endpoints its selector picks
// within one namespace. The policy-level pieces shared with GlobalNetworkPolicy live here too.

import type { ObjectMeta, ResourceOf } from '../meta.js';
import { joinPath, type Issues } from '../validate/issues.js';
import { arr, num, obj, oneOf, str, type Check, type Schema } from '../validate/schema.js';
import {
  maxLength, rulesSchema, selectorField, unlessEmpty, validateRules,
  type PolicyType, type Rule,
} from './rule.js';
import { checkDnsSubdomain } from '../validate/common.js';

export type PerformanceHint = 'AssumeNeededOnEveryNode';

export interface NetworkPolicySpec {
  /** Defaults to `default`. */
  tier?: string;
  /** Lower orders apply first; absent means "last". */
  order?: number;
  selector?: string;
  /** Defaulted from the rules present when absent or empty (see `defaultPolicyTypes`). */
  types?: PolicyType[];
  ingress?: Rule[];
  egress?: Rule[];
  serviceAccountSelector?: string;
  performanceHints?: PerformanceHint[];
}
export type NetworkPolicy = ResourceOf<'NetworkPolicy', NetworkPolicySpec>;

export const DEFAULT_TIER = 'default';
/** Label Calico puts on every policy naming its tier. */
export const TIER_LABEL = 'projectcalico.org/tier';

/** Fields NetworkPolicy and GlobalNetworkPolicy share. */
export const policyCommonFields: Record<string, Schema> = {
  tier: str(maxLength(253, unlessEmpty(checkDnsSubdomain))),
  order: num,
  selector: selectorField,
  types: arr(oneOf('Ingress', 'Egress'), 2),
  ingress: rulesSchema,
  egress: rulesSchema,
  serviceAccountSelector: selectorField,
  performanceHints: arr(oneOf('AssumeNeededOnEveryNode')),
};

export const networkPolicySpecSchema: Schema = obj(policyCommonFields);

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const NP_NAME = new RegExp(`^(${LABEL}(\\.${LABEL})?|(knp|ossg)\\.default\\.${LABEL}(\\.${LABEL})*)$`);
const GNP_NAME = new RegExp(`^(${LABEL}\\.)?${LABEL}$`);

function policyNameCheck(re: RegExp, what: string): Check {
  return (v, path, issues) => {
    if (typeof v !== 'string') return;
    if (v.length > 253) issues.add(path, v, `name is too long by ${v.length - 253} characters (at most 253)`);
    else if (!re.test(v)) issues.add(path, v, what);
  };
}

/** NetworkPolicy names: a DNS label, optionally `label.label`, or `knp.default.`/`ossg.default.` + a subdomain. */
export const checkNetworkPolicyName: Check = policyNameCheck(NP_NAME,
  'a NetworkPolicy name must be lower case alphanumerics and "-" with at most one "." (e.g. "allow-db" or "tier1.allow-db"), or start with "knp.default."');

/** GlobalNetworkPolicy names: a DNS label, optionally `label.label`. */
export const checkGlobalNetworkPolicyName: Check = policyNameCheck(GNP_NAME,
  'a GlobalNetworkPolicy name must be lower case alphanumerics and "-" with at most one "." (e.g. "allow-db" or "tier1.allow-db")');

/**
 * Calico's write-time defaults for policies: `types` from the rules present when unset (egress
 * rules but no ingress -> [Egress]; both -> [Ingress, Egress]; otherwise [Ingress]), the tier
 * `default`, and the tier label.
 */
export function defaultPolicyTypes(ingress: readonly Rule[] | undefined, egress: readonly Rule[] | undefined): PolicyType[] {
  if (!egress?.length) return ['Ingress'];
  if (!ingress?.length) return ['Egress'];
  return ['Ingress', 'Egress'];
}

export function defaultPolicy<S extends NetworkPolicySpec, R extends { metadata: ObjectMeta; spec: S }>(r: R): R {
  const tier = r.spec.tier || DEFAULT_TIER;
  const types = r.spec.types?.length ? r.spec.types : defaultPolicyTypes(r.spec.ingress, r.spec.egress);
  return {
    ...r,
    metadata: { ...r.metadata, labels: { ...r.metadata.labels, [TIER_LABEL]: tier } },
    spec: { ...r.spec, tier, types },
  };
}

export function defaultNetworkPolicy(r: NetworkPolicy): NetworkPolicy {
  return defaultPolicy(r);
}

/** Checks shared by NetworkPolicy and GlobalNetworkPolicy specs. */
export function validatePolicyCommon(spec: NetworkPolicySpec, issues: Issues): void {
  for (const f of ['selector', 'serviceAccountSelector'] as const) {
    const s = spec[f];
    if (s?.includes('global(')) issues.add(`spec.${f}`, s, 'global() can only be used in an EntityRule namespaceSelector');
  }
  spec.types?.forEach((t, i) => {
    if (spec.types!.indexOf(t) !== i) issues.add(`spec.types[${i}]`, t, `'${t}' type specified more than once`);
  });
  if (spec.types?.length === 0) issues.add('spec.types', spec.types, 'must list at least one of Ingress, Egress');
  spec.performanceHints?.forEach((h, i) => {
    if (spec.performanceHints!.indexOf(h) !== i) issues.add(`spec.performanceHints[${i}]`, h, 'hint listed more than once');
  });
  validateRules(spec.ingress, 'spec.ingress', issues);
  validateRules(spec.egress, 'spec.egress', issues);
  // A service match names the far end: the source of an ingress rule, the destination of an egress rule.
  spec.ingress?.forEach((r, i) => {
    if (r.destination?.services) {
      issues.add(joinPath(`spec.ingress[${i}].destination`, 'services'), r.destination.services, 'services are not allowed in an ingress rule destination');
    }
  });
  spec.egress?.forEach((r, i) => {
    if (r.source?.services) {
      issues.add(joinPath(`spec.egress[${i}].source`, 'services'), r.source.services, 'services are not allowed in an egress rule source');
    }
    // Application-layer (HTTP) matches are ingress-only.
    if (r.http) issues.add(`spec.egress[${i}].http`, r.http, 'HTTP match is not allowed in egress rules');
  });
}

export function validateNetworkPolicy(r: NetworkPolicy, issues: Issues): void {
  validatePolicyCommon(r.spec, issues);
}


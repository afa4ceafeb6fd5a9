// GlobalNetworkPolicy (cluster-scoped): a NetworkPolicy over workloads of every namespace and
// host endpoints, with the host-endpoint modes doNotTrack, preDNAT and applyOnForward.

import type { ResourceOf } from '../meta.js';
import type { Issues } from '../validate/issues.js';
import { bool, obj, type Schema } from '../validate/schema.js';
import { selectorField } from './rule.js';
import { defaultPolicy, policyCommonFields, validatePolicyCommon, type NetworkPolicySpec } from './network-policy.js';

export interface GlobalNetworkPolicySpec extends NetworkPolicySpec {
  namespaceSelector?: string;
  /** Apply before connection tracking, and leave allowed packets untracked; needs applyOnForward. */
  doNotTrack?: boolean;
  /** Apply before DNAT (ingress only); needs applyOnForward. */
  preDNAT?: boolean;
  /** Also apply to traffic forwarded through a host endpoint. */
  applyOnForward?: boolean;
}
export type GlobalNetworkPolicy = ResourceOf<'GlobalNetworkPolicy', GlobalNetworkPolicySpec>;

export const globalNetworkPolicySpecSchema: Schema = obj({
  ...policyCommonFields,
  namespaceSelector: selectorField,
  doNotTrack: bool,
  preDNAT: bool,
  applyOnForward: bool,
});

/** The same defaults as NetworkPolicy: Calico has no special case for preDNAT or doNotTrack. */
export function defaultGlobalNetworkPolicy(r: GlobalNetworkPolicy): GlobalNetworkPolicy {
  return defaultPolicy(r);
}

export function validateGlobalNetworkPolicy(r: GlobalNetworkPolicy, issues: Issues): void {
  const spec = r.spec;
  validatePolicyCommon(spec, issues);
  if (spec.namespaceSelector?.includes('global(')) {
    issues.add('spec.namespaceSelector', spec.namespaceSelector, 'global() can only be used in an EntityRule namespaceSelector');
  }
  if (spec.doNotTrack && spec.preDNAT) {
    issues.add('spec.preDNAT', spec.preDNAT, 'preDNAT and doNotTrack cannot both be true');
  }
  if (spec.preDNAT && spec.egress?.length) {
    issues.add('spec.egress', spec.egress, 'a preDNAT policy cannot have any egress rules');
  }
  if (spec.preDNAT) {
    spec.types?.forEach((t, i) => {
      if (t === 'Egress') issues.add(`spec.types[${i}]`, t, "a preDNAT policy cannot have the 'Egress' type");
    });
  }
  if (!spec.applyOnForward && (spec.doNotTrack || spec.preDNAT)) {
    issues.add('spec.applyOnForward', spec.applyOnForward ?? false, `applyOnForward must be true when ${spec.doNotTrack ? 'doNotTrack' : 'preDNAT'} is true`);
  }
  // Service names are namespace-relative; a cluster-wide policy has no namespace to assume.
  const needNamespace = (rules: typeof spec.ingress, side: 'source' | 'destination', dir: string): void => {
    rules?.forEach((rule, i) => {
      const svc = rule[side]?.services;
      if (svc && !svc.namespace) {
        issues.add(`spec.${dir}[${i}].${side}.services.namespace`, svc.namespace, 'a GlobalNetworkPolicy service match must specify a namespace');
      }
    });
  };
  needNamespace(spec.ingress, 'source', 'ingress');
  needNamespace(spec.egress, 'destination', 'egress');
}

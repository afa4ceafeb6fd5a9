// Where each Tabby kind lives in the Kubernetes API (pure): Calico's own kinds are
// crd.projectcalico.org/v1 custom resources, the rest is derived from Kubernetes objects
// (Nodes, Pods, Namespaces and ServiceAccounts, networking.k8s.io NetworkPolicies).

import { KINDS, type KindName } from '@tabby/api';
import { InvalidArgumentError } from '../errors.js';

export const CRD_GROUP = 'crd.projectcalico.org';
export const CRD_API_VERSION = `${CRD_GROUP}/v1`;

/** One Kubernetes collection: its API base path, plural and scope. */
export interface Collection {
  base: string;
  plural: string;
  namespaced: boolean;
}

export const PODS: Collection = { base: '/api/v1', plural: 'pods', namespaced: true };
export const NAMESPACES: Collection = { base: '/api/v1', plural: 'namespaces', namespaced: false };
export const SERVICE_ACCOUNTS: Collection = { base: '/api/v1', plural: 'serviceaccounts', namespaced: true };
export const NODES: Collection = { base: '/api/v1', plural: 'nodes', namespaced: false };
export const K8S_NETWORK_POLICIES: Collection = { base: '/apis/networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true };

/**
 * How a kind is backed:
 *  - crd: a custom resource of the same kind (NetworkPolicy also lists converted k8s policies);
 *  - node: Kubernetes Nodes plus Calico's annotations;
 *  - wep: Pods (IPs and container ID in annotations the CNI plugin writes);
 *  - profile: Namespaces (kns.<ns>) and ServiceAccounts (ksa.<ns>.<sa>), read-only.
 */
export type Backing = 'crd' | 'node' | 'wep' | 'profile';

export function backingOf(kind: KindName): Backing {
  switch (kind) {
    case 'Node': return 'node';
    case 'WorkloadEndpoint': return 'wep';
    case 'Profile': return 'profile';
    default: return 'crd';
  }
}

export function crdCollection(kind: KindName): Collection {
  const def = KINDS[kind];
  return { base: `/apis/${CRD_API_VERSION}`, plural: def.plural, namespaced: def.namespaced };
}

function segment(what: string, v: string): string {
  if (!v) throw new InvalidArgumentError(`${what} is required`);
  if (v.includes('/')) throw new InvalidArgumentError(`${what} "${v}" must not contain "/"`);
  return encodeURIComponent(v);
}

/** The collection path, optionally within one namespace. */
export function collectionPath(c: Collection, namespace?: string): string {
  if (c.namespaced && namespace !== undefined) return `${c.base}/namespaces/${segment('namespace', namespace)}/${c.plural}`;
  return `${c.base}/${c.plural}`;
}

export function objectPath(c: Collection, name: string, namespace?: string): string {
  if (c.namespaced && !namespace) throw new InvalidArgumentError(`${c.plural}: namespace is required`);
  return `${collectionPath(c, c.namespaced ? namespace : undefined)}/${segment('name', name)}`;
}

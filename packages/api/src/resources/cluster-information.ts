// ClusterInformation (cluster-scoped, always named "default"): written by calico-node at startup.

import type { ResourceOf } from '../meta.js';
import type { Issues } from '../validate/issues.js';
import { bool, obj, str, type Schema } from '../validate/schema.js';

export interface ClusterInformationSpec {
  /** Random ID generated once per cluster. */
  clusterGUID?: string;
  /** Comma-separated traits, e.g. "k8s,bgp,kubeadm". */
  clusterType?: string;
  calicoVersion?: string;
  /** False while a datastore migration is in progress: components wait. */
  datastoreReady?: boolean;
  variant?: string;
}
export type ClusterInformation = ResourceOf<'ClusterInformation', ClusterInformationSpec>;

export const clusterInformationSpecSchema: Schema = obj({
  clusterGUID: str(), clusterType: str(), calicoVersion: str(), datastoreReady: bool, variant: str(),
});

export function defaultClusterInformation(r: ClusterInformation): ClusterInformation {
  return r;
}

export function validateClusterInformation(r: ClusterInformation, issues: Issues): void {
  if (r.metadata.name !== 'default') issues.add('metadata.name', r.metadata.name, 'must be "default": there is one ClusterInformation per cluster');
}

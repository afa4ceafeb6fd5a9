// Names Calico derives from other names: WorkloadEndpoint names (dash-escaped segments), the
// host-side veth of a pod, Kubernetes-derived profile names and auto host endpoints.

import { createHash } from 'node:crypto';

/**
 * The identifiers a WorkloadEndpoint name is built from. Which one fills the third segment
 * depends on the orchestrator: `pod` for k8s, `containerID` for cni, the orchestrator itself
 * for libnetwork, `workload` for anything else.
 */
export interface WorkloadEndpointIds {
  node?: string;
  orchestrator?: string;
  workload?: string;
  pod?: string;
  containerID?: string;
  endpoint?: string;
}

export type WorkloadEndpointIdField = keyof WorkloadEndpointIds;

/** One identifier cannot be used in a name; `field` is the spec field it comes from. */
export class WorkloadEndpointNameError extends Error {
  constructor(readonly field: WorkloadEndpointIdField, readonly value: string | undefined, readonly reason: string) {
    super(`workload endpoint name: ${field}${value ? ` ${JSON.stringify(value)}` : ''} ${reason}`);
    this.name = 'WorkloadEndpointNameError';
  }
}

/** The spec fields that make up the four name segments for an orchestrator. */
export function nameSegmentFields(orchestrator: string | undefined): readonly [WorkloadEndpointIdField, WorkloadEndpointIdField, WorkloadEndpointIdField, WorkloadEndpointIdField] {
  switch (orchestrator) {
    case 'k8s': return ['node', 'orchestrator', 'pod', 'endpoint'];
    case 'cni': return ['node', 'orchestrator', 'containerID', 'endpoint'];
    case 'libnetwork': return ['node', 'orchestrator', 'orchestrator', 'endpoint'];
    default: return ['node', 'orchestrator', 'workload', 'endpoint'];
  }
}

/**
 * Doubles every "-" so that a single "-" can separate segments. A segment may not begin or end
 * with "-": the separator next to it would become ambiguous.
 */
function escapeSegment(field: WorkloadEndpointIdField, v: string): string {
  if (v.startsWith('-')) throw new WorkloadEndpointNameError(field, v, 'must not begin with "-"');
  if (v.endsWith('-')) throw new WorkloadEndpointNameError(field, v, 'must not end with "-"');
  return v.replace(/-/g, '--');
}

function build(ids: WorkloadEndpointIds, allowPrefix: boolean): string {
  if (!ids.node) throw new WorkloadEndpointNameError('node', ids.node, 'is required');
  const parts: string[] = [];
  for (const field of nameSegmentFields(ids.orchestrator)) {
    const v = ids[field];
    if (!v) {
      if (allowPrefix) return parts.join('-') + '-';
      throw new WorkloadEndpointNameError(field, v, 'is required');
    }
    parts.push(escapeSegment(field, v));
  }
  return parts.join('-');
}

/**
 * The name Calico requires for a WorkloadEndpoint, e.g. node `node-1`, orchestrator `k8s`, pod
 * `my-pod`, endpoint `eth0` -> `node--1-k8s-my--pod-eth0`. Throws WorkloadEndpointNameError when
 * an identifier is missing or begins/ends with "-".
 */
export function workloadEndpointName(ids: WorkloadEndpointIds): string {
  return build(ids, false);
}

/**
 * The name up to the first missing identifier, ending in "-" (`node1-k8s-`), for prefix listing.
 * A prefix also matches longer segments (`node1-k8s-pod-` matches pod `pod-1`), so filter the
 * results with workloadEndpointNameMatches. The node is always required.
 */
export function workloadEndpointNamePrefix(ids: WorkloadEndpointIds): string {
  return build(ids, true);
}

/**
 * Splits a name on single dashes and un-doubles each part. A dash in the first character never
 * separates (as in Calico), and in a run of three dashes the pair comes first (`a---b` -> `a-`,
 * `b`), which no escaped name contains.
 */
export function splitWorkloadEndpointName(name: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 1; i < name.length; i++) {
    if (name[i] !== '-') continue;
    if (i < name.length - 1 && name[i + 1] === '-') { i++; continue; }
    parts.push(name.slice(start, i).replace(/--/g, '-'));
    start = i + 1;
  }
  parts.push(name.slice(start).replace(/--/g, '-'));
  return parts;
}

/**
 * The identifiers a name holds, as far as it goes: `node1-k8s` gives node and orchestrator only.
 * Throws WorkloadEndpointNameError for an empty name or one with more than four segments.
 */
export function parseWorkloadEndpointName(name: string): WorkloadEndpointIds {
  if (name === '') throw new WorkloadEndpointNameError('node', name, 'cannot be parsed from an empty name');
  const parts = splitWorkloadEndpointName(name);
  if (parts.length > 4) {
    throw new WorkloadEndpointNameError('endpoint', name, `is followed by more segments than a name has (${parts.length} instead of 4)`);
  }
  const fields = nameSegmentFields(parts[1]);
  const ids: WorkloadEndpointIds = {};
  parts.forEach((p, i) => { ids[fields[i]!] = p; });
  return ids;
}

/**
 * Whether `name` is the name of an endpoint with these identifiers, where identifiers left out
 * match anything (node and orchestrator are required).
 */
export function workloadEndpointNameMatches(ids: WorkloadEndpointIds, name: string): boolean {
  if (!ids.node || !ids.orchestrator) throw new WorkloadEndpointNameError(ids.node ? 'orchestrator' : 'node', undefined, 'is required');
  const fields = nameSegmentFields(ids.orchestrator);
  const parts = splitWorkloadEndpointName(name);
  if (name.length < 7 || parts.length !== 4) return false;
  return fields.every((f, i) => !ids[f] || ids[f] === parts[i]);
}

/**
 * The v1 model key of a WorkloadEndpoint (Felix's status keys use it): the workload ID is
 * `<namespace>/<third segment>`. Undefined if the name does not have four segments.
 */
export function workloadEndpointV1Key(namespace: string, name: string): { hostname: string; orchestratorID: string; workloadID: string; endpointID: string } | undefined {
  const parts = splitWorkloadEndpointName(name);
  if (parts.length !== 4 || name.length < 7 || namespace === '') return undefined;
  const [hostname, orchestratorID, workload, endpointID] = parts as [string, string, string, string];
  return { hostname, orchestratorID, workloadID: `${namespace}/${workload}`, endpointID };
}

/**
 * The host-side veth name of a pod: prefix + the first 11 hex digits of SHA-1("<namespace>.<pod>").
 * `prefix` may be Felix's comma-separated InterfacePrefix list; the first entry is used, as the
 * CNI plugin does with FELIX_INTERFACEPREFIX. With `cali` the result is 15 characters (IFNAMSIZ-1).
 */
export function workloadInterfaceName(namespace: string, pod: string, prefix = 'cali'): string {
  const first = prefix.split(',')[0] || 'cali';
  return first + createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11);
}

/** The profile Calico derives from a Kubernetes namespace. */
export function namespaceProfileName(namespace: string): string {
  return `kns.${namespace}`;
}

/** The profile Calico derives from a service account (the namespace keeps it unique). */
export function serviceAccountProfileName(namespace: string, serviceAccount: string): string {
  return `ksa.${namespace || 'default'}.${serviceAccount}`;
}

/** The HostEndpoint kube-controllers creates for a node when automatic host endpoints are on. */
export function autoHostEndpointName(node: string): string {
  return `${node}-auto-hep`;
}

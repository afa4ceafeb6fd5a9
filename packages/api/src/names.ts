// Workload endpoint naming as Calico does it, and the host-side interface name of a pod's veth.

import { createHash } from 'node:crypto';

export interface WorkloadEndpointIdentity {
  node: string;
  orchestrator: string;
  /** For k8s the pod name; for cni the container ID; for libnetwork "libnetwork". */
  workload: string;
  endpoint: string;
}

/** Calico doubles every "-" inside a segment so that single dashes can separate segments. */
export function escapeNameSegment(s: string): string {
  return s.replace(/-/g, '--');
}

/** `<node>-<orchestrator>-<workload>-<endpoint>` with each segment's dashes doubled. */
export function workloadEndpointName(id: WorkloadEndpointIdentity): string {
  for (const [field, v] of Object.entries(id)) {
    if (!v) throw new Error(`workload endpoint name: ${field} must not be empty`);
    if (v.startsWith('-') || v.endsWith('-')) throw new Error(`workload endpoint name: ${field} "${v}" must not begin or end with "-"`);
  }
  return [id.node, id.orchestrator, id.workload, id.endpoint].map(escapeNameSegment).join('-');
}

/** Splits a WEP name on single dashes and un-doubles each part; undefined if it is not 4 parts. */
export function parseWorkloadEndpointName(name: string): WorkloadEndpointIdentity | undefined {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '-') {
      if (name[i + 1] === '-') { cur += '-'; i++; continue; }
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += name[i];
  }
  parts.push(cur);
  if (parts.length !== 4 || parts.some((p) => p === '')) return undefined;
  const [node, orchestrator, workload, endpoint] = parts as [string, string, string, string];
  return { node, orchestrator, workload, endpoint };
}

/** `cali` + the first 11 hex digits of SHA-1("<namespace>.<pod>"), as Calico's CNI plugin names veths. */
export function workloadInterfaceName(namespace: string, pod: string, prefix = 'cali'): string {
  return prefix + createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11);
}

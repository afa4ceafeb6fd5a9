// WorkloadEndpoint (namespaced): one pod interface, written by the CNI plugin.

import type { ResourceOf } from '../meta.js';
import { joinPath, type Issues } from '../validate/issues.js';
import { arr, custom, int, obj, str, type Schema } from '../validate/schema.js';
import { checkDnsSubdomain, checkInterfaceName, checkIP, checkIPv4, checkIPv6, checkMaskedCidr } from '../validate/common.js';
import { parseCidrOrIp, bits } from '../net.js';
import { checkMac } from './node.js';
import { workloadEndpointName } from '../names.js';
import { checkProtocol } from './rule.js';

export interface WorkloadEndpointPort {
  name: string;
  protocol: string | number;
  port: number;
  hostPort?: number;
  hostIP?: string;
}

export interface WorkloadEndpointSpec {
  orchestrator?: string;
  workload?: string;
  node?: string;
  containerID?: string;
  pod?: string;
  endpoint?: string;
  serviceAccountName?: string;
  ipNetworks?: string[];
  ipNATs?: { internalIP: string; externalIP: string }[];
  ipv4Gateway?: string;
  ipv6Gateway?: string;
  profiles?: string[];
  interfaceName: string;
  mac?: string;
  ports?: WorkloadEndpointPort[];
  allowSpoofedSourcePrefixes?: string[];
  qosControls?: Record<string, unknown>;
}
export type WorkloadEndpoint = ResourceOf<'WorkloadEndpoint', WorkloadEndpointSpec>;

export const workloadEndpointSpecSchema: Schema = obj({
  orchestrator: str(),
  workload: str(),
  node: str(),
  containerID: str(),
  pod: str(),
  endpoint: str(),
  serviceAccountName: str(),
  ipNetworks: arr(str(checkMaskedCidr)),
  ipNATs: arr(obj({ internalIP: str(checkIP), externalIP: str(checkIP) }, ['internalIP', 'externalIP'])),
  ipv4Gateway: str(checkIPv4),
  ipv6Gateway: str(checkIPv6),
  profiles: arr(str(checkDnsSubdomain)),
  interfaceName: str(checkInterfaceName),
  mac: str(checkMac),
  ports: arr(obj({
    name: str(),
    protocol: custom(checkProtocol),
    port: int(1, 65535),
    hostPort: int(0, 65535),
    hostIP: str(checkIP),
  }, ['name', 'protocol', 'port'])),
  allowSpoofedSourcePrefixes: arr(str(checkMaskedCidr)),
  qosControls: obj({
    ingressBandwidth: int(0), egressBandwidth: int(0), ingressBurst: int(0), egressBurst: int(0),
    ingressPeakrate: int(0), egressPeakrate: int(0), ingressMinburst: int(0), egressMinburst: int(0),
    ingressPacketRate: int(0), egressPacketRate: int(0), ingressPacketBurst: int(0), egressPacketBurst: int(0),
    ingressMaxConnections: int(0), egressMaxConnections: int(0),
  }),
}, ['interfaceName']);

export function defaultWorkloadEndpoint(r: WorkloadEndpoint): WorkloadEndpoint {
  return r;
}

export function validateWorkloadEndpoint(r: WorkloadEndpoint, issues: Issues): void {
  const s = r.spec;
  (s.ipNetworks ?? []).forEach((n, i) => {
    const c = parseCidrOrIp(n);
    if (c && c.prefixLen !== bits(c.version)) {
      issues.add(joinPath('spec.ipNetworks', i), n, 'must be a single address (/32 for IPv4, /128 for IPv6)');
    }
  });
  // When the identity fields are all present, the name must be the one Calico derives from them.
  const workload = s.orchestrator === 'k8s' ? s.pod : s.workload ?? s.pod;
  if (s.node && s.orchestrator && workload && s.endpoint) {
    let expected: string | undefined;
    try {
      expected = workloadEndpointName({ node: s.node, orchestrator: s.orchestrator, workload, endpoint: s.endpoint });
    } catch (e) {
      issues.add('spec', s, (e as Error).message);
    }
    if (expected && expected !== r.metadata.name) {
      issues.add('metadata.name', r.metadata.name, `does not match the name derived from spec.node, spec.orchestrator, spec.${s.orchestrator === 'k8s' ? 'pod' : 'workload'} and spec.endpoint: expected "${expected}"`);
    }
  }
}

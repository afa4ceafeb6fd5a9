// WorkloadEndpoint (namespaced): one pod interface, written by the CNI plugin. Its name is
// derived from the spec (node, orchestrator, pod/containerID/workload, endpoint).

import type { ResourceOf } from '../meta.js';
import { joinPath, type Issues } from '../validate/issues.js';
import { arr, custom, int, obj, str, type Check, type Schema } from '../validate/schema.js';
import {
  checkDnsSubdomain, checkIP, checkIPv4, checkIPv6, checkMaskedCidr, isInterfaceName,
} from '../validate/common.js';
import { bits, cidrContains, parseCidrOrIp, parseIP } from '../net.js';
import { workloadEndpointName, WorkloadEndpointNameError } from '../names.js';
import { checkMac } from './node.js';
import { checkPortName } from './host-endpoint.js';
import { checkProtocol, protocolSupportsPorts, unlessEmpty, type Protocol } from './rule.js';

export interface WorkloadEndpointPort {
  /** A named port policy rules can refer to; may be empty when hostPort is set. */
  name?: string;
  protocol: Protocol;
  port: number;
  hostPort?: number;
  hostIP?: string;
}

export interface IPNAT {
  internalIP: string;
  externalIP: string;
}

/** Bandwidth, packet-rate and connection limits, and the DSCP mark for the workload's traffic. */
export interface QoSControls {
  ingressBandwidth?: number; ingressBurst?: number; ingressPeakrate?: number; ingressMinburst?: number;
  egressBandwidth?: number; egressBurst?: number; egressPeakrate?: number; egressMinburst?: number;
  ingressPacketRate?: number; ingressPacketBurst?: number; egressPacketRate?: number; egressPacketBurst?: number;
  ingressMaxConnections?: number; egressMaxConnections?: number;
  /** 0-63 or a class name (DF, EF, AF11..AF43, CS0..CS6). */
  dscp?: number | string;
}

export interface WorkloadEndpointSpec {
  orchestrator?: string;
  workload?: string;
  node?: string;
  containerID?: string;
  pod?: string;
  endpoint?: string;
  serviceAccountName?: string;
  /** The endpoint's addresses, each a single address (/32 or /128). */
  ipNetworks?: string[];
  ipNATs?: IPNAT[];
  ipv4Gateway?: string;
  ipv6Gateway?: string;
  profiles?: string[];
  /** The host-side interface, e.g. cali1234567890a. */
  interfaceName: string;
  mac?: string;
  ports?: WorkloadEndpointPort[];
  allowSpoofedSourcePrefixes?: string[];
  qosControls?: QoSControls;
}
export type WorkloadEndpoint = ResourceOf<'WorkloadEndpoint', WorkloadEndpointSpec>;

/** Labels Calico sets on every stored WorkloadEndpoint (user values are overwritten). */
export const LABEL_NAMESPACE = 'projectcalico.org/namespace';
export const LABEL_ORCHESTRATOR = 'projectcalico.org/orchestrator';
export const LABEL_SERVICE_ACCOUNT = 'projectcalico.org/serviceaccount';

const CONTAINER_ID = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const checkContainerID: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !CONTAINER_ID.test(v)) issues.add(path, v, 'must be a container ID: letters, digits and "-", starting and ending with a letter or digit');
};

const checkWorkloadInterface: Check = (v, path, issues) => {
  if (typeof v !== 'string' || (v !== '*' && !isInterfaceName(v))) {
    issues.add(path, v, 'must be an interface name of 1-15 characters from [a-zA-Z0-9_.-]');
  }
};

/** An address or CIDR; host bits allowed. */
const checkCidrOrIP: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !parseCidrOrIp(v)) issues.add(path, v, 'must be an IP address or a CIDR');
};

export const DSCP_CLASSES: Readonly<Record<string, number>> = {
  DF: 0, EF: 46, AF11: 10, AF12: 12, AF13: 14, AF21: 18, AF22: 20, AF23: 22, AF31: 26, AF32: 28, AF33: 30,
  AF41: 34, AF42: 36, AF43: 38, CS0: 0, CS1: 8, CS2: 16, CS3: 24, CS4: 32, CS5: 40, CS6: 48,
};

/** DSCP as numorstring.DSCP reads it: a number 0-63 or a class name (any case). */
export const checkDscp: Check = (v, path, issues) => {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 63) return;
  if (typeof v === 'string' && Object.hasOwn(DSCP_CLASSES, v.trim().toUpperCase())) return;
  issues.add(path, v, 'must be a DSCP value 0-63 or one of DF, EF, AF11-AF43, CS0-CS6');
};

const optional = (check: Check) => str(unlessEmpty(check));
const name = optional(checkDnsSubdomain);

export const workloadEndpointSpecSchema: Schema = obj({
  orchestrator: name,
  workload: name,
  node: name,
  containerID: optional(checkContainerID),
  pod: name,
  endpoint: name,
  serviceAccountName: name,
  ipNetworks: arr(str(checkMaskedCidr)),
  ipNATs: arr(obj({ internalIP: str(checkIP), externalIP: str(checkIP) }, ['internalIP', 'externalIP'])),
  ipv4Gateway: optional(checkIPv4),
  ipv6Gateway: optional(checkIPv6),
  profiles: arr(str(checkDnsSubdomain)),
  interfaceName: str(checkWorkloadInterface),
  mac: optional(checkMac),
  ports: arr(obj({
    name: optional(checkPortName),
    protocol: custom(checkProtocol),
    port: int(1, 65535),
    hostPort: int(0, 65535),
    hostIP: optional(checkMaskedCidr),
  }, ['protocol', 'port'])),
  allowSpoofedSourcePrefixes: arr(str(checkCidrOrIP)),
  qosControls: obj({
    ingressBandwidth: int(), ingressBurst: int(), ingressPeakrate: int(), ingressMinburst: int(),
    egressBandwidth: int(), egressBurst: int(), egressPeakrate: int(), egressMinburst: int(),
    ingressPacketRate: int(), ingressPacketBurst: int(), egressPacketRate: int(), egressPacketBurst: int(),
    ingressMaxConnections: int(), egressMaxConnections: int(),
    dscp: custom(checkDscp),
  }),
}, ['interfaceName']);

/** As Calico's client does on every write: the namespace and orchestrator labels are set from the object. */
export function defaultWorkloadEndpoint(r: WorkloadEndpoint): WorkloadEndpoint {
  const labels = {
    ...r.metadata.labels,
    [LABEL_NAMESPACE]: r.metadata.namespace ?? '',
    [LABEL_ORCHESTRATOR]: r.spec.orchestrator ?? '',
  };
  return { ...r, metadata: { ...r.metadata, labels } };
}

export function validateWorkloadEndpoint(r: WorkloadEndpoint, issues: Issues): void {
  const s = r.spec;
  const networks = (s.ipNetworks ?? []).map((n, i) => {
    const c = parseCidrOrIp(n);
    if (c && c.prefixLen !== bits(c.version)) {
      issues.add(joinPath('spec.ipNetworks', i), n, 'must be a single address (/32 for IPv4, /128 for IPv6): an endpoint network may not contain several addresses');
    }
    return c;
  });
  (s.ipNATs ?? []).forEach((nat, i) => {
    const path = joinPath('spec.ipNATs', i);
    const internal = parseIP(nat.internalIP);
    const external = parseIP(nat.externalIP);
    if (internal && external && internal.version !== external.version) {
      issues.add(`${path}.externalIP`, nat.externalIP, `must be the same IP version as internalIP (${nat.internalIP})`);
    }
    const inside = internal && networks.some((c) => c && cidrContains(c, { version: internal.version, addr: internal.value, prefixLen: bits(internal.version) }));
    if (internal && !inside) issues.add(`${path}.internalIP`, nat.internalIP, 'must be one of the endpoint\'s spec.ipNetworks');
  });
  (s.ports ?? []).forEach((p, i) => {
    const path = joinPath('spec.ports', i);
    if (!protocolSupportsPorts(p.protocol)) issues.add(`${path}.protocol`, p.protocol, 'must be TCP, UDP or SCTP: the protocol has no ports');
    if (!p.name && !p.hostPort) issues.add(`${path}.name`, p.name, 'is required unless hostPort is set');
  });
  checkNameMatchesSpec(r, issues);
}

/** Calico requires the name it derives from the spec's identifiers; any other name is refused. */
function checkNameMatchesSpec(r: WorkloadEndpoint, issues: Issues): void {
  let expected: string;
  try {
    expected = workloadEndpointName(r.spec);
  } catch (e) {
    if (!(e instanceof WorkloadEndpointNameError)) throw e;
    issues.add(`spec.${e.field}`, e.value, `${e.reason}: the endpoint's name is built from it`);
    return;
  }
  if (expected !== r.metadata.name) {
    issues.add('metadata.name', r.metadata.name, `does not match the identifiers in the spec: expected "${expected}"`);
  }
}

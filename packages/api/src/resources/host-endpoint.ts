// HostEndpoint (cluster-scoped): one interface of a host (or all of them, `*`) that Calico policy
// governs, found by name or by its expected IPs.

import type { ResourceOf } from '../meta.js';
import type { Issues } from '../validate/issues.js';
import { arr, custom, int, obj, str, type Check, type Schema } from '../validate/schema.js';
import { checkDnsSubdomain, checkIP, checkInterfaceName } from '../validate/common.js';
import { checkProtocol, isPortName, maxLength, protocolSupportsPorts, unlessEmpty, type Protocol } from './rule.js';

/** A named port the endpoint exposes, referenced by name from policy rules. */
export interface HostEndpointPort {
  name: string;
  protocol: Protocol;
  port: number;
}

export interface HostEndpointSpec {
  /** The Calico node (normally the Kubernetes node name) the interface belongs to. */
  node?: string;
  /** An interface name, `*` for all of the host's interfaces, or empty to find it by expectedIPs. */
  interfaceName?: string;
  expectedIPs?: string[];
  profiles?: string[];
  ports?: HostEndpointPort[];
}
export type HostEndpoint = ResourceOf<'HostEndpoint', HostEndpointSpec>;

const checkHostInterface: Check = (v, path, issues) => {
  if (v !== '*') checkInterfaceName(v, path, issues);
};

export const checkPortName: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !isPortName(v)) {
    issues.add(path, v, 'must be a port name: 1-15 lower case alphanumerics or "-", with at least one letter, no "--", not starting or ending with "-"');
  }
};

export const hostEndpointSpecSchema: Schema = obj({
  node: str(maxLength(253, unlessEmpty(checkDnsSubdomain))),
  interfaceName: str(unlessEmpty(checkHostInterface)),
  expectedIPs: arr(str(checkIP)),
  profiles: arr(str(maxLength(253, checkDnsSubdomain))),
  ports: arr(obj({
    name: str(checkPortName),
    protocol: custom(checkProtocol),
    port: int(1, 65535),
  }, ['name', 'protocol', 'port'])),
});

/** Calico's client defaults nothing on host endpoints. */
export function defaultHostEndpoint(r: HostEndpoint): HostEndpoint {
  return r;
}

export function validateHostEndpoint(r: HostEndpoint, issues: Issues): void {
  const spec = r.spec;
  if (!spec.node) issues.add('spec.node', spec.node, 'node must be specified');
  if (!spec.interfaceName && !spec.expectedIPs?.length) {
    issues.add('spec.interfaceName', spec.interfaceName, 'at least one of interfaceName or expectedIPs must be specified');
  }
  spec.ports?.forEach((p, i) => {
    if (!protocolSupportsPorts(p.protocol)) {
      issues.add(`spec.ports[${i}].protocol`, p.protocol, 'an endpoint port protocol must be TCP, UDP or SCTP');
    }
  });
}

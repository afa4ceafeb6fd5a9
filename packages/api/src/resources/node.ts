// Node (cluster-scoped): a host's BGP identity and tunnel addresses.

import type { ResourceOf } from '../meta.js';
import type { Issues } from '../validate/issues.js';
import { arr, obj, oneOf, str, custom, type Check, type Schema } from '../validate/schema.js';
import { checkAsn, checkIfaceCidr, checkIPv4, checkIPv6 } from '../validate/common.js';

export interface NodeBGPSpec {
  asNumber?: number | string;
  /** Address with prefix length, e.g. 10.0.0.5/24. */
  ipv4Address?: string;
  ipv6Address?: string;
  ipv4IPIPTunnelAddr?: string;
  /** IPv4-formatted cluster ID; set on route reflector nodes. */
  routeReflectorClusterID?: string;
}

export interface NodeSpec {
  bgp?: NodeBGPSpec;
  ipv4VXLANTunnelAddr?: string;
  vxlanTunnelMACAddr?: string;
  ipv6VXLANTunnelAddr?: string;
  vxlanTunnelMACAddrV6?: string;
  orchRefs?: { orchestrator: string; nodeName?: string }[];
  addresses?: { address: string; type?: 'CalicoNodeIP' | 'InternalIP' | 'ExternalIP' }[];
  wireguard?: { interfaceIPv4Address?: string; interfaceIPv6Address?: string };
}
export type Node = ResourceOf<'Node', NodeSpec> & { status?: Record<string, unknown> };

const MAC_RE = /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/;
export const checkMac: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !MAC_RE.test(v)) issues.add(path, v, 'must be a MAC address such as 66:ab:cd:ef:01:02');
};

export const nodeSpecSchema: Schema = obj({
  bgp: obj({
    asNumber: custom(checkAsn),
    ipv4Address: str(checkIfaceCidr(4)),
    ipv6Address: str(checkIfaceCidr(6)),
    ipv4IPIPTunnelAddr: str(checkIPv4),
    routeReflectorClusterID: str(checkIPv4),
  }),
  ipv4VXLANTunnelAddr: str(checkIPv4),
  vxlanTunnelMACAddr: str(checkMac),
  ipv6VXLANTunnelAddr: str(checkIPv6),
  vxlanTunnelMACAddrV6: str(checkMac),
  orchRefs: arr(obj({ orchestrator: str(), nodeName: str() }, ['orchestrator'])),
  addresses: arr(obj({ address: str(), type: oneOf('CalicoNodeIP', 'InternalIP', 'ExternalIP') }, ['address'])),
  wireguard: obj({ interfaceIPv4Address: str(checkIPv4), interfaceIPv6Address: str(checkIPv6) }),
});

export function defaultNode(r: Node): Node {
  return r;
}

export function validateNode(r: Node, issues: Issues): void {
  const bgp = r.spec.bgp;
  if (bgp && !bgp.ipv4Address && !bgp.ipv6Address) {
    issues.add('spec.bgp', bgp, 'must set ipv4Address or ipv6Address (an empty bgp section is not allowed)');
  }
}

// Node (cluster-scoped): one host running the agent: its BGP identity, tunnel addresses and the
// addresses other components reach it at. calico-node writes most of it when it starts.

import type { ResourceOf } from '../meta.js';
import type { Issues } from '../validate/issues.js';
import { arr, checkSchema, custom, isPlainObject, obj, oneOf, str, type Check, type Schema } from '../validate/schema.js';
import {
  checkAsn, checkDnsSubdomain, checkIfaceCidr, checkIPv4, checkIPv6, checkMaskedCidr, parseAsn,
} from '../validate/common.js';
import { unlessEmpty } from './rule.js';

export interface NodeBGPSpec {
  /** This node's AS; the BGPConfiguration default (64512) when unset. Stored as a number. */
  asNumber?: number | string;
  /** The node's IPv4 address with its subnet, e.g. 10.0.0.5/24 (host bits allowed). */
  ipv4Address?: string;
  ipv6Address?: string;
  ipv4IPIPTunnelAddr?: string;
  /** Makes this node a route reflector; the cluster ID is written like an IPv4 address. */
  routeReflectorClusterID?: string;
}

export type NodeAddressType = 'CalicoNodeIP' | 'InternalIP' | 'ExternalIP';

export interface NodeAddress {
  /** An address or a masked CIDR. */
  address: string;
  type?: NodeAddressType;
}

export interface NodeInterface {
  name?: string;
  addresses?: string[];
}

export interface OrchRef {
  orchestrator: string;
  nodeName?: string;
}

export interface NodeWireguardSpec {
  interfaceIPv4Address?: string;
  interfaceIPv6Address?: string;
}

export interface NodeSpec {
  bgp?: NodeBGPSpec;
  ipv4VXLANTunnelAddr?: string;
  vxlanTunnelMACAddr?: string;
  ipv6VXLANTunnelAddr?: string;
  vxlanTunnelMACAddrV6?: string;
  orchRefs?: OrchRef[];
  wireguard?: NodeWireguardSpec;
  addresses?: NodeAddress[];
  interfaces?: NodeInterface[];
}

export interface NodeStatus {
  wireguardPublicKey?: string;
  wireguardPublicKeyV6?: string;
  /** A copy of the Kubernetes node's spec.podCIDRs. */
  podCIDRs?: string[];
}

export type Node = ResourceOf<'Node', NodeSpec> & { status?: NodeStatus };

/**
 * MAC addresses in the forms Go's net.ParseMAC reads: 6, 8 or 20 octets as hex pairs joined by
 * one kind of separator (":" or "-"), or groups of four hex digits joined by ".".
 */
export function isMac(s: string): boolean {
  const pairs = /^[0-9a-fA-F]{2}(([:-])[0-9a-fA-F]{2})+$/.exec(s);
  if (pairs) {
    const sep = pairs[2]!;
    const octets = s.split(sep);
    return [6, 8, 20].includes(octets.length) && octets.every((o) => o.length === 2);
  }
  if (/^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4})+$/.test(s)) return [3, 4, 10].includes(s.split('.').length);
  return false;
}

export const checkMac: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !isMac(v)) issues.add(path, v, 'must be a MAC address such as 66:ab:cd:ef:01:02');
};

/** A WireGuard public key: standard base64 of 32 bytes. */
export function isWireguardKey(s: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(s) && Buffer.from(s, 'base64').length === 32;
}

const checkWireguardKey: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !isWireguardKey(v)) issues.add(path, v, 'must be a WireGuard public key (base64 of 32 bytes)');
};

const optional = (check: Check) => str(unlessEmpty(check));

export const nodeSpecSchema: Schema = obj({
  bgp: obj({
    asNumber: custom(checkAsn),
    ipv4Address: optional(checkIfaceCidr(4)),
    ipv6Address: optional(checkIfaceCidr(6)),
    ipv4IPIPTunnelAddr: optional(checkIPv4),
    routeReflectorClusterID: optional(checkIPv4),
  }),
  ipv4VXLANTunnelAddr: optional(checkIPv4),
  vxlanTunnelMACAddr: optional(checkMac),
  ipv6VXLANTunnelAddr: optional(checkIPv6),
  vxlanTunnelMACAddrV6: optional(checkMac),
  orchRefs: arr(obj({ orchestrator: str(), nodeName: str() })),
  wireguard: obj({ interfaceIPv4Address: optional(checkIPv4), interfaceIPv6Address: optional(checkIPv6) }),
  addresses: arr(obj({ address: str(checkMaskedCidr), type: oneOf('CalicoNodeIP', 'InternalIP', 'ExternalIP') }, ['address'])),
  interfaces: arr(obj({ name: optional(checkDnsSubdomain), addresses: arr(str()) })),
});

const nodeStatusSchema: Schema = obj({
  wireguardPublicKey: optional(checkWireguardKey),
  wireguardPublicKeyV6: optional(checkWireguardKey),
  podCIDRs: arr(str()),
});

/** Calico keeps AS numbers as integers: asdot "1.10" is stored as 65546. */
export function defaultNode(r: Node): Node {
  const bgp = r.spec.bgp;
  if (!bgp || bgp.asNumber === undefined || bgp.asNumber === null) return r;
  return { ...r, spec: { ...r.spec, bgp: { ...bgp, asNumber: parseAsn(bgp.asNumber) ?? bgp.asNumber } } };
}

const isUnset = (v: unknown): boolean => v === undefined || v === null || v === '';

export function validateNode(r: Node, issues: Issues): void {
  const bgp = r.spec.bgp;
  // An empty bgp section would read as "this node runs BGP" with nothing to run it with.
  if (isPlainObject(bgp) && Object.values(bgp).every(isUnset)) {
    issues.add('spec.bgp', bgp, 'must not be empty: set at least one of its fields (normally ipv4Address) or leave spec.bgp out');
  }
  if (r.status !== undefined && r.status !== null) checkSchema(r.status, nodeStatusSchema, 'status', issues);
}

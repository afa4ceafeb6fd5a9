// BGPPeer (cluster-scoped): BGP sessions from some Calico nodes (all, one by name, or those a
// selector picks) to a peer given by address, to other Calico nodes picked by a selector, or
// to workloads on the same node.

import type { ResourceOf } from '../meta.js';
import type { FieldIssue, Issues } from '../validate/issues.js';
import { arr, bool, custom, int, obj, oneOf, str, type Check, type Schema } from '../validate/schema.js';
import { checkAsn, checkDnsSubdomain, checkDuration, checkIP, parseAsn } from '../validate/common.js';
import { parseIP, type IpVersion } from '../net.js';
import { maxLength, selectorField, unlessEmpty } from './rule.js';
import { secretKeyRefSchema, type BGPPassword } from './bgp-configuration.js';

export type NextHopMode = 'Auto' | 'Self' | 'Keep';

export interface BGPPeerSpec {
  /** One node by name; with neither node nor nodeSelector the peering applies to every node. */
  node?: string;
  nodeSelector?: string;
  /** `IP`, `IPv4:port` or `[IPv6]:port`. */
  peerIP?: string;
  /** Other Calico nodes to peer with (their own AS numbers are used). */
  peerSelector?: string;
  asNumber?: number | string;
  localASNumber?: number | string;
  /** Deprecated: use nextHopMode: Keep. */
  keepOriginalNextHop?: boolean;
  nextHopMode?: NextHopMode;
  password?: BGPPassword;
  /** UseNodeIP (the default behaviour) or None. */
  sourceAddress?: 'UseNodeIP' | 'None';
  maxRestartTime?: string;
  keepaliveTime?: string;
  numAllowedLocalASNumbers?: number;
  /** GTSM: the number of hops to the peer. */
  ttlSecurity?: number;
  /** A gateway the peer is reached through (a /32 or /128 route is added to it). */
  reachableBy?: string;
  /** BGPFilter names, applied in order. */
  filters?: string[];
  localWorkloadSelector?: string;
  reversePeering?: 'Auto' | 'Manual';
}
export type BGPPeer = ResourceOf<'BGPPeer', BGPPeerSpec>;

export interface PeerAddress {
  ip: string;
  version: IpVersion;
  port?: number;
}

/** `a.b.c.d:port` and `[v6]:port` are the forms that carry a port; anything else is a plain IP. */
const IPV4_PORT = /^(\d+).(\d+).(\d+).(\d+):(\d+)$/;
const IPV6_PORT = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/;

/**
 * Reads peerIP as Calico does: a port only in the forms `IPv4:port` and `[IPv6]:port`, the port
 * 1-65535; otherwise the whole text must be an address. Undefined when malformed.
 */
export function parsePeerIP(s: string): PeerAddress | undefined {
  let host = s;
  let port: number | undefined;
  const v6 = IPV6_PORT.exec(s);
  if (v6 || IPV4_PORT.test(s)) {
    const i = s.lastIndexOf(':');
    host = v6 ? v6[1]! : s.slice(0, i);
    const p = s.slice(i + 1);
    port = Number(p);
    if (port < 1 || port > 65535) return undefined;
  }
  const ip = parseIP(host);
  if (!ip) return undefined;
  return { ip: host, version: ip.version, ...(port !== undefined ? { port } : {}) };
}

const checkPeerIP: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !parsePeerIP(v)) {
    issues.add(path, v, 'must be an IP address, IPv4:port or [IPv6]:port (port 1-65535)');
  }
};

const optional = (check: Check) => str(unlessEmpty(check));

export const bgpPeerSpecSchema: Schema = obj({
  node: optional(maxLength(253, checkDnsSubdomain)),
  nodeSelector: selectorField,
  peerIP: optional(maxLength(64, checkPeerIP)),
  peerSelector: selectorField,
  asNumber: custom(checkAsn),
  localASNumber: custom(checkAsn),
  keepOriginalNextHop: bool,
  nextHopMode: oneOf('Auto', 'Self', 'Keep'),
  password: obj({ secretKeyRef: secretKeyRefSchema }),
  sourceAddress: oneOf('UseNodeIP', 'None'),
  maxRestartTime: str(checkDuration),
  keepaliveTime: str(checkDuration),
  numAllowedLocalASNumbers: int(-2147483648, 2147483647),
  ttlSecurity: int(0, 255),
  reachableBy: optional(maxLength(64, checkIP)),
  filters: arr(str(checkDnsSubdomain)),
  localWorkloadSelector: selectorField,
  reversePeering: oneOf('Auto', 'Manual'),
});

/**
 * AS numbers are stored as integers; a zero peer AS means "unset" (Calico omits it), while a
 * zero localASNumber is kept.
 */
export function defaultBGPPeer(r: BGPPeer): BGPPeer {
  const spec: BGPPeerSpec = { ...r.spec };
  if (spec.asNumber !== undefined && spec.asNumber !== null) {
    spec.asNumber = parseAsn(spec.asNumber) ?? spec.asNumber;
    if (spec.asNumber === 0) delete spec.asNumber;
  }
  if (spec.localASNumber !== undefined && spec.localASNumber !== null) spec.localASNumber = parseAsn(spec.localASNumber) ?? spec.localASNumber;
  return { ...r, spec };
}

const has = (v: string | undefined): v is string => typeof v === 'string' && v !== '';
const hasAsn = (v: number | string | undefined): boolean => v !== undefined && v !== null && parseAsn(v) !== 0;

export function validateBGPPeer(r: BGPPeer, issues: Issues): void {
  const s = r.spec;
  if (has(s.node) && has(s.nodeSelector)) issues.add('spec.node', s.node, 'must be empty when spec.nodeSelector is set');
  if (has(s.peerIP) && has(s.peerSelector)) issues.add('spec.peerIP', s.peerIP, 'must be empty when spec.peerSelector is set');
  if (has(s.peerSelector) && hasAsn(s.asNumber)) {
    issues.add('spec.asNumber', s.asNumber, 'must be empty when spec.peerSelector is set: the selected nodes\' own AS numbers are used');
  }
  if (has(s.localWorkloadSelector)) {
    if (!hasAsn(s.asNumber)) issues.add('spec.asNumber', s.asNumber, 'is required when spec.localWorkloadSelector is set');
    if (has(s.peerIP)) issues.add('spec.peerIP', s.peerIP, 'must be empty when spec.localWorkloadSelector is set');
    if (has(s.peerSelector)) issues.add('spec.peerSelector', s.peerSelector, 'must be empty when spec.localWorkloadSelector is set');
  }
  if (has(s.reachableBy)) {
    const peer = has(s.peerIP) ? parsePeerIP(s.peerIP) : undefined;
    const gateway = parseIP(s.reachableBy);
    if (!has(s.peerIP)) issues.add('spec.reachableBy', s.reachableBy, 'must be empty when spec.peerIP is empty');
    else if (peer && gateway && gateway.version !== peer.version) {
      issues.add('spec.reachableBy', s.reachableBy, `must be the same IP version as spec.peerIP (IPv${peer.version})`);
    }
  }
  if (s.keepOriginalNextHop === true && s.nextHopMode !== undefined && s.nextHopMode !== null) {
    issues.add('spec.keepOriginalNextHop', s.keepOriginalNextHop, 'is deprecated and must not be true when spec.nextHopMode is set; use nextHopMode: Keep');
  }
}

/** Calico refuses a peer whose filters name BGPFilters that do not exist. */
export function checkBGPPeerFilters(peer: BGPPeer, existingFilters: Iterable<string>): FieldIssue[] {
  const known = new Set(existingFilters);
  const issues: FieldIssue[] = [];
  (peer.spec.filters ?? []).forEach((f, i) => {
    if (!known.has(f)) issues.push({ path: `spec.filters[${i}]`, value: f, reason: 'names a BGPFilter that does not exist' });
  });
  return issues;
}

// BGPPeer (cluster-scoped): a BGP session between Calico nodes (all, one, or selected) and a
// peer given by address or by a selector over other nodes.

import type { ResourceOf } from '../meta.js';
import type { Issues } from '../validate/issues.js';
import { arr, bool, custom, int, obj, oneOf, str, type Check, type Schema } from '../validate/schema.js';
import { checkAsn, checkDnsSubdomain, checkDuration, checkIP, checkSelector } from '../validate/common.js';
import { parseIP, type IpVersion } from '../net.js';

export interface BGPPeerSpec {
  node?: string;
  nodeSelector?: string;
  peerIP?: string;
  peerSelector?: string;
  asNumber?: number | string;
  localASNumber?: number | string;
  keepOriginalNextHop?: boolean;
  nextHopMode?: 'Auto' | 'Self' | 'Keep';
  password?: { secretKeyRef?: { name: string; key: string } };
  sourceAddress?: 'UseNodeIP' | 'None';
  maxRestartTime?: string;
  keepaliveTime?: string;
  numAllowedLocalASNumbers?: number;
  ttlSecurity?: number;
  reachableBy?: string;
  filters?: string[];
  localWorkloadSelector?: string;
  reversePeering?: 'Auto' | 'Manual';
}
export type BGPPeer = ResourceOf<'BGPPeer', BGPPeerSpec>;

/** Splits `IP`, `IPv4:port` or `[IPv6]:port`; undefined when malformed. */
export function parsePeerIP(s: string): { ip: string; version: IpVersion; port?: number } | undefined {
  let host = s;
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  const v4port = /^([\d.]+):(\d+)$/.exec(s);
  if (bracket) { host = bracket[1]!; port = Number(bracket[2]); }
  else if (v4port) { host = v4port[1]!; port = Number(v4port[2]); }
  const ip = parseIP(host);
  if (!ip || (bracket && ip.version !== 6) || (v4port && ip.version !== 4)) return undefined;
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { ip: host, version: ip.version, ...(port !== undefined ? { port } : {}) };
}

const checkPeerIP: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !parsePeerIP(v)) issues.add(path, v, 'must be an IP address, IPv4:port or [IPv6]:port');
};

export const bgpPeerSpecSchema: Schema = obj({
  node: str(checkDnsSubdomain),
  nodeSelector: str(checkSelector),
  peerIP: str(checkPeerIP),
  peerSelector: str(checkSelector),
  asNumber: custom(checkAsn),
  localASNumber: custom(checkAsn),
  keepOriginalNextHop: bool,
  nextHopMode: oneOf('Auto', 'Self', 'Keep'),
  password: obj({ secretKeyRef: obj({ name: str(), key: str() }, ['name', 'key']) }),
  sourceAddress: oneOf('UseNodeIP', 'None'),
  maxRestartTime: str(checkDuration),
  keepaliveTime: str(checkDuration),
  numAllowedLocalASNumbers: int(0, 10),
  ttlSecurity: int(0, 255),
  reachableBy: str(checkIP),
  filters: arr(str(checkDnsSubdomain)),
  localWorkloadSelector: str(checkSelector),
  reversePeering: oneOf('Auto', 'Manual'),
});

export function defaultBGPPeer(r: BGPPeer): BGPPeer {
  return r;
}

export function validateBGPPeer(r: BGPPeer, issues: Issues): void {
  const s = r.spec;
  if (s.node && s.nodeSelector) issues.add('spec.nodeSelector', s.nodeSelector, 'cannot be set together with spec.node');
  if (s.peerIP && s.peerSelector) issues.add('spec.peerSelector', s.peerSelector, 'cannot be set together with spec.peerIP');
  if (s.peerSelector && s.asNumber !== undefined) issues.add('spec.asNumber', s.asNumber, 'must not be set with spec.peerSelector (the selected nodes\' own AS numbers are used)');
  if (s.localWorkloadSelector) {
    if (s.peerIP) issues.add('spec.localWorkloadSelector', s.localWorkloadSelector, 'cannot be set together with spec.peerIP');
    if (s.peerSelector) issues.add('spec.localWorkloadSelector', s.localWorkloadSelector, 'cannot be set together with spec.peerSelector');
    if (s.asNumber === undefined) issues.add('spec.asNumber', s.asNumber, 'is required with spec.localWorkloadSelector');
  } else if (!s.peerIP && !s.peerSelector) {
    issues.add('spec.peerIP', s.peerIP, 'either spec.peerIP or spec.peerSelector must be set');
  }
  if (s.peerIP && s.asNumber === undefined) issues.add('spec.asNumber', s.asNumber, 'is required with spec.peerIP');
  if (s.keepOriginalNextHop && s.nextHopMode !== undefined) issues.add('spec.nextHopMode', s.nextHopMode, 'cannot be set together with the deprecated spec.keepOriginalNextHop');
  if (s.reachableBy) {
    const peer = s.peerIP ? parsePeerIP(s.peerIP) : undefined;
    if (!s.peerIP) issues.add('spec.reachableBy', s.reachableBy, 'requires spec.peerIP');
    else if (peer && parseIP(s.reachableBy)?.version !== peer.version) issues.add('spec.reachableBy', s.reachableBy, 'must be the same IP version as spec.peerIP');
  }
}

// BGPConfiguration (cluster-scoped): `default` holds cluster-wide BGP settings; `node.<name>`
// overrides a few of them for one node.

import type { ResourceOf } from '../meta.js';
import { joinPath, type Issues } from '../validate/issues.js';
import { arr, bool, custom, int, obj, oneOf, str, type Check, type Schema } from '../validate/schema.js';
import { checkAsn, checkDuration, checkIP, checkMaskedCidr } from '../validate/common.js';

export interface Community {
  name: string;
  value: string;
}

export interface BGPConfigurationSpec {
  logSeverityScreen?: 'Trace' | 'Debug' | 'Info' | 'Warning' | 'Error' | 'Fatal';
  nodeToNodeMeshEnabled?: boolean;
  asNumber?: number | string;
  serviceClusterIPs?: { cidr: string }[];
  serviceExternalIPs?: { cidr: string }[];
  serviceLoadBalancerIPs?: { cidr: string }[];
  serviceLoadBalancerAggregation?: 'Enabled' | 'Disabled';
  communities?: Community[];
  prefixAdvertisements?: { cidr: string; communities?: string[] }[];
  listenPort?: number;
  nodeMeshPassword?: { secretKeyRef?: { name: string; key: string } };
  nodeMeshMaxRestartTime?: string;
  bindMode?: 'None' | 'NodeIP';
  ignoredInterfaces?: string[];
  localWorkloadPeeringIPV4?: string;
  localWorkloadPeeringIPV6?: string;
  programClusterRoutes?: 'Enabled' | 'Disabled';
  ipv4NormalRoutePriority?: number;
  ipv6NormalRoutePriority?: number;
  ipv4ElevatedRoutePriority?: number;
  ipv6ElevatedRoutePriority?: number;
}
export type BGPConfiguration = ResourceOf<'BGPConfiguration', BGPConfigurationSpec>;

/** `aa:nn` (16-bit each) standard or `aa:nn:mm` (32-bit each) large community. */
export function isCommunityValue(v: string): boolean {
  const std = /^(\d+):(\d+)$/.exec(v);
  if (std) return Number(std[1]) <= 0xffff && Number(std[2]) <= 0xffff;
  const large = /^(\d+):(\d+):(\d+)$/.exec(v);
  return !!large && [large[1], large[2], large[3]].every((x) => Number(x) <= 0xffffffff);
}

const checkCommunityValue: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !isCommunityValue(v)) {
    issues.add(path, v, 'must be a community aa:nn (each 0-65535) or a large community aa:nn:mm (each 0-4294967295)');
  }
};

const cidrList = arr(obj({ cidr: str(checkMaskedCidr) }, ['cidr']));
const secretRef = obj({ secretKeyRef: obj({ name: str(), key: str() }, ['name', 'key']) });

export const bgpConfigurationSpecSchema: Schema = obj({
  logSeverityScreen: oneOf('Trace', 'Debug', 'Info', 'Warning', 'Error', 'Fatal'),
  nodeToNodeMeshEnabled: bool,
  asNumber: custom(checkAsn),
  serviceClusterIPs: cidrList,
  serviceExternalIPs: cidrList,
  serviceLoadBalancerIPs: cidrList,
  serviceLoadBalancerAggregation: oneOf('Enabled', 'Disabled'),
  communities: arr(obj({ name: str(), value: str(checkCommunityValue) }, ['name', 'value']), 500),
  prefixAdvertisements: arr(obj({ cidr: str(checkMaskedCidr), communities: arr(str()) }, ['cidr']), 500),
  listenPort: int(1, 65535),
  nodeMeshPassword: secretRef,
  nodeMeshMaxRestartTime: str(checkDuration),
  bindMode: oneOf('None', 'NodeIP'),
  ignoredInterfaces: arr(str((v, p, i) => {
    if (typeof v === 'string' && (v.length === 0 || v.length > 15)) i.add(p, v, 'must be an interface name or glob of 1-15 characters');
  })),
  localWorkloadPeeringIPV4: str(checkIP),
  localWorkloadPeeringIPV6: str(checkIP),
  programClusterRoutes: oneOf('Enabled', 'Disabled'),
  ipv4NormalRoutePriority: int(1, 2147483646),
  ipv6NormalRoutePriority: int(1, 2147483646),
  ipv4ElevatedRoutePriority: int(1, 2147483646),
  ipv6ElevatedRoutePriority: int(1, 2147483646),
});

export function defaultBGPConfiguration(r: BGPConfiguration): BGPConfiguration {
  return r;
}

const COMMUNITY_NAME = /^[a-zA-Z0-9][-a-zA-Z0-9_.]*$/;

export function validateBGPConfiguration(r: BGPConfiguration, issues: Issues): void {
  const s = r.spec;
  const name = r.metadata.name;
  if (name !== 'default') {
    // Cluster-wide settings only make sense on the default configuration.
    if (s.nodeToNodeMeshEnabled !== undefined) issues.add('spec.nodeToNodeMeshEnabled', s.nodeToNodeMeshEnabled, `can only be set on the "default" BGPConfiguration, not "${name}"`);
    if (s.asNumber !== undefined) issues.add('spec.asNumber', s.asNumber, `can only be set on the "default" BGPConfiguration, not "${name}"`);
  }
  const defined = new Set<string>();
  (s.communities ?? []).forEach((c, i) => {
    if (!COMMUNITY_NAME.test(c.name)) issues.add(joinPath(joinPath('spec.communities', i), 'name'), c.name, 'must be a name of letters, digits, "-", "_" and "."');
    if (defined.has(c.name)) issues.add(joinPath(joinPath('spec.communities', i), 'name'), c.name, 'is defined more than once');
    defined.add(c.name);
  });
  (s.prefixAdvertisements ?? []).forEach((pa, i) => {
    (pa.communities ?? []).forEach((c, j) => {
      if (!defined.has(c) && !isCommunityValue(c)) {
        issues.add(`spec.prefixAdvertisements[${i}].communities[${j}]`, c, 'must name a community defined in spec.communities or be a community value aa:nn / aa:nn:mm');
      }
    });
  });
}

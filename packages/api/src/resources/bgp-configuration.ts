// BGPConfiguration (cluster-scoped): `default` holds the cluster-wide BGP settings; an object
// named `node.<nodename>` overrides the per-node ones (log level, listen port, bind mode, ...).

import type { ResourceOf } from '../meta.js';
import { joinPath, type Issues } from '../validate/issues.js';
import { arr, bool, custom, int, obj, oneOf, str, type Check, type Schema } from '../validate/schema.js';
import { checkAsn, checkDnsSubdomain, checkDuration, checkIPv4, checkIPv6, checkMaskedCidr, parseAsn } from '../validate/common.js';
import { unlessEmpty } from './rule.js';

export type LogSeverity = 'Trace' | 'Debug' | 'Info' | 'Warning' | 'Error' | 'Fatal';
export const LOG_SEVERITIES: readonly LogSeverity[] = ['Trace', 'Debug', 'Info', 'Warning', 'Error', 'Fatal'];

export interface SecretKeyRef {
  name?: string;
  key: string;
  optional?: boolean;
}

/** A password for BGP sessions, read from a Secret in calico-node's namespace. */
export interface BGPPassword {
  secretKeyRef?: SecretKeyRef;
}

export interface Community {
  name: string;
  /** `aa:nn` (standard, 16-bit parts) or `aa:nn:mm` (large, 32-bit parts). */
  value: string;
}

export interface PrefixAdvertisement {
  cidr: string;
  /** Names from spec.communities, or literal community values. */
  communities: string[];
}

export type ProgramClusterRoutes = 'Enabled' | 'Disabled' | 'EnabledIPIPOnly' | 'EnabledNoEncapOnly';

export interface BGPConfigurationSpec {
  logSeverityScreen?: string;
  nodeToNodeMeshEnabled?: boolean;
  asNumber?: number | string;
  serviceLoadBalancerIPs?: { cidr?: string }[];
  serviceExternalIPs?: { cidr?: string }[];
  serviceClusterIPs?: { cidr?: string }[];
  serviceLoadBalancerAggregation?: 'Enabled' | 'Disabled';
  communities?: Community[];
  prefixAdvertisements?: PrefixAdvertisement[];
  listenPort?: number;
  nodeMeshPassword?: BGPPassword;
  nodeMeshMaxRestartTime?: string;
  bindMode?: 'None' | 'NodeIP';
  /** Interface names or globs whose routes BIRD ignores. */
  ignoredInterfaces?: string[];
  localWorkloadPeeringIPV4?: string;
  localWorkloadPeeringIPV6?: string;
  programClusterRoutes?: ProgramClusterRoutes;
  ipv4NormalRoutePriority?: number;
  ipv6NormalRoutePriority?: number;
}
export type BGPConfiguration = ResourceOf<'BGPConfiguration', BGPConfigurationSpec>;

/** What an absent field means (used by consumers; not written into stored objects unless noted). */
export const BGP_DEFAULTS = {
  logSeverityScreen: 'Info',
  nodeToNodeMeshEnabled: true,
  asNumber: 64512,
  listenPort: 179,
  serviceLoadBalancerAggregation: 'Enabled',
  programClusterRoutes: 'EnabledNoEncapOnly',
  routePriority: 1024,
} as const;

const STANDARD_COMMUNITY = /^(\d+):(\d+)$/;
const LARGE_COMMUNITY = /^(\d+):(\d+):(\d+)$/;

/**
 * Checks a community value. `format` is false when the text is neither `aa:nn` nor `aa:nn:mm`
 * (so it may be a community name); `reason` explains a value of the right shape whose parts
 * are too large.
 */
export function checkCommunityValue(v: string): { format: boolean; reason?: string } {
  const large = LARGE_COMMUNITY.exec(v);
  const parts = large ? large.slice(1) : STANDARD_COMMUNITY.exec(v)?.slice(1);
  if (!parts) return { format: false };
  const max = large ? 0xffffffff : 0xffff;
  if (parts.some((p) => Number(p) > max)) {
    return { format: true, reason: large ? 'each part of a large community aa:nn:mm must fit in 32 bits (0-4294967295)' : 'each part of a standard community aa:nn must fit in 16 bits (0-65535)' };
  }
  return { format: true };
}

export function isCommunityValue(v: string): boolean {
  const r = checkCommunityValue(v);
  return r.format && !r.reason;
}

const checkCommunity: Check = (v, path, issues) => {
  if (typeof v !== 'string') return;
  const r = checkCommunityValue(v);
  if (!r.format) issues.add(path, v, 'must be a community value aa:nn (standard) or aa:nn:mm (large)');
  else if (r.reason) issues.add(path, v, r.reason);
};

/** Case-insensitive, as the CRD pattern `(?i)(Trace|...)` allows. */
export const checkLogSeverity: Check = (v, path, issues) => {
  if (typeof v !== 'string' || (v !== '' && !LOG_SEVERITIES.some((s) => s.toLowerCase() === v.toLowerCase()))) {
    issues.add(path, v, `must be one of ${LOG_SEVERITIES.join(', ')}`);
  }
};

const IGNORED_INTERFACE = /^[a-zA-Z0-9_.*-]{1,15}$/;
const checkIgnoredInterface: Check = (v, path, issues) => {
  if (typeof v !== 'string' || v === '*' || !IGNORED_INTERFACE.test(v)) {
    issues.add(path, v, 'must be an interface name or glob of 1-15 characters from [a-zA-Z0-9_.*-] (not "*" alone)');
  }
};

export const secretKeyRefSchema: Schema = obj({ name: str(), key: str(), optional: bool }, ['key']);
const cidrBlocks = arr(obj({ cidr: str(unlessEmpty(checkMaskedCidr)) }));
const routePriority = int(1, 2147483646);

export const bgpConfigurationSpecSchema: Schema = obj({
  logSeverityScreen: custom(checkLogSeverity),
  nodeToNodeMeshEnabled: bool,
  asNumber: custom(checkAsn),
  serviceLoadBalancerIPs: cidrBlocks,
  serviceExternalIPs: cidrBlocks,
  serviceClusterIPs: cidrBlocks,
  serviceLoadBalancerAggregation: oneOf('Enabled', 'Disabled'),
  communities: arr(obj({ name: str(checkDnsSubdomain), value: str(checkCommunity) }, ['name', 'value']), 500),
  prefixAdvertisements: arr(obj({ cidr: str(checkMaskedCidr), communities: arr(str(), 50) }, ['cidr', 'communities']), 500),
  listenPort: int(1, 65535),
  nodeMeshPassword: obj({ secretKeyRef: secretKeyRefSchema }),
  nodeMeshMaxRestartTime: str(checkDuration),
  bindMode: oneOf('None', 'NodeIP'),
  ignoredInterfaces: arr(str(checkIgnoredInterface)),
  localWorkloadPeeringIPV4: str(unlessEmpty(checkIPv4)),
  localWorkloadPeeringIPV6: str(unlessEmpty(checkIPv6)),
  programClusterRoutes: oneOf('Enabled', 'Disabled', 'EnabledIPIPOnly', 'EnabledNoEncapOnly'),
  ipv4NormalRoutePriority: routePriority,
  ipv6NormalRoutePriority: routePriority,
});

/**
 * Calico's schema defaults (logSeverityScreen Info, serviceLoadBalancerAggregation Enabled) and
 * the AS number stored as an integer.
 */
export function defaultBGPConfiguration(r: BGPConfiguration): BGPConfiguration {
  const spec: BGPConfigurationSpec = { ...r.spec };
  spec.logSeverityScreen ||= BGP_DEFAULTS.logSeverityScreen;
  spec.serviceLoadBalancerAggregation ??= BGP_DEFAULTS.serviceLoadBalancerAggregation;
  if (spec.asNumber !== undefined && spec.asNumber !== null) spec.asNumber = parseAsn(spec.asNumber) ?? spec.asNumber;
  return { ...r, spec };
}

/** Fields Calico only accepts on the object named "default". */
const DEFAULT_ONLY = [
  'nodeToNodeMeshEnabled', 'asNumber', 'serviceLoadBalancerIPs', 'serviceExternalIPs', 'serviceClusterIPs',
  'nodeMeshPassword', 'nodeMeshMaxRestartTime',
] as const;

const isSet = (v: unknown): boolean => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);

export function validateBGPConfiguration(r: BGPConfiguration, issues: Issues): void {
  const s = r.spec;
  const name = r.metadata.name;
  if (name !== 'default') {
    for (const f of DEFAULT_ONLY) {
      if (isSet(s[f])) issues.add(`spec.${f}`, s[f], `can only be set on the BGPConfiguration named "default", not "${name}"`);
    }
  }
  if (s.nodeToNodeMeshEnabled === false) {
    if (isSet(s.nodeMeshPassword)) issues.add('spec.nodeMeshPassword', s.nodeMeshPassword, 'cannot be set when spec.nodeToNodeMeshEnabled is false');
    if (isSet(s.nodeMeshMaxRestartTime)) issues.add('spec.nodeMeshMaxRestartTime', s.nodeMeshMaxRestartTime, 'cannot be set when spec.nodeToNodeMeshEnabled is false');
  }
  const communities = s.communities ?? [];
  if (communities.length > 0 && (s.prefixAdvertisements ?? []).length === 0) {
    issues.add('spec.communities', communities.map((c) => c.name), 'are defined but not used: add spec.prefixAdvertisements that use them');
  }
  const defined = new Set(communities.map((c) => c.name));
  (s.prefixAdvertisements ?? []).forEach((pa, i) => {
    (pa.communities ?? []).forEach((c, j) => {
      const path = joinPath(joinPath(joinPath('spec.prefixAdvertisements', i), 'communities'), j);
      const r = checkCommunityValue(c);
      if (r.reason) issues.add(path, c, r.reason);
      else if (!r.format && !defined.has(c)) {
        issues.add(path, c, 'must name a community defined in spec.communities or be a community value aa:nn / aa:nn:mm');
      }
    });
  });
}

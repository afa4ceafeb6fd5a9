// FelixConfiguration (cluster-scoped): `default` for the cluster, `node.<name>` per node.
// Durations are Go-style strings ("90s"); unknown fields are rejected like any other kind.

import type { ResourceOf } from '../meta.js';
import type { Issues } from '../validate/issues.js';
import { arr, bool, int, obj, oneOf, str, type Schema } from '../validate/schema.js';
import { checkDuration, checkIP, checkMaskedCidr } from '../validate/common.js';
import { checkProtocol } from './rule.js';
import { custom } from '../validate/schema.js';

export type FelixConfigurationSpec = Record<string, unknown>;
export type FelixConfiguration = ResourceOf<'FelixConfiguration', FelixConfigurationSpec>;

const dur = str(checkDuration);
const LOG = oneOf('Trace', 'Debug', 'Info', 'Warning', 'Error', 'Fatal');
const hostPorts = arr(obj({ protocol: custom(checkProtocol), port: int(0, 65535), net: str(checkMaskedCidr) }, ['port']));
const enabledDisabled = oneOf('Enabled', 'Disabled');

export const felixConfigurationSpecSchema: Schema = obj({
  logSeverityScreen: LOG, logSeverityFile: LOG, logSeveritySys: LOG, logFilePath: str(), logPrefix: str(),
  useInternalDataplaneDriver: bool, dataplaneDriver: str(),
  iptablesBackend: oneOf('Legacy', 'NFT', 'Auto'),
  iptablesRefreshInterval: dur, iptablesPostWriteCheckInterval: dur, iptablesLockTimeout: dur, iptablesLockProbeInterval: dur,
  iptablesMarkMask: int(0, 0xffffffff), iptablesNATOutgoingInterfaceFilter: str(),
  iptablesFilterAllowAction: oneOf('Accept', 'Return'), iptablesMangleAllowAction: oneOf('Accept', 'Return'),
  iptablesFilterDenyAction: oneOf('Drop', 'Reject'),
  ipsetsRefreshInterval: dur, routeRefreshInterval: dur, interfaceRefreshInterval: dur, netlinkTimeout: dur,
  chainInsertMode: oneOf('Insert', 'Append'),
  defaultEndpointToHostAction: oneOf('Drop', 'Accept', 'Return'),
  ipipEnabled: bool, ipipMTU: int(0, 65535),
  vxlanEnabled: bool, vxlanMTU: int(0, 65535), vxlanMTUV6: int(0, 65535), vxlanPort: int(1, 65535), vxlanVNI: int(1, 16777215),
  wireguardEnabled: bool, wireguardEnabledV6: bool, wireguardMTU: int(0, 65535), wireguardListeningPort: int(1, 65535),
  natOutgoingAddress: str(checkIP), natPortRange: str(),
  failsafeInboundHostPorts: hostPorts, failsafeOutboundHostPorts: hostPorts,
  interfacePrefix: str(), interfaceExclude: str(), mtuIfacePattern: str(),
  bpfEnabled: bool, xdpEnabled: bool, genericXDPEnabled: bool,
  reportingInterval: dur, reportingTTL: dur, endpointReportingEnabled: bool, endpointReportingDelay: dur,
  healthEnabled: bool, healthHost: str(), healthPort: int(1, 65535),
  prometheusMetricsEnabled: bool, prometheusMetricsHost: str(), prometheusMetricsPort: int(1, 65535),
  prometheusGoMetricsEnabled: bool, prometheusProcessMetricsEnabled: bool,
  routeSource: oneOf('CalicoIPAM', 'WorkloadIPs'),
  routeTableRange: obj({ min: int(1, 250), max: int(1, 250) }, ['min', 'max']),
  routeSyncDisabled: bool, removeExternalRoutes: bool, deviceRouteProtocol: int(0, 255),
  deviceRouteSourceAddress: str(checkIP), deviceRouteSourceAddressIPv6: str(checkIP),
  ipv6Support: bool, maxIpsetSize: int(0),
  allowVXLANPacketsFromWorkloads: bool, allowIPIPPacketsFromWorkloads: bool,
  floatingIPs: enabledDisabled, serviceLoopPrevention: oneOf('Drop', 'Reject', 'Disabled'),
  featureDetectOverride: str(), featureGates: str(),
  kubeNodePortRanges: arr(str()), externalNodesCIDRList: arr(str(checkMaskedCidr)),
  sidecarAccelerationEnabled: bool, debugDisableLogDropping: bool, logDropActionOverride: str(),
  awsSrcDstCheck: oneOf('DoNothing', 'Enable', 'Disable'),
});

export function defaultFelixConfiguration(r: FelixConfiguration): FelixConfiguration {
  return r;
}

export function validateFelixConfiguration(r: FelixConfiguration, issues: Issues): void {
  const name = r.metadata.name;
  if (name !== 'default' && !name.startsWith('node.')) {
    issues.add('metadata.name', name, 'must be "default" or "node.<nodename>"');
  }
  const range = r.spec['routeTableRange'] as { min: number; max: number } | undefined;
  if (range && range.min > range.max) issues.add('spec.routeTableRange', range, 'min must not exceed max');
  const mask = r.spec['iptablesMarkMask'];
  if (typeof mask === 'number' && mask !== 0) {
    // Felix allocates accept/pass/scratch bits from the mask; fewer than 2 bits cannot work.
    let bitsSet = 0;
    for (let m = mask >>> 0; m; m >>>= 1) bitsSet += m & 1;
    if (bitsSet < 2) issues.add('spec.iptablesMarkMask', mask, 'must have at least 2 bits set');
  }
}

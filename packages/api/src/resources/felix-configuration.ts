// FelixConfiguration (cluster-scoped): `default` for the cluster, `node.<nodename>` per node,
// or any other name together with a nodeSelector. Every field of Calico's v3 type is accepted
// (durations as Go-style strings such as "90s"); unknown fields are refused with a suggestion.

import type { ResourceOf } from '../meta.js';
import { joinPath, type Issues } from '../validate/issues.js';
import { arr, bool, custom, int, isPlainObject, obj, oneOf, str, type Check, type Schema } from '../validate/schema.js';
import { checkIPv4, checkIPv6, isDns1123Label, isInterfaceName } from '../validate/common.js';
import { parseCidrOrIp } from '../net.js';
import { checkRulePort, maxLength, parsePort, selectorField, unlessEmpty } from './rule.js';
import { LOG_SEVERITIES } from './bgp-configuration.js';
import { checkDscp } from './workload-endpoint.js';

export interface ProtoPort {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  /** Optional CIDR the port is open to/from. */
  net?: string;
}

export interface RouteTableRange {
  min: number;
  max: number;
}

export interface HealthTimeoutOverride {
  name: string;
  timeout: string;
}

/** The fields Tabby reads are typed; the rest of Calico's (BPF, flow logs, ...) are accepted as unknown. */
export interface FelixConfigurationSpec {
  nodeSelector?: string;
  logSeverityScreen?: string; logSeverityFile?: string; logSeveritySys?: string; logFilePath?: string; logPrefix?: string;
  iptablesBackend?: 'Legacy' | 'NFT' | 'Auto';
  iptablesRefreshInterval?: string; iptablesPostWriteCheckInterval?: string; iptablesLockProbeInterval?: string;
  iptablesMarkMask?: number;
  iptablesFilterAllowAction?: string; iptablesMangleAllowAction?: string; iptablesFilterDenyAction?: string;
  iptablesNATOutgoingInterfaceFilter?: string;
  chainInsertMode?: string;
  defaultEndpointToHostAction?: string;
  routeRefreshInterval?: string; interfaceRefreshInterval?: string; ipsetsRefreshInterval?: string; netlinkTimeout?: string;
  interfacePrefix?: string; interfaceExclude?: string; mtuIfacePattern?: string;
  ipipEnabled?: boolean; ipipMTU?: number;
  vxlanEnabled?: boolean; vxlanMTU?: number; vxlanMTUV6?: number; vxlanPort?: number; vxlanVNI?: number;
  allowVXLANPacketsFromWorkloads?: boolean; allowIPIPPacketsFromWorkloads?: boolean;
  wireguardEnabled?: boolean; wireguardEnabledV6?: boolean; wireguardListeningPort?: number; wireguardMTU?: number;
  natOutgoingAddress?: string; natPortRange?: number | string; natOutgoingExclusions?: 'IPPoolsOnly' | 'IPPoolsAndHostIPs';
  failsafeInboundHostPorts?: ProtoPort[]; failsafeOutboundHostPorts?: ProtoPort[];
  kubeNodePortRanges?: (number | string)[];
  externalNodesList?: string[];
  reportingInterval?: string; reportingTTL?: string; endpointReportingEnabled?: boolean; endpointReportingDelay?: string;
  healthEnabled?: boolean; healthHost?: string; healthPort?: number; healthTimeoutOverrides?: HealthTimeoutOverride[];
  prometheusMetricsEnabled?: boolean; prometheusMetricsHost?: string; prometheusMetricsPort?: number;
  routeSource?: string; routeTableRange?: RouteTableRange; routeTableRanges?: RouteTableRange[]; routeSyncDisabled?: boolean;
  removeExternalRoutes?: boolean; deviceRouteProtocol?: number;
  deviceRouteSourceAddress?: string; deviceRouteSourceAddressIPv6?: string;
  programClusterRoutes?: 'Enabled' | 'Disabled' | 'EnabledIPIPOnly' | 'EnabledNoEncapOnly';
  ipv4NormalRoutePriority?: number; ipv6NormalRoutePriority?: number; ipv4ElevatedRoutePriority?: number; ipv6ElevatedRoutePriority?: number;
  ipv6Support?: boolean; bpfEnabled?: boolean; ipForwarding?: 'Enabled' | 'Disabled';
  serviceLoopPrevention?: string; workloadSourceSpoofing?: string; floatingIPs?: 'Enabled' | 'Disabled';
  [field: string]: unknown;
}
export type FelixConfiguration = ResourceOf<'FelixConfiguration', FelixConfigurationSpec>;

// ---- field checks ------------------------------------------------------------------------

/** The CRD's duration pattern: numbers with ms, s, m or h (e.g. "90s", "1m30s", "1.5h"). */
const DURATION = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;
const checkFelixDuration: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !DURATION.test(v)) issues.add(path, v, 'must be a duration such as 90s, 500ms, 2m or 1h30m');
};
const dur = str(checkFelixDuration);

/** Matches one of `values` ignoring case, or is empty (the CRD patterns are `^(?i)(A|B)?$`). */
function ci(...values: string[]): Schema {
  return str((v, path, issues) => {
    if (typeof v === 'string' && v !== '' && !values.some((x) => x.toLowerCase() === v.toLowerCase())) {
      issues.add(path, v, `must be one of ${values.join(', ')} (any case)`);
    }
  });
}

function pattern(re: RegExp, what: string): Schema {
  return str((v, path, issues) => { if (typeof v === 'string' && !re.test(v)) issues.add(path, v, `must be ${what}`); });
}

const checkRegexp: Check = (v, path, issues) => {
  if (typeof v !== 'string') return;
  try { new RegExp(v); } catch (e) { issues.add(path, v, `must be a valid regular expression: ${(e as Error).message}`); }
};
const regexp = str(checkRegexp);

const checkIface: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !isInterfaceName(v)) issues.add(path, v, 'must be an interface name of 1-15 characters from [a-zA-Z0-9_.-]');
};
/** Interface filters allow "+" wildcards (docker+) and ":". */
const IFACE_FILTER = /^[a-zA-Z0-9:._+-]{1,15}$/;
const ifaceFilter = pattern(IFACE_FILTER, 'an interface name or pattern of 1-15 characters from [a-zA-Z0-9:._+-]');

const checkCidrOrIP: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !parseCidrOrIp(v)) issues.add(path, v, 'must be an IP address or a CIDR');
};

const checkPortRange: Check = (v, path, issues) => {
  const p = parsePort(v);
  if (!p.ok) issues.add(path, v, p.reason);
  else if (p.port.kind === 'named') issues.add(path, v, 'must be a port number or a range "min:max", not a named port');
};

/** Interface name (or "all") -> filter expression. */
const checkBpfLogFilters: Check = (v, path, issues) => {
  if (!isPlainObject(v)) { issues.add(path, v, 'must be a map of interface name to filter'); return; }
  for (const [k, x] of Object.entries(v)) {
    if (!isInterfaceName(k)) issues.add(joinPath(path, k), k, 'must be an interface name (or "all")');
    else if (typeof x !== 'string') issues.add(joinPath(path, k), x, 'must be a string');
  }
};

const protoPort = obj({
  protocol: oneOf('TCP', 'UDP', 'SCTP'),
  port: int(0, 65535),
  net: str(unlessEmpty(checkCidrOrIP)),
}, ['protocol', 'port']);
const tableRange = obj({ min: int(), max: int() }, ['min', 'max']);
const ctTimeout = pattern(/^(([0-9]*(\.[0-9]*)?(ms|s|h|m|us)+)+|Auto)$/, 'a duration such as 30s, or Auto');
const LOG = ci(...LOG_SEVERITIES);
const priority = int(1, 2147483646);
const ipString = (check: Check) => str(maxLength(45, unlessEmpty(check)));

// ---- the schema, grouped as in Calico's reference ---------------------------------------

export const felixConfigurationSpecSchema: Schema = obj({
  // General
  nodeSelector: selectorField, useInternalDataplaneDriver: bool, dataplaneDriver: str(), dataplaneWatchdogTimeout: dur,
  ipv6Support: bool, requireMTUFile: bool, cgroupV2Path: str(),
  featureDetectOverride: pattern(/^([a-zA-Z0-9-_]+=(true|false|),)*([a-zA-Z0-9-_]+=(true|false|))?$/, 'a comma-separated list of feature=true|false'),
  featureGates: pattern(/^([a-zA-Z0-9-_]+=([^=]+),)*([a-zA-Z0-9-_]+=([^=]+))?$/, 'a comma-separated list of gate=value'),
  goGCThreshold: int(-1), goMemoryLimitMB: int(-1), goMaxProcs: int(-1),
  // Refresh intervals and timeouts
  routeRefreshInterval: dur, interfaceRefreshInterval: dur, iptablesRefreshInterval: dur, iptablesPostWriteCheckInterval: dur,
  iptablesLockProbeInterval: dur, ipsetsRefreshInterval: dur, xdpRefreshInterval: dur, netlinkTimeout: dur,
  nftablesRefreshInterval: dur, localSubnetL2ReachabilityRefreshInterval: dur,
  iptablesLockTimeout: dur, iptablesLockFilePath: str(), // removed in v3.31; still accepted from older manifests
  // iptables / nftables
  iptablesBackend: ci('Auto', 'Legacy', 'NFT'), chainInsertMode: ci('Insert', 'Append'),
  defaultEndpointToHostAction: ci('Drop', 'Accept', 'Return'),
  iptablesFilterAllowAction: ci('Accept', 'Return'), iptablesMangleAllowAction: ci('Accept', 'Return'),
  iptablesFilterDenyAction: ci('Drop', 'Reject'), iptablesMarkMask: int(0, 0xffffffff),
  iptablesNATOutgoingInterfaceFilter: ifaceFilter, maxIpsetSize: int(), disableConntrackInvalidCheck: bool,
  nftablesMode: oneOf('Disabled', 'Enabled', 'Auto'), nftablesFlowTableOffload: oneOf('All', 'Disabled'),
  nftablesFlowTableDataIfacePattern: regexp, nftablesFilterAllowAction: ci('Accept', 'Return'),
  nftablesMangleAllowAction: ci('Accept', 'Return'), nftablesFilterDenyAction: ci('Drop', 'Reject'),
  nftablesMarkMask: int(0, 0xffffffff),
  // Interfaces
  interfacePrefix: str(), interfaceExclude: str(), mtuIfacePattern: regexp,
  metadataAddr: str(), metadataPort: int(), openstackRegion: str(),
  // Logging and debugging
  logPrefix: pattern(/^[a-zA-Z0-9%: /_-]*$/, 'letters, digits and % : / _ - or space'),
  logActionRateLimit: pattern(/^[1-9]\d{0,3}\/(second|minute|hour|day)$/, 'a rate such as 10/second (1-9999 per second, minute, hour or day)'),
  logActionRateLimitBurst: int(0, 9999), logFilePath: str(), logSeverityFile: LOG, logSeverityScreen: LOG, logSeveritySys: LOG,
  logDebugFilenameRegex: regexp, debugMemoryProfilePath: str(), debugDisableLogDropping: bool,
  debugSimulateCalcGraphHangAfter: dur, debugSimulateDataplaneHangAfter: dur, debugSimulateDataplaneApplyDelay: dur,
  debugHost: str(), debugPort: int(0, 65535),
  // Encapsulation
  ipipEnabled: bool, ipipMTU: int(), vxlanEnabled: bool, vxlanMTU: int(), vxlanMTUV6: int(), vxlanPort: int(), vxlanVNI: int(),
  allowVXLANPacketsFromWorkloads: bool, allowIPIPPacketsFromWorkloads: bool,
  // Reporting, health and metrics
  reportingInterval: dur, reportingTTL: dur, endpointReportingEnabled: bool, endpointReportingDelay: dur,
  endpointStatusPathPrefix: str(), policySyncPathPrefix: str(),
  healthEnabled: bool, healthHost: str(), healthPort: int(),
  healthTimeoutOverrides: arr(obj({ name: pattern(/^[a-zA-Z0-9_ -]+$/, 'letters, digits, "_", "-" or spaces'), timeout: dur }, ['name', 'timeout'])),
  prometheusMetricsEnabled: bool, prometheusMetricsHost: pattern(/^([a-zA-Z0-9:._+-]{1,64})?$/, 'a host name or address of at most 64 characters'),
  prometheusMetricsPort: int(), prometheusGoMetricsEnabled: bool, prometheusProcessMetricsEnabled: bool,
  prometheusWireGuardMetricsEnabled: bool, prometheusMetricsCAFile: str(), prometheusMetricsCertFile: str(), prometheusMetricsKeyFile: str(),
  prometheusMetricsClientAuth: oneOf('RequireAndVerifyClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'NoClientCert'),
  usageReportingEnabled: bool, usageReportingInitialDelay: dur, usageReportingInterval: dur,
  // Host ports, NAT and traffic handling
  failsafeInboundHostPorts: arr(protoPort), failsafeOutboundHostPorts: arr(protoPort),
  kubeNodePortRanges: arr(custom(checkPortRange), 7), natPortRange: custom(checkPortRange),
  natOutgoingAddress: ipString(checkIPv4), natOutgoingExclusions: oneOf('IPPoolsOnly', 'IPPoolsAndHostIPs'),
  externalNodesList: arr(str()), serviceLoopPrevention: ci('Drop', 'Reject', 'Disabled'),
  workloadSourceSpoofing: ci('Disabled', 'Any'), floatingIPs: oneOf('Enabled', 'Disabled'),
  localSubnetL2Reachability: oneOf('Disabled', 'PodsAndLoadBalancers'), ipForwarding: oneOf('Enabled', 'Disabled'),
  sidecarAccelerationEnabled: bool, xdpEnabled: bool, genericXDPEnabled: bool,
  awsSrcDstCheck: oneOf('DoNothing', 'Enable', 'Disable'), windowsManageFirewallRules: oneOf('Enabled', 'Disabled'),
  // Routes
  deviceRouteSourceAddress: ipString(checkIPv4), deviceRouteSourceAddressIPv6: ipString(checkIPv6), deviceRouteProtocol: int(),
  removeExternalRoutes: bool, programClusterRoutes: oneOf('Enabled', 'Disabled', 'EnabledIPIPOnly', 'EnabledNoEncapOnly'),
  routeSource: ci('WorkloadIPs', 'CalicoIPAM'), routeTableRange: tableRange, routeTableRanges: arr(tableRange), routeSyncDisabled: bool,
  ipv4NormalRoutePriority: priority, ipv4ElevatedRoutePriority: priority, ipv6NormalRoutePriority: priority, ipv6ElevatedRoutePriority: priority,
  liveMigrationRouteConvergenceTime: dur,
  // WireGuard
  wireguardEnabled: bool, wireguardEnabledV6: bool, wireguardThreadingEnabled: bool,
  wireguardListeningPort: int(1, 65535), wireguardListeningPortV6: int(1, 65535), wireguardRoutingRulePriority: int(1, 32765),
  wireguardInterfaceName: str(unlessEmpty(checkIface)), wireguardInterfaceNameV6: str(unlessEmpty(checkIface)),
  wireguardMTU: int(), wireguardMTUV6: int(), wireguardHostEncryptionEnabled: bool, wireguardKeepAlive: dur,
  // eBPF
  bpfEnabled: bool, bpfOverlayHostSourceIP: oneOf('TunnelAddress', 'HostAddress'), bpfDisableUnprivileged: bool,
  bpfJITHardening: oneOf('Auto', 'Strict'), bpfLogLevel: ci('Off', 'Info', 'Debug'), bpfConntrackLogLevel: oneOf('Off', 'Debug'),
  bpfConntrackMode: oneOf('Auto', 'Userspace', 'BPFProgram'),
  bpfConntrackTimeouts: obj(Object.fromEntries(['creationGracePeriod', 'tcpSynSent', 'tcpEstablished', 'tcpFinsSeen', 'tcpResetSeen', 'udpTimeout', 'genericTimeout', 'icmpTimeout'].map((k) => [k, ctTimeout]))),
  bpfIPFragTimeout: dur, bpfLogFilters: custom(checkBpfLogFilters),
  bpfCTLBLogFilter: str(), bpfDataIfacePattern: regexp, bpfL3IfacePattern: regexp,
  bpfConnectTimeLoadBalancingEnabled: bool, bpfConnectTimeLoadBalancing: oneOf('TCP', 'Enabled', 'Disabled'),
  bpfHostNetworkedNATWithoutCTLB: oneOf('Enabled', 'Disabled'), bpfExternalServiceMode: ci('Tunnel', 'DSR'),
  bpfDSROptoutCIDRs: arr(str(checkCidrOrIP)), bpfExtToServiceConnmark: int(0, 0xffffffff),
  bpfKubeProxyIptablesCleanupEnabled: bool, bpfKubeProxyMinSyncPeriod: dur, bpfKubeProxyHealthzPort: int(0, 65535),
  bpfKubeProxyEndpointSlicesEnabled: bool, // removed in v3.31; still accepted from older manifests
  bpfPSNATPorts: custom(checkRulePort),
  bpfMapSizeNATFrontend: int(), bpfMapSizeNATBackend: int(), bpfMapSizeNATAffinity: int(), bpfMapSizeRoute: int(),
  bpfMapSizeConntrack: int(), bpfMapSizePerCpuConntrack: int(), bpfMapSizeIPSets: int(), bpfMapSizeIfState: int(),
  bpfMapSizeConntrackScaling: ci('Disabled', 'DoubleIfFull'), bpfMapSizeConntrackCleanupQueue: int(1),
  bpfHostConntrackBypass: bool, bpfIPFragmentReassemblyEnabled: bool, bpfEnforceRPF: ci('Disabled', 'Strict', 'Loose'),
  bpfPolicyDebugEnabled: bool, bpfForceTrackPacketsFromIfaces: arr(ifaceFilter), bpfDisableGROForIfaces: regexp,
  bpfExcludeCIDRsFromNAT: arr(str(checkCidrOrIP)), bpfExportBufferSizeMB: int(), bpfRedirectToPeer: oneOf('Enabled', 'Disabled'),
  bpfAttachType: oneOf('TC', 'TCX', 'Netkit'), bpfProfiling: oneOf('Enabled', 'Disabled'),
  bpfMaglevMaxEndpointsPerService: int(1, 3000), bpfMaglevMaxServices: int(1, 3000),
  // Istio and flow logs
  istioAmbientMode: oneOf('Enabled', 'Disabled'), istioDSCPMark: custom(checkDscp),
  flowLogsPolicyEvaluationMode: oneOf('None', 'Continuous'), flowLogsFlushInterval: dur, flowLogsCollectorDebugTrace: bool,
  flowLogsGoldmaneServer: str(), flowLogsLocalReporter: oneOf('Disabled', 'Enabled'),
});

// ---- defaults and semantic rules ---------------------------------------------------------

/**
 * Calico's client sets these on every write (etcd has no CRD defaulting), and folds the
 * deprecated bpfConnectTimeLoadBalancingEnabled into bpfConnectTimeLoadBalancing.
 */
export function defaultFelixConfiguration(r: FelixConfiguration): FelixConfiguration {
  const spec: FelixConfigurationSpec = { ...r.spec };
  spec.floatingIPs ??= 'Disabled';
  spec['bpfConnectTimeLoadBalancing'] ??= 'TCP';
  spec['bpfHostNetworkedNATWithoutCTLB'] ??= 'Enabled';
  const legacyCtlb = spec['bpfConnectTimeLoadBalancingEnabled'];
  if (typeof legacyCtlb === 'boolean') {
    spec['bpfHostNetworkedNATWithoutCTLB'] = 'Disabled';
    spec['bpfConnectTimeLoadBalancing'] = legacyCtlb ? 'Enabled' : 'Disabled';
  }
  spec['nftablesMode'] ??= 'Auto';
  spec['nftablesFlowTableOffload'] ??= 'Disabled';
  return { ...r, spec };
}

export function validateFelixConfiguration(r: FelixConfiguration, issues: Issues): void {
  const s = r.spec;
  const name = r.metadata.name;
  if ((name === 'default' || name.startsWith('node.')) && s.nodeSelector) {
    issues.add('spec.nodeSelector', s.nodeSelector, `must not be set on the "default" or per-node ("node.*") FelixConfiguration "${name}"`);
  }
  if (s.routeTableRange && s.routeTableRanges) issues.add('spec.routeTableRanges', s.routeTableRanges, 'cannot be set together with spec.routeTableRange');
  const single = s.routeTableRange;
  if (single && !(single.min >= 1 && single.max >= single.min && single.max <= 250)) {
    issues.add('spec.routeTableRange', single, 'must be a range of route table indices within 1..250 with min <= max');
  }
  let tables = 0;
  (s.routeTableRanges ?? []).forEach((rg, i) => {
    const path = joinPath('spec.routeTableRanges', i);
    if (rg.min < 1) issues.add(`${path}.min`, rg.min, 'must be at least 1');
    if (rg.min > rg.max) issues.add(path, rg, 'min must not be greater than max');
    if (rg.max > 0xffffffff) issues.add(`${path}.max`, rg.max, 'must be at most 4294967295');
    tables += rg.max - rg.min + 1;
  });
  if (tables > 0xffff) issues.add('spec.routeTableRanges', s.routeTableRanges, `target too many tables (${tables}; at most 65535)`);
  (s.externalNodesList ?? []).forEach((c, i) => {
    const parsed = parseCidrOrIp(c);
    if (!parsed) issues.add(joinPath('spec.externalNodesList', i), c, 'must be an IPv4 address or CIDR');
    else if (parsed.version !== 4) issues.add(joinPath('spec.externalNodesList', i), c, 'must be IPv4: IPv6 external nodes are not supported');
  });
  const region = s['openstackRegion'];
  if (typeof region === 'string' && region !== '') {
    // Felix uses the region in a namespace name: "openstack-region-<region>" must be a DNS label.
    if (region.length > 63 - 'openstack-region-'.length) issues.add('spec.openstackRegion', region, 'is too long (at most 46 characters)');
    else if (!isDns1123Label(region)) issues.add('spec.openstackRegion', region, 'must be a DNS-1123 label');
  }
}

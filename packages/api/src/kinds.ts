// The kind registry: one record per kind with its storage layout, aliases and validators.
// Callers resolve user input ("wep", "bgppeers", "IPPool") through `resolveKind`.

import type { Check, Schema } from './validate/schema.js';
import type { Issues } from './validate/issues.js';
import * as node from './resources/node.js';
import * as wep from './resources/workload-endpoint.js';
import * as bgpConfig from './resources/bgp-configuration.js';
import * as bgpPeer from './resources/bgp-peer.js';
import * as bgpFilter from './resources/bgp-filter.js';
import * as ipPool from './resources/ip-pool.js';
import * as np from './resources/network-policy.js';
import * as gnp from './resources/global-network-policy.js';
import * as profile from './resources/profile.js';
import * as hep from './resources/host-endpoint.js';
import * as felix from './resources/felix-configuration.js';
import * as clusterInfo from './resources/cluster-information.js';
import * as ipamBlock from './resources/ipam-block.js';
import * as blockAffinity from './resources/block-affinity.js';
import * as ipamHandle from './resources/ipam-handle.js';
import * as ipamConfig from './resources/ipam-config.js';

/** Every kind Tabby stores, by its canonical (Calico) kind name. */
export interface KindMap {
  Node: node.Node;
  WorkloadEndpoint: wep.WorkloadEndpoint;
  BGPConfiguration: bgpConfig.BGPConfiguration;
  BGPPeer: bgpPeer.BGPPeer;
  BGPFilter: bgpFilter.BGPFilter;
  IPPool: ipPool.IPPool;
  NetworkPolicy: np.NetworkPolicy;
  GlobalNetworkPolicy: gnp.GlobalNetworkPolicy;
  Profile: profile.Profile;
  HostEndpoint: hep.HostEndpoint;
  FelixConfiguration: felix.FelixConfiguration;
  ClusterInformation: clusterInfo.ClusterInformation;
  IPAMBlock: ipamBlock.IPAMBlock;
  BlockAffinity: blockAffinity.BlockAffinity;
  IPAMHandle: ipamHandle.IPAMHandle;
  IPAMConfig: ipamConfig.IPAMConfig;
}

export type KindName = keyof KindMap;
export type AnyResource = KindMap[KindName];

/**
 * How the etcd backend lays a kind out. `v3` resources live under
 * /calico/resources/v3/projectcalico.org/<plural>/[<ns>/]<name> as the v3 JSON object; the IPAM
 * kinds use Calico's /calico/ipam/v2 keys and their model JSON.
 */
export type Storage = 'v3' | 'ipam-block' | 'block-affinity' | 'ipam-handle' | 'ipam-config';

export interface KindDef<R> {
  kind: KindName;
  /** Lower-case plural, as used in etcd keys. */
  plural: string;
  namespaced: boolean;
  /** Lower-case names a user may type (singular, plural, short forms). */
  aliases: readonly string[];
  storage: Storage;
  specSchema: Schema;
  /** Extra checks on metadata.name; the default is a DNS-1123 subdomain. */
  checkName?: Check;
  defaults(r: R): R;
  validate(r: R, issues: Issues): void;
}

export const KINDS: { [K in KindName]: KindDef<KindMap[K]> } = {
  Node: {
    kind: 'Node', plural: 'nodes', namespaced: false, storage: 'v3',
    aliases: ['node', 'nodes', 'no', 'nos'],
    specSchema: node.nodeSpecSchema, defaults: node.defaultNode, validate: node.validateNode,
  },
  WorkloadEndpoint: {
    kind: 'WorkloadEndpoint', plural: 'workloadendpoints', namespaced: true, storage: 'v3',
    aliases: ['workloadendpoint', 'workloadendpoints', 'wep', 'weps'],
    specSchema: wep.workloadEndpointSpecSchema, defaults: wep.defaultWorkloadEndpoint, validate: wep.validateWorkloadEndpoint,
  },
  BGPConfiguration: {
    kind: 'BGPConfiguration', plural: 'bgpconfigurations', namespaced: false, storage: 'v3',
    aliases: ['bgpconfiguration', 'bgpconfigurations', 'bgpconfig', 'bgpconfigs'],
    specSchema: bgpConfig.bgpConfigurationSpecSchema, defaults: bgpConfig.defaultBGPConfiguration, validate: bgpConfig.validateBGPConfiguration,
  },
  BGPPeer: {
    kind: 'BGPPeer', plural: 'bgppeers', namespaced: false, storage: 'v3',
    aliases: ['bgppeer', 'bgppeers', 'bgpp', 'bgpps', 'bp', 'bps'],
    specSchema: bgpPeer.bgpPeerSpecSchema, defaults: bgpPeer.defaultBGPPeer, validate: bgpPeer.validateBGPPeer,
  },
  BGPFilter: {
    kind: 'BGPFilter', plural: 'bgpfilters', namespaced: false, storage: 'v3',
    aliases: ['bgpfilter', 'bgpfilters', 'bgpf', 'bgpfs', 'bf', 'bfs'],
    specSchema: bgpFilter.bgpFilterSpecSchema, defaults: bgpFilter.defaultBGPFilter, validate: bgpFilter.validateBGPFilter,
  },
  IPPool: {
    kind: 'IPPool', plural: 'ippools', namespaced: false, storage: 'v3',
    aliases: ['ippool', 'ippools', 'ipp', 'ipps', 'pool', 'pools'],
    specSchema: ipPool.ipPoolSpecSchema, defaults: ipPool.defaultIPPool, validate: ipPool.validateIPPool,
  },
  NetworkPolicy: {
    kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true, storage: 'v3',
    aliases: ['networkpolicy', 'networkpolicies', 'policy', 'policies', 'np', 'nps', 'pol', 'pols', 'netpol', 'netpols'],
    specSchema: np.networkPolicySpecSchema, defaults: np.defaultNetworkPolicy, validate: np.validateNetworkPolicy,
    checkName: np.checkNetworkPolicyName,
  },
  GlobalNetworkPolicy: {
    kind: 'GlobalNetworkPolicy', plural: 'globalnetworkpolicies', namespaced: false, storage: 'v3',
    aliases: ['globalnetworkpolicy', 'globalnetworkpolicies', 'gnp', 'gnps'],
    specSchema: gnp.globalNetworkPolicySpecSchema, defaults: gnp.defaultGlobalNetworkPolicy, validate: gnp.validateGlobalNetworkPolicy,
    checkName: np.checkGlobalNetworkPolicyName,
  },
  Profile: {
    kind: 'Profile', plural: 'profiles', namespaced: false, storage: 'v3',
    aliases: ['profile', 'profiles', 'pro', 'pros'],
    specSchema: profile.profileSpecSchema, defaults: profile.defaultProfile, validate: profile.validateProfile,
  },
  HostEndpoint: {
    kind: 'HostEndpoint', plural: 'hostendpoints', namespaced: false, storage: 'v3',
    aliases: ['hostendpoint', 'hostendpoints', 'hep', 'heps'],
    specSchema: hep.hostEndpointSpecSchema, defaults: hep.defaultHostEndpoint, validate: hep.validateHostEndpoint,
  },
  FelixConfiguration: {
    kind: 'FelixConfiguration', plural: 'felixconfigurations', namespaced: false, storage: 'v3',
    aliases: ['felixconfiguration', 'felixconfigurations', 'felixconfig', 'felixconfigs'],
    specSchema: felix.felixConfigurationSpecSchema, defaults: felix.defaultFelixConfiguration, validate: felix.validateFelixConfiguration,
  },
  ClusterInformation: {
    kind: 'ClusterInformation', plural: 'clusterinformations', namespaced: false, storage: 'v3',
    aliases: ['clusterinformation', 'clusterinformations', 'clusterinfo', 'clusterinfos'],
    specSchema: clusterInfo.clusterInformationSpecSchema, defaults: clusterInfo.defaultClusterInformation, validate: clusterInfo.validateClusterInformation,
  },
  IPAMBlock: {
    kind: 'IPAMBlock', plural: 'ipamblocks', namespaced: false, storage: 'ipam-block',
    aliases: ['ipamblock', 'ipamblocks'],
    specSchema: ipamBlock.ipamBlockSpecSchema, checkName: ipamBlock.checkBlockName, defaults: ipamBlock.defaultIPAMBlock, validate: ipamBlock.validateIPAMBlock,
  },
  BlockAffinity: {
    kind: 'BlockAffinity', plural: 'blockaffinities', namespaced: false, storage: 'block-affinity',
    aliases: ['blockaffinity', 'blockaffinities'],
    specSchema: blockAffinity.blockAffinitySpecSchema, defaults: blockAffinity.defaultBlockAffinity, validate: blockAffinity.validateBlockAffinity,
  },
  IPAMHandle: {
    kind: 'IPAMHandle', plural: 'ipamhandles', namespaced: false, storage: 'ipam-handle',
    aliases: ['ipamhandle', 'ipamhandles'],
    specSchema: ipamHandle.ipamHandleSpecSchema, checkName: ipamHandle.checkHandleName, defaults: ipamHandle.defaultIPAMHandle, validate: ipamHandle.validateIPAMHandle,
  },
  IPAMConfig: {
    kind: 'IPAMConfig', plural: 'ipamconfigs', namespaced: false, storage: 'ipam-config',
    aliases: ['ipamconfig', 'ipamconfigs', 'ipamconfiguration', 'ipamconfigurations'],
    specSchema: ipamConfig.ipamConfigSpecSchema, defaults: ipamConfig.defaultIPAMConfig, validate: ipamConfig.validateIPAMConfig,
  },
};

export const KIND_NAMES = Object.keys(KINDS) as KindName[];

const BY_ALIAS = new Map<string, KindDef<AnyResource>>();
for (const def of Object.values(KINDS) as KindDef<AnyResource>[]) {
  BY_ALIAS.set(def.kind.toLowerCase(), def);
  for (const a of def.aliases) BY_ALIAS.set(a, def);
}
// calicoctl's v3 name for the IPAM configuration kind.
BY_ALIAS.set('ipamconfiguration', KINDS.IPAMConfig as KindDef<AnyResource>);

/** Resolves a kind name or alias, case-insensitively. */
export function resolveKind(nameOrAlias: string): KindDef<AnyResource> | undefined {
  return BY_ALIAS.get(nameOrAlias.toLowerCase());
}

export function kindDef<K extends KindName>(kind: K): KindDef<KindMap[K]> {
  return KINDS[kind];
}

export function allKindAliases(): string[] {
  return [...BY_ALIAS.keys()];
}

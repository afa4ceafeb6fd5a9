// The BGP setup of one node, computed from the datastore's resources the way Calico's confd
// does (mesh, global and node-scoped peers, route reflectors, AS numbers, exported blocks,
// kernel import rules). Pure: plain data in, plain data out. The bgpd and BIRD renderers both
// start from this plan, so the two targets never disagree about who the peers are.

import {
  BGP_DEFAULTS, canonicalCidr, isCommunityValue, cidrContains, formatIP, networkOf, parseAsn, parseCidr, parseCidrOrIp, parseDurationSeconds,
  parseIP, parsePeerIP, parseSelector,
  type BGPConfiguration, type BGPFilter, type BGPFilterSpec, type BGPPeer, type BlockAffinity, type Cidr, type IPAMBlock, type IPPool, type IpVersion, type Node,
} from '@tabby/api';

/** Everything confd reads from the datastore (plus who we are). */
export interface ConfdInput {
  nodeName: string;
  nodes: readonly Node[];
  bgpConfigurations: readonly BGPConfiguration[];
  bgpPeers: readonly BGPPeer[];
  /** BGPFilters (only those named by a peer's `filters` are used). */
  bgpFilters?: readonly BGPFilter[];
  ipPools: readonly IPPool[];
  blockAffinities: readonly BlockAffinity[];
  /** Only needed for borrowed addresses (allocations for this node in other nodes' blocks). */
  ipamBlocks?: readonly IPAMBlock[];
  /** CALICO_ROUTER_ID: a literal IPv4 router ID instead of the node's IPv4 address. */
  routerId?: string;
}

export type PeerKind = 'mesh' | 'global' | 'node';

export interface PlannedPeer {
  /** BIRD protocol name, as Calico spells it: Mesh_10_0_0_2, Global_..., Node_..._port_1179. */
  name: string;
  kind: PeerKind;
  address: string;
  family: IpVersion;
  port?: number;
  asNumber: number;
  /** BGPPeer.localASNumber. */
  localAsNumber?: number;
  passive: boolean;
  /** Our address for the session (sourceAddress: UseNodeIP). */
  sourceAddress?: string;
  keepaliveTime?: number;
  /** Graceful restart time (seconds). */
  restartTime?: number;
  nextHop?: 'keep' | 'self';
  allowLocalAs?: number;
  ttlSecurityHops?: number;
  /** Set when this node is a route reflector and the peer is one of its clients. */
  rrClusterId?: string;
  /** The peer is another Calico node (mesh or selected by peerSelector / its peerIP). */
  calicoNode: boolean;
  /** BGPFilter names (BGPPeer `filters`, those that exist), in order. */
  filters?: string[];
}

export interface PlannedPool {
  cidr: string;
  family: IpVersion;
  encap: 'vxlan' | 'ipip' | 'ipip-crosssubnet' | 'none';
  exportable: boolean;
}

export interface PlannedOriginate {
  prefix: string;
  family: IpVersion;
  /** An affine block (aggregate with a local blackhole); false for a borrowed /32 or /128. */
  blackhole: boolean;
  /** Community values from BGPConfiguration prefixAdvertisements whose cidr contains the prefix. */
  communities?: string[];
}

export interface BgpPlan {
  nodeName: string;
  routerId: string;
  asNumber: number;
  ipv4Address?: string;
  ipv6Address?: string;
  /** The IPv4 network of the node (for IPIP CrossSubnet). */
  ipv4Network?: string;
  rrClusterId?: string;
  meshEnabled: boolean;
  listen: { address?: string; port?: number } | undefined;
  /** debug | info | none, as confd maps logSeverityScreen. */
  logLevel: 'debug' | 'info' | 'none';
  ignoredInterfaces: string[];
  peers: PlannedPeer[];
  pools: PlannedPool[];
  originate: PlannedOriginate[];
  /** The BGPFilters the peers name, by name. */
  filters: Record<string, BGPFilterSpec>;
  /** Things the input asked for that were not rendered, with the reason. */
  warnings: string[];
}

/** The node has no IPv4 BGP address and no explicit router ID: there is nothing to render. */
export class NoRouterIdError extends Error {
  override name = 'NoRouterIdError';
  constructor(readonly nodeName: string, detail: string) {
    super(`node ${nodeName}: ${detail}; set spec.bgp.ipv4Address (or CALICO_ROUTER_ID)`);
  }
}

interface NodeAddrs {
  name: string;
  labels: Record<string, string>;
  v4?: string;
  v6?: string;
  v4net?: string;
  asNumber?: number;
  rrClusterId?: string;
}

function addressPart(cidrOrIp: string | undefined, family: IpVersion): { ip: string; net?: string } | undefined {
  if (!cidrOrIp) return undefined;
  const c = parseCidrOrIp(cidrOrIp);
  if (!c || c.version !== family) return undefined;
  return { ip: formatIP(c.version, c.addr), net: canonicalCidr(c) };
}

function nodeAddrs(n: Node): NodeAddrs {
  const bgp = n.spec.bgp ?? {};
  const v4 = addressPart(bgp.ipv4Address, 4);
  const v6 = addressPart(bgp.ipv6Address, 6);
  const as = bgp.asNumber !== undefined && bgp.asNumber !== null && bgp.asNumber !== '' ? parseAsn(bgp.asNumber) : undefined;
  return {
    name: n.metadata.name,
    labels: n.metadata.labels ?? {},
    ...(v4 ? { v4: v4.ip, ...(v4.net ? { v4net: v4.net } : {}) } : {}),
    ...(v6 ? { v6: v6.ip } : {}),
    ...(as !== undefined ? { asNumber: as } : {}),
    ...(bgp.routeReflectorClusterID ? { rrClusterId: bgp.routeReflectorClusterID } : {}),
  };
}

const protoSuffix = (ip: string) => ip.replace(/[.:]/g, '_');

function selects(selector: string | undefined, labels: Record<string, string>, warnings: string[], what: string): boolean {
  try {
    return parseSelector(selector ?? '').evaluate(labels);
  } catch (e) {
    warnings.push(`${what}: bad selector ${JSON.stringify(selector)} (${(e as Error).message}); matches nothing`);
    return false;
  }
}

function seconds(d: string | undefined, warnings: string[], what: string): number | undefined {
  if (!d) return undefined;
  const s = parseDurationSeconds(d);
  if (s === undefined) {
    warnings.push(`${what}: bad duration ${JSON.stringify(d)}; ignored`);
    return undefined;
  }
  return Math.round(s);
}

function logLevel(sev: string | undefined): BgpPlan['logLevel'] {
  switch ((sev ?? BGP_DEFAULTS.logSeverityScreen).toLowerCase()) {
    case 'trace':
    case 'debug':
      return 'debug';
    case 'info':
      return 'info';
    default:
      return 'none';
  }
}

function poolPlan(p: IPPool): PlannedPool | undefined {
  const c = parseCidr(p.spec.cidr);
  if (!c) return undefined;
  const on = (m: string | undefined) => m === 'Always' || m === 'CrossSubnet';
  let ipipMode = p.spec.ipipMode;
  if (!ipipMode && p.spec.ipip) ipipMode = !p.spec.ipip.enabled ? 'Never' : p.spec.ipip.mode === 'cross-subnet' ? 'CrossSubnet' : 'Always';
  const encap: PlannedPool['encap'] = on(p.spec.vxlanMode) ? 'vxlan'
    : ipipMode === 'Always' ? 'ipip'
      : ipipMode === 'CrossSubnet' ? 'ipip-crosssubnet' : 'none';
  return { cidr: canonicalCidr(c), family: c.version, encap, exportable: !p.spec.disableBGPExport };
}

/**
 * Adds the communities of BGPConfiguration prefixAdvertisements to the prefixes they cover (as
 * Calico's apply_communities: every advertisement whose cidr contains the prefix). The node's
 * own BGPConfiguration replaces the default's list when it has one; community names resolve
 * against the defining configuration's `communities`, then the default's.
 */
function* withCommunities(list: Iterable<PlannedOriginate>, nodeCfg: BGPConfiguration['spec'], globalCfg: BGPConfiguration['spec'], warnings: string[]): Iterable<PlannedOriginate> {
  const owner = nodeCfg.prefixAdvertisements?.length ? nodeCfg : globalCfg;
  const names = new Map<string, string>();
  for (const c of [...(globalCfg.communities ?? []), ...(owner.communities ?? [])]) names.set(c.name, c.value);
  const ads = (owner.prefixAdvertisements ?? []).flatMap((a) => {
    const c = parseCidr(a.cidr);
    if (!c) {
      warnings.push(`BGPConfiguration prefixAdvertisements: bad cidr ${JSON.stringify(a.cidr)}; ignored`);
      return [];
    }
    const values = (a.communities ?? []).flatMap((n) => {
      const v = names.get(n) ?? (isCommunityValue(n) ? n : undefined);
      if (v === undefined) warnings.push(`BGPConfiguration prefixAdvertisements ${a.cidr}: community ${JSON.stringify(n)} is neither defined in communities nor a value; ignored`);
      return v === undefined ? [] : [v];
    });
    return [{ c, values }];
  });
  for (const o of list) {
    const pc = parseCidr(o.prefix);
    const values: string[] = [];
    for (const a of ads) if (pc && cidrContains(a.c, pc)) for (const v of a.values) if (!values.includes(v)) values.push(v);
    yield values.length ? { ...o, communities: values } : o;
  }
}

/** Computes this node's BGP setup. Throws NoRouterIdError when no router ID can be chosen. */
export function planBgp(input: ConfdInput): BgpPlan {
  const warnings: string[] = [];
  const nodes = [...input.nodes].map(nodeAddrs).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const me = nodes.find((n) => n.name === input.nodeName);
  if (!me) throw new NoRouterIdError(input.nodeName, 'no Node resource with this name');
  const globalCfg = input.bgpConfigurations.find((c) => c.metadata.name === 'default')?.spec ?? {};
  const nodeCfg = input.bgpConfigurations.find((c) => c.metadata.name === `node.${input.nodeName}`)?.spec ?? {};
  const globalAs = parseAsn(globalCfg.asNumber ?? BGP_DEFAULTS.asNumber) ?? BGP_DEFAULTS.asNumber;
  const asOf = (n: NodeAddrs) => n.asNumber ?? globalAs;
  const myAs = asOf(me);

  let routerId = me.v4;
  if (input.routerId) {
    if (parseIP(input.routerId)?.version !== 4) throw new NoRouterIdError(input.nodeName, `router ID ${JSON.stringify(input.routerId)} is not an IPv4 address`);
    routerId = input.routerId;
  }
  if (!routerId) throw new NoRouterIdError(input.nodeName, 'no IPv4 BGP address (spec.bgp.ipv4Address)');

  const meshEnabled = globalCfg.nodeToNodeMeshEnabled ?? BGP_DEFAULTS.nodeToNodeMeshEnabled;
  const myIp = (f: IpVersion) => (f === 4 ? me.v4 : me.v6);
  const nodeIp = (n: NodeAddrs, f: IpVersion) => (f === 4 ? n.v4 : n.v6);
  const peers: PlannedPeer[] = [];
  const byKey = new Map<string, PlannedPeer>();
  const add = (p: PlannedPeer, origin: string) => {
    const key = `${p.address}|${p.port ?? 179}`;
    const prev = byKey.get(key);
    if (prev) {
      // A node-scoped peering identical to a global one is Calico's "duplicate"; anything else
      // that collides on address and port cannot be two sessions in bgpd either.
      if (!(prev.asNumber === p.asNumber && prev.kind !== 'node' && p.kind === 'node') && !(prev.kind === p.kind && prev.asNumber === p.asNumber)) {
        warnings.push(`${origin}: peer ${p.address} port ${p.port ?? 179} already configured as ${prev.name}; dropped`);
      }
      return;
    }
    byKey.set(key, p);
    peers.push(p);
  };

  // An RR client relation: we are a reflector, the peer is iBGP and not in our cluster.
  const rrFor = (peerAs: number, peerCluster: string | undefined): string | undefined =>
    me.rrClusterId && peerAs === myAs && peerCluster !== me.rrClusterId ? me.rrClusterId : undefined;

  // 1. Node-to-node mesh: route reflectors neither take part nor are included.
  const meshRestart = seconds(globalCfg.nodeMeshMaxRestartTime, warnings, 'BGPConfiguration default nodeMeshMaxRestartTime');
  if (globalCfg.nodeMeshPassword) warnings.push('BGPConfiguration default nodeMeshPassword: BGP passwords are not supported yet; mesh sessions render without one');
  if (meshEnabled && !me.rrClusterId) {
    for (const f of [4, 6] as const) {
      const mine = myIp(f);
      if (!mine) continue;
      for (const n of nodes) {
        const ip = nodeIp(n, f);
        if (n.name === me.name || !ip || n.rrClusterId) continue;
        add({
          name: `Mesh_${protoSuffix(ip)}`, kind: 'mesh', address: ip, family: f, asNumber: asOf(n),
          // Sessions are one-directional: the side whose address sorts lower connects.
          passive: ip > mine, sourceAddress: mine, calicoNode: true,
          ...(meshRestart !== undefined ? { restartTime: meshRestart } : {}),
        }, `mesh peer ${n.name}`);
      }
    }
  }

  const filterSpecs = new Map((input.bgpFilters ?? []).map((f) => [f.metadata.name, f.spec]));
  const usedFilters: Record<string, BGPFilterSpec> = {};

  // 2. Explicit BGPPeers: global ones first, then node-scoped ones (Calico's two passes).
  const explicit = [...input.bgpPeers].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  const isGlobal = (p: BGPPeer) => !p.spec.node && !p.spec.nodeSelector;
  const appliesTo = (p: BGPPeer, n: NodeAddrs) =>
    isGlobal(p) || (p.spec.node ? p.spec.node === n.name : selects(p.spec.nodeSelector, n.labels, warnings, `BGPPeer ${p.metadata.name} nodeSelector`));

  for (const pass of ['global', 'node'] as const) {
    for (const bp of explicit) {
      if ((pass === 'global') !== isGlobal(bp)) continue;
      const what = `BGPPeer ${bp.metadata.name}`;
      const s = bp.spec;
      // Remote ends as (node?, ip, family, port?, as) tuples.
      const targets: { node?: NodeAddrs; ip: string; family: IpVersion; port?: number; as: number }[] = [];
      const specAs = s.asNumber !== undefined && s.asNumber !== '' ? parseAsn(s.asNumber) : undefined;
      if (appliesTo(bp, me)) {
        if (s.peerIP) {
          const pa = parsePeerIP(s.peerIP);
          if (!pa) warnings.push(`${what}: bad peerIP ${JSON.stringify(s.peerIP)}; skipped`);
          else if (specAs === undefined) warnings.push(`${what}: peerIP needs asNumber; skipped`);
          else {
            const owner = nodes.find((n) => nodeIp(n, pa.version) === pa.ip && asOf(n) === specAs);
            targets.push({ ...(owner ? { node: owner } : {}), ip: pa.ip, family: pa.version, ...(pa.port ? { port: pa.port } : {}), as: specAs });
          }
        } else if (s.peerSelector !== undefined) {
          for (const n of nodes) {
            if (n.name === me.name || !selects(s.peerSelector, n.labels, warnings, `${what} peerSelector`)) continue;
            for (const f of [4, 6] as const) {
              const ip = nodeIp(n, f);
              if (ip && myIp(f)) targets.push({ node: n, ip, family: f, as: asOf(n) });
            }
          }
        }
      }
      // Automatic reverse peering: if we are the remote end of this BGPPeer for some nodes, we
      // peer back with them (so selector-based peerings, e.g. to route reflectors, are two-sided).
      if (s.reversePeering !== 'Manual') {
        let iAmRemote = false;
        if (s.peerSelector !== undefined) iAmRemote = selects(s.peerSelector, me.labels, warnings, `${what} peerSelector`);
        else if (s.peerIP) {
          const pa = parsePeerIP(s.peerIP);
          iAmRemote = !!pa && myIp(pa.version) === pa.ip && specAs === myAs;
        }
        if (iAmRemote) {
          for (const n of nodes) {
            if (n.name === me.name || !appliesTo(bp, n)) continue;
            for (const f of [4, 6] as const) {
              const ip = nodeIp(n, f);
              if (ip && myIp(f) && !targets.some((t) => t.ip === ip)) targets.push({ node: n, ip, family: f, as: asOf(n) });
            }
          }
        }
      }
      if (targets.length === 0) continue;

      // bgpd does TCP MD5 (`password`), but the secret behind secretKeyRef lives in the Kubernetes
      // API, which confd does not read: without it the session would only fail to establish.
      if (s.password) warnings.push(`${what}: BGP passwords are not supported yet (confd cannot read the secretKeyRef secret); the session renders without one`);
      const filterNames = (s.filters ?? []).filter((n) => {
        if (filterSpecs.has(n)) return true;
        warnings.push(`${what}: BGPFilter ${n} does not exist; ignored`);
        return false;
      });
      for (const n of filterNames) usedFilters[n] = filterSpecs.get(n)!;
      if (s.localWorkloadSelector) warnings.push(`${what}: localWorkloadSelector peerings are not supported yet; ignored`);
      const keepalive = seconds(s.keepaliveTime, warnings, `${what} keepaliveTime`);
      const restart = seconds(s.maxRestartTime, warnings, `${what} maxRestartTime`);
      const localAs = s.localASNumber !== undefined && s.localASNumber !== '' ? parseAsn(s.localASNumber) : undefined;
      const nextHop = s.nextHopMode === 'Self' ? 'self' as const
        : s.nextHopMode === 'Keep' || s.keepOriginalNextHop ? 'keep' as const : undefined;
      for (const t of targets) {
        const mine = myIp(t.family);
        if (t.ip === mine) continue;
        const kind: PeerKind = pass;
        const calicoNode = !!t.node;
        const rr = rrFor(t.as, t.node?.rrClusterId);
        const prefix = kind === 'global' ? 'Global' : 'Node';
        add({
          name: `${prefix}_${protoSuffix(t.ip)}${t.port && t.port !== 179 ? `_port_${t.port}` : ''}`,
          kind, address: t.ip, family: t.family, asNumber: t.as,
          ...(t.port ? { port: t.port } : {}),
          ...(localAs !== undefined ? { localAsNumber: localAs } : {}),
          passive: calicoNode && mine !== undefined && t.ip > mine,
          ...(s.sourceAddress !== 'None' && mine ? { sourceAddress: mine } : {}),
          ...(keepalive !== undefined ? { keepaliveTime: keepalive } : {}),
          ...(restart !== undefined ? { restartTime: restart } : {}),
          // Calico keeps the next hop only towards eBGP peers for keepOriginalNextHop.
          ...(nextHop && !(nextHop === 'keep' && s.nextHopMode !== 'Keep' && t.as === (localAs ?? myAs)) ? { nextHop } : {}),
          ...(s.numAllowedLocalASNumbers ? { allowLocalAs: s.numAllowedLocalASNumbers } : {}),
          ...(s.ttlSecurity ? { ttlSecurityHops: s.ttlSecurity } : {}),
          ...(rr ? { rrClusterId: rr } : {}),
          ...(filterNames.length ? { filters: filterNames } : {}),
          calicoNode,
        }, what);
      }
    }
  }

  // 3. Pools, this node's blocks, borrowed addresses.
  const pools = input.ipPools.map(poolPlan).filter((p): p is PlannedPool => !!p).sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));
  const poolCidrs = pools.map((p) => ({ p, c: parseCidr(p.cidr)! }));
  const poolOf = (c: Cidr) => poolCidrs.filter((x) => cidrContains(x.c, c)).sort((a, b) => b.c.prefixLen - a.c.prefixLen)[0]?.p;
  const originate = new Map<string, PlannedOriginate>();
  const myBlocks: Cidr[] = [];
  for (const a of input.blockAffinities) {
    const s = a.spec;
    if (s.node !== input.nodeName || s.deleted || (s.type && s.type !== 'host')) continue;
    if (s.state && s.state !== 'confirmed') continue;
    const c = parseCidr(s.cidr);
    if (!c) continue;
    myBlocks.push(c);
    const pool = poolOf(c);
    if (!pool || !pool.exportable) continue;
    const host = c.prefixLen === (c.version === 4 ? 32 : 128);
    const prefix = canonicalCidr(c);
    originate.set(prefix, { prefix, family: c.version, blackhole: !host });
  }
  for (const b of input.ipamBlocks ?? []) {
    if (b.spec.affinity === `host:${input.nodeName}` || b.spec.deleted) continue;
    const c = parseCidr(b.spec.cidr);
    if (!c) continue;
    const pool = poolOf(c);
    if (!pool || !pool.exportable) continue;
    b.spec.allocations.forEach((attrIdx, ordinal) => {
      if (attrIdx === null || attrIdx === undefined) return;
      if (b.spec.attributes[attrIdx]?.secondary?.['node'] !== input.nodeName) return;
      const addr = networkOf(c) + BigInt(ordinal);
      const host: Cidr = { version: c.version, addr, prefixLen: c.version === 4 ? 32 : 128 };
      if (myBlocks.some((mb) => cidrContains(mb, host))) return;
      const prefix = canonicalCidr(host);
      if (!originate.has(prefix)) originate.set(prefix, { prefix, family: c.version, blackhole: false });
    });
  }

  const listenPort = nodeCfg.listenPort ?? globalCfg.listenPort;
  const bindNodeIp = (nodeCfg.bindMode ?? globalCfg.bindMode) === 'NodeIP';
  const listen = bindNodeIp || listenPort !== undefined
    ? { ...(bindNodeIp && me.v4 ? { address: me.v4 } : {}), ...(listenPort !== undefined ? { port: listenPort } : {}) }
    : undefined;

  peers.sort((a, b) => {
    const order = { mesh: 0, global: 1, node: 2 };
    return order[a.kind] - order[b.kind] || a.family - b.family || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0) || (a.port ?? 179) - (b.port ?? 179);
  });

  return {
    nodeName: input.nodeName,
    routerId,
    asNumber: myAs,
    ...(me.v4 ? { ipv4Address: me.v4 } : {}),
    ...(me.v6 ? { ipv6Address: me.v6 } : {}),
    ...(me.v4net ? { ipv4Network: me.v4net } : {}),
    ...(me.rrClusterId ? { rrClusterId: me.rrClusterId } : {}),
    meshEnabled,
    listen,
    logLevel: logLevel(nodeCfg.logSeverityScreen || globalCfg.logSeverityScreen),
    ignoredInterfaces: [...(globalCfg.ignoredInterfaces ?? [])],
    peers,
    pools,
    filters: Object.fromEntries(Object.entries(usedFilters).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    originate: [...withCommunities(originate.values(), nodeCfg, globalCfg, warnings)].sort((a, b) => a.family - b.family || (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0)),
    warnings: [...new Set(warnings)],
  };
}

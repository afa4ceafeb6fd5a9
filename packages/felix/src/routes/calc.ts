// Pure calculation of felix's non-policy dataplane: routes to local workloads, static ARP,
// per-interface sysctls, the VXLAN device with its per-remote-node ARP/FDB entries, routes to
// remote IPAM blocks (VXLAN, and IPIP rendered only), and blackholes for local blocks.
// Input is plain resources, output is plain data the appliers compare with the kernel.

import { createHash } from 'node:crypto';
import type { IPAMBlock, IPPool, Node, WorkloadEndpoint } from '@tabby/api';
import type { Route } from '@tabby/linux';

export const VXLAN_DEVICE = 'vxlan.calico';
export const IPIP_DEVICE = 'tunl0';
/** Calico's "exclusive" route protocol: every route carrying it is felix's. */
export const FELIX_ROUTE_PROTOCOL = 80;

export interface RouteCalcConfig {
  nodeName: string;
  /** Workload interface prefixes (FelixConfiguration interfacePrefix, default `cali`). */
  interfacePrefixes: readonly string[];
  /** rp_filter for workload interfaces (Calico: /proc/sys/net/ipv4/conf/default/rp_filter at start). */
  rpFilter: number;
  vxlanVni: number;
  vxlanPort: number;
  vxlanMtu?: number;
}

export interface Neighbour { dev: string; ip: string; mac: string }
export interface FdbEntry { dev: string; mac: string; dst: string }
/** One /proc/sys value; `path` is relative to /proc/sys and uses `/` separators (dots in names are fine). */
export interface Sysctl { path: string; value: string; iface: string; warnOnly?: boolean }

export interface VxlanDevice {
  name: string;
  vni: number;
  port: number;
  mac: string;
  /** Tunnel address (/32 on the device). */
  address: string;
  /** The node IP: source of the tunnel and used to find the parent interface. */
  localIp: string;
  mtu?: number;
}

export interface RouteTargets {
  /** Routes for the main table (felix's protocol is added by the route table). */
  routes: Route[];
  /** IPIP routes as Calico renders them; not applied here (no ipip module). */
  ipipRoutes: Route[];
  neighbours: Neighbour[];
  fdb: FdbEntry[];
  sysctls: Sysctl[];
  vxlan?: VxlanDevice;
  /** Things that could not be used, for the log. */
  problems: string[];
}

export interface RouteCalcInput {
  endpoints: Iterable<WorkloadEndpoint>;
  pools: Iterable<IPPool>;
  nodes: Iterable<Node>;
  blocks: Iterable<IPAMBlock>;
}

/** Calico's generated VTEP MAC: 0x66 ('f') then the first 5 bytes of SHA-1(node name). */
export function vxlanMacForNode(nodeName: string, family: 4 | 6 = 4): string {
  const h = createHash('sha1').update(family === 4 ? nodeName : `${nodeName}-v6`).digest();
  return [0x66, ...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function isWorkloadInterface(name: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => p !== '' && name.startsWith(p));
}

// ---- IPv4 helpers (VXLAN/IPIP and pool membership are IPv4-only here) ------------------------

export function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function parseCidr4(cidr: string): { net: number; len: number } | undefined {
  const [ip, lenStr] = cidr.split('/');
  const n = ipv4ToInt(ip ?? '');
  const len = lenStr === undefined ? 32 : Number(lenStr);
  if (n === undefined || !Number.isInteger(len) || len < 0 || len > 32) return undefined;
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return { net: (n & mask) >>> 0, len };
}

export function cidr4Contains(outer: string, inner: string): boolean {
  const o = parseCidr4(outer);
  const i = parseCidr4(inner);
  if (!o || !i || i.len < o.len) return false;
  const mask = o.len === 0 ? 0 : (0xffffffff << (32 - o.len)) >>> 0;
  return ((i.net & mask) >>> 0) === o.net;
}

const stripLen = (cidr: string): string => cidr.split('/')[0]!;

// ---- Calculation ------------------------------------------------------------------------------

export function workloadSysctls(iface: string, rpFilter: number): Sysctl[] {
  return [
    { iface, path: `net/ipv6/conf/${iface}/accept_ra`, value: '0', warnOnly: true },
    { iface, path: `net/ipv4/conf/${iface}/route_localnet`, value: '1' },
    { iface, path: `net/ipv4/neigh/${iface}/proxy_delay`, value: '0', warnOnly: true },
    { iface, path: `net/ipv4/conf/${iface}/proxy_arp`, value: '1' },
    { iface, path: `net/ipv4/conf/${iface}/forwarding`, value: '1' },
    { iface, path: `net/ipv4/conf/${iface}/rp_filter`, value: String(rpFilter) },
  ];
}

function nodeIp(n: Node | undefined): string | undefined {
  const a = n?.spec.bgp?.ipv4Address;
  return a ? stripLen(a) : undefined;
}

function poolOf(pools: readonly IPPool[], cidr: string): IPPool | undefined {
  return pools.find((p) => cidr4Contains(p.spec.cidr, cidr));
}

function affinityNode(b: IPAMBlock): string | undefined {
  const a = b.spec.affinity;
  return a && a.startsWith('host:') ? a.slice(5) : undefined;
}

export function calculateRoutes(input: RouteCalcInput, cfg: RouteCalcConfig): RouteTargets {
  const out: RouteTargets = { routes: [], ipipRoutes: [], neighbours: [], fdb: [], sysctls: [], problems: [] };
  const pools = [...input.pools].filter((p) => !p.spec.disabled);
  const nodes = new Map([...input.nodes].map((n) => [n.metadata.name, n]));
  const self = nodes.get(cfg.nodeName);
  const selfIp = nodeIp(self);
  const selfSubnet = self?.spec.bgp?.ipv4Address;

  // Local workloads: /32 (/128) routes, static ARP, sysctls.
  const ifaces = new Set<string>();
  for (const wep of input.endpoints) {
    if (wep.spec.node !== cfg.nodeName) continue;
    const iface = wep.spec.interfaceName;
    if (!iface || !isWorkloadInterface(iface, cfg.interfacePrefixes)) {
      out.problems.push(`WorkloadEndpoint ${wep.metadata.namespace ?? ''}/${wep.metadata.name}: interface ${JSON.stringify(iface)} lacks a workload prefix`);
      continue;
    }
    for (const net of wep.spec.ipNetworks ?? []) {
      const v6 = net.includes(':');
      const dst = net.includes('/') ? net : `${net}/${v6 ? 128 : 32}`;
      out.routes.push({ dst, nexthops: [{ dev: iface }], scope: 'link' });
      if (!v6 && wep.spec.mac) out.neighbours.push({ dev: iface, ip: stripLen(dst), mac: wep.spec.mac.toLowerCase() });
    }
    if (!ifaces.has(iface)) {
      ifaces.add(iface);
      out.sysctls.push(...workloadSysctls(iface, wep.spec.allowSpoofedSourcePrefixes?.length ? 0 : cfg.rpFilter));
    }
  }

  // VXLAN device of this node, when any pool uses VXLAN.
  const vxlanPools = pools.filter((p) => p.spec.vxlanMode === 'Always' || p.spec.vxlanMode === 'CrossSubnet');
  if (vxlanPools.length) {
    const addr = self?.spec.ipv4VXLANTunnelAddr;
    if (!addr || !selfIp) out.problems.push(`VXLAN pools exist but Node ${cfg.nodeName} has no ${!selfIp ? 'spec.bgp.ipv4Address' : 'ipv4VXLANTunnelAddr'} yet`);
    else {
      out.vxlan = {
        name: VXLAN_DEVICE, vni: cfg.vxlanVni, port: cfg.vxlanPort, address: stripLen(addr), localIp: selfIp,
        mac: (self.spec.vxlanTunnelMACAddr ?? vxlanMacForNode(cfg.nodeName)).toLowerCase(),
        ...(cfg.vxlanMtu !== undefined && { mtu: cfg.vxlanMtu }),
      };
    }
  }

  // Per remote VTEP: ARP + FDB entries on vxlan.calico.
  const vteps = new Map<string, { tunnel: string; mac: string; ip: string }>();
  if (out.vxlan) {
    for (const [name, n] of nodes) {
      if (name === cfg.nodeName) continue;
      const tunnel = n.spec.ipv4VXLANTunnelAddr;
      const ip = nodeIp(n);
      if (!tunnel || !ip) continue;
      const mac = (n.spec.vxlanTunnelMACAddr ?? vxlanMacForNode(name)).toLowerCase();
      vteps.set(name, { tunnel: stripLen(tunnel), mac, ip });
      out.neighbours.push({ dev: VXLAN_DEVICE, ip: stripLen(tunnel), mac });
      out.fdb.push({ dev: VXLAN_DEVICE, mac, dst: ip });
    }
  }

  // Blocks: blackholes for ours, routes to remote ones.
  for (const b of input.blocks) {
    if (b.spec.deleted) continue;
    const cidr = b.spec.cidr;
    if (cidr.includes(':')) continue;
    const owner = affinityNode(b);
    const pool = poolOf(pools, cidr);
    if (!owner || !pool) continue;
    const vxlan = pool.spec.vxlanMode === 'Always' || pool.spec.vxlanMode === 'CrossSubnet';
    const ipip = pool.spec.ipipMode === 'Always' || pool.spec.ipipMode === 'CrossSubnet';
    if (owner === cfg.nodeName) {
      if ((vxlan || ipip) && parseCidr4(cidr)?.len !== 32) out.routes.push({ dst: cidr, type: 'blackhole', nexthops: [] });
      continue;
    }
    const remoteIp = nodeIp(nodes.get(owner));
    const crossSubnetLocal = (mode: string | undefined) =>
      mode === 'CrossSubnet' && remoteIp !== undefined && selfSubnet !== undefined && cidr4Contains(selfSubnet, `${remoteIp}/32`);
    if (vxlan && out.vxlan) {
      if (crossSubnetLocal(pool.spec.vxlanMode)) out.routes.push({ dst: cidr, nexthops: [{ via: remoteIp! }] });
      else {
        const vtep = vteps.get(owner);
        if (vtep) out.routes.push({ dst: cidr, nexthops: [{ via: vtep.tunnel, dev: VXLAN_DEVICE, onlink: true }] });
        else out.problems.push(`no VTEP known for node ${owner} (block ${cidr})`);
      }
    } else if (ipip && remoteIp) {
      if (crossSubnetLocal(pool.spec.ipipMode)) out.routes.push({ dst: cidr, nexthops: [{ via: remoteIp }] });
      else out.ipipRoutes.push({ dst: cidr, nexthops: [{ via: remoteIp, dev: IPIP_DEVICE, onlink: true }] });
    }
  }
  return out;
}

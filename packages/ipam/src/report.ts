// Read-side views used by `ctl ipam`: usage per pool and block, borrowed addresses, what holds
// one address, and a consistency check of blocks against workloads, nodes, handles and
// affinities. Nothing here writes.

import {
  bits, canonicalCidr, cidrContains, cidrSize, parseCidrOrIp, parseIP,
  type IPAMBlock, type IpAddr, type Node, type WorkloadEndpoint,
} from '@tabby/api';
import type { Datastore } from '@tabby/datastore';
import {
  addressOf, affinityHost, attributeOf, blockCapacity, inUseCount, ordinalOf, parseAddress, parseBlockCidr,
} from './block.js';
import { poolContainingBlock, poolsOf } from './pools.js';
import { IpamStore } from './store.js';

export interface BlockUsage {
  cidr: string;
  affinity: string | null;
  capacity: number;
  inUse: number;
  free: number;
}

export interface PoolUsage {
  /** Undefined for the group of blocks that lie in no pool. */
  name?: string;
  cidr?: string;
  capacity: bigint;
  inUse: number;
  free: bigint;
  blocks: BlockUsage[];
}

/** libcalico-go's GetUtilization: every pool (store order) with its blocks, then blocks in no pool. */
export async function ipamUsage(ds: Datastore): Promise<PoolUsage[]> {
  const pools = poolsOf((await ds.list('IPPool')).items);
  const blocks = await new IpamStore(ds).listBlocks();
  const out: PoolUsage[] = pools.map((p) => ({ name: p.name, cidr: p.cidr, capacity: cidrSize(p.pool), inUse: 0, free: cidrSize(p.pool), blocks: [] }));
  const orphans: PoolUsage = { capacity: 0n, inUse: 0, free: 0n, blocks: [] };
  for (const b of blocks) {
    const c = parseBlockCidr(b.spec.cidr);
    const capacity = blockCapacity(c);
    const inUse = inUseCount(b.spec);
    const use: BlockUsage = { cidr: b.spec.cidr, affinity: b.spec.affinity ?? null, capacity, inUse, free: capacity - inUse };
    const i = pools.findIndex((p) => poolContainingBlock([p], c));
    const group = i >= 0 ? out[i]! : orphans;
    group.blocks.push(use);
    group.inUse += inUse;
    if (i >= 0) group.free -= BigInt(inUse);
    else {
      group.capacity += BigInt(capacity);
      group.free += BigInt(capacity - inUse);
    }
  }
  if (orphans.blocks.length > 0) out.push(orphans);
  return out;
}

export interface BorrowedAddress {
  address: string;
  borrowingNode: string;
  block: string;
  /** The node the block is affine to ("" when it has no affinity). */
  blockOwner: string;
  /** "pod", or the allocation's `type` attribute (e.g. ipipTunnelAddress). */
  type: string;
  /** "<namespace>/<pod>" for pods. */
  allocatedTo: string;
}

/** Addresses allocated to a node other than the block's owner (calicoctl ipam show --show-borrowed). */
export async function borrowedAddresses(ds: Datastore): Promise<{ borrowed: BorrowedAddress[]; unclassified: number }> {
  const borrowed: BorrowedAddress[] = [];
  let unclassified = 0;
  for (const b of await new IpamStore(ds).listBlocks()) {
    const c = parseBlockCidr(b.spec.cidr);
    const owner = b.spec.affinity ? (b.spec.affinity.includes(':') ? b.spec.affinity.slice(b.spec.affinity.indexOf(':') + 1) : b.spec.affinity) : '';
    b.spec.allocations.forEach((a, o) => {
      if (a === null) return;
      const attrs = attributeOf(b.spec, o)?.secondary ?? {};
      const node = attrs['node'];
      if (node === undefined) {
        unclassified++;
        return;
      }
      if (node === owner) return;
      const pod = attrs['pod'];
      borrowed.push({
        address: addressOf(c, o), borrowingNode: node, block: b.spec.cidr, blockOwner: owner,
        type: pod !== undefined ? 'pod' : attrs['type'] ?? '',
        allocatedTo: pod !== undefined ? `${attrs['namespace'] ?? ''}/${pod}` : '',
      });
    });
  }
  return { borrowed, unclassified };
}

export interface AddressInfo {
  address: string;
  block: string;
  blockAffinity: string | null;
  handleID?: string;
  attrs: Record<string, string>;
  alternateAttrs: Record<string, string>;
}

/** What holds an address, or undefined when it is not allocated. Throws IpamError on bad text. */
export async function lookupAddress(ds: Datastore, text: string): Promise<AddressInfo | undefined> {
  const ip = parseAddress(text);
  const b = findBlock(await new IpamStore(ds).listBlocks(), ip);
  if (!b) return undefined;
  const c = parseBlockCidr(b.spec.cidr);
  const ordinal = ordinalOf(c, ip);
  const attr = attributeOf(b.spec, ordinal);
  if (!attr) return undefined;
  return {
    address: addressOf(c, ordinal), block: b.spec.cidr, blockAffinity: b.spec.affinity ?? null,
    ...(attr.handle_id !== undefined ? { handleID: attr.handle_id } : {}),
    attrs: { ...(attr.secondary ?? {}) }, alternateAttrs: { ...(attr.alternateOwnerAttrs ?? {}) },
  };
}

export function findBlock(blocks: readonly IPAMBlock[], ip: IpAddr): IPAMBlock | undefined {
  const inner = { version: ip.version, addr: ip.value, prefixLen: bits(ip.version) };
  return blocks.find((b) => cidrContains(parseBlockCidr(b.spec.cidr), inner));
}

// ---- consistency check -------------------------------------------------------------------

export interface Allocation {
  address: string;
  block: string;
  handleID?: string;
  attrs: Record<string, string>;
}

export interface LeakedAddress extends Allocation {
  /** Why nothing uses it, e.g. `pod default/web-1 has no WorkloadEndpoint`. */
  reason: string;
}

export interface IpamCheckReport {
  blocks: { cidr: string; affinity: string | null; allocations: number }[];
  allocations: Allocation[];
  activePools: string[];
  nodeIPs: number;
  workloadIPs: number;
  /** Distinct addresses workloads and nodes use. */
  inUseIPs: number;
  /** Allocated, but no WorkloadEndpoint (or node tunnel) uses the address. */
  leaked: LeakedAddress[];
  /** Used by a workload or node inside an active pool, but not allocated in IPAM. */
  notAllocated: { address: string; owner: string }[];
  /** Used by a workload or node, outside every active pool. */
  outsidePools: { address: string; owner: string }[];
  /** Blocks with no affinity, or whose affinity has no BlockAffinity record. */
  blocksWithoutAffinity: { cidr: string; affinity: string | null }[];
  /** BlockAffinity records whose block does not exist or names another node. */
  danglingAffinities: { node: string; cidr: string; state: string }[];
  /** Handles that no block allocation refers to. */
  leakedHandles: string[];
  /** Handle IDs used in blocks without an IPAMHandle. */
  missingHandles: string[];
  problems: number;
}

function nodeAddresses(n: Node): string[] {
  const s = n.spec ?? {};
  return [s.bgp?.ipv4IPIPTunnelAddr, s.ipv4VXLANTunnelAddr, s.ipv6VXLANTunnelAddr, s.wireguard?.interfaceIPv4Address, s.wireguard?.interfaceIPv6Address]
    .filter((x): x is string => !!x);
}

/** The address of a CIDR or plain address text in canonical form, or undefined. */
function canonicalAddress(text: string): string | undefined {
  const c = parseCidrOrIp(text);
  return c ? canonicalCidr({ ...c, prefixLen: bits(c.version) }).replace(/\/\d+$/, '') : undefined;
}

/** calicoctl ipam check, against WorkloadEndpoints and Nodes instead of Kubernetes pods. */
export async function checkIpam(ds: Datastore): Promise<IpamCheckReport> {
  const store = new IpamStore(ds);
  const [blocks, affinities, handles, pools, nodes, weps] = await Promise.all([
    store.listBlocks(), store.listAffinities(), store.listHandles(),
    ds.list('IPPool').then((r) => poolsOf(r.items)), ds.list('Node').then((r) => r.items), ds.list('WorkloadEndpoint').then((r) => r.items),
  ]);
  const report: IpamCheckReport = {
    blocks: [], allocations: [], activePools: pools.filter((p) => !p.disabled).map((p) => p.cidr), nodeIPs: 0, workloadIPs: 0, inUseIPs: 0,
    leaked: [], notAllocated: [], outsidePools: [], blocksWithoutAffinity: [], danglingAffinities: [], leakedHandles: [], missingHandles: [], problems: 0,
  };

  const owners = new Map<string, string[]>();
  const own = (address: string, owner: string) => owners.set(address, [...(owners.get(address) ?? []), owner]);
  for (const n of nodes) for (const a of nodeAddresses(n)) {
    const ip = canonicalAddress(a);
    if (ip) { own(ip, `Node(${n.metadata.name})`); report.nodeIPs++; }
  }
  const podsWithWep = new Map<string, WorkloadEndpoint>();
  for (const w of weps) {
    const ns = w.metadata.namespace ?? 'default';
    const pod = w.spec.pod ?? w.spec.workload;
    if (pod) podsWithWep.set(`${ns}/${pod}`, w);
    for (const a of w.spec.ipNetworks ?? []) {
      const ip = canonicalAddress(a);
      if (ip) { own(ip, `Workload(${ns}/${w.metadata.name})`); report.workloadIPs++; }
    }
  }
  report.inUseIPs = owners.size;

  const allocated = new Set<string>();
  const usedHandles = new Set<string>();
  for (const b of blocks) {
    const c = parseBlockCidr(b.spec.cidr);
    let count = 0;
    b.spec.allocations.forEach((a, o) => {
      if (a === null) return;
      count++;
      const attr = attributeOf(b.spec, o) ?? {};
      const alloc: Allocation = { address: addressOf(c, o), block: b.spec.cidr, ...(attr.handle_id !== undefined ? { handleID: attr.handle_id } : {}), attrs: { ...(attr.secondary ?? {}) } };
      report.allocations.push(alloc);
      allocated.add(alloc.address);
      if (attr.handle_id !== undefined) usedHandles.add(attr.handle_id);
      if (owners.has(alloc.address)) return;
      const { namespace, pod } = alloc.attrs;
      const wep = pod !== undefined ? podsWithWep.get(`${namespace ?? 'default'}/${pod}`) : undefined;
      const reason = pod === undefined ? 'not used by any workload or node'
        : !wep ? `pod ${namespace ?? 'default'}/${pod} has no WorkloadEndpoint`
          : `WorkloadEndpoint ${wep.metadata.namespace}/${wep.metadata.name} does not list it`;
      report.leaked.push({ ...alloc, reason });
    });
    report.blocks.push({ cidr: b.spec.cidr, affinity: b.spec.affinity ?? null, allocations: count });
    const host = affinityHost(b.spec.affinity);
    const recorded = host !== undefined && affinities.some((a) => a.spec.node === host && a.spec.cidr === b.spec.cidr);
    if (!b.spec.affinity || (host !== undefined && !recorded)) report.blocksWithoutAffinity.push({ cidr: b.spec.cidr, affinity: b.spec.affinity ?? null });
  }
  for (const a of affinities) {
    const b = blocks.find((x) => x.spec.cidr === a.spec.cidr);
    if (!b || affinityHost(b.spec.affinity) !== a.spec.node) report.danglingAffinities.push({ node: a.spec.node, cidr: a.spec.cidr, state: a.spec.state });
  }
  for (const [address, who] of owners) {
    if (allocated.has(address)) continue;
    const ip = parseIP(address)!;
    const inner = { version: ip.version, addr: ip.value, prefixLen: bits(ip.version) };
    const inPool = pools.some((p) => !p.disabled && cidrContains(p.pool, inner));
    for (const owner of who) (inPool ? report.notAllocated : report.outsidePools).push({ address, owner });
  }
  const handleIds = new Set(handles.map((h) => h.spec.handleID));
  report.leakedHandles = handles.map((h) => h.spec.handleID).filter((id) => !usedHandles.has(id));
  report.missingHandles = [...usedHandles].filter((id) => !handleIds.has(id));
  report.problems = report.leaked.length + report.notAllocated.length + report.outsidePools.length + report.blocksWithoutAffinity.length
    + report.danglingAffinities.length + report.leakedHandles.length + report.missingHandles.length;
  return report;
}

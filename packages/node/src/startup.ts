// What calico-node does once at start, before the daemons run: register this node, make sure
// the cluster has its ClusterInformation and default pools, and give the node its tunnel
// addresses. Every write is a compare-and-swap retried on conflict, so many nodes starting at
// once converge.

import { randomBytes } from 'node:crypto';
import { API_VERSION, tunnelHandleID, type ClusterInformation, type IPPool, type Node } from '@tabby/api';
import { AlreadyExistsError, ConflictError, NotFoundError, type Datastore } from '@tabby/datastore';
import type { Ipam } from '@tabby/ipam';
import type { Logger } from '@tabby/log';
import type { NodeAgentConfig, PoolSetting } from './env.js';

export const TABBY_VERSION = 'tabby-0.1.0';

async function retrying<T>(what: string, fn: () => Promise<T>, attempts = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ConflictError || e instanceof AlreadyExistsError) || i >= attempts) throw e;
    }
    await new Promise((r) => setTimeout(r, 20 * i));
    void what;
  }
}

export interface NodeAddresses {
  /** With prefix length, e.g. 10.0.0.5/24. */
  ipv4?: string;
  ipv6?: string;
}

/** The Node as this agent wants it: addresses, AS and orchestrator reference; everything else kept. */
export function desiredNode(existing: Node | undefined, cfg: NodeAgentConfig, addrs: NodeAddresses): Node {
  const node: Node = existing ? structuredClone(existing) : { apiVersion: API_VERSION, kind: 'Node', metadata: { name: cfg.nodename }, spec: {} };
  const bgp = { ...(node.spec.bgp ?? {}) };
  if (addrs.ipv4) bgp.ipv4Address = addrs.ipv4;
  else delete bgp.ipv4Address;
  if (addrs.ipv6) bgp.ipv6Address = addrs.ipv6;
  else delete bgp.ipv6Address;
  if (cfg.as !== undefined) bgp.asNumber = cfg.as;
  node.spec.bgp = bgp;
  const addresses = [addrs.ipv4, addrs.ipv6].filter((a): a is string => !!a).map((address) => ({ address, type: 'CalicoNodeIP' as const }));
  const others = (node.spec.addresses ?? []).filter((a) => a.type !== 'CalicoNodeIP');
  node.spec.addresses = [...addresses, ...others];
  if (!node.spec.addresses.length) delete node.spec.addresses;
  return node;
}

/** Creates or updates this node's Node resource. */
export async function registerNode(ds: Datastore, cfg: NodeAgentConfig, addrs: NodeAddresses, log: Logger): Promise<Node> {
  return retrying('register node', async () => {
    let existing: Node | undefined;
    try {
      existing = await ds.get('Node', cfg.nodename);
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
    const want = desiredNode(existing, cfg, addrs);
    if (!existing) {
      log.info('registering node', { node: cfg.nodename, ipv4: addrs.ipv4, ipv6: addrs.ipv6 });
      return ds.create(want);
    }
    if (JSON.stringify(want.spec) === JSON.stringify(existing.spec)) return existing;
    log.info('updating node', { node: cfg.nodename, ipv4: addrs.ipv4, ipv6: addrs.ipv6 });
    return ds.update(want);
  });
}

/** ClusterInformation `default`: created once per cluster; marks the datastore ready. */
export async function ensureClusterInformation(ds: Datastore, backend: string): Promise<ClusterInformation> {
  return retrying('cluster information', async () => {
    try {
      const ci = await ds.get('ClusterInformation', 'default');
      if (ci.spec.datastoreReady !== undefined && ci.spec.clusterGUID) return ci;
      const next = structuredClone(ci);
      next.spec.clusterGUID ||= randomBytes(16).toString('hex');
      next.spec.datastoreReady ??= true;
      return await ds.update(next);
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
    return ds.create<ClusterInformation>({
      apiVersion: API_VERSION,
      kind: 'ClusterInformation',
      metadata: { name: 'default' },
      spec: { clusterGUID: randomBytes(16).toString('hex'), clusterType: `tabby,${backend}`, calicoVersion: TABBY_VERSION, datastoreReady: true },
    });
  });
}

export function poolResource(name: string, p: PoolSetting): IPPool {
  return {
    apiVersion: API_VERSION,
    kind: 'IPPool',
    metadata: { name },
    spec: { cidr: p.cidr, blockSize: p.blockSize, ipipMode: p.ipipMode, vxlanMode: p.vxlanMode, natOutgoing: p.natOutgoing, nodeSelector: p.nodeSelector },
  };
}

/** Creates `default-ipv4-ippool` / `default-ipv6-ippool` when the cluster has no pool of that family. */
export async function ensureDefaultPools(ds: Datastore, cfg: NodeAgentConfig, log: Logger): Promise<IPPool[]> {
  const created: IPPool[] = [];
  const { items } = await ds.list('IPPool');
  for (const [family, setting] of [[4, cfg.defaultPools.v4], [6, cfg.defaultPools.v6]] as const) {
    if (!setting) continue;
    if (items.some((p) => p.spec.cidr.includes(':') === (family === 6))) continue;
    const name = `default-ipv${family}-ippool`;
    try {
      created.push(await ds.create(poolResource(name, setting)));
      log.info('created default pool', { name, cidr: setting.cidr });
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e; // another node was first
    }
  }
  return created;
}

/**
 * Gives the node the tunnel addresses its pools need (as calico-node does): an IPIP address
 * when an enabled IPv4 pool uses IPIP, a VXLAN address when one uses VXLAN; releases those no
 * longer needed. Returns the Node as stored afterwards.
 */
export async function ensureTunnelAddresses(ds: Datastore, ipam: Ipam, cfg: NodeAgentConfig, log: Logger): Promise<Node> {
  const { items: pools } = await ds.list('IPPool');
  const v4 = pools.filter((p) => !p.spec.disabled && !p.spec.cidr.includes(':'));
  const wantIpip = cfg.backend === 'bird' && v4.some((p) => (p.spec.ipipMode ?? 'Never') !== 'Never');
  const wantVxlan = cfg.backend !== 'none' && v4.some((p) => (p.spec.vxlanMode ?? 'Never') !== 'Never');
  const assign = async (kind: 'ipip' | 'vxlan'): Promise<string> => {
    const handleID = tunnelHandleID(kind, cfg.nodename);
    const have = await ipam.ipsByHandle(handleID);
    if (have[0]) return have[0];
    const r = await ipam.autoAssign({
      num4: 1, num6: 0, handleID, hostname: cfg.nodename, use: 'Tunnel',
      attrs: { node: cfg.nodename, type: kind === 'ipip' ? 'ipipTunnelAddress' : 'vxlanTunnelAddress' },
    });
    log.info('assigned tunnel address', { kind, address: r.ipv4[0]!.address });
    return r.ipv4[0]!.address;
  };
  const ipip = wantIpip ? await assign('ipip') : undefined;
  const vxlan = wantVxlan ? await assign('vxlan') : undefined;
  if (!wantIpip) await ipam.releaseByHandle(tunnelHandleID('ipip', cfg.nodename));
  if (!wantVxlan) await ipam.releaseByHandle(tunnelHandleID('vxlan', cfg.nodename));
  return retrying('tunnel addresses', async () => {
    const node = await ds.get('Node', cfg.nodename);
    const next = structuredClone(node);
    const bgp = { ...(next.spec.bgp ?? {}) };
    if (ipip) bgp.ipv4IPIPTunnelAddr = ipip;
    else delete bgp.ipv4IPIPTunnelAddr;
    next.spec.bgp = bgp;
    if (vxlan) next.spec.ipv4VXLANTunnelAddr = vxlan;
    else delete next.spec.ipv4VXLANTunnelAddr;
    if (JSON.stringify(next.spec) === JSON.stringify(node.spec)) return node;
    return ds.update(next);
  });
}

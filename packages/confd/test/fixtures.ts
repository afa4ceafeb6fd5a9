// Builders for the resources the renderer reads.
import type { BGPConfiguration, BGPPeer, BlockAffinity, IPAMBlock, IPPool, Node } from '@tabby/api';
import type { ConfdInput } from '@tabby/confd';

const meta = (name: string, labels: Record<string, string> = {}) => ({ name, labels });

export function node(name: string, v4?: string, opts: { v6?: string; as?: number; rr?: string; labels?: Record<string, string> } = {}): Node {
  return {
    apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: meta(name, opts.labels),
    spec: { bgp: { ...(v4 ? { ipv4Address: v4 } : {}), ...(opts.v6 ? { ipv6Address: opts.v6 } : {}), ...(opts.as ? { asNumber: opts.as } : {}), ...(opts.rr ? { routeReflectorClusterID: opts.rr } : {}) } },
  };
}

export function bgpConfig(name: string, spec: BGPConfiguration['spec']): BGPConfiguration {
  return { apiVersion: 'projectcalico.org/v3', kind: 'BGPConfiguration', metadata: meta(name), spec };
}

export function peer(name: string, spec: BGPPeer['spec']): BGPPeer {
  return { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: meta(name), spec };
}

export function pool(name: string, spec: IPPool['spec']): IPPool {
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: meta(name), spec };
}

export function affinity(nodeName: string, cidr: string, state: BlockAffinity['spec']['state'] = 'confirmed'): BlockAffinity {
  return { apiVersion: 'projectcalico.org/v3', kind: 'BlockAffinity', metadata: meta(`${nodeName}-${cidr.replace(/[./:]/g, '-')}`), spec: { node: nodeName, cidr, state } };
}

/** A block affine to `owner` with the given ordinals allocated to pods of `podNode`. */
export function block(cidr: string, owner: string, ordinals: number[], podNode: string, size = 64): IPAMBlock {
  const allocations: (number | null)[] = Array.from({ length: size }, () => null);
  for (const o of ordinals) allocations[o] = 0;
  return {
    apiVersion: 'projectcalico.org/v3', kind: 'IPAMBlock', metadata: meta(cidr.replace(/[./:]/g, '-')),
    spec: {
      cidr, affinity: `host:${owner}`, allocations,
      unallocated: allocations.map((a, i) => (a === null ? i : -1)).filter((i) => i >= 0),
      attributes: [{ handle_id: 'k8s-pod-network.x', secondary: { node: podNode, namespace: 'default', pod: 'p' } }],
    },
  };
}

export function input(nodeName: string, parts: Partial<Omit<ConfdInput, 'nodeName'>>): ConfdInput {
  return { nodeName, nodes: [], bgpConfigurations: [], bgpPeers: [], ipPools: [], blockAffinities: [], ...parts };
}

// The plan as bgpd's config file (packages/bgpd/src/config/schema.ts). Only what that schema
// can express is rendered; the rest is listed in the plan's warnings (see README "Dropped").

import { stringify } from 'yaml';
import type { BgpdConfig, KernelRouteRule, OriginateConfig, PeerConfig } from '@tabby/bgpd';
import { planBgp, type BgpPlan, type ConfdInput } from './plan.js';

/** The file's content as bgpd's parseConfig() accepts it; optional fields only when set. */
export type BgpdConfigDoc = Omit<BgpdConfig, 'peers' | 'listen' | 'kernel'> & {
  listen?: { address?: string; port?: number };
  peers: (Pick<PeerConfig, 'address' | 'asNumber' | 'type' | 'passive'> & Partial<Pick<PeerConfig, 'port' | 'holdTime' | 'keepaliveTime' | 'sourceAddress' | 'localAsNumber' | 'gracefulRestart' | 'routeReflectorClient' | 'nextHop' | 'allowLocalAs' | 'ttlSecurity'>>)[];
  originate: OriginateConfig[];
  kernel: { enabled: boolean; routes: (Omit<KernelRouteRule, 'onlink'> & { onlink?: boolean })[] };
};

/** bgpd's default hold time; with a configured keepalive the hold time is kept at least 3x it. */
const DEFAULT_HOLD = 90;

export function bgpdConfigFromPlan(plan: BgpPlan): { config: BgpdConfigDoc; warnings: string[] } {
  const warnings = [...plan.warnings];
  const peers: BgpdConfigDoc['peers'] = plan.peers.map((p) => {
    return {
      address: p.address,
      asNumber: p.asNumber,
      type: p.kind,
      passive: p.passive,
      ...(p.port !== undefined ? { port: p.port } : {}),
      ...(p.keepaliveTime !== undefined ? { holdTime: Math.min(65535, Math.max(DEFAULT_HOLD, 3 * p.keepaliveTime)), keepaliveTime: p.keepaliveTime } : {}),
      ...(p.sourceAddress ? { sourceAddress: p.sourceAddress } : {}),
      ...(p.localAsNumber !== undefined ? { localAsNumber: p.localAsNumber } : {}),
      // maxRestartTime (BIRD's "graceful restart time") turns graceful restart on for the session.
      ...(p.restartTime !== undefined ? { gracefulRestart: { enabled: true, restartTime: Math.min(4095, Math.max(1, p.restartTime)) } } : {}),
      ...(p.rrClusterId ? { routeReflectorClient: true } : {}),
      ...(p.nextHop ? { nextHop: p.nextHop } : {}),
      ...(p.allowLocalAs ? { allowLocalAs: Math.min(255, p.allowLocalAs) } : {}),
      // GTSM: 255 hops would check nothing; bgpd takes 1-254.
      ...(p.ttlSecurityHops ? { ttlSecurity: Math.min(254, Math.max(1, p.ttlSecurityHops)) } : {}),
    };
  });
  // A route reflector node: its clients carry the cluster ID (Calico's "rr cluster id").
  const clusterId = plan.peers.find((p) => p.rrClusterId)?.rrClusterId;
  const routes: BgpdConfigDoc['kernel']['routes'] = [];
  for (const pool of plan.pools) {
    if (pool.encap === 'vxlan') routes.push({ prefix: pool.cidr, install: false });
    else if (pool.encap === 'ipip' || pool.encap === 'ipip-crosssubnet') {
      // bgpd has no per-next-hop choice, so CrossSubnet tunnels everything (it still works,
      // with encapsulation overhead between nodes on one subnet).
      if (pool.encap === 'ipip-crosssubnet') warnings.push(`IPPool ${pool.cidr}: ipipMode CrossSubnet is rendered as Always (tunl0 for every next hop)`);
      routes.push({ prefix: pool.cidr, install: true, device: 'tunl0', onlink: true });
    }
  }
  const config: BgpdConfigDoc = {
    routerId: plan.routerId,
    asNumber: plan.asNumber,
    ...(clusterId ? { clusterId } : {}),
    ...(plan.listen ? { listen: plan.listen } : {}),
    peers,
    originate: plan.originate.map((o) => ({ prefix: o.prefix, blackhole: o.blackhole })),
    kernel: { enabled: true, routes },
  };
  return { config, warnings };
}

/** render(input) -> the bgpd config object. Throws NoRouterIdError when there is nothing to render. */
export function render(input: ConfdInput): BgpdConfigDoc {
  return bgpdConfigFromPlan(planBgp(input)).config;
}

/** The YAML text confd writes (stable for equal input, so unchanged input means an unchanged file). */
export function bgpdYaml(config: BgpdConfigDoc, nodeName: string): string {
  return `# Written by tabby confd for node ${nodeName}; do not edit (it is rewritten on every change).\n` + stringify(config, { lineWidth: 0 });
}

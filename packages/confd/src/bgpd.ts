// The plan as bgpd's config file (packages/bgpd/src/config/schema.ts). Only what that schema
// can express is rendered; the rest is listed in the plan's warnings (see README "Dropped").

import { stringify } from 'yaml';
import type { BgpdConfig, FilterRule, FilterSpec, KernelRouteRule, OriginateConfig, PeerConfig } from '@tabby/bgpd';
import type { BGPFilterRule, BGPFilterSpec } from '@tabby/api';
import { planBgp, type BgpPlan, type ConfdInput } from './plan.js';

/** The file's content as bgpd's parseConfig() accepts it; optional fields only when set. */
export type BgpdConfigDoc = Omit<BgpdConfig, 'peers' | 'listen' | 'kernel' | 'filters'> & {
  listen?: { address?: string; port?: number };
  peers: (Pick<PeerConfig, 'address' | 'asNumber' | 'type' | 'passive'> & Partial<Pick<PeerConfig, 'port' | 'holdTime' | 'keepaliveTime' | 'sourceAddress' | 'localAsNumber' | 'gracefulRestart' | 'routeReflectorClient' | 'nextHop' | 'allowLocalAs' | 'ttlSecurity' | 'filters'>> & { addPaths?: boolean })[];
  filters?: Record<string, FilterSpecDoc>;
  originate: OriginateConfig[];
  kernel: { enabled: boolean; routes: (Omit<KernelRouteRule, 'onlink'> & { onlink?: boolean })[] };
};

/**
 * One BGPFilter rule in bgpd's form, or undefined when it has a condition bgpd cannot evaluate
 * (asPathPrefix, priority): such a rule is left out, i.e. treated as never matching.
 */
function filterRule(r: BGPFilterRule, what: string, warnings: string[]): FilterRuleDoc | undefined {
  if (r.asPathPrefix?.length || r.priority !== undefined) {
    warnings.push(`${what}: asPathPrefix/priority conditions are not supported by bgpd; rule left out`);
    return undefined;
  }
  if (r.operations?.length) warnings.push(`${what}: operations are not supported by bgpd; the rule's action applies without them`);
  const values = r.communities?.values ?? [];
  return {
    action: r.action,
    ...(r.cidr ? { cidr: r.cidr, matchOperator: r.matchOperator ?? 'In' } : {}),
    ...(r.prefixLength && (r.prefixLength.min !== undefined || r.prefixLength.max !== undefined) ? { prefixLength: r.prefixLength } : {}),
    ...(r.source ? { source: r.source } : {}),
    ...(r.interface ? { interface: r.interface } : {}),
    ...(r.peerType ? { peerType: r.peerType } : {}),
    ...(values.length ? { communities: values } : {}),
  };
}

function filterSpec(name: string, spec: BGPFilterSpec, warnings: string[]): FilterSpecDoc {
  const out: FilterSpecDoc = {};
  for (const list of ['exportV4', 'importV4', 'exportV6', 'importV6'] as const) {
    const rules = (spec[list] ?? []).flatMap((r, i) => filterRule(r, `BGPFilter ${name} ${list}[${i}]`, warnings) ?? []);
    if (rules.length) out[list] = rules;
  }
  return out;
}

/** bgpd's rule as written: matchOperator only with cidr. */
type FilterRuleDoc = Omit<FilterRule, 'matchOperator'> & Partial<Pick<FilterRule, 'matchOperator'>>;
type FilterSpecDoc = Partial<Record<keyof FilterSpec, FilterRuleDoc[]>>;

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
      ...(p.filters?.length ? { filters: p.filters } : {}),
      // Calico's bgp_template has `add paths on` for every session (ECMP across nodes).
      addPaths: true,
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
  // bgpd listens on 0.0.0.0 unless told otherwise, where BIRD listens on both families: with any
  // IPv6 peer it needs the IPv6 wildcard (one dual-stack socket; IPv4 peers arrive v4-mapped),
  // or passive IPv6 sessions (the mesh's higher-address side connects to us) never come up.
  const listen = plan.peers.some((p) => p.family === 6) && !plan.listen?.address ? { ...plan.listen, address: '::' } : plan.listen;
  const config: BgpdConfigDoc = {
    routerId: plan.routerId,
    asNumber: plan.asNumber,
    ...(clusterId ? { clusterId } : {}),
    ...(listen ? { listen } : {}),
    peers,
    originate: plan.originate.map((o) => ({ prefix: o.prefix, blackhole: o.blackhole, ...(o.communities?.length ? { communities: o.communities } : {}) })),
    kernel: { enabled: true, routes },
    ...(Object.keys(plan.filters).length ? { filters: Object.fromEntries(Object.entries(plan.filters).map(([n, s]) => [n, filterSpec(n, s, warnings)])) } : {}),
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

// Calico's filter-table layout as data: the static hook chains, the per-interface dispatch
// chains, the per-endpoint chains that walk tiers, policies and profiles, and the policy and
// profile chains themselves. Pure functions of their inputs.

import type { Rule as ApiRule } from '@tabby/api';
import {
  FROM_WL_DISPATCH, TO_WL_DISPATCH, WL_TO_HOST, type Chain, type MarkBits, type Rule,
} from './model.js';
import { endpointChainName, policyChainName, profileChainName, type IpVersion, type PolicyDirection } from './names.js';
import { renderApiRule, type RuleRenderContext } from './rules.js';

export type EndpointToHostAction = 'DROP' | 'ACCEPT' | 'RETURN';

export interface ChainConfig {
  marks: MarkBits;
  /** Workload interface prefixes (Felix's InterfacePrefix, default `cali`). */
  interfacePrefixes: readonly string[];
  /** What happens to workload -> host traffic after egress policy (Calico default DROP). */
  endpointToHostAction: EndpointToHostAction;
  /** Calico drops VXLAN (udp 4789) and IPIP packets sent by workloads unless these are set. */
  allowVXLANPacketsFromWorkloads: boolean;
  allowIPIPPacketsFromWorkloads: boolean;
  vxlanPort: number;
  logPrefix: string;
}

const markIs = (value: number, mask: number) => ({ kind: 'mark', value, mask }) as const;

/** ICMPv6 types a workload may always send to its host: MLD (130-132), router and neighbour discovery (133, 135, 136). */
export const WL_TO_HOST_ICMPV6_TYPES: readonly number[] = Object.freeze([130, 131, 132, 133, 135, 136]);

/** cali-FORWARD, cali-INPUT, cali-OUTPUT and cali-wl-to-host (for ip6tables when `ipVersion` is 6). */
export function staticChains(cfg: ChainConfig, ipVersion: IpVersion = 4): Chain[] {
  const { accept, pass, drop, scratch0, scratch1 } = cfg.marks;
  const wildcards = cfg.interfacePrefixes.map((p) => `${p}+`);
  const forward: Rule[] = [
    { match: [], action: { kind: 'set-mark', value: 0, mask: pass | drop | scratch0 | scratch1 } },
    ...wildcards.map((w): Rule => ({ match: [{ kind: 'iface', dir: 'in', name: w }], action: { kind: 'jump', target: FROM_WL_DISPATCH } })),
    ...wildcards.map((w): Rule => ({ match: [{ kind: 'iface', dir: 'out', name: w }], action: { kind: 'jump', target: TO_WL_DISPATCH } })),
    { match: [markIs(accept, accept)], action: { kind: 'accept' }, comment: 'Policy explicitly accepted packet.' },
  ];
  const input: Rule[] = wildcards.map((w) => ({ match: [{ kind: 'iface', dir: 'in', name: w }], action: { kind: 'goto', target: WL_TO_HOST } }));
  const output: Rule[] = [
    { match: [markIs(accept, accept)], action: { kind: 'accept' } },
    // Host -> local workload traffic is not policed by the workload's ingress policy.
    ...wildcards.map((w): Rule => ({ match: [{ kind: 'iface', dir: 'out', name: w }], action: { kind: 'return' } })),
  ];
  const action = cfg.endpointToHostAction === 'ACCEPT' ? 'accept' : cfg.endpointToHostAction === 'DROP' ? 'drop' : 'return';
  const wlToHost: Rule[] = [
    // IPv6 needs neighbour discovery with the host whatever the egress policy says.
    ...(ipVersion === 6 ? WL_TO_HOST_ICMPV6_TYPES.map((type): Rule => ({
      match: [{ kind: 'protocol', protocol: 'ipv6-icmp' }, { kind: 'icmp', type, v6: true }], action: { kind: 'accept' },
    })) : []),
    { match: [], action: { kind: 'jump', target: FROM_WL_DISPATCH } },
    { match: [], action: { kind: action }, comment: 'Configured DefaultEndpointToHostAction' },
  ];
  return [
    { name: 'cali-FORWARD', rules: forward },
    { name: 'cali-INPUT', rules: input },
    { name: 'cali-OUTPUT', rules: output },
    { name: WL_TO_HOST, rules: wlToHost },
  ];
}

/** cali-from-wl-dispatch / cali-to-wl-dispatch: one goto per local workload interface. */
export function dispatchChains(ifaces: Iterable<string>): Chain[] {
  const sorted = [...new Set(ifaces)].sort();
  const unknown: Rule = { match: [], action: { kind: 'drop' }, comment: 'Unknown interface' };
  return [
    {
      name: FROM_WL_DISPATCH,
      rules: [...sorted.map((i): Rule => ({ match: [{ kind: 'iface', dir: 'in', name: i }], action: { kind: 'goto', target: endpointChainName('egress', i) } })), unknown],
    },
    {
      name: TO_WL_DISPATCH,
      rules: [...sorted.map((i): Rule => ({ match: [{ kind: 'iface', dir: 'out', name: i }], action: { kind: 'goto', target: endpointChainName('ingress', i) } })), unknown],
    },
  ];
}

export interface TierView {
  name: string;
  /** Policy IDs in evaluation order (see `policyId`). */
  policies: readonly string[];
  /** Deny adds the end-of-tier drop; Pass lets unmatched packets fall through to the next tier. */
  defaultAction: 'Deny' | 'Pass';
}

export interface EndpointView {
  iface: string;
  /** Tiers (in order) that have at least one policy for this endpoint in this direction. */
  tiers: readonly TierView[];
  /** Profiles that exist, in the endpoint's order. */
  profiles: readonly string[];
}

/** `cali-tw-<iface>` (ingress) or `cali-fw-<iface>` (egress). */
export function endpointChain(dir: PolicyDirection, ep: EndpointView, cfg: ChainConfig): Chain {
  const { accept, pass } = cfg.marks;
  const rules: Rule[] = [
    { match: [{ kind: 'conntrack', states: ['RELATED', 'ESTABLISHED'] }], action: { kind: 'accept' } },
    { match: [{ kind: 'conntrack', states: ['INVALID'] }], action: { kind: 'drop' } },
    { match: [], action: { kind: 'set-mark', value: 0, mask: accept | pass } },
  ];
  if (dir === 'egress') {
    if (!cfg.allowVXLANPacketsFromWorkloads) {
      rules.push({ match: [{ kind: 'protocol', protocol: 'udp' }, { kind: 'ports', dir: 'dst', ports: [{ min: cfg.vxlanPort, max: cfg.vxlanPort }] }], action: { kind: 'drop' }, comment: 'Drop VXLAN encapped packets originating in workloads' });
    }
    if (!cfg.allowIPIPPacketsFromWorkloads) {
      rules.push({ match: [{ kind: 'protocol', protocol: '4' }], action: { kind: 'drop' }, comment: 'Drop IPinIP encapped packets originating in workloads' });
    }
  }
  for (const tier of ep.tiers) {
    rules.push({ match: [], action: { kind: 'set-mark', value: 0, mask: pass }, comment: `Start of tier ${tier.name}` });
    for (const id of tier.policies) {
      rules.push({ match: [markIs(0, pass)], action: { kind: 'jump', target: policyChainName(dir, id) } });
      rules.push({ match: [markIs(accept, accept)], action: { kind: 'return' }, comment: 'Return if policy accepted' });
    }
    if (tier.defaultAction === 'Deny') {
      rules.push({ match: [markIs(0, pass)], action: { kind: 'drop' }, comment: `End of tier ${tier.name}. Drop if no policies passed packet` });
    }
  }
  for (const p of ep.profiles) {
    rules.push({ match: [], action: { kind: 'jump', target: profileChainName(dir, p) } });
    rules.push({ match: [markIs(accept, accept)], action: { kind: 'return' }, comment: 'Return if profile accepted' });
  }
  rules.push({ match: [], action: { kind: 'drop' }, comment: 'Drop if no profiles matched' });
  return { name: endpointChainName(dir, ep.iface), rules };
}

/** A policy's or profile's rules for one direction. */
export function rulesChain(name: string, rules: readonly ApiRule[] | undefined, namespace: string, ctx: RuleRenderContext): Chain {
  const out: Rule[] = [];
  for (const r of rules ?? []) out.push(...renderApiRule(r, namespace, ctx));
  return { name, rules: out };
}

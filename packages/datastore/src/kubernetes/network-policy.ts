// networking.k8s.io/v1 NetworkPolicy -> projectcalico.org/v3 NetworkPolicy `knp.default.<name>`
// (pure), following Calico's converter: order 1000 in the default tier; the pod selector scoped
// to Kubernetes pods; one rule per (peer x protocol) with ports grouped by protocol (TCP when
// none is given; named ports kept; endPort as a range); ipBlock as nets/notNets; an empty
// namespaceSelector as all(). Policy types as Kubernetes defines them when policyTypes is absent:
// Ingress always, Egress when there are egress rules.

import { API_VERSION, canonicalCidr, parseCidr, type EntityRule, type NetworkPolicy, type PolicyType, type Rule, type RulePort } from '@tabby/api';
import type { Json } from './client.js';
import { metaFromKube } from './convert.js';

export const KNP_PREFIX = 'knp.default.';
export const KNP_ORDER = 1000;

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A Kubernetes label selector as a Calico selector; pod selectors are limited to Kubernetes pods. */
export function selectorToCalico(s: LabelSelector | undefined | null, type: 'pod' | 'namespace'): string {
  const parts: string[] = type === 'pod' ? ["projectcalico.org/orchestrator == 'k8s'"] : [];
  if (!s) return parts.join(' && ');
  const labels = s.matchLabels ?? {};
  const exprs = s.matchExpressions ?? [];
  if (type === 'namespace' && !Object.keys(labels).length && !exprs.length) return 'all()';
  for (const k of Object.keys(labels).sort()) parts.push(`${k} == '${labels[k]}'`);
  for (const e of exprs) {
    const values = (e.values ?? []).join("', '");
    switch (e.operator) {
      case 'In': parts.push(`${e.key} in { '${values}' }`); break;
      case 'NotIn': parts.push(`${e.key} not in { '${values}' }`); break;
      case 'Exists': parts.push(`has(${e.key})`); break;
      case 'DoesNotExist': parts.push(`! has(${e.key})`); break;
      default: throw new Error(`unknown label selector operator ${JSON.stringify(e.operator)}`);
    }
  }
  return parts.join(' && ');
}

interface PeerFields {
  selector?: string;
  namespaceSelector?: string;
  nets?: string[];
  notNets?: string[];
}

function cidrOf(text: string): string {
  const c = parseCidr(text);
  if (!c) throw new Error(`ipBlock: ${JSON.stringify(text)} is not a CIDR`);
  return canonicalCidr(c);
}

function peerFields(peer: Json | undefined): PeerFields {
  if (!peer) return {};
  if (peer['ipBlock']) {
    const out: PeerFields = { nets: [cidrOf(String(peer['ipBlock']['cidr']))] };
    const except = (peer['ipBlock']['except'] ?? []) as string[];
    if (except.length) out.notNets = except.map(cidrOf);
    return out;
  }
  const out: PeerFields = {};
  const sel = selectorToCalico(peer['podSelector'], 'pod');
  if (sel) out.selector = sel;
  const ns = selectorToCalico(peer['namespaceSelector'], 'namespace');
  if (ns) out.namespaceSelector = ns;
  return out;
}

/** Ports grouped by protocol, in order of appearance; `undefined` ports = every port of the protocol. */
function portGroups(ports: Json[] | undefined): { protocol?: string; ports?: RulePort[] }[] {
  if (!ports?.length) return [{}];
  const groups = new Map<string, RulePort[] | undefined>();
  for (const p of ports) {
    const proto = String(p['protocol'] ?? 'TCP');
    const had = groups.has(proto);
    const list = groups.get(proto);
    if (p['port'] === undefined || p['port'] === null) {
      groups.set(proto, undefined); // all ports of this protocol
      continue;
    }
    if (had && list === undefined) continue;
    const port: RulePort = typeof p['port'] === 'number'
      ? (p['endPort'] ? `${p['port']}:${p['endPort']}` : p['port'])
      : /^\d+$/.test(String(p['port'])) ? Number(p['port']) : String(p['port']);
    groups.set(proto, [...(list ?? []), port]);
  }
  return [...groups].map(([protocol, ps]) => ({ protocol, ...(ps ? { ports: ps } : {}) }));
}

function rulesOf(k8sRules: Json[] | undefined, dir: 'ingress' | 'egress'): Rule[] {
  const out: Rule[] = [];
  for (const r of k8sRules ?? []) {
    const peers: (Json | undefined)[] = (r[dir === 'ingress' ? 'from' : 'to'] ?? []).length ? r[dir === 'ingress' ? 'from' : 'to'] : [undefined];
    for (const peer of peers) {
      const pf = peerFields(peer);
      for (const g of portGroups(r['ports'])) {
        const rule: Rule = { action: 'Allow' };
        if (g.protocol) rule.protocol = g.protocol;
        const peerRule: EntityRule = { ...pf };
        if (dir === 'ingress') {
          if (Object.keys(peerRule).length) rule.source = peerRule;
          if (g.ports) rule.destination = { ports: g.ports };
        } else {
          const dst: EntityRule = { ...peerRule, ...(g.ports ? { ports: g.ports } : {}) };
          if (Object.keys(dst).length) rule.destination = dst;
        }
        out.push(rule);
      }
    }
  }
  return out;
}

/** The Calico policy for a Kubernetes NetworkPolicy. Throws on input Calico could not convert either. */
export function networkPolicyFromKube(np: Json): NetworkPolicy {
  const m = np['metadata'] ?? {};
  const spec = np['spec'] ?? {};
  const ingress = rulesOf(spec['ingress'], 'ingress');
  const egress = rulesOf(spec['egress'], 'egress');
  let types: PolicyType[];
  if (Array.isArray(spec['policyTypes']) && spec['policyTypes'].length) {
    types = (spec['policyTypes'] as string[]).filter((t): t is PolicyType => t === 'Ingress' || t === 'Egress');
  } else {
    types = ['Ingress', ...(spec['egress']?.length ? ['Egress' as const] : [])];
  }
  return {
    apiVersion: API_VERSION,
    kind: 'NetworkPolicy',
    metadata: metaFromKube({ ...m, labels: undefined, annotations: undefined }, { name: `${KNP_PREFIX}${m['name']}` }),
    spec: {
      tier: 'default',
      order: KNP_ORDER,
      selector: selectorToCalico(spec['podSelector'] ?? {}, 'pod'),
      types,
      ...(ingress.length ? { ingress } : {}),
      ...(egress.length ? { egress } : {}),
    },
  };
}

// The incremental policy calculation: datastore resources in, desired chains and IP sets out.
//
// State is indexed so that one change touches only what depends on it:
//  * a policy change re-renders that policy's chains and the chains of the local endpoints it
//    selected before or selects now;
//  * an endpoint change updates the members of the IP sets whose selector it matched before or
//    matches now, and (if local) its own chains, the dispatch chains when its interface changed,
//    and the chains of policies/profiles that became active or inactive;
//  * a profile change re-renders its chains and re-labels the endpoints that use it.
// Each re-render is compared with the previous chain, and only real differences are reported
// as dirty, which is what the appliers rewrite. Output depends only on current state.
//
// Only "active" policies and profiles (those used by a local endpoint) get chains, and only IP
// sets referenced by active rules exist; their members are the addresses of every matching
// endpoint in the datastore, on any node.

import {
  LABEL_NAMESPACE, LABEL_ORCHESTRATOR, parseCidrOrIp, parseSelector,
  type GlobalNetworkPolicy, type NetworkPolicy, type PolicyType, type Profile, type Rule as ApiRule,
  type Selector, type WorkloadEndpoint,
} from '@tabby/api';
import { dispatchChains, endpointChain, rulesChain, staticChains, type ChainConfig, type TierView } from './chains.js';
import { DEFAULT_MARKS, rulesEqual, type Chain, type IpSetSpec } from './model.js';
import { policyChainName, profileChainName, type IpVersion, type PolicyDirection } from './names.js';
import { IpSetIndex } from './ipset-index.js';
import { normaliseCidr, type NamedPortProtocol, type RuleRenderContext } from './rules.js';
import { policyEndpointSelector } from './selectors.js';

export type PolicyResource = WorkloadEndpoint | NetworkPolicy | GlobalNetworkPolicy | Profile;
export type PolicyResourceKind = PolicyResource['kind'];

export interface TierSettings {
  /** Lower first; undefined sorts last (ties by name). */
  order?: number;
  defaultAction: 'Deny' | 'Pass';
}

/** Calico's built-in tiers; any other tier is ordered last and denies by default. */
export const BUILTIN_TIERS: Readonly<Record<string, TierSettings>> = Object.freeze({
  'kube-admin': { order: 1000, defaultAction: 'Pass' },
  default: { order: 1_000_000, defaultAction: 'Deny' },
  'kube-baseline': { order: 10_000_000, defaultAction: 'Pass' },
});

export interface PolicyCalculatorOptions {
  /** This node's Calico name: endpoints with `spec.node` equal to it are local. */
  nodeName: string;
  /**
   * The family calculated (default 4): chains for iptables (4) or ip6tables (6), endpoint
   * addresses of that family, `cali40`/`cali60` IP sets. A dual-stack felix runs one of each.
   */
  ipVersion?: IpVersion;
  chains?: Partial<ChainConfig>;
  tiers?: Record<string, TierSettings>;
}

export const DEFAULT_CHAIN_CONFIG: ChainConfig = Object.freeze({
  marks: DEFAULT_MARKS,
  interfacePrefixes: ['cali'],
  endpointToHostAction: 'DROP',
  allowVXLANPacketsFromWorkloads: false,
  allowIPIPPacketsFromWorkloads: false,
  vxlanPort: 4789,
  logPrefix: 'calico-packet',
});

/** A resource the calculation cannot use; it is treated as absent. */
export class PolicyInputError extends Error {
  override name = 'PolicyInputError';
  constructor(readonly kind: PolicyResourceKind, readonly key: string, readonly reason: string) {
    super(`${kind} ${key}: ${reason}`);
  }
}

export interface DirtySet {
  /** Chains added, changed or removed since the last `takeDirty()`. */
  chains: string[];
  /** IP sets added, changed or removed since the last `takeDirty()`. */
  ipsets: string[];
}

interface EndpointState {
  key: string;
  local: boolean;
  iface: string;
  namespace: string;
  orchestrator: string | undefined;
  ownLabels: Readonly<Record<string, string>>;
  /** Effective labels: own + Calico's + inherited from profiles (see computeLabels). */
  labels: Map<string, string>;
  /** Addresses of the calculated family as /32 (/128) CIDRs. */
  ips: string[];
  profiles: string[];
  ports: ReadonlyArray<{ name: string; protocol: NamedPortProtocol; port: number }>;
}

interface PolicyState {
  key: string;
  /** Chain id: `<namespace>/<name>` or the global policy's name. */
  id: string;
  name: string;
  namespace: string;
  tier: string;
  order: number | undefined;
  types: ReadonlySet<PolicyType>;
  selector: Selector;
  ingress: readonly ApiRule[];
  egress: readonly ApiRule[];
}

const ALL = parseSelector('all()');

export function policyKey(kind: 'NetworkPolicy' | 'GlobalNetworkPolicy', name: string, namespace?: string): string {
  return kind === 'NetworkPolicy' ? `np:${namespace ?? ''}/${name}` : `gnp:${name}`;
}

function endpointKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export class PolicyCalculator {
  readonly #nodeName: string;
  readonly #version: IpVersion;
  readonly #cfg: ChainConfig;
  readonly #tiers: Record<string, TierSettings>;

  readonly #endpoints = new Map<string, EndpointState>();
  readonly #policies = new Map<string, PolicyState>();
  readonly #profiles = new Map<string, Profile>();
  /** policy key -> local endpoint keys it selects */
  readonly #selected = new Map<string, Set<string>>();
  /** profile name -> local endpoint keys that list it */
  readonly #profileUsers = new Map<string, Set<string>>();
  readonly #sets: IpSetIndex;

  readonly #chains = new Map<string, Chain>();
  readonly #chainsByOwner = new Map<string, string[]>();
  readonly #chainOwner = new Map<string, string>();
  readonly #dirtyChains = new Set<string>();
  // Renders that depend on the whole endpoint population (dispatch chains, chains of policies
  // and profiles an endpoint joined or left) are deferred to the next read of the output, so a
  // burst of N endpoint updates (a watch resync at start) costs O(N), not O(N^2).
  #pendingDispatch = false;
  readonly #pendingPolicies = new Set<string>();
  readonly #pendingProfiles = new Set<string>();

  constructor(opts: PolicyCalculatorOptions) {
    if (!opts.nodeName) throw new Error('PolicyCalculator needs the node name');
    if (opts.ipVersion !== undefined && opts.ipVersion !== 4 && opts.ipVersion !== 6) throw new Error(`ipVersion must be 4 or 6, not ${JSON.stringify(opts.ipVersion)}`);
    this.#nodeName = opts.nodeName;
    this.#version = opts.ipVersion ?? 4;
    this.#sets = new IpSetIndex(() => this.#endpoints.values(), this.#version);
    this.#cfg = { ...DEFAULT_CHAIN_CONFIG, ...opts.chains };
    this.#tiers = { ...BUILTIN_TIERS, ...opts.tiers };
    this.#setOwnerChains('static', staticChains(this.#cfg, this.#version));
    this.#setOwnerChains('dispatch', dispatchChains([]));
  }

  // ------------------------------------------------------------------------------------------
  // Input

  /** Adds or replaces a resource. Throws PolicyInputError (after removing the old version) if it is unusable. */
  update(r: PolicyResource): void {
    switch (r.kind) {
      case 'WorkloadEndpoint': return this.#updateEndpoint(endpointKey(r.metadata.namespace, r.metadata.name), r);
      case 'NetworkPolicy':
      case 'GlobalNetworkPolicy': return this.#updatePolicy(policyKey(r.kind, r.metadata.name, r.metadata.namespace), r);
      case 'Profile': return this.#updateProfile(r.metadata.name, r);
      default: throw new Error(`PolicyCalculator does not handle kind ${JSON.stringify((r as { kind: unknown }).kind)}`);
    }
  }

  remove(kind: PolicyResourceKind, name: string, namespace?: string): void {
    switch (kind) {
      case 'WorkloadEndpoint': return this.#updateEndpoint(endpointKey(namespace, name), undefined);
      case 'NetworkPolicy':
      case 'GlobalNetworkPolicy': return this.#updatePolicy(policyKey(kind, name, namespace), undefined);
      case 'Profile': return this.#updateProfile(name, undefined);
      default: throw new Error(`PolicyCalculator does not handle kind ${JSON.stringify(kind)}`);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Output

  get ipVersion(): IpVersion {
    return this.#version;
  }

  /** Every desired chain of the filter table, by name. */
  get chains(): ReadonlyMap<string, Chain> {
    this.#flush();
    return this.#chains;
  }

  /** Every desired IP set, by kernel name. */
  ipsets(): Map<string, IpSetSpec> {
    this.#flush();
    return this.#sets.specs();
  }

  ipset(name: string): IpSetSpec | undefined {
    this.#flush();
    return this.#sets.spec(name);
  }

  /** What changed since the last call (and forget it). */
  takeDirty(): DirtySet {
    this.#flush();
    const out = { chains: [...this.#dirtyChains].sort(), ipsets: this.#sets.takeDirty() };
    this.#dirtyChains.clear();
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // Endpoints

  #parseEndpoint(key: string, wep: WorkloadEndpoint): EndpointState {
    const spec = wep.spec;
    if (!spec?.interfaceName) throw new PolicyInputError('WorkloadEndpoint', key, 'spec.interfaceName is required');
    const ips: string[] = [];
    for (const n of spec.ipNetworks ?? []) {
      const c = parseCidrOrIp(n);
      if (!c) throw new PolicyInputError('WorkloadEndpoint', key, `spec.ipNetworks: ${JSON.stringify(n)} is not an IP network`);
      if (c.version === this.#version) ips.push(normaliseCidr(n));
    }
    const ports: EndpointState['ports'][number][] = [];
    for (const p of spec.ports ?? []) {
      if (!p.name) continue;
      const proto = String(p.protocol).toUpperCase();
      const protocol: NamedPortProtocol = proto === 'TCP' || proto === '6' ? 'tcp' : proto === 'UDP' || proto === '17' ? 'udp' : proto === 'SCTP' || proto === '132' ? 'sctp' : 'any';
      if (protocol !== 'any') ports.push({ name: p.name, protocol, port: p.port });
    }
    return {
      key,
      local: spec.node === this.#nodeName,
      iface: spec.interfaceName,
      namespace: wep.metadata.namespace ?? '',
      orchestrator: spec.orchestrator,
      ownLabels: wep.metadata.labels ?? {},
      labels: new Map(),
      ips,
      profiles: [...(spec.profiles ?? [])],
      ports,
    };
  }

  /**
   * An endpoint's labels for selector matching: its own, plus Calico's namespace/orchestrator
   * labels when missing, plus its profiles' labelsToApply (own labels win; earlier profiles win).
   */
  #computeLabels(ep: EndpointState): Map<string, string> {
    const labels = new Map<string, string>();
    for (let i = ep.profiles.length - 1; i >= 0; i--) {
      for (const [k, v] of Object.entries(this.#profiles.get(ep.profiles[i]!)?.spec.labelsToApply ?? {})) labels.set(k, v);
    }
    if (ep.namespace) labels.set(LABEL_NAMESPACE, ep.namespace);
    if (ep.orchestrator) labels.set(LABEL_ORCHESTRATOR, ep.orchestrator);
    for (const [k, v] of Object.entries(ep.ownLabels)) labels.set(k, v);
    return labels;
  }

  #updateEndpoint(key: string, wep: WorkloadEndpoint | undefined): void {
    let next: EndpointState | undefined;
    let error: PolicyInputError | undefined;
    if (wep) {
      try {
        next = this.#parseEndpoint(key, wep);
        next.labels = this.#computeLabels(next);
      } catch (e) {
        if (!(e instanceof PolicyInputError)) throw e;
        error = e;
      }
    }
    this.#replaceEndpoint(key, next);
    if (error) throw error;
  }

  #replaceEndpoint(key: string, next: EndpointState | undefined): void {
    const prev = this.#endpoints.get(key);
    if (next) this.#endpoints.set(key, next);
    else this.#endpoints.delete(key);

    this.#sets.endpointChanged(prev, next);

    if (!prev?.local && !next?.local) return;
    // Which policies select it, which profiles it uses: activeness of their chains may change.
    const touchedPolicies: string[] = [];
    for (const [pk, pol] of this.#policies) {
      const was = this.#selected.get(pk)?.has(key) ?? false;
      const is = !!next?.local && pol.selector.evaluate(next.labels);
      if (was !== is) {
        this.#mapSetToggle(this.#selected, pk, key, is);
        touchedPolicies.push(pk);
      }
    }
    const touchedProfiles = new Set<string>();
    for (const p of prev?.local ? prev.profiles : []) { this.#mapSetToggle(this.#profileUsers, p, key, false); touchedProfiles.add(p); }
    for (const p of next?.local ? next.profiles : []) { this.#mapSetToggle(this.#profileUsers, p, key, true); touchedProfiles.add(p); }

    for (const pk of touchedPolicies) this.#pendingPolicies.add(pk);
    for (const p of touchedProfiles) this.#pendingProfiles.add(p);
    this.#renderEndpoint(key);
    if (prev?.local !== next?.local || prev?.iface !== next?.iface) this.#pendingDispatch = true;
  }

  #flush(): void {
    for (const pk of this.#pendingPolicies) this.#renderPolicy(pk);
    for (const p of this.#pendingProfiles) this.#renderProfile(p);
    this.#pendingPolicies.clear();
    this.#pendingProfiles.clear();
    if (this.#pendingDispatch) { this.#pendingDispatch = false; this.#renderDispatch(); }
  }

  #mapSetToggle(m: Map<string, Set<string>>, k: string, v: string, on: boolean): void {
    let s = m.get(k);
    if (on) {
      if (!s) m.set(k, (s = new Set()));
      s.add(v);
    } else if (s) {
      s.delete(v);
      if (s.size === 0) m.delete(k);
    }
  }

  #renderDispatch(): void {
    const ifaces = [...this.#endpoints.values()].filter((e) => e.local).map((e) => e.iface);
    this.#setOwnerChains('dispatch', dispatchChains(ifaces));
  }

  #renderEndpoint(key: string): void {
    const ep = this.#endpoints.get(key);
    const owner = `ep:${key}`;
    if (!ep?.local) { this.#setOwnerChains(owner, []); return; }
    const profiles = ep.profiles.filter((p) => this.#profiles.has(p));
    const chains = (['ingress', 'egress'] as const).map((dir) =>
      endpointChain(dir, { iface: ep.iface, tiers: this.#tiersFor(key, dir), profiles }, this.#cfg));
    this.#setOwnerChains(owner, chains);
  }

  /** The tiers (ordered) with the policies (ordered) that apply to a local endpoint in one direction. */
  #tiersFor(epKey: string, dir: PolicyDirection): TierView[] {
    const type: PolicyType = dir === 'ingress' ? 'Ingress' : 'Egress';
    const byTier = new Map<string, PolicyState[]>();
    for (const [pk, pol] of this.#policies) {
      if (!pol.types.has(type) || !this.#selected.get(pk)?.has(epKey)) continue;
      let list = byTier.get(pol.tier);
      if (!list) byTier.set(pol.tier, (list = []));
      list.push(pol);
    }
    const ord = (o: number | undefined) => o ?? Number.POSITIVE_INFINITY;
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return [...byTier.entries()]
      .sort(([a], [b]) => ord(this.#tiers[a]?.order) - ord(this.#tiers[b]?.order) || cmp(a, b))
      .map(([name, list]) => ({
        name,
        defaultAction: this.#tiers[name]?.defaultAction ?? 'Deny',
        policies: list
          .sort((a, b) => ord(a.order) - ord(b.order) || cmp(a.name, b.name) || cmp(a.namespace, b.namespace) || cmp(a.key, b.key))
          .map((p) => p.id),
      }));
  }

  // ------------------------------------------------------------------------------------------
  // Policies

  #parsePolicy(key: string, p: NetworkPolicy | GlobalNetworkPolicy): PolicyState {
    const spec = p.spec ?? {};
    const namespace = p.kind === 'NetworkPolicy' ? (p.metadata.namespace ?? '') : '';
    if (p.kind === 'NetworkPolicy' && !namespace) throw new PolicyInputError(p.kind, key, 'metadata.namespace is required');
    let selector: Selector;
    try {
      selector = policyEndpointSelector({
        namespace,
        ...(spec.selector !== undefined && { selector: spec.selector }),
        ...('namespaceSelector' in spec && spec.namespaceSelector !== undefined && { namespaceSelector: spec.namespaceSelector }),
        ...(spec.serviceAccountSelector !== undefined && { serviceAccountSelector: spec.serviceAccountSelector }),
      });
    } catch (e) {
      throw new PolicyInputError(p.kind, key, `bad selector: ${(e as Error).message}`);
    }
    const types = spec.types?.length ? spec.types : (spec.egress?.length ? (spec.ingress?.length ? ['Ingress', 'Egress'] : ['Egress']) : ['Ingress']) as PolicyType[];
    const state: PolicyState = {
      key,
      id: namespace ? `${namespace}/${p.metadata.name}` : p.metadata.name,
      name: p.metadata.name,
      namespace,
      tier: spec.tier || 'default',
      order: spec.order,
      types: new Set(types),
      selector,
      ingress: spec.ingress ?? [],
      egress: spec.egress ?? [],
    };
    // Render once against a throwaway resolver so bad rules are refused now, not when the policy
    // first becomes active.
    this.#checkRules(p.kind, key, [...state.ingress, ...state.egress], namespace);
    return state;
  }

  #checkRules(kind: PolicyResourceKind, key: string, rules: readonly ApiRule[], namespace: string): void {
    const ctx: RuleRenderContext = {
      marks: this.#cfg.marks,
      logPrefix: this.#cfg.logPrefix,
      allSelector: ALL,
      sets: { selectorSet: () => 'x', namedPortSet: () => 'x' },
      ipVersion: this.#version,
    };
    rules.forEach((r, i) => {
      try {
        rulesChain('check', [r], namespace, ctx);
      } catch (e) {
        throw new PolicyInputError(kind, key, `rule ${i}: ${(e as Error).message}`);
      }
    });
  }

  #updatePolicy(key: string, p: NetworkPolicy | GlobalNetworkPolicy | undefined): void {
    let next: PolicyState | undefined;
    let error: PolicyInputError | undefined;
    if (p) {
      try {
        next = this.#parsePolicy(key, p);
      } catch (e) {
        if (!(e instanceof PolicyInputError)) throw e;
        error = e;
      }
    }
    const prev = this.#policies.get(key);
    if (next) this.#policies.set(key, next);
    else this.#policies.delete(key);

    const before = new Set(this.#selected.get(key));
    const after = new Set<string>();
    if (next) for (const ep of this.#endpoints.values()) if (ep.local && next.selector.evaluate(ep.labels)) after.add(ep.key);
    if (after.size) this.#selected.set(key, after);
    else this.#selected.delete(key);

    this.#renderPolicy(key);
    // Endpoint chains list policies by id, tier and order: only those can change them.
    const placementChanged = !prev || !next || prev.tier !== next.tier || prev.order !== next.order ||
      [...prev.types].sort().join() !== [...next.types].sort().join();
    for (const ek of new Set([...before, ...after])) {
      if (placementChanged || before.has(ek) !== after.has(ek)) this.#renderEndpoint(ek);
    }
    if (error) throw error;
  }

  #renderPolicy(key: string): void {
    const owner = `pol:${key}`;
    const pol = this.#policies.get(key);
    if (!pol || !this.#selected.get(key)?.size) { this.#setOwnerChains(owner, [], new Set()); return; }
    const refs = new Set<string>();
    const ctx = this.#renderContext(refs);
    const chains: Chain[] = [];
    if (pol.types.has('Ingress')) chains.push(rulesChain(policyChainName('ingress', pol.id), pol.ingress, pol.namespace, ctx));
    if (pol.types.has('Egress')) chains.push(rulesChain(policyChainName('egress', pol.id), pol.egress, pol.namespace, ctx));
    this.#setOwnerChains(owner, chains, refs);
  }

  // ------------------------------------------------------------------------------------------
  // Profiles

  #updateProfile(name: string, p: Profile | undefined): void {
    let error: PolicyInputError | undefined;
    if (p) {
      try {
        this.#checkRules('Profile', name, [...(p.spec?.ingress ?? []), ...(p.spec?.egress ?? [])], '');
      } catch (e) {
        if (!(e instanceof PolicyInputError)) throw e;
        error = e;
        p = undefined;
      }
    }
    const prev = this.#profiles.get(name);
    if (p) this.#profiles.set(name, p);
    else this.#profiles.delete(name);

    this.#renderProfile(name);
    const labelsChanged = JSON.stringify(prev?.spec?.labelsToApply ?? {}) !== JSON.stringify(p?.spec?.labelsToApply ?? {});
    const existenceChanged = !prev !== !p;
    // Endpoints (local or not) inherit its labels; local ones also list it in their chains.
    for (const ep of [...this.#endpoints.values()]) {
      if (!ep.profiles.includes(name)) continue;
      if (labelsChanged) {
        const relabelled = { ...ep, labels: this.#computeLabels(ep) };
        this.#replaceEndpoint(ep.key, relabelled);
      } else if (existenceChanged && ep.local) {
        this.#renderEndpoint(ep.key);
      }
    }
    if (error) throw error;
  }

  #renderProfile(name: string): void {
    const owner = `prof:${name}`;
    const prof = this.#profiles.get(name);
    if (!prof || !this.#profileUsers.get(name)?.size) { this.#setOwnerChains(owner, [], new Set()); return; }
    const refs = new Set<string>();
    const ctx = this.#renderContext(refs);
    this.#setOwnerChains(owner, [
      rulesChain(profileChainName('ingress', name), prof.spec?.ingress, '', ctx),
      rulesChain(profileChainName('egress', name), prof.spec?.egress, '', ctx),
    ], refs);
  }

  #renderContext(refs: Set<string>): RuleRenderContext {
    return { marks: this.#cfg.marks, logPrefix: this.#cfg.logPrefix, allSelector: ALL, sets: this.#sets.resolver(refs), ipVersion: this.#version };
  }

  // ------------------------------------------------------------------------------------------
  // Chain bookkeeping

  /** Replaces everything `owner` contributes; records real differences as dirty. */
  #setOwnerChains(owner: string, chains: Chain[], setRefs?: Set<string>): void {
    const prevNames = this.#chainsByOwner.get(owner) ?? [];
    const names = chains.map((c) => c.name);
    for (const n of prevNames) {
      // Two endpoints can briefly claim one interface; the chain belongs to the last writer.
      if (!names.includes(n) && this.#chainOwner.get(n) === owner) {
        this.#chains.delete(n);
        this.#chainOwner.delete(n);
        this.#dirtyChains.add(n);
      }
    }
    for (const c of chains) {
      this.#chainOwner.set(c.name, owner);
      const old = this.#chains.get(c.name);
      if (!old || !rulesEqual(old.rules, c.rules)) {
        this.#chains.set(c.name, c);
        this.#dirtyChains.add(c.name);
      }
    }
    if (names.length) this.#chainsByOwner.set(owner, names);
    else this.#chainsByOwner.delete(owner);

    if (setRefs) this.#sets.setOwnerRefs(owner, setRefs);
  }
}

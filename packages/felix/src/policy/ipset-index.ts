// The IP sets rules refer to: one per selector (hash:net of endpoint addresses) and one per
// (selector, protocol, named port) (hash:ip,port). Sets exist while some owner (a policy or
// profile chain) refers to them; members are kept up to date as endpoints change, counting
// contributions so an address shared by two endpoints stays until both are gone.

import { calicoUniqueId, type Selector } from '@tabby/api';
import type { IpSetSpec } from './model.js';
import { ipsetName, type IpVersion } from './names.js';
import type { NamedPortProtocol, SetResolver } from './rules.js';

/** What the index needs to know about an endpoint. */
export interface SetMemberSource {
  labels: ReadonlyMap<string, string>;
  /** Addresses of the index's family as /32 (IPv4) or /128 (IPv6) CIDRs. */
  ips: readonly string[];
  ports: ReadonlyArray<{ name: string; protocol: NamedPortProtocol; port: number }>;
}

interface SetState {
  name: string;
  type: IpSetSpec['type'];
  selector: Selector;
  namedPort?: { protocol: NamedPortProtocol; name: string };
  /** member -> number of endpoints contributing it */
  members: Map<string, number>;
  refs: Set<string>;
}

export class IpSetIndex {
  readonly #endpoints: () => Iterable<SetMemberSource>;
  readonly #version: IpVersion;
  readonly #sets = new Map<string, SetState>();
  readonly #refsByOwner = new Map<string, Set<string>>();
  readonly #dirty = new Set<string>();

  /** `endpoints` lists every endpoint (all nodes), used to fill a set when it first appears. */
  constructor(endpoints: () => Iterable<SetMemberSource>, version: IpVersion = 4) {
    this.#endpoints = endpoints;
    this.#version = version;
  }

  /** A resolver for one render of an owner's rules; it records the set IDs used into `refs`. */
  resolver(refs: Set<string>): SetResolver {
    return {
      selectorSet: (sel) => this.#ensure(sel.uniqueId(), refs, sel),
      namedPortSet: (sel, protocol, port) =>
        this.#ensure(calicoUniqueId('n', `${sel.uniqueId()},${protocol},${port}`), refs, sel, { protocol, name: port }),
    };
  }

  #ensure(id: string, refs: Set<string>, selector: Selector, namedPort?: SetState['namedPort']): string {
    refs.add(id);
    const existing = this.#sets.get(id);
    if (existing) return existing.name;
    const set: SetState = {
      name: ipsetName(id, this.#version), type: namedPort ? 'hash:ip,port' : 'hash:net', selector, members: new Map(), refs: new Set(),
      ...(namedPort && { namedPort }),
    };
    this.#sets.set(id, set);
    for (const ep of this.#endpoints()) this.#move(set, undefined, ep);
    this.#dirty.add(set.name);
    return set.name;
  }

  /** Replaces the set references of one owner and drops sets nobody refers to. */
  setOwnerRefs(owner: string, refs: Set<string>): void {
    const prev = this.#refsByOwner.get(owner) ?? new Set<string>();
    for (const id of refs) this.#sets.get(id)?.refs.add(owner);
    for (const id of prev) if (!refs.has(id)) this.#sets.get(id)?.refs.delete(owner);
    if (refs.size) this.#refsByOwner.set(owner, refs);
    else this.#refsByOwner.delete(owner);
    for (const [id, s] of this.#sets) {
      if (s.refs.size === 0) {
        this.#sets.delete(id);
        this.#dirty.add(s.name);
      }
    }
  }

  /** An endpoint (any node) was added, changed or removed. */
  endpointChanged(prev: SetMemberSource | undefined, next: SetMemberSource | undefined): void {
    for (const set of this.#sets.values()) this.#move(set, prev, next);
  }

  #contribution(set: SetState, ep: SetMemberSource | undefined): readonly string[] {
    if (!ep || !set.selector.evaluate(ep.labels)) return [];
    const np = set.namedPort;
    if (!np) return ep.ips;
    const out: string[] = [];
    for (const p of ep.ports) {
      if (p.name !== np.name || (np.protocol !== 'any' && p.protocol !== np.protocol)) continue;
      for (const ip of ep.ips) out.push(`${ip.replace(/\/(32|128)$/, '')},${p.protocol}:${p.port}`);
    }
    return out;
  }

  #move(set: SetState, prev: SetMemberSource | undefined, next: SetMemberSource | undefined): void {
    const removed = this.#contribution(set, prev);
    const added = this.#contribution(set, next);
    if (removed.length === 0 && added.length === 0) return;
    // Net change per member, so a member removed and re-added in one step is not a change.
    const delta = new Map<string, number>();
    for (const m of removed) delta.set(m, (delta.get(m) ?? 0) - 1);
    for (const m of added) delta.set(m, (delta.get(m) ?? 0) + 1);
    for (const [m, d] of delta) {
      if (d === 0) continue;
      const before = set.members.get(m) ?? 0;
      const after = Math.max(0, before + d);
      if (after === 0) set.members.delete(m);
      else set.members.set(m, after);
      if ((before === 0) !== (after === 0)) this.#dirty.add(set.name);
    }
  }

  specs(): Map<string, IpSetSpec> {
    const out = new Map<string, IpSetSpec>();
    for (const s of this.#sets.values()) out.set(s.name, spec(s));
    return out;
  }

  spec(name: string): IpSetSpec | undefined {
    for (const s of this.#sets.values()) if (s.name === name) return spec(s);
    return undefined;
  }

  takeDirty(): string[] {
    const out = [...this.#dirty].sort();
    this.#dirty.clear();
    return out;
  }
}

function spec(s: SetState): IpSetSpec {
  return { name: s.name, type: s.type, members: new Set([...s.members.keys()].sort()) };
}

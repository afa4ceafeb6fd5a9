// Adj-RIB-In (per peer) and Loc-RIB in one structure: for each prefix the candidate paths from
// every source, and the selected best/multipath set. Changes come back as deltas so the kernel
// export and Adj-RIB-Out only see prefixes whose selection changed.

import { asPathLength } from '../wire/attributes.js';
import type { InternedAttributes } from './attr-intern.js';
import { selectBest, type Candidate, type DecisionReason } from './decision.js';

export interface PeerInfo {
  /** Stable id of the source: the peer address, or "local" for originated routes. */
  id: string;
  address: string;
  routerId: string;
  ebgp: boolean;
  local: boolean;
}

export interface Path extends Candidate {
  prefix: string;
  pathId: number;
  source: PeerInfo;
  attrs: InternedAttributes;
  /** Next hops as learned (IPv4 NEXT_HOP or MP_REACH next hops). */
  nextHops: string[];
}

export interface Selected {
  prefix: string;
  best: Path | undefined;
  multipath: Path[];
  reason: DecisionReason | undefined;
}

interface Entry {
  paths: Path[];
  best: Path | undefined;
  multipath: Path[];
  reason: DecisionReason | undefined;
}

export const DEFAULT_LOCAL_PREF = 100;

/** The decision-process view of an attribute set from a given source. */
export function candidateFields(attrs: InternedAttributes, source: PeerInfo): Omit<Candidate, 'peerAddress' | 'routerId'> & { routerId: string; peerAddress: string } {
  const a = attrs.attrs;
  const firstSeq = a.asPath?.find((s) => s.type === 2 && s.asns.length);
  return {
    localPref: source.ebgp ? DEFAULT_LOCAL_PREF : a.localPref ?? DEFAULT_LOCAL_PREF,
    asPathLength: asPathLength(a.asPath),
    ...(firstSeq ? { neighborAs: firstSeq.asns[0]! } : {}),
    origin: a.origin ?? 2,
    med: a.med ?? 0,
    ebgp: source.ebgp,
    local: source.local,
    routerId: a.originatorId ?? source.routerId,
    clusterListLength: a.clusterList?.length ?? 0,
    peerAddress: source.address,
  };
}

export class LocRib {
  private readonly entries = new Map<string, Entry>();
  /** Per source: prefix -> path ids it holds (for dropping a peer's routes quickly). */
  private readonly bySource = new Map<string, Map<string, Set<number>>>();

  get prefixCount(): number {
    return this.entries.size;
  }

  /** Adds or replaces the path (source, prefix, pathId). Returns the new selection if it changed. */
  upsert(path: Path): Selected | undefined {
    const e = this.entries.get(path.prefix) ?? { paths: [], best: undefined, multipath: [], reason: undefined };
    const i = e.paths.findIndex((p) => p.source.id === path.source.id && p.pathId === path.pathId);
    if (i >= 0) e.paths[i] = path;
    else e.paths.push(path);
    this.entries.set(path.prefix, e);
    let ids = this.bySource.get(path.source.id);
    if (!ids) this.bySource.set(path.source.id, (ids = new Map()));
    let set = ids.get(path.prefix);
    if (!set) ids.set(path.prefix, (set = new Set()));
    set.add(path.pathId);
    return this.reselect(path.prefix, e);
  }

  /** Removes one path; returns the new selection if it changed. Also gives back the removed path. */
  withdraw(sourceId: string, prefix: string, pathId = 0): { change: Selected | undefined; removed: Path | undefined } {
    const e = this.entries.get(prefix);
    if (!e) return { change: undefined, removed: undefined };
    const i = e.paths.findIndex((p) => p.source.id === sourceId && p.pathId === pathId);
    if (i < 0) return { change: undefined, removed: undefined };
    const [removed] = e.paths.splice(i, 1);
    const set = this.bySource.get(sourceId)?.get(prefix);
    set?.delete(pathId);
    if (set && !set.size) this.bySource.get(sourceId)!.delete(prefix);
    if (!e.paths.length) {
      this.entries.delete(prefix);
      return { change: { prefix, best: undefined, multipath: [], reason: undefined }, removed };
    }
    return { change: this.reselect(prefix, e), removed };
  }

  /** Removes everything a source contributed (session down). */
  removeSource(sourceId: string): { changes: Selected[]; removed: Path[] } {
    const ids = this.bySource.get(sourceId);
    const changes: Selected[] = [];
    const removed: Path[] = [];
    if (!ids) return { changes, removed };
    for (const [prefix, set] of [...ids]) {
      for (const pathId of [...set]) {
        const r = this.withdraw(sourceId, prefix, pathId);
        if (r.change) changes.push(r.change);
        if (r.removed) removed.push(r.removed);
      }
    }
    this.bySource.delete(sourceId);
    return { changes, removed };
  }

  selected(prefix: string): Selected | undefined {
    const e = this.entries.get(prefix);
    return e && { prefix, best: e.best, multipath: e.multipath, reason: e.reason };
  }

  *all(): IterableIterator<Selected & { paths: readonly Path[] }> {
    for (const [prefix, e] of this.entries) yield { prefix, best: e.best, multipath: e.multipath, reason: e.reason, paths: e.paths };
  }

  /** Paths a source currently holds. */
  countFrom(sourceId: string): number {
    let n = 0;
    for (const set of this.bySource.get(sourceId)?.values() ?? []) n += set.size;
    return n;
  }

  private reselect(prefix: string, e: Entry): Selected | undefined {
    const sel = selectBest(e.paths);
    const best = sel?.best;
    const multipath = sel?.multipath ?? [];
    const same = best === e.best && multipath.length === e.multipath.length && multipath.every((p, i) => p === e.multipath[i]);
    e.best = best;
    e.multipath = multipath;
    e.reason = sel?.reason;
    return same ? undefined : { prefix, best, multipath, reason: e.reason };
  }
}

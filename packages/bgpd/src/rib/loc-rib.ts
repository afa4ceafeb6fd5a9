// Adj-RIB-In (per peer) and Loc-RIB in one structure: for each prefix the candidate paths from
// every source, and the selected best/multipath set.
//
// Memory layout (a full table is a million prefixes): a path is the triple (source, path id,
// attribute set) and does not include the prefix, so one Path object is shared by every prefix
// a peer announced with the same attributes, typically thousands. A prefix with a single path,
// the common case, costs one slot in a PrefixMap (no per-prefix object at all); only prefixes
// with several paths get a small record holding the candidates and the selection.

import { asPathLength, type PathAttributes } from '../wire/attributes.js';
import { AttributeTable, type InternedAttributes } from './attr-intern.js';
import { selectBest, type Candidate, type DecisionReason, type Origin } from './decision.js';
import { PrefixMap } from './prefix-map.js';

export interface PeerInfo {
  /** Stable id of the source: the peer address, or "local" for originated routes. */
  id: string;
  address: string;
  routerId: string;
  ebgp: boolean;
  local: boolean;
  /** An iBGP peer that is our route reflector client (RFC 4456). */
  rrClient?: boolean;
}

export const DEFAULT_LOCAL_PREF = 100;

/** One way to reach a prefix: who said it, under which ADD-PATH id, with which attributes. Shared and immutable. */
export class Path implements Candidate {
  /** Holders: prefixes that use this path plus outstanding acquire() calls. */
  refs = 0;
  readonly localPref: number;
  readonly asPathLength: number;
  readonly neighborAs?: number;
  readonly origin: Origin;
  readonly med: number;
  readonly ebgp: boolean;
  readonly local: boolean;
  readonly routerId: string;
  readonly clusterListLength: number;
  readonly peerAddress: string;

  constructor(readonly key: string, readonly source: PeerInfo, readonly pathId: number, readonly attrs: InternedAttributes) {
    const a = attrs.attrs;
    const firstSeq = a.asPath?.find((s) => s.type === 2 && s.asns.length);
    this.localPref = source.ebgp || source.local ? DEFAULT_LOCAL_PREF : a.localPref ?? DEFAULT_LOCAL_PREF;
    this.asPathLength = asPathLength(a.asPath);
    if (firstSeq) this.neighborAs = firstSeq.asns[0]!;
    this.origin = (a.origin ?? 2) as Origin;
    this.med = a.med ?? 0;
    this.ebgp = source.ebgp;
    this.local = source.local;
    this.routerId = a.originatorId ?? source.routerId;
    this.clusterListLength = a.clusterList?.length ?? 0;
    this.peerAddress = source.address;
  }

  /** Next hops as learned (IPv4 NEXT_HOP or the MP_REACH next hops). */
  get nextHops(): readonly string[] {
    return this.attrs.nextHops;
  }
}

export interface Selected {
  prefix: string;
  best: Path | undefined;
  multipath: readonly Path[];
  reason: DecisionReason | undefined;
}

/** A prefix with more than one candidate path. */
interface Multi {
  paths: Path[];
  best: Path;
  multipath: Path[];
  reason: DecisionReason;
}

type Slot = Path | Multi;

const bestOf = (s: Slot): Path => (s instanceof Path ? s : s.best);
const multipathOf = (s: Slot): readonly Path[] => (s instanceof Path ? [s] : s.multipath);

export class LocRib {
  private readonly entries = new PrefixMap<Slot>();
  private readonly paths = new Map<string, Path>();
  private readonly perSource = new Map<string, number>();
  readonly attributes = new AttributeTable();

  get prefixCount(): number {
    return this.entries.size;
  }

  /** Distinct shared Path objects (source × path id × attribute set). */
  get pathObjects(): number {
    return this.paths.size;
  }

  /**
   * The shared path for (source, path id, attributes, next hops), held for the caller until
   * release(). Intern once per UPDATE and use the result for all of its prefixes.
   */
  acquire(source: PeerInfo, pathId: number, attrs: PathAttributes, nextHops?: readonly string[]): Path {
    const ia = this.attributes.intern(attrs, nextHops);
    const key = `${source.id}|${pathId}|${ia.id}`;
    let p = this.paths.get(key);
    if (p) this.attributes.release(ia);
    else this.paths.set(key, (p = new Path(key, source, pathId, ia)));
    p.refs++;
    return p;
  }

  release(p: Path): void {
    if (--p.refs > 0) return;
    if (this.paths.get(p.key) === p) this.paths.delete(p.key);
    this.attributes.release(p.attrs);
  }

  private take(p: Path): void {
    p.refs++;
    this.perSource.set(p.source.id, (this.perSource.get(p.source.id) ?? 0) + 1);
  }

  private drop(p: Path): void {
    const n = (this.perSource.get(p.source.id) ?? 1) - 1;
    if (n) this.perSource.set(p.source.id, n);
    else this.perSource.delete(p.source.id);
    this.release(p);
  }

  /** Adds the path for the prefix, replacing the one with the same source and path id. True if the selection changed. */
  upsert(prefix: string, path: Path): boolean {
    const slot = this.entries.get(prefix);
    if (!slot) {
      this.take(path);
      this.entries.set(prefix, path);
      return true;
    }
    if (slot instanceof Path) {
      if (slot === path) return false;
      this.take(path);
      if (slot.source.id === path.source.id && slot.pathId === path.pathId) {
        this.entries.set(prefix, path);
        this.drop(slot);
        return true;
      }
      const m = { paths: [slot, path], best: slot, multipath: [slot], reason: 'equal' as DecisionReason };
      this.entries.set(prefix, m);
      return this.reselect(m, slot, [slot]);
    }
    const i = slot.paths.findIndex((p) => p.source.id === path.source.id && p.pathId === path.pathId);
    if (i >= 0 && slot.paths[i] === path) return false;
    this.take(path);
    const before = { best: slot.best, multipath: slot.multipath };
    if (i >= 0) {
      this.drop(slot.paths[i]!);
      slot.paths[i] = path;
    } else {
      slot.paths.push(path);
    }
    return this.reselect(slot, before.best, before.multipath);
  }

  /** Removes one path. True if the selection changed (including the prefix disappearing). */
  withdraw(prefix: string, sourceId: string, pathId = 0): boolean {
    const slot = this.entries.get(prefix);
    if (!slot) return false;
    if (slot instanceof Path) {
      if (slot.source.id !== sourceId || slot.pathId !== pathId) return false;
      this.entries.delete(prefix);
      this.drop(slot);
      return true;
    }
    const i = slot.paths.findIndex((p) => p.source.id === sourceId && p.pathId === pathId);
    if (i < 0) return false;
    const [gone] = slot.paths.splice(i, 1);
    this.drop(gone!);
    return this.afterRemoval(prefix, slot);
  }

  private afterRemoval(prefix: string, slot: Multi): boolean {
    const before = { best: slot.best, multipath: slot.multipath };
    if (slot.paths.length === 1) {
      const only = slot.paths[0]!;
      this.entries.set(prefix, only);
      return !(before.best === only && before.multipath.length === 1);
    }
    return this.reselect(slot, before.best, before.multipath);
  }

  /** Removes everything a source contributed (session down); `changed` is called per prefix whose selection changed. */
  removeSource(sourceId: string, changed: (prefix: string) => void, only?: (prefix: string) => boolean): number {
    if (!this.perSource.has(sourceId)) return 0;
    let removed = 0;
    for (const [prefix, slot] of this.entries) {
      if (only && !only(prefix)) continue;
      if (slot instanceof Path) {
        if (slot.source.id !== sourceId) continue;
        this.entries.delete(prefix);
        this.drop(slot);
        removed++;
        changed(prefix);
        continue;
      }
      const keep = slot.paths.filter((p) => p.source.id !== sourceId);
      if (keep.length === slot.paths.length) continue;
      for (const p of slot.paths) if (p.source.id === sourceId) { this.drop(p); removed++; }
      slot.paths = keep;
      if (!keep.length) {
        this.entries.delete(prefix);
        changed(prefix);
      } else if (this.afterRemoval(prefix, slot)) {
        changed(prefix);
      }
    }
    if (!only) this.perSource.delete(sourceId);
    return removed;
  }

  /**
   * Moves every path of `fromId` to `to` (graceful restart keeps a restarting peer's routes
   * under a separate "stale" source), dropping those whose prefix `keep` rejects. The moved
   * paths have the same attributes, so selections do not change; `changed` hears of prefixes
   * that lost a path. With `only`, prefixes it rejects are left as they are (route refresh moves
   * one family). Returns how many paths moved.
   */
  moveSource(fromId: string, to: PeerInfo, keep: (prefix: string) => boolean, changed: (prefix: string) => void, only?: (prefix: string) => boolean): number {
    if (!this.perSource.has(fromId)) return 0;
    const moved = new Map<Path, Path>();
    const renamed = (p: Path): Path => {
      let n = moved.get(p);
      if (!n) {
        n = this.acquire(to, p.pathId, p.attrs.attrs, p.attrs.nextHops);
        moved.set(p, n);
      }
      return n;
    };
    let count = 0;
    for (const [prefix, slot] of this.entries) {
      if (only && !only(prefix)) continue;
      const paths = slot instanceof Path ? [slot] : slot.paths;
      if (!paths.some((p) => p.source.id === fromId)) continue;
      if (!keep(prefix)) {
        for (const p of paths.filter((x) => x.source.id === fromId)) {
          if (this.withdraw(prefix, fromId, p.pathId)) changed(prefix);
        }
        continue;
      }
      if (slot instanceof Path) {
        const n = renamed(slot);
        this.take(n);
        this.entries.set(prefix, n);
        this.drop(slot);
      } else {
        const before = { best: slot.best, multipath: slot.multipath };
        slot.paths = slot.paths.map((p) => {
          if (p.source.id !== fromId) return p;
          const n = renamed(p);
          this.take(n);
          this.drop(p);
          return n;
        });
        this.reselect(slot, before.best, before.multipath);
      }
      count++;
    }
    for (const n of moved.values()) this.release(n);
    return count;
  }

  /** Every candidate path of a prefix, the best first (ADD-PATH sends several). */
  candidates(prefix: string): readonly Path[] {
    const s = this.entries.get(prefix);
    if (!s) return [];
    if (s instanceof Path) return [s];
    return [s.best, ...s.paths.filter((p) => p !== s.best)];
  }

  best(prefix: string): Path | undefined {
    const s = this.entries.get(prefix);
    return s && bestOf(s);
  }

  selected(prefix: string): Selected | undefined {
    const s = this.entries.get(prefix);
    if (!s) return undefined;
    return s instanceof Path ? { prefix, best: s, multipath: [s], reason: 'equal' } : { prefix, best: s.best, multipath: s.multipath, reason: s.reason };
  }

  /** Every prefix with its selection and candidates. */
  *all(): IterableIterator<Selected & { paths: readonly Path[] }> {
    for (const [prefix, s] of this.entries) {
      if (s instanceof Path) yield { prefix, best: s, multipath: [s], reason: 'equal', paths: [s] };
      else yield { prefix, best: s.best, multipath: s.multipath, reason: s.reason, paths: s.paths };
    }
  }

  /** Prefixes with their best path and multipath set, without building a record per prefix. */
  *selections(): IterableIterator<[prefix: string, best: Path, multipath: readonly Path[]]> {
    for (const [prefix, s] of this.entries) yield [prefix, bestOf(s), multipathOf(s)];
  }

  /** Paths a source currently holds. */
  countFrom(sourceId: string): number {
    return this.perSource.get(sourceId) ?? 0;
  }

  private reselect(m: Multi, oldBest: Path, oldMultipath: readonly Path[]): boolean {
    const sel = selectBest(m.paths)!;
    m.best = sel.best;
    m.multipath = sel.multipath;
    m.reason = sel.reason;
    return !(sel.best === oldBest && sel.multipath.length === oldMultipath.length && sel.multipath.every((p, i) => p === oldMultipath[i]));
  }
}

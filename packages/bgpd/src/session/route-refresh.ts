// Route refresh (RFC 2918) with enhanced route refresh (RFC 7313), receiving side: between a
// peer's BoRR and EoRR for a family, its routes of that family are kept as "refresh-stale" under
// a separate source; whatever the peer re-sends replaces them, and what it did not re-send by
// EoRR is removed. The routes stay usable throughout, so forwarding never stops.

import type { LocRib, PeerInfo } from '../rib/loc-rib.js';
import type { Prefix } from '../wire/nlri.js';
import { familyOf } from './graceful-restart.js';
import type { Negotiated } from './negotiate.js';

/** "afi/safi" key of a ROUTE-REFRESH message's family. */
export const familyKey = (afi: number, safi: number): string => `${afi}/${safi}`;

/** The families (as [afi, safi]) a refresh may be asked for on this session. */
export function refreshFamilies(n: Negotiated): [number, number][] {
  return [...(n.ipv4 ? [[1, 1] as [number, number]] : []), ...(n.ipv6 ? [[2, 1] as [number, number]] : [])];
}

/** RFC 7313 §4: an optional bound on how long refresh-stale routes wait for EoRR. */
export const REFRESH_STALE_MS = 300_000;

interface Pending {
  families: Set<string>;
  timer: NodeJS.Timeout;
}

export class InboundRefresh {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly rib: LocRib, private readonly changed: (prefix: string) => void, private readonly onExpire: (addr: string, family: string) => void = () => undefined) {}

  static sourceId(addr: string): string {
    return `${addr}#refresh`;
  }

  /** Is a refresh of `addr` under way (its updates must replace refresh-stale routes)? */
  active(addr: string): boolean {
    return this.pending.has(addr);
  }

  /** BoRR: the peer's current routes of `family` become refresh-stale. Returns how many. */
  begin(addr: string, source: PeerInfo, family: string): number {
    let p = this.pending.get(addr);
    if (p?.families.has(family)) {
      // A second BoRR without EoRR (RFC 7313 §4): what is stale stays stale, start over.
      clearTimeout(p.timer);
    }
    if (!p) {
      p = { families: new Set(), timer: undefined as unknown as NodeJS.Timeout };
      this.pending.set(addr, p);
    }
    p.families.add(family);
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      for (const f of [...(this.pending.get(addr)?.families ?? [])]) {
        this.onExpire(addr, f);
        this.end(addr, f);
      }
    }, REFRESH_STALE_MS);
    p.timer.unref?.();
    const inFamily = (prefix: string) => familyOf(prefix) === family;
    return this.rib.moveSource(addr, { ...source, id: InboundRefresh.sourceId(addr) }, () => true, this.changed, inFamily);
  }

  /** The peer re-sent (or withdrew) these prefixes: their refresh-stale routes go. */
  replaced(addr: string, prefixes: Iterable<Prefix>): void {
    if (!this.pending.has(addr)) return;
    const id = InboundRefresh.sourceId(addr);
    for (const p of prefixes) if (this.rib.withdraw(p.prefix, id, p.pathId ?? 0)) this.changed(p.prefix);
  }

  /** EoRR: what was not re-sent is gone. Returns how many routes were removed. */
  end(addr: string, family: string): number {
    const p = this.pending.get(addr);
    if (!p?.families.has(family)) return 0;
    p.families.delete(family);
    const n = this.rib.removeSource(InboundRefresh.sourceId(addr), this.changed, (prefix) => familyOf(prefix) === family);
    if (!p.families.size) {
      clearTimeout(p.timer);
      this.pending.delete(addr);
    }
    return n;
  }

  /** Ends a refresh without removing anything: refresh-stale routes become the peer's again. */
  restore(addr: string, source: PeerInfo): number {
    const p = this.pending.get(addr);
    if (!p) return 0;
    clearTimeout(p.timer);
    this.pending.delete(addr);
    return this.rib.moveSource(InboundRefresh.sourceId(addr), source, () => true, this.changed);
  }

  /** The session ended: refresh-stale routes go with the peer's others. */
  drop(addr: string): void {
    const p = this.pending.get(addr);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(addr);
    this.rib.removeSource(InboundRefresh.sourceId(addr), this.changed);
  }

  stop(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
  }
}

// The speaker owns all BGP state: peers, the Loc-RIB, what each peer has been sent, originated
// prefixes and the kernel export. Peer events, config reloads and control requests all enter
// through its methods, so state changes in one place only.

import { createServer, type Server, type Socket } from 'node:net';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { RouteTable, ipJson, parseCidrOrIpLoose, type NextHop, type Route } from '@tabby/linux';
import type { Logger } from '@tabby/log';
import type { BgpdConfig, KernelConfig, KernelRouteRule, PeerConfig } from './config/schema.js';
import { Peer, type PeerCounters, type PeerHooks } from './session/peer.js';
import { LocRib, type Path, type PeerInfo } from './rib/loc-rib.js';
import { PrefixMap, PrefixSet } from './rib/prefix-map.js';
import { attributesKey } from './rib/attr-intern.js';
import { buildUpdates, encodeEndOfRib, endOfRibFamily, type Announcement, type UpdateMessage } from './wire/update.js';
import { familyOf, gracefulDown, sessionFamilies } from './session/graceful-restart.js';
import type { Negotiated } from './session/negotiate.js';
import type { PathAttributes } from './wire/attributes.js';
import type { Prefix } from './wire/nlri.js';
import type { DownReason } from './session/fsm.js';
import { BfdManager, bfdPeers, type BfdSessionStatus } from './bfd/manager.js';
import type { BfdState } from './bfd/packet.js';
import { InboundRefresh, familyKey, refreshFamilies } from './session/route-refresh.js';
import { RouteRefreshSubtype, encodeRouteRefresh } from './wire/route-refresh.js';
import { effectiveRules, evaluateFilters, type FilterDirection } from './policy/filters.js';
import { parseCommunities, wellKnownStops } from './policy/communities.js';

/** A peer's config without `bfd`: BFD timer changes do not reset the BGP session. */
const withoutBfd = (p: PeerConfig | undefined) => JSON.stringify(p && { ...p, bfd: undefined, filters: undefined });
import { ListenerOptions } from './session/tcp-md5.js';

const LOCAL_SOURCE: Omit<PeerInfo, 'routerId'> = { id: 'local', address: '0.0.0.0', ebgp: false, local: true };

/** Prefixes handled per turn of the event loop when sending to peers or the kernel. */
const BATCH = 4000;

const nextTurn = () => new Promise<void>((res) => setImmediate(res));

/** The kernel table is re-read and repaired this often, besides after every failure. */
const KERNEL_RESYNC_MS = 60_000;

/** IPv6 link-local (fe80::/10): the kernel needs the interface as well as the address. */
const isLinkLocal = (a: string) => /^fe[89ab][0-9a-f]?:/i.test(a);

/** Kernel route rules, most specific first, with their prefixes parsed once. */
interface ParsedRule {
  family: 4 | 6;
  addr: bigint;
  len: number;
  rule: KernelRouteRule;
}

function parseRules(rules: readonly KernelRouteRule[]): ParsedRule[] {
  return rules
    .map((rule) => ({ ...parseCidrOrIpLoose(rule.prefix)!, rule }))
    .sort((a, b) => b.len - a.len);
}

/** The most specific rule whose prefix contains `prefix`. */
function ruleFor(rules: readonly ParsedRule[], prefix: string): KernelRouteRule | undefined {
  if (!rules.length) return undefined;
  const c = parseCidrOrIpLoose(prefix);
  if (!c) return undefined;
  const bits = c.family === 4 ? 32 : 128;
  for (const r of rules) {
    if (r.family !== c.family || r.len > c.len) continue;
    const shift = BigInt(bits - r.len);
    if (c.addr >> shift === r.addr >> shift) return r.rule;
  }
  return undefined;
}

export interface SpeakerOptions {
  log: Logger;
  /** Network namespace for kernel routes (tests); default: the current one. */
  netns?: string;
}

/** An attribute set as sent to one peer, shared by every prefix sent with it. */
interface Exported {
  key: string;
  attrs: PathAttributes;
}

/** Adj-RIB-Out of one established peer. */
interface PeerOut {
  /** prefix -> what was last sent (absent = not advertised). */
  advertised: PrefixMap<Exported>;
  /** Distinct exported attribute sets, so that identical exports share one object. */
  exports: Map<string, Exported>;
  /** What a Loc-RIB path becomes for this peer (null = not sent), per family; weak so dead paths go. */
  cache4: WeakMap<Path, Exported | null>;
  cache6: WeakMap<Path, Exported | null>;
  /** A walk over the whole Loc-RIB still to be sent (after Established or a route refresh). */
  full: IterableIterator<[string, Path, readonly Path[]]> | undefined;
  /** End-of-RIB is owed once the first full walk is done. */
  eorPending: boolean;
  /** The walk in `full` resends prefixes even when unchanged (a route refresh asked for them). */
  force: boolean;
  /** The families the walk in `full` covers ("afi/safi"); undefined: all of them. */
  walkFamilies?: Set<string>;
  /** Families owed an EoRR (RFC 7313) once the walk in `full` is done. */
  eorr: Set<string>;
  /** ADD-PATH send (RFC 7911): prefix -> path identifier -> what was sent with it. */
  multi?: PrefixMap<Map<number, Exported>>;
}

export class Speaker {
  private cfg: BgpdConfig;
  private readonly peers = new Map<string, Peer>();
  private readonly out = new Map<string, PeerOut>();
  /** The source record of each established peer (one object per session, shared by its paths). */
  private readonly sources = new Map<string, PeerInfo>();
  /** Peers in graceful restart: their routes kept under a separate stale source until End-of-RIB. */
  private readonly stale = new Map<string, { sourceId: string; families: Set<string>; timer: NodeJS.Timeout | undefined }>();
  /**
   * Our own graceful restart: kernel routes from before the restart are left alone until every
   * graceful-restart peer has sent End-of-RIB (or the longest restart time has passed).
   */
  private restarting: { waiting: Map<string, Set<string> | undefined>; timer: NodeJS.Timeout } | undefined;
  /** The interface each established session runs over (for link-local next hops). */
  private readonly devices = new Map<string, string>();
  /** BFD sessions of the peers with `bfd` enabled (created on first use). */
  private bfd: BfdManager | undefined;
  private readonly rib = new LocRib();
  private server: Server | undefined;
  /** TCP MD5 keys and GTSM TTL on the listening socket. */
  private listenerOptions: ListenerOptions | undefined;
  /** Peers already warned that they near their maxPrefixes limit (this session). */
  private readonly prefixWarned = new Set<string>();
  /** Prefixes whose selection changed and that peers have not been told about yet. */
  private outDirty = new PrefixSet();
  private flushWalk: IterableIterator<string> | undefined;
  private flushRunning = false;
  private kernel: RouteTable | undefined;
  private kernelDirty = new PrefixSet();
  private kernelQueued = false;
  private kernelRules: ParsedRule[] = [];
  private kernelTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  /** Event-loop delay: keepalives must keep flowing while big tables are ingested. */
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor(cfg: BgpdConfig, private readonly opts: SpeakerOptions) {
    this.cfg = cfg;
    this.log = opts.log;
  }

  async start(): Promise<void> {
    this.loopDelay.enable();
    this.setupKernel();
    await this.detectOwnRestart();
    if (this.cfg.listen) await this.listen(this.cfg.listen.address, this.cfg.listen.port);
    this.applyOriginated();
    for (const pc of this.cfg.peers) this.addPeer(pc);
    this.syncBfd();
  }

  /**
   * A previous instance that stopped for a graceful restart left its kernel routes in place:
   * keep them (and tell graceful-restart peers we restarted) until the peers have resent their
   * tables, so forwarding never stops.
   */
  private async detectOwnRestart(): Promise<void> {
    const grPeers = this.cfg.peers.filter((p) => p.gracefulRestart.enabled);
    if (!this.kernel || !grPeers.length) return;
    let kept = 0;
    try {
      kept = (await this.kernel.readKernel()).length;
    } catch (e) {
      this.log.warn('cannot read the kernel routes left by a previous run', { error: (e as Error).message });
    }
    if (!kept) return;
    const wait = Math.max(...grPeers.map((p) => p.gracefulRestart.restartTime)) * 1000;
    this.restarting = {
      waiting: new Map(grPeers.map((p) => [p.address, undefined])),
      timer: setTimeout(() => this.endOwnRestart('restart time passed'), wait),
    };
    this.log.info('graceful restart: keeping the kernel routes of the previous run until peers resend their routes', { routes: kept, peers: grPeers.length, maxWaitSeconds: wait / 1000 });
  }

  private endOwnRestart(why: string): void {
    if (!this.restarting) return;
    clearTimeout(this.restarting.timer);
    this.restarting = undefined;
    for (const p of this.peers.values()) p.restarting = false;
    this.log.info('graceful restart complete: syncing the kernel', { why });
    this.kernel?.queueResync();
    this.queueKernel();
  }

  /** End-of-RIB from `addr` for `family` (ends our own restart once every peer sent all of theirs). */
  private endOfRibFrom(addr: string, family: string): void {
    const st = this.stale.get(addr);
    if (st?.families.has(family)) this.flushStale(addr, `End-of-RIB for ${family}`, family);
    const r = this.restarting;
    const waiting = r?.waiting.get(addr);
    if (!r || !waiting) return;
    waiting.delete(family);
    if (!waiting.size) r.waiting.delete(addr);
    if (!r.waiting.size) this.endOwnRestart('End-of-RIB from every graceful-restart peer');
  }

  /** The peer restarts: its routes stay (stale) for its restart time, or until its End-of-RIB. */
  private keepStale(addr: string, n: Negotiated): void {
    const gr = n.gracefulRestart!;
    const source = this.sources.get(addr);
    if (!source) return;
    const prev = this.stale.get(addr);
    if (prev) {
      // Down again before it finished: what it had not resent is gone for good.
      clearTimeout(prev.timer);
      this.dropSource(prev.sourceId);
    }
    const sourceId = `${addr}#stale`;
    const families = new Set(gr.families.filter((f) => sessionFamilies(n).includes(f)));
    const kept = this.rib.moveSource(addr, { ...source, id: sourceId }, (prefix) => families.has(familyOf(prefix)), (p) => this.changed(p));
    const timer = setTimeout(() => this.flushStale(addr, 'restart time expired'), gr.restartTime * 1000);
    this.stale.set(addr, { sourceId, families, timer });
    this.log.info('peer restarting: keeping its routes as stale', { peer: addr, routes: kept, restartTime: gr.restartTime, families: [...families] });
  }

  /** Drops a restarting peer's stale routes (one family, or all). */
  private flushStale(addr: string, why: string, family?: string): void {
    const st = this.stale.get(addr);
    if (!st) return;
    const n = this.rib.removeSource(st.sourceId, (p) => this.changed(p), family ? (prefix) => familyOf(prefix) === family : undefined);
    if (family) st.families.delete(family);
    else st.families.clear();
    this.log.info('stale routes flushed', { peer: addr, why, routes: n, ...(family ? { family } : {}) });
    if (st.families.size) return;
    clearTimeout(st.timer);
    this.rib.removeSource(st.sourceId, (p) => this.changed(p));
    this.stale.delete(addr);
  }

  /** The restarting peer is back: families it did not keep forwarding for go now; the rest wait for End-of-RIB. */
  private peerBack(peer: Peer): void {
    const st = this.stale.get(peer.address);
    if (!st) return;
    clearTimeout(st.timer);
    st.timer = undefined;
    const n = peer.negotiated;
    for (const f of [...st.families]) {
      if (!n?.gracefulRestart?.forwarding.includes(f) || !sessionFamilies(n).includes(f)) this.flushStale(peer.address, 'forwarding state not kept', f);
    }
    const still = this.stale.get(peer.address);
    if (!still) return;
    // RFC 4724's stale-path timer: End-of-RIB must come within a bound.
    const bound = Math.max(120, n?.gracefulRestart?.restartTime ?? 120) * 1000;
    still.timer = setTimeout(() => this.flushStale(peer.address, 'no End-of-RIB in time'), bound);
  }

  /** Applies a new configuration, touching only peers whose settings changed. */
  reload(next: BgpdConfig): void {
    const identityChanged = next.routerId !== this.cfg.routerId || next.asNumber !== this.cfg.asNumber;
    const prevKernel = this.cfg.kernel;
    const old = new Map(this.cfg.peers.map((p) => [p.address, p]));
    const prevCfg = this.cfg;
    this.cfg = next;
    for (const [addr, peer] of [...this.peers]) {
      const pc = next.peers.find((p) => p.address === addr);
      if (!pc || identityChanged || withoutBfd(pc) !== withoutBfd(old.get(addr))) this.removePeer(peer);
    }
    for (const pc of next.peers) if (!this.peers.has(pc.address)) this.addPeer(pc);
    this.applyFilterChanges(prevCfg);
    this.syncBfd();
    this.applyListenerOptions();
    this.applyOriginated();
    if (JSON.stringify(prevKernel) !== JSON.stringify(next.kernel)) {
      void this.reconfigureKernel(prevKernel);
    } else if (this.kernel) {
      // A reload is also the operator's way to ask for the kernel to be re-read and repaired now.
      this.kernel.queueResync();
      this.queueKernel();
    }
  }

  /**
   * Stops the speaker. With `graceful` (a restart), graceful-restart peers are left without a
   * NOTIFICATION so they keep our routes, and our kernel routes stay for the next instance.
   */
  async stop(opts: { graceful?: boolean } = {}): Promise<void> {
    this.loopDelay.disable();
    // BFD first, with AdminDown, which peers must not take as a path failure (RFC 5882 §3.2).
    const bfd = this.bfd;
    this.bfd = undefined;
    await bfd?.stop();
    const keep = !!opts.graceful && this.cfg.peers.some((p) => p.gracefulRestart.enabled);
    for (const p of [...this.peers.values()]) {
      if (keep && p.cfg.gracefulRestart.enabled) {
        p.stopForRestart();
        this.peers.delete(p.address);
      } else {
        this.removePeer(p);
      }
    }
    for (const st of this.stale.values()) clearTimeout(st.timer);
    if (this.restarting) clearTimeout(this.restarting.timer);
    if (keep) {
      if (this.kernelTimer) clearInterval(this.kernelTimer);
      this.kernelTimer = undefined;
      await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
      this.server = undefined;
      this.kernel = undefined;
      await this.whenKernelIdle();
      this.log.info('stopped for a graceful restart: kernel routes kept');
      return;
    }
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
    this.server = undefined;
    if (this.kernelTimer) clearInterval(this.kernelTimer);
    this.kernelTimer = undefined;
    if (this.kernel) {
      this.kernelDirty.clear();
      const k = this.kernel;
      this.kernel = undefined;
      await this.whenKernelIdle();
      k.setRoutes([]);
      await k.apply();
    }
  }

  // ---- peers -------------------------------------------------------------------------

  private readonly hooks: PeerHooks = {
    onEstablished: (peer) => {
      this.sources.set(peer.address, {
        id: peer.address, address: peer.address, routerId: peer.negotiated?.peerId ?? peer.address, ebgp: !peer.ibgp, local: false,
        rrClient: peer.ibgp && peer.cfg.routeReflectorClient,
      });
      this.out.set(peer.address, {
        advertised: new PrefixMap(), exports: new Map(), cache4: new WeakMap(), cache6: new WeakMap(), full: this.rib.selections(), eorPending: true,
        force: false, eorr: new Set(),
      });
      this.queueFlush();
      if (this.kernel) void this.resolveDevice(peer.address);
      this.peerBack(peer);
      if (this.restarting?.waiting.has(peer.address) && peer.negotiated) {
        this.restarting.waiting.set(peer.address, new Set(peer.negotiated.gracefulRestart ? sessionFamilies(peer.negotiated) : []));
        if (!peer.negotiated.gracefulRestart) this.endOfRibFrom(peer.address, '');
      }
    },
    onDown: (peer, reason, wasEstablished, negotiated) => this.peerDown(peer, reason, wasEstablished, negotiated),
    onUpdate: (peer, u) => this.ingest(peer, u),
    onRouteRefresh: (peer, afi, safi, subtype) => this.routeRefresh(peer, afi, safi, subtype),
  };

  // ---- route refresh (RFC 2918 / RFC 7313) -------------------------------------------

  private readonly refreshIn = new InboundRefresh(this.rib, (p) => this.changed(p), (addr, family) => this.log.warn('no EoRR in time: dropping the routes the peer did not resend', { peer: addr, family }));

  private routeRefresh(peer: Peer, afi: number, safi: number, subtype: number): void {
    const n = peer.negotiated;
    const family = familyKey(afi, safi);
    if (!n || !refreshFamilies(n).some(([a, s]) => a === afi && s === safi)) {
      this.log.info('ignoring ROUTE-REFRESH for a family not negotiated', { peer: peer.address, family });
      return;
    }
    if (subtype === RouteRefreshSubtype.REQUEST) {
      this.log.info('peer asked for a route refresh', { peer: peer.address, family });
      this.resendTo(peer, [family]);
      return;
    }
    // BoRR/EoRR only mean something when enhanced route refresh was negotiated; other subtypes are ignored (RFC 7313 §5).
    if (!n.enhancedRouteRefresh) return;
    const source = this.sources.get(peer.address);
    if (subtype === RouteRefreshSubtype.BORR && source) {
      const n = this.refreshIn.begin(peer.address, source, family);
      this.log.info('peer begins a route refresh (BoRR)', { peer: peer.address, family, routes: n });
    } else if (subtype === RouteRefreshSubtype.EORR) {
      const n = this.refreshIn.end(peer.address, family);
      this.log.info('peer ended a route refresh (EoRR)', { peer: peer.address, family, removed: n });
    }
  }

  /** Sends `peer` everything we export to it for these families again (framed by BoRR/EoRR when negotiated). */
  private resendTo(peer: Peer, families: readonly string[]): void {
    const po = this.out.get(peer.address);
    if (!po || !peer.negotiated) return;
    const fams = new Set(families);
    // A walk still running (the first one, another refresh, an export filter change) is restarted
    // over its families and these together, so that no family it still owed is lost.
    const running = po.full ? po.walkFamilies ?? 'all' : undefined;
    if (po.eorPending || running === 'all') {
      po.full = this.rib.selections();
      po.walkFamilies = undefined;
    } else {
      const walk = new Set([...(running ?? []), ...fams]);
      po.full = (function* (all: IterableIterator<[string, Path, readonly Path[]]>) {
        for (const e of all) if (walk.has(familyOf(e[0]))) yield e;
      })(this.rib.selections());
      po.walkFamilies = walk;
    }
    po.force = true;
    if (peer.negotiated.enhancedRouteRefresh) {
      for (const f of fams) {
        const [afi, safi] = f.split('/').map(Number) as [number, number];
        peer.send(encodeRouteRefresh(afi, safi, RouteRefreshSubtype.BORR));
        po.eorr.add(f);
      }
    }
    this.queueFlush();
  }

  /**
   * Route refresh by hand (control socket `refresh`): `in` asks the peers to resend their routes,
   * `out` resends ours. Returns the addresses of the established peers it applied to.
   */
  refresh(direction: 'in' | 'out', address?: string): string[] {
    if (address !== undefined && !this.peers.has(address)) throw new Error(`no peer ${address}`);
    const done: string[] = [];
    for (const peer of this.peers.values()) {
      if ((address !== undefined && peer.address !== address) || !peer.established || !peer.negotiated) continue;
      if (direction === 'out') {
        this.resendTo(peer, refreshFamilies(peer.negotiated).map(([a, s]) => familyKey(a, s)));
        done.push(peer.address);
      } else if (peer.requestRefresh(refreshFamilies(peer.negotiated))) {
        done.push(peer.address);
      }
    }
    return done;
  }

  /** Each peer's filter names in the current config (rebuilt when the config object changes). */
  private filterNames: { cfg: BgpdConfig; byPeer: Map<string, string[] | undefined> } | undefined;

  /** The decision of a peer's filters for a route (undefined: no rule matched). */
  private filterVerdict(peer: Peer, direction: FilterDirection, prefix: string, remote: boolean, attrs: PathAttributes) {
    if (!this.cfg.filters) return undefined;
    // The current config's list (a reload changing only `filters` keeps the session and its cfg).
    if (this.filterNames?.cfg !== this.cfg) this.filterNames = { cfg: this.cfg, byPeer: new Map(this.cfg.peers.map((p) => [p.address, p.filters])) };
    const names = this.filterNames.byPeer.get(peer.address);
    if (!names?.length) return undefined;
    return evaluateFilters(this.cfg.filters, names, direction, {
      prefix, remote, ibgp: peer.ibgp,
      ...(attrs.communities ? { communities: attrs.communities } : {}),
      ...(attrs.largeCommunities ? { largeCommunities: attrs.largeCommunities } : {}),
    });
  }

  /**
   * After a reload, peers whose filters changed: new import rules need the peer's routes again
   * (a route refresh, or a session reset when the peer cannot refresh); new export rules are
   * applied by walking the Loc-RIB again.
   */
  private applyFilterChanges(prev: BgpdConfig): void {
    const rules = (cfg: BgpdConfig, addr: string, d: FilterDirection) => {
      const pc = cfg.peers.find((p) => p.address === addr);
      return effectiveRules(cfg.filters ?? {}, pc?.filters ?? [], d);
    };
    for (const peer of [...this.peers.values()]) {
      if (!peer.established || !peer.negotiated) continue;
      const addr = peer.address;
      if (rules(prev, addr, 'export') !== rules(this.cfg, addr, 'export')) {
        const po = this.out.get(addr);
        if (po) {
          po.full = this.rib.selections();
          po.walkFamilies = undefined;
          this.queueFlush();
        }
      }
      if (rules(prev, addr, 'import') !== rules(this.cfg, addr, 'import')) {
        if (!peer.requestRefresh(refreshFamilies(peer.negotiated))) {
          this.log.warn('import filters changed and the peer cannot refresh: resetting the session', { peer: addr });
          const pc = this.cfg.peers.find((p) => p.address === addr) ?? peer.cfg;
          this.removePeer(peer);
          this.addPeer(pc);
        }
      }
    }
  }

  /** Starts, changes and stops BFD sessions to match the peers' `bfd` settings. */
  private syncBfd(): void {
    const want = bfdPeers(this.cfg.peers);
    if (!want.length && !this.bfd) return;
    this.bfd ??= new BfdManager({ log: this.log }, {
      up: (addr) => this.peers.get(addr)?.bfdUp(),
      down: (addr, why, adminDown) => {
        if (adminDown) this.log.info('BFD: the peer stopped BFD (AdminDown); the BGP session is kept', { peer: addr });
        else this.peers.get(addr)?.bfdDown(why);
      },
    });
    this.bfd.configure(want);
    // A peer no longer using BFD is no longer held down by it.
    for (const p of this.peers.values()) if (!want.some((w) => w.address === p.address)) p.bfdUp();
  }

  /** BFD sessions and the received packets dropped per reason (control socket `bfd`). */
  bfdStatus(): { sessions: BfdSessionStatus[]; drops: Record<string, number> } {
    return { sessions: this.bfd?.statusAll() ?? [], drops: { ...this.bfd?.drops } };
  }

  private addPeer(pc: PeerConfig): void {
    const families = { ipv4: true, ipv6: true };
    const peer = new Peer(pc, { routerId: this.cfg.routerId, asNumber: this.cfg.asNumber }, families, this.hooks, this.log);
    peer.restarting = !!this.restarting && pc.gracefulRestart.enabled;
    this.peers.set(pc.address, peer);
    peer.start();
  }

  private removePeer(peer: Peer): void {
    peer.stop();
    peer.destroy();
    this.peers.delete(peer.address);
    this.dropSource(peer.address);
    this.refreshIn.drop(peer.address);
    this.out.delete(peer.address);
    this.sources.delete(peer.address);
    this.devices.delete(peer.address);
    const st = this.stale.get(peer.address);
    if (st) {
      clearTimeout(st.timer);
      this.dropSource(st.sourceId);
      this.stale.delete(peer.address);
    }
    this.restarting?.waiting.delete(peer.address);
  }

  /**
   * Finds the interface the session to `address` leaves by, so that routes with a link-local
   * next hop from that peer can name it; re-derives that peer's kernel routes once known.
   */
  private async resolveDevice(address: string): Promise<void> {
    try {
      const rows = await ipJson<{ dev?: string }[]>(['route', 'get', address], this.opts.netns ? { netns: this.opts.netns } : {});
      const dev = rows[0]?.dev;
      if (!dev || this.devices.get(address) === dev || !this.sources.has(address)) return;
      this.devices.set(address, dev);
      if (!this.kernel) return;
      for (const [prefix, , multipath] of this.rib.selections()) {
        if (multipath.some((p) => p.source.id === address && p.nextHops.some(isLinkLocal))) this.kernelDirty.add(prefix);
      }
      this.queueKernel();
    } catch (e) {
      this.log.warn('cannot find the interface towards a peer; link-local next hops from it cannot be installed', { peer: address, error: (e as Error).message });
    }
  }

  private peerDown(peer: Peer, reason: DownReason, wasEstablished: boolean, negotiated: Negotiated | undefined): void {
    this.out.delete(peer.address);
    this.prefixWarned.delete(peer.address);
    if (wasEstablished && gracefulDown(reason, negotiated)) {
      // Routes waiting for EoRR are routes of the peer like the others: kept, stale, through its restart.
      const source = this.sources.get(peer.address);
      if (source) this.refreshIn.restore(peer.address, source);
      else this.refreshIn.drop(peer.address);
      this.keepStale(peer.address, negotiated!);
    } else {
      this.devices.delete(peer.address);
      this.refreshIn.drop(peer.address);
      if (wasEstablished) this.dropSource(peer.address);
    }
    this.sources.delete(peer.address);
  }

  private dropSource(id: string): void {
    this.rib.removeSource(id, (prefix) => this.changed(prefix));
  }

  private async listen(address: string, port: number): Promise<void> {
    const server = createServer((s) => this.incoming(s));
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen({ host: address, port }, () => res());
    });
    server.on('error', (e) => this.log.error('listener error', { error: e.message }));
    this.server = server;
    this.listenerOptions = new ListenerOptions(server);
    this.applyListenerOptions();
  }

  /**
   * Puts every peer's TCP MD5 password on the listening socket (removing those of peers gone or
   * changed), so the kernel accepts only signed connections from them, and sends the SYN-ACKs
   * with TTL 255 when a peer uses GTSM. Failures are logged naming the peer; those peers then
   * cannot connect to us (and our own connections to them fail with the same error).
   */
  private applyListenerOptions(): void {
    if (!this.listenerOptions) return;
    const keys = new Map<string, string>();
    for (const p of this.cfg.peers) if (p.password !== undefined) keys.set(p.address, p.password);
    const gtsm = this.cfg.peers.some((p) => p.ttlSecurity !== undefined);
    if (!keys.size && !gtsm && !this.listenerKeyed) return; // nothing to do: no bridge needed
    this.listenerKeyed = keys.size > 0;
    try {
      this.listenerOptions.apply(keys, gtsm);
    } catch (e) {
      this.log.error('cannot set TCP MD5 / GTSM options on the listening socket', { error: (e as Error).message });
    }
  }

  private listenerKeyed = false;

  private incoming(s: Socket): void {
    const remote = (s.remoteAddress ?? '').replace(/^::ffff:/, '');
    const peer = this.peers.get(remote);
    if (!peer || !peer.acceptIncoming(s)) {
      this.log.debug('refusing connection', { remote });
      s.destroy();
    }
  }

  // ---- routes in ---------------------------------------------------------------------

  /** A prefix's selection changed: peers and the kernel must hear of it. */
  private changed(prefix: string): void {
    this.outDirty.add(prefix);
    this.queueFlush();
    if (this.kernel) {
      this.kernelDirty.add(prefix);
      this.queueKernel();
    }
  }

  /**
   * A path of `prefix` came or went: peers hear of it when the selection changed, and ADD-PATH
   * receivers (which get more than the best path) whenever anything changed.
   */
  private pathsChanged(prefix: string, selectionChanged: boolean, addPathOut: boolean): void {
    if (selectionChanged) return this.changed(prefix);
    if (!addPathOut) return;
    this.outDirty.add(prefix);
    this.queueFlush();
  }

  /** Whether any established session negotiated ADD-PATH send (checked once per UPDATE). */
  private get addPathOut(): boolean {
    for (const [addr] of this.out) {
      const s = this.peers.get(addr)?.negotiated?.addPath?.send;
      if (s && (s[1] || s[2])) return true;
    }
    return false;
  }

  private ingest(peer: Peer, u: UpdateMessage): void {
    const source = this.sources.get(peer.address);
    if (!source) return;
    const eor = endOfRibFamily(u);
    if (eor) return this.endOfRibFrom(peer.address, `${eor.afi}/${eor.safi}`);
    const stale = this.stale.get(peer.address);
    if (stale) {
      // Whatever the restarted peer says about a prefix replaces its stale route.
      for (const p of [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? []), ...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])]) {
        if (this.rib.withdraw(p.prefix, stale.sourceId, p.pathId ?? 0)) this.changed(p.prefix);
      }
    }
    if (this.refreshIn.active(peer.address)) {
      // During an enhanced route refresh whatever the peer says replaces its refresh-stale route.
      this.refreshIn.replaced(peer.address, [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? []), ...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])]);
    }
    const addPathOut = this.addPathOut;
    const withdraw = (p: Prefix) => {
      this.pathsChanged(p.prefix, this.rib.withdraw(p.prefix, source.id, p.pathId ?? 0), addPathOut);
    };
    u.withdrawn.forEach(withdraw);
    u.attributes.mpUnreach?.withdrawn.forEach(withdraw);
    const { mpReach, mpUnreach: _u, nextHop, ...base } = u.attributes;
    if (!u.nlri.length && !mpReach?.nlri.length) return;
    // eBGP AS loop: a path that already contains our AS is not usable (treated as withdrawn);
    // iBGP reflection loops (RFC 4456 §8): our own ORIGINATOR_ID or CLUSTER_ID coming back.
    // `allowLocalAs` tolerates that many occurrences of our AS (global or per-peer local AS).
    const ourAs = [this.cfg.asNumber, peer.cfg.localAsNumber ?? this.cfg.asNumber];
    const ownAs = (base.asPath ?? []).reduce((n, s) => n + s.asns.filter((a) => ourAs.includes(a)).length, 0);
    const asLoop = source.ebgp && ownAs > peer.cfg.allowLocalAs;
    const rrLoop = !source.ebgp && (base.originatorId === this.cfg.routerId || !!base.clusterList?.includes(this.clusterId));
    if (asLoop || rrLoop) {
      u.nlri.forEach(withdraw);
      mpReach?.nlri.forEach(withdraw);
      return;
    }
    // One shared path per (path id, next hops) in this message, not one per prefix.
    const held: Path[] = [];
    const announce = (prefixes: readonly Prefix[], nextHops: readonly string[]) => {
      let pathId = -1;
      let path: Path | undefined;
      for (const p of prefixes) {
        if (this.filterVerdict(peer, 'import', p.prefix, true, base) === 'Reject') {
          withdraw(p);
          continue;
        }
        const id = p.pathId ?? 0;
        if (id !== pathId || !path) {
          pathId = id;
          path = this.rib.acquire(source, id, base, nextHops);
          held.push(path);
        }
        this.pathsChanged(p.prefix, this.rib.upsert(p.prefix, path), addPathOut);
      }
    };
    try {
      announce(u.nlri, nextHop ? [nextHop] : []);
      if (mpReach) announce(mpReach.nlri, mpReach.nextHops.slice(0, 1));
    } finally {
      for (const p of held) this.rib.release(p);
    }
    if (peer.cfg.maxPrefixes) {
      const afi = u.nlri.length ? 1 : (mpReach?.nlri[0]?.prefix.includes(':') ? 2 : 1);
      this.checkPrefixLimit(peer, source.id, peer.cfg.maxPrefixes, afi);
    }
  }

  /** `maxPrefixes`: warn near the limit, end the session past it (RFC 4486 Cease/1). */
  private checkPrefixLimit(peer: Peer, sourceId: string, max: { limit: number; warnPercent: number }, afi: number): void {
    const count = this.rib.countFrom(sourceId);
    if (count > max.limit) {
      this.prefixWarned.delete(peer.address);
      peer.prefixLimitExceeded(afi, 1, max.limit, count);
      return;
    }
    if (count * 100 >= max.limit * max.warnPercent && !this.prefixWarned.has(peer.address)) {
      this.prefixWarned.add(peer.address);
      this.log.warn('peer nears its maxPrefixes limit', { peer: peer.address, prefixes: count, limit: max.limit });
    }
  }

  // ---- origination ---------------------------------------------------------------------

  private originated = new Map<string, boolean>();
  /** The communities each originated prefix was announced with (text, as configured). */
  private originatedCommunities = new Map<string, string>();

  private applyOriginated(): void {
    const source: PeerInfo = { ...LOCAL_SOURCE, routerId: this.cfg.routerId };
    const want = new Map(this.cfg.originate.map((o) => [o.prefix, o.blackhole]));
    const comms = new Map(this.cfg.originate.map((o) => [o.prefix, JSON.stringify(o.communities ?? [])]));
    for (const prefix of this.originated.keys()) {
      if (!want.has(prefix) && this.rib.withdraw(prefix, source.id)) this.changed(prefix);
    }
    // One shared path per distinct community list.
    const paths = new Map<string, Path>();
    const pathFor = (key: string) => {
      let path = paths.get(key);
      if (!path) {
        const list = JSON.parse(key) as string[];
        const cs = parseCommunities(list, (_i, v, reason) => { throw new Error(`community ${String(v)}: ${reason}`); });
        path = this.rib.acquire(source, 0, {
          origin: 0, asPath: [],
          ...(cs.communities.length ? { communities: cs.communities } : {}),
          ...(cs.largeCommunities.length ? { largeCommunities: cs.largeCommunities } : {}),
        }, []);
        paths.set(key, path);
      }
      return path;
    };
    for (const [prefix, blackhole] of want) {
      const was = this.originated.get(prefix);
      const key = comms.get(prefix)!;
      if (was === undefined || this.originatedCommunities.get(prefix) !== key) {
        if (this.rib.upsert(prefix, pathFor(key))) this.changed(prefix);
      } else if (was !== blackhole && this.kernel) {
        this.kernelDirty.add(prefix);
      }
    }
    for (const p of paths.values()) this.rib.release(p);
    this.originated = want;
    this.originatedCommunities = comms;
    this.queueKernel();
  }

  // ---- routes out --------------------------------------------------------------------

  private queueFlush(): void {
    if (this.flushRunning) return;
    this.flushRunning = true;
    void this.runFlush();
  }

  /**
   * Sends what changed to every established peer, a batch of prefixes per turn of the event
   * loop so that keepalives and incoming messages are never held up by a big table.
   */
  private async runFlush(): Promise<void> {
    try {
      for (;;) {
        await nextTurn();
        let worked = false;
        if (!this.flushWalk && this.outDirty.size) {
          const set = this.outDirty;
          this.outDirty = new PrefixSet();
          this.flushWalk = set.keys();
        }
        if (this.flushWalk) {
          const batch: string[] = [];
          for (let r = this.flushWalk.next(); ; r = this.flushWalk.next()) {
            if (r.done) { this.flushWalk = undefined; break; }
            batch.push(r.value);
            if (batch.length >= BATCH) break;
          }
          for (const [addr, po] of this.out) {
            const peer = this.peers.get(addr);
            if (peer?.established && batch.length) this.sendTo(peer, po, batch);
          }
          worked = true;
        }
        for (const [addr, po] of this.out) {
          if (!po.full) continue;
          const peer = this.peers.get(addr);
          if (!peer?.established) continue;
          const batch: string[] = [];
          for (let r = po.full.next(); ; r = po.full.next()) {
            if (r.done) { po.full = undefined; break; }
            batch.push(r.value[0]);
            if (batch.length >= BATCH) break;
          }
          if (batch.length) this.sendTo(peer, po, batch, po.force);
          if (!po.full && po.eorPending) {
            po.eorPending = false;
            if (peer.negotiated?.ipv4 !== false) peer.send(encodeEndOfRib(1, 1));
            if (peer.negotiated?.ipv6) peer.send(encodeEndOfRib(2, 1));
          }
          if (!po.full) {
            po.force = false;
            for (const f of po.eorr) {
              const [afi, safi] = f.split('/').map(Number) as [number, number];
              peer.send(encodeRouteRefresh(afi, safi, RouteRefreshSubtype.EORR));
            }
            po.eorr.clear();
          }
          worked = true;
        }
        if (!worked) return;
      }
    } catch (e) {
      this.log.error('sending routes failed', { error: (e as Error).message });
    } finally {
      this.flushRunning = false;
      if (this.outDirty.size || [...this.out.values()].some((po) => po.full)) this.queueFlush();
    }
  }

  private get clusterId(): string {
    return this.cfg.clusterId ?? this.cfg.routerId;
  }

  /** We reflect routes when a cluster ID is configured or any peer is our client. */
  private get reflector(): boolean {
    return this.cfg.clusterId !== undefined || this.cfg.peers.some((p) => p.routeReflectorClient);
  }

  /** What `peer` should be told about `best` (undefined = nothing / withdraw). */
  private exportAttrs(peer: Peer, best: Path, v6: boolean): PathAttributes | undefined {
    if (best.source.address === peer.address) return undefined;
    // RFC 1997 well-known communities on learned routes: NO_ADVERTISE goes to no peer,
    // NO_EXPORT / NO_EXPORT_SUBCONFED to no eBGP peer (our own prefixes' communities are sent as configured).
    if (!best.source.local && wellKnownStops(best.attrs.attrs.communities, peer.ibgp)) return undefined;
    // iBGP-learned routes go to iBGP peers only by reflection (RFC 4456 §6): client routes to
    // everyone, non-client routes to clients; otherwise iBGP split horizon.
    let reflect = false;
    if (!best.source.local && !best.source.ebgp && peer.ibgp) {
      if (!this.reflector || !(best.source.rrClient || peer.cfg.routeReflectorClient)) return undefined;
      reflect = true;
    }
    if (peer.negotiated && !(v6 ? peer.negotiated.ipv6 : peer.negotiated.ipv4)) return undefined;
    const a = best.attrs.attrs;
    const localAs = peer.cfg.localAsNumber ?? this.cfg.asNumber;
    const self = peer.localAddress;
    if (v6 && !(self && self.includes(':'))) return undefined; // needs an IPv6 next hop of ours
    if (!v6 && !(self && !self.includes(':'))) return undefined;
    const out: PathAttributes = { origin: a.origin ?? 0 };
    // nextHop auto (RFC 4271): ourselves towards eBGP, unchanged towards iBGP; self/keep force it.
    // Our own routes get ours; so do link-local next hops with keep (only meaningful on their link).
    const learned = best.source.local ? undefined : best.nextHops[0];
    const mode = peer.cfg.nextHop;
    const nextHop = mode === 'self' ? self
      : mode === 'keep' ? (learned && !isLinkLocal(learned) ? learned : self)
      : peer.ibgp ? learned ?? self : self;
    if (peer.ibgp) {
      out.asPath = a.asPath ?? [];
      out.localPref = best.localPref;
      if (a.med !== undefined) out.med = a.med;
      out.nextHop = nextHop;
      if (reflect) {
        out.originatorId = a.originatorId ?? best.source.routerId;
        out.clusterList = [this.clusterId, ...(a.clusterList ?? [])];
      }
    } else {
      out.asPath = [{ type: 2, asns: [localAs] }, ...(a.asPath ?? [])];
      out.nextHop = nextHop;
    }
    if (a.communities) out.communities = a.communities;
    if (a.largeCommunities) out.largeCommunities = a.largeCommunities;
    if (a.unknown) out.unknown = a.unknown;
    return out;
  }

  private exportFor(peer: Peer, po: PeerOut, best: Path | undefined, v6: boolean): Exported | undefined {
    if (!best) return undefined;
    const cache = v6 ? po.cache6 : po.cache4;
    let ex = cache.get(best);
    if (ex === undefined) {
      const attrs = this.exportAttrs(peer, best, v6);
      if (attrs) {
        const key = attributesKey(attrs);
        ex = po.exports.get(key);
        if (!ex) po.exports.set(key, (ex = { key, attrs }));
      } else {
        ex = null;
      }
      cache.set(best, ex);
    }
    return ex ?? undefined;
  }

  /** Path identifiers we send under ADD-PATH: one per (source, its path id), stable for the process. */
  private readonly sendIds = new Map<string, number>();

  private sendIdOf(path: Path): number {
    const key = `${path.source.id}|${path.pathId}`;
    let id = this.sendIds.get(key);
    if (id === undefined) this.sendIds.set(key, (id = this.sendIds.size + 1));
    return id;
  }

  /**
   * ADD-PATH send: up to `maxPaths` exportable candidate paths of the prefix (the best first),
   * each under its own path identifier; paths no longer sent are withdrawn by identifier.
   */
  private addPathsFor(peer: Peer, po: PeerOut, prefix: string, v6: boolean, force: boolean, withdrawn: Prefix[], add: (ex: Exported, p: Prefix) => void): void {
    const max = peer.cfg.addPaths?.maxPaths ?? 1;
    const want = new Map<number, Exported>();
    for (const path of this.rib.candidates(prefix)) {
      if (want.size >= max) break;
      const ex = this.exportFor(peer, po, path, v6);
      if (!ex || this.filterVerdict(peer, 'export', prefix, !path.source.local, path.attrs.attrs) === 'Reject') continue;
      want.set(this.sendIdOf(path), ex);
    }
    po.multi ??= new PrefixMap();
    const prev = po.multi.get(prefix);
    for (const [id] of prev ?? []) if (!want.has(id)) withdrawn.push({ prefix, pathId: id });
    for (const [id, ex] of want) if (force || prev?.get(id) !== ex) add(ex, { prefix, pathId: id });
    if (want.size) {
      po.multi.set(prefix, want);
      po.advertised.set(prefix, want.values().next().value!);
    } else {
      po.multi.delete(prefix);
      po.advertised.delete(prefix);
    }
  }

  private sendTo(peer: Peer, po: PeerOut, prefixes: readonly string[], force = false): void {
    const withdrawn: Prefix[] = [];
    const groups = new Map<Exported, { v4: Prefix[]; v6: Prefix[] }>();
    const sendPaths = peer.negotiated?.addPath?.send;
    const add = (ex: Exported, p: Prefix) => {
      let g = groups.get(ex);
      if (!g) groups.set(ex, (g = { v4: [], v6: [] }));
      (p.prefix.includes(':') ? g.v6 : g.v4).push(p);
    };
    for (const prefix of prefixes) {
      const v6 = prefix.includes(':');
      if (sendPaths?.[v6 ? 2 : 1]) {
        this.addPathsFor(peer, po, prefix, v6, force, withdrawn, add);
        continue;
      }
      const best = this.rib.best(prefix);
      let ex = this.exportFor(peer, po, best, v6);
      if (ex && best && this.filterVerdict(peer, 'export', prefix, !best.source.local, best.attrs.attrs) === 'Reject') ex = undefined;
      const prev = po.advertised.get(prefix);
      if (ex === prev && !(force && ex)) continue;
      if (!ex) {
        withdrawn.push({ prefix });
        po.advertised.delete(prefix);
        continue;
      }
      po.advertised.set(prefix, ex);
      let g = groups.get(ex);
      if (!g) groups.set(ex, (g = { v4: [], v6: [] }));
      (v6 ? g.v6 : g.v4).push({ prefix });
    }
    const announcements: Announcement[] = [];
    for (const [ex, g] of groups) {
      if (g.v4.length) announcements.push({ attributes: ex.attrs, prefixes: g.v4 });
      if (g.v6.length) {
        const { nextHop, ...rest } = ex.attrs;
        announcements.push({ attributes: rest, prefixes: g.v6, ipv6NextHops: [nextHop!] });
      }
    }
    if (!withdrawn.length && !announcements.length) return;
    const ctx = { fourOctetAs: !!peer.negotiated?.fourOctetAs, maxLength: peer.negotiated?.extendedMessage ? 65535 : 4096, ...(sendPaths ? { addPath: sendPaths } : {}) };
    for (const m of buildUpdates(withdrawn, announcements, ctx)) peer.send(m, true);
  }

  // ---- kernel ------------------------------------------------------------------------

  private setupKernel(): void {
    this.kernelRules = parseRules(this.cfg.kernel.routes);
    if (!this.cfg.kernel.enabled) return;
    this.kernel = new RouteTable({ protocol: this.cfg.kernel.protocol, table: this.cfg.kernel.table, ...(this.opts.netns ? { netns: this.opts.netns } : {}) });
    this.kernelTimer ??= setInterval(() => {
      this.kernel?.queueResync();
      this.queueKernel();
    }, KERNEL_RESYNC_MS).unref();
  }

  private async whenKernelIdle(): Promise<void> {
    while (this.kernelBusy) await new Promise((r) => setTimeout(r, 10));
  }

  /** The kernel section changed on reload: move our routes to the new table/protocol and re-derive every route. */
  private async reconfigureKernel(prev: KernelConfig): Promise<void> {
    const old = this.kernel;
    const moved = !this.cfg.kernel.enabled || prev.protocol !== this.cfg.kernel.protocol || prev.table !== this.cfg.kernel.table;
    if (old && moved) {
      this.kernel = undefined;
      await this.whenKernelIdle();
      old.setRoutes([]);
      const r = await old.apply().catch((e: Error) => ({ failures: [{ command: ['(apply)'], error: e.message }] }));
      for (const f of r.failures) this.log.warn('removing old kernel routes failed', { command: f.command.join(' '), error: f.error });
    }
    if (!this.kernel) this.setupKernel();
    else this.kernelRules = parseRules(this.cfg.kernel.routes);
    if (!this.kernel) return;
    for (const [prefix] of this.rib.selections()) this.kernelDirty.add(prefix);
    for (const prefix of this.originated.keys()) this.kernelDirty.add(prefix);
    this.queueKernel();
  }

  private queueKernel(): void {
    if (!this.kernel || this.kernelQueued) return;
    this.kernelQueued = true;
    setTimeout(() => {
      this.kernelQueued = false;
      void this.syncKernel();
    }, 50);
  }

  private kernelBusy = false;

  /** The kernel route a prefix should have now (undefined = none of ours). */
  private kernelRoute(prefix: string): Route | undefined {
    const sel = this.rib.selected(prefix);
    if (!sel?.best) return undefined;
    if (sel.best.source.local) return this.originated.get(prefix) ? { dst: prefix, type: 'blackhole', nexthops: [] } : undefined;
    const rule = ruleFor(this.kernelRules, prefix);
    if (rule && !rule.install) return undefined;
    const hops: NextHop[] = [];
    const seen = new Set<string>();
    for (const p of sel.multipath) {
      for (const via of p.nextHops) {
        // A link-local next hop is only meaningful with the interface of the session it came over.
        const dev = rule?.device ?? (isLinkLocal(via) ? this.devices.get(p.source.address) : undefined);
        if (isLinkLocal(via) && !dev) continue;
        const key = `${via}%${dev ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        hops.push({ via, ...(dev ? { dev } : {}), ...(rule?.onlink ? { onlink: true } : {}) });
      }
    }
    return hops.length ? { dst: prefix, nexthops: hops } : undefined;
  }

  /** Applies the prefixes that changed since the last run (the route table diffs only those). */
  private async syncKernel(): Promise<void> {
    const kernel = this.kernel;
    if (!kernel || this.restarting) return; // after our own restart: wait for the peers' tables
    if (this.kernelBusy) {
      this.queueKernel();
      return;
    }
    this.kernelBusy = true;
    try {
      const dirty = this.kernelDirty;
      this.kernelDirty = new PrefixSet();
      let n = 0;
      for (const prefix of dirty) {
        const r = this.kernelRoute(prefix);
        if (r) kernel.upsert(r);
        else kernel.remove(prefix);
        if (++n % BATCH === 0) await nextTurn();
      }
      const r = await kernel.apply();
      for (const f of r.failures) this.log.warn('kernel route failed', { command: f.command.join(' '), error: f.error });
    } catch (e) {
      this.log.error('kernel sync failed', { error: (e as Error).message });
      kernel.queueResync();
    } finally {
      this.kernelBusy = false;
      if (this.kernelDirty.size) this.queueKernel();
    }
  }

  // ---- status ------------------------------------------------------------------------

  status(): PeerStatus[] {
    return [...this.peers.values()].map((p) => ({
      address: p.address,
      asNumber: p.cfg.asNumber,
      type: p.cfg.type,
      fsmState: p.state.name,
      state: p.established ? 'up' : p.state.autoStart ? 'start' : 'down',
      since: p.since.toISOString(),
      info: p.lastError,
      routerId: p.negotiated?.peerId ?? '',
      prefixesReceived: this.rib.countFrom(p.address),
      prefixesAdvertised: this.out.get(p.address)?.advertised.size ?? 0,
      ...(this.bfd?.status(p.address) ? { bfd: this.bfd.status(p.address)!.state } : {}),
    }));
  }

  stats(): SpeakerStats {
    return {
      prefixes: this.rib.prefixCount,
      attributeSets: this.rib.attributes.size,
      pathObjects: this.rib.pathObjects,
      eventLoopDelayMaxMs: this.loopDelay.max / 1e6,
      eventLoopDelayP99Ms: this.loopDelay.percentile(99) / 1e6,
      rssBytes: process.memoryUsage().rss,
    };
  }

  /** Message counters of every configured peer (cumulative over its sessions), for metrics. */
  peerCounters(): { address: string; counters: Readonly<PeerCounters> }[] {
    return [...this.peers.values()].map((p) => ({ address: p.address, counters: p.counters }));
  }

  resetStats(): void {
    this.loopDelay.reset();
  }

  routes(): { prefix: string; nextHops: string[]; from: string; reason: string }[] {
    return [...this.rib.all()].filter((s) => s.best).map((s) => ({
      prefix: s.prefix,
      nextHops: [...new Set(s.multipath.flatMap((p) => p.nextHops))],
      from: s.best!.source.id,
      reason: s.reason ?? '',
    }));
  }
}

export interface PeerStatus {
  address: string;
  asNumber: number;
  type: string;
  fsmState: string;
  /** BIRD-like protocol state: up, start, down. */
  state: 'up' | 'start' | 'down';
  since: string;
  info: string;
  routerId: string;
  prefixesReceived: number;
  prefixesAdvertised: number;
  /** State of the peer's BFD session, when BFD is enabled for it. */
  bfd?: BfdState;
}

export interface SpeakerStats {
  prefixes: number;
  attributeSets: number;
  /** Distinct shared paths (source × path id × attribute set). */
  pathObjects: number;
  /** Worst event-loop delay since start (or the last reset), in milliseconds. */
  eventLoopDelayMaxMs: number;
  eventLoopDelayP99Ms: number;
  rssBytes: number;
}

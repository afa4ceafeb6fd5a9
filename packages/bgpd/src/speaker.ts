// The speaker owns all BGP state: peers, the Loc-RIB, what each peer has been sent, originated
// prefixes and the kernel export. Peer events, config reloads and control requests all enter
// through its methods, so state changes in one place only.

import { createServer, type Server, type Socket } from 'node:net';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { RouteTable, type Route } from '@tabby/linux';
import type { Logger } from '@tabby/log';
import type { BgpdConfig, PeerConfig } from './config/schema.js';
import { Peer, type PeerHooks } from './session/peer.js';
import { AttributeTable } from './rib/attr-intern.js';
import { LocRib, candidateFields, type Path, type PeerInfo, type Selected } from './rib/loc-rib.js';
import { buildUpdates, encodeEndOfRib, type Announcement, type UpdateMessage } from './wire/update.js';
import type { PathAttributes } from './wire/attributes.js';
import type { Prefix } from './wire/nlri.js';
import type { DownReason } from './session/fsm.js';

const LOCAL_SOURCE: Omit<PeerInfo, 'routerId'> = { id: 'local', address: '0.0.0.0', ebgp: false, local: true };

export interface SpeakerOptions {
  log: Logger;
  /** Network namespace for kernel routes (tests); default: the current one. */
  netns?: string;
}

interface PeerOut {
  /** prefix -> attribute key last sent (undefined = not advertised). */
  advertised: Map<string, string>;
}

export class Speaker {
  private cfg: BgpdConfig;
  private readonly peers = new Map<string, Peer>();
  private readonly out = new Map<string, PeerOut>();
  private readonly rib = new LocRib();
  private readonly attrs = new AttributeTable();
  private server: Server | undefined;
  private readonly dirty = new Set<string>();
  private flushQueued = false;
  private kernel: RouteTable | undefined;
  private kernelQueued = false;
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
    if (this.cfg.listen) await this.listen(this.cfg.listen.address, this.cfg.listen.port);
    this.applyOriginated();
    for (const pc of this.cfg.peers) this.addPeer(pc);
  }

  /** Applies a new configuration, touching only peers whose settings changed. */
  reload(next: BgpdConfig): void {
    const identityChanged = next.routerId !== this.cfg.routerId || next.asNumber !== this.cfg.asNumber;
    const old = new Map(this.cfg.peers.map((p) => [p.address, p]));
    this.cfg = next;
    for (const [addr, peer] of [...this.peers]) {
      const pc = next.peers.find((p) => p.address === addr);
      if (!pc || identityChanged || JSON.stringify(pc) !== JSON.stringify(old.get(addr))) this.removePeer(peer);
    }
    for (const pc of next.peers) if (!this.peers.has(pc.address)) this.addPeer(pc);
    this.applyOriginated();
  }

  async stop(): Promise<void> {
    this.loopDelay.disable();
    for (const p of [...this.peers.values()]) this.removePeer(p);
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
    this.server = undefined;
    if (this.kernel) {
      this.kernel.setRoutes([]);
      await this.kernel.apply();
    }
  }

  // ---- peers -------------------------------------------------------------------------

  private readonly hooks: PeerHooks = {
    onEstablished: (peer) => {
      this.out.set(peer.address, { advertised: new Map() });
      for (const s of this.rib.all()) this.dirty.add(s.prefix);
      this.queueFlush(peer);
    },
    onDown: (peer, reason, wasEstablished) => this.peerDown(peer, reason, wasEstablished),
    onUpdate: (peer, u) => this.ingest(peer, u),
    onRouteRefresh: (peer) => {
      this.out.set(peer.address, { advertised: new Map() });
      for (const s of this.rib.all()) this.dirty.add(s.prefix);
      this.queueFlush();
    },
  };

  private addPeer(pc: PeerConfig): void {
    const families = { ipv4: true, ipv6: true };
    const peer = new Peer(pc, { routerId: this.cfg.routerId, asNumber: this.cfg.asNumber }, families, this.hooks, this.log);
    this.peers.set(pc.address, peer);
    peer.start();
  }

  private removePeer(peer: Peer): void {
    peer.stop();
    peer.destroy();
    this.peers.delete(peer.address);
    this.dropSource(peer.address);
    this.out.delete(peer.address);
  }

  private peerDown(peer: Peer, _reason: DownReason, wasEstablished: boolean): void {
    this.out.delete(peer.address);
    if (wasEstablished) this.dropSource(peer.address);
  }

  private dropSource(id: string): void {
    const { changes, removed } = this.rib.removeSource(id);
    for (const p of removed) this.attrs.release(p.attrs);
    this.onChanges(changes);
  }

  private async listen(address: string, port: number): Promise<void> {
    const server = createServer((s) => this.incoming(s));
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen({ host: address, port }, () => res());
    });
    server.on('error', (e) => this.log.error('listener error', { error: e.message }));
    this.server = server;
  }

  private incoming(s: Socket): void {
    const remote = (s.remoteAddress ?? '').replace(/^::ffff:/, '');
    const peer = this.peers.get(remote);
    if (!peer || !peer.acceptIncoming(s)) {
      this.log.debug('refusing connection', { remote });
      s.destroy();
    }
  }

  // ---- routes in ---------------------------------------------------------------------

  private sourceOf(peer: Peer): PeerInfo {
    return { id: peer.address, address: peer.address, routerId: peer.negotiated?.peerId ?? peer.address, ebgp: !peer.ibgp, local: false };
  }

  private makePath(prefix: Prefix, source: PeerInfo, a: PathAttributes, nextHops: string[]): Path {
    const attrs = this.attrs.intern(a);
    return { prefix: prefix.prefix, pathId: prefix.pathId ?? 0, source, attrs, nextHops, ...candidateFields(attrs, source) };
  }

  private ingest(peer: Peer, u: UpdateMessage): void {
    const source = this.sourceOf(peer);
    const changes: Selected[] = [];
    const withdraw = (p: Prefix) => {
      const r = this.rib.withdraw(source.id, p.prefix, p.pathId ?? 0);
      if (r.removed) this.attrs.release(r.removed.attrs);
      if (r.change) changes.push(r.change);
    };
    u.withdrawn.forEach(withdraw);
    u.attributes.mpUnreach?.withdrawn.forEach(withdraw);
    const { mpReach, mpUnreach: _u, ...base } = u.attributes;
    // eBGP AS loop: a path that already contains our AS is not usable (treated as withdrawn).
    const loop = source.ebgp && (base.asPath ?? []).some((s) => s.asns.includes(this.cfg.asNumber));
    const announce = (p: Prefix, nextHops: string[]) => {
      if (loop) return withdraw(p);
      const path = this.makePath(p, source, base, nextHops);
      const prev = this.rib.withdraw(source.id, p.prefix, p.pathId ?? 0);
      if (prev.removed) this.attrs.release(prev.removed.attrs);
      const c = this.rib.upsert(path) ?? prev.change;
      if (c) changes.push(c);
    };
    for (const p of u.nlri) announce(p, base.nextHop ? [base.nextHop] : []);
    for (const p of mpReach?.nlri ?? []) announce(p, mpReach!.nextHops.slice(0, 1));
    this.onChanges(changes);
  }

  // ---- origination ---------------------------------------------------------------------

  private originated = new Map<string, boolean>();

  private applyOriginated(): void {
    const source: PeerInfo = { ...LOCAL_SOURCE, routerId: this.cfg.routerId };
    const want = new Map(this.cfg.originate.map((o) => [o.prefix, o.blackhole]));
    const changes: Selected[] = [];
    for (const prefix of this.originated.keys()) {
      if (!want.has(prefix)) {
        const r = this.rib.withdraw(source.id, prefix);
        if (r.removed) this.attrs.release(r.removed.attrs);
        if (r.change) changes.push(r.change);
      }
    }
    for (const [prefix] of want) {
      if (this.originated.has(prefix)) continue;
      const c = this.rib.upsert(this.makePath({ prefix }, source, { origin: 0, asPath: [] }, []));
      if (c) changes.push(c);
    }
    this.originated = want;
    this.onChanges(changes);
    this.queueKernel();
  }

  // ---- routes out --------------------------------------------------------------------

  private onChanges(changes: Selected[]): void {
    if (!changes.length) return;
    for (const c of changes) this.dirty.add(c.prefix);
    this.queueFlush();
    this.queueKernel();
  }

  private queueFlush(_peer?: Peer): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  /** What `peer` should be told about `best` (undefined = nothing / withdraw). */
  private exportFor(peer: Peer, best: Path | undefined): PathAttributes | undefined {
    if (!best) return undefined;
    if (best.source.id === peer.address) return undefined;
    if (!best.source.local && !best.source.ebgp && peer.ibgp) return undefined; // iBGP split horizon
    const a = best.attrs.attrs;
    const localAs = peer.cfg.localAsNumber ?? this.cfg.asNumber;
    const self = peer.localAddress;
    const v6 = best.prefix.includes(':');
    if (v6 && !(self && self.includes(':'))) return undefined; // needs an IPv6 next hop of ours
    if (!v6 && !(self && !self.includes(':'))) return undefined;
    const out: PathAttributes = { origin: a.origin ?? 0 };
    if (peer.ibgp) {
      out.asPath = a.asPath ?? [];
      out.localPref = best.localPref;
      if (a.med !== undefined) out.med = a.med;
      out.nextHop = best.source.local ? self : best.nextHops[0] ?? self;
    } else {
      out.asPath = [{ type: 2, asns: [localAs] }, ...(a.asPath ?? [])];
      out.nextHop = self;
    }
    if (a.communities) out.communities = a.communities;
    if (a.largeCommunities) out.largeCommunities = a.largeCommunities;
    if (a.unknown) out.unknown = a.unknown;
    return out;
  }

  private flush(): void {
    const prefixes = [...this.dirty];
    this.dirty.clear();
    for (const peer of this.peers.values()) {
      const po = this.out.get(peer.address);
      if (!peer.established || !po) continue;
      const firstTime = po.advertised.size === 0;
      const withdrawn: Prefix[] = [];
      const groups = new Map<string, { attrs: PathAttributes; v4: Prefix[]; v6: Prefix[] }>();
      for (const prefix of prefixes) {
        const sel = this.rib.selected(prefix);
        const attrs = this.exportFor(peer, sel?.best);
        const prev = po.advertised.get(prefix);
        if (!attrs) {
          if (prev !== undefined) {
            withdrawn.push({ prefix });
            po.advertised.delete(prefix);
          }
          continue;
        }
        const key = JSON.stringify(attrs, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
        if (prev === key) continue;
        po.advertised.set(prefix, key);
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { attrs, v4: [], v6: [] }));
        (prefix.includes(':') ? g.v6 : g.v4).push({ prefix });
      }
      const announcements: Announcement[] = [];
      for (const g of groups.values()) {
        if (g.v4.length) announcements.push({ attributes: g.attrs, prefixes: g.v4 });
        if (g.v6.length) {
          const { nextHop, ...rest } = g.attrs;
          announcements.push({ attributes: rest, prefixes: g.v6, ipv6NextHops: [nextHop!] });
        }
      }
      const ctx = { fourOctetAs: !!peer.negotiated?.fourOctetAs, maxLength: peer.negotiated?.extendedMessage ? 65535 : 4096 };
      for (const m of buildUpdates(withdrawn, announcements, ctx)) peer.send(m, true);
      if (firstTime) peer.send(encodeEndOfRib(1, 1));
    }
  }

  // ---- kernel ------------------------------------------------------------------------

  private setupKernel(): void {
    if (!this.cfg.kernel.enabled) return;
    this.kernel = new RouteTable({ protocol: this.cfg.kernel.protocol, table: this.cfg.kernel.table, ...(this.opts.netns ? { netns: this.opts.netns } : {}) });
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

  private async syncKernel(): Promise<void> {
    if (!this.kernel) return;
    if (this.kernelBusy) {
      this.queueKernel();
      return;
    }
    this.kernelBusy = true;
    try {
      const routes: Route[] = [];
      for (const [prefix, blackhole] of this.originated) if (blackhole) routes.push({ dst: prefix, type: 'blackhole', nexthops: [] });
      for (const s of this.rib.all()) {
        if (!s.best || s.best.source.local) continue;
        const hops = [...new Set(s.multipath.flatMap((p) => p.nextHops))];
        if (!hops.length) continue;
        routes.push({ dst: s.prefix, nexthops: hops.map((via) => ({ via })) });
      }
      this.kernel.setRoutes(routes);
      const r = await this.kernel.apply();
      for (const f of r.failures) this.log.warn('kernel route failed', { command: f.command.join(' '), error: f.error });
    } catch (e) {
      this.log.error('kernel sync failed', { error: (e as Error).message });
      this.kernel.queueResync();
    } finally {
      this.kernelBusy = false;
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
    }));
  }

  stats(): SpeakerStats {
    return {
      prefixes: this.rib.prefixCount,
      attributeSets: this.attrs.size,
      eventLoopDelayMaxMs: this.loopDelay.max / 1e6,
      eventLoopDelayP99Ms: this.loopDelay.percentile(99) / 1e6,
      rssBytes: process.memoryUsage().rss,
    };
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
}

export interface SpeakerStats {
  prefixes: number;
  attributeSets: number;
  /** Worst event-loop delay since start (or the last reset), in milliseconds. */
  eventLoopDelayMaxMs: number;
  eventLoopDelayP99Ms: number;
  rssBytes: number;
}

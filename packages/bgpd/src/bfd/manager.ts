// BFD for single-hop peers over UDP (RFC 5881): control packets are received on port 3784 (one
// IPv4 and one IPv6 socket for all sessions) and each session sends from its own socket with a
// source port in 49152-65535 and TTL 255. Received packets are demultiplexed by Your
// Discriminator, or by source address while the peer does not know ours yet.
//
// Limit: Node's dgram cannot read the TTL of a received datagram (no IP_RECVTTL), so the GTSM
// check of RFC 5881 §5 (drop packets whose TTL is not 255) is not done.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { Logger } from '@tabby/log';
import { decodeControl, diagName, type BfdState, type DropReason } from './packet.js';
import { BfdSession, systemClock, type BfdClock } from './session.js';

export const BFD_CONTROL_PORT = 3784;
const SOURCE_PORT_MIN = 49152;
const SOURCE_PORT_MAX = 65535;

export interface BfdPeerConfig {
  address: string;
  /** Send from this address (the BGP session's source address when configured). */
  sourceAddress?: string;
  /** Milliseconds: our desired min TX and required min RX. */
  minInterval: number;
  multiplier: number;
}

export interface BfdListener {
  /** The session reached Up. */
  up(address: string): void;
  /**
   * The session left Up. `adminDown`: the peer shut BFD down on purpose (AdminDown), which
   * RFC 5882 §3.2 says must not be taken as a path failure.
   */
  down(address: string, why: string, adminDown: boolean): void;
}

export interface BfdManagerOptions {
  log: Logger;
  /** UDP port to receive on and send to (tests); default 3784. */
  port?: number;
  clock?: BfdClock;
}

export interface BfdSessionStatus {
  address: string;
  state: BfdState;
  remoteState: BfdState;
  /** Our diagnostic (why the session last went down). */
  diag: string;
  localDiscriminator: number;
  remoteDiscriminator: number;
  /** Agreed transmit interval (ms, before jitter) and detection time (ms). */
  txIntervalMs: number;
  detectionTimeMs: number;
  packetsIn: number;
  packetsOut: number;
  ups: number;
  downs: number;
}

interface Entry {
  cfg: BfdPeerConfig;
  session: BfdSession;
  tx: Socket | undefined;
  closed: boolean;
}

export class BfdManager {
  private readonly sessions = new Map<string, Entry>();
  private readonly byDiscriminator = new Map<number, Entry>();
  private readonly rx: Socket[] = [];
  private readonly port: number;
  private readonly log: Logger;
  private readonly clock: BfdClock;
  /** Received packets dropped, per reason. */
  readonly drops: Partial<Record<DropReason, number>> = {};
  private stopped = false;

  constructor(opts: BfdManagerOptions, private readonly listener: BfdListener) {
    this.log = opts.log;
    this.port = opts.port ?? BFD_CONTROL_PORT;
    this.clock = opts.clock ?? systemClock;
    this.listen('udp4', '0.0.0.0');
    this.listen('udp6', '::');
  }

  private listen(type: 'udp4' | 'udp6', address: string): void {
    const s = createSocket({ type, ...(type === 'udp6' ? { ipv6Only: true } : {}) });
    s.on('message', (msg, rinfo) => {
      try {
        this.onMessage(msg, rinfo);
      } catch (e) {
        // A bug, not the peer's doing; never worth the daemon.
        this.log.error('BFD: error handling a control packet', { from: rinfo.address, error: (e as Error).message });
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      // Without a receive socket sessions never come Up, and BGP is then left alone.
      const noIPv6 = type === 'udp6' && (e.code === 'EAFNOSUPPORT' || e.code === 'EADDRNOTAVAIL');
      if (noIPv6) this.log.info('BFD: no IPv6 on this host; IPv6 BFD sessions cannot come Up', { error: e.message });
      else this.log.error('BFD: cannot receive control packets', { address: `${address}:${this.port}`, error: e.message });
      s.close();
      const i = this.rx.indexOf(s);
      if (i >= 0) this.rx.splice(i, 1);
    });
    s.bind({ address, port: this.port });
    this.rx.push(s);
  }

  private drop(reason: DropReason, rinfo: RemoteInfo): void {
    const n = (this.drops[reason] ?? 0) + 1;
    this.drops[reason] = n;
    // The first few of each kind are worth a line; a flood is only counted.
    if (n <= 3) this.log.debug('BFD: packet dropped', { from: rinfo.address, reason, count: n });
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const d = decodeControl(msg);
    if (!d.ok) return this.drop(d.reason, rinfo);
    const p = d.packet;
    const from = rinfo.address.replace(/^::ffff:/, '');
    let e: Entry | undefined;
    if (p.yourDiscriminator !== 0) {
      e = this.byDiscriminator.get(p.yourDiscriminator);
      if (!e) return this.drop('unknown-discriminator', rinfo);
      // Single hop: a session's packets only ever come from its peer's address.
      if (e.cfg.address !== from) return this.drop('wrong-source', rinfo);
    } else {
      e = this.sessions.get(from);
      if (!e) return this.drop('unknown-peer', rinfo);
    }
    e.session.receive(p);
  }

  /** Brings the sessions in line with `peers`: new ones start, missing ones stop, changed timers are polled in. */
  configure(peers: readonly BfdPeerConfig[]): void {
    if (this.stopped) return;
    const want = new Map(peers.map((p) => [p.address, p]));
    for (const [addr, e] of [...this.sessions]) {
      const p = want.get(addr);
      if (!p || p.sourceAddress !== e.cfg.sourceAddress) this.remove(e);
    }
    for (const p of peers) {
      const e = this.sessions.get(p.address);
      if (!e) this.add(p);
      else if (e.cfg.minInterval !== p.minInterval || e.cfg.multiplier !== p.multiplier) {
        e.cfg = { ...p };
        e.session.reconfigure({ minInterval: p.minInterval, multiplier: p.multiplier });
        this.log.info('BFD: timers changed', { peer: p.address, minInterval: p.minInterval, multiplier: p.multiplier });
      }
    }
  }

  private newDiscriminator(): number {
    for (;;) {
      const d = randomInt(1, 0xffffffff);
      if (!this.byDiscriminator.has(d)) return d;
    }
  }

  private add(cfg: BfdPeerConfig): void {
    const address = cfg.address;
    const entry: Entry = { cfg: { ...cfg }, session: undefined as unknown as BfdSession, tx: undefined, closed: false };
    entry.session = new BfdSession(this.newDiscriminator(), { minInterval: cfg.minInterval, multiplier: cfg.multiplier }, {
      send: (pkt) => {
        if (entry.tx && !entry.closed) entry.tx.send(pkt, this.port, address, (err) => { if (err) this.log.debug('BFD: send failed', { peer: address, error: err.message }); });
      },
      stateChange: (from, to, diag, remoteState) => {
        if (entry.closed && to !== 'AdminDown') return;
        this.log.info('BFD session state', { peer: address, from, to, diag: diagName(diag), remoteState });
        if (to === 'Up') this.listener.up(address);
        else if (from === 'Up' && to === 'Down') this.listener.down(address, `BFD down: ${diagName(diag)}`, remoteState === 'AdminDown');
      },
    }, this.clock);
    this.sessions.set(address, entry);
    this.byDiscriminator.set(entry.session.localDiscriminator, entry);
    this.bindTx(entry, 0);
  }

  /** A send socket on a random port in 49152-65535 (RFC 5881 §4), TTL 255; another port if taken. */
  private bindTx(entry: Entry, attempt: number): void {
    const { address, sourceAddress } = entry.cfg;
    const s = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    const port = randomInt(SOURCE_PORT_MIN, SOURCE_PORT_MAX + 1);
    s.once('error', (e: NodeJS.ErrnoException) => {
      s.close();
      if (entry.closed) return;
      if (e.code === 'EADDRINUSE' && attempt < 20) return this.bindTx(entry, attempt + 1);
      this.log.error('BFD: cannot open a socket to send control packets', { peer: address, error: e.message });
    });
    s.on('message', () => undefined); // nothing is expected on the source port
    s.bind({ port, ...(sourceAddress ? { address: sourceAddress } : {}) }, () => {
      if (entry.closed) return void s.close();
      try {
        s.setTTL(255);
      } catch (e) {
        this.log.warn('BFD: cannot set TTL 255 on the send socket', { peer: address, error: (e as Error).message });
      }
      s.removeAllListeners('error');
      s.on('error', (e) => this.log.debug('BFD: send socket error', { peer: address, error: e.message }));
      entry.tx = s;
      entry.session.start();
      this.log.info('BFD session started', { peer: address, sourcePort: port, discriminator: entry.session.localDiscriminator, minInterval: entry.cfg.minInterval, multiplier: entry.cfg.multiplier });
    });
  }

  private remove(e: Entry): void {
    e.session.stop(); // sends AdminDown so the peer does not count it as a failure
    e.closed = true;
    const tx = e.tx;
    e.tx = undefined;
    // Let the AdminDown packet leave before the socket closes.
    if (tx) setTimeout(() => tx.close(), 50).unref();
    this.sessions.delete(e.cfg.address);
    this.byDiscriminator.delete(e.session.localDiscriminator);
  }

  /** The session to `address`, if any. */
  status(address: string): BfdSessionStatus | undefined {
    const e = this.sessions.get(address);
    if (!e) return undefined;
    const s = e.session;
    return {
      address,
      state: s.state,
      remoteState: s.remoteState,
      diag: diagName(s.localDiag),
      localDiscriminator: s.localDiscriminator,
      remoteDiscriminator: s.remoteDiscriminator,
      txIntervalMs: s.txInterval,
      detectionTimeMs: s.detectionTime,
      ...s.counters,
    };
  }

  statusAll(): BfdSessionStatus[] {
    return [...this.sessions.keys()].map((a) => this.status(a)!);
  }

  /** Stops every session (AdminDown to each peer) and closes the sockets. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const txs = [...this.sessions.values()].map((e) => e.tx).filter((s): s is Socket => !!s);
    for (const e of [...this.sessions.values()]) {
      e.session.stop();
      e.closed = true;
    }
    this.sessions.clear();
    this.byDiscriminator.clear();
    await new Promise((r) => setTimeout(r, 20));
    for (const s of [...txs, ...this.rx]) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
    this.rx.length = 0;
  }
}

/** The BFD sessions a BGP config asks for. */
export function bfdPeers(peers: readonly { address: string; sourceAddress?: string; bfd?: { enabled: boolean; minInterval: number; multiplier: number } }[]): BfdPeerConfig[] {
  return peers.filter((p) => p.bfd?.enabled).map((p) => ({
    address: p.address,
    minInterval: p.bfd!.minInterval,
    multiplier: p.bfd!.multiplier,
    ...(p.sourceAddress ? { sourceAddress: p.sourceAddress } : {}),
  }));
}

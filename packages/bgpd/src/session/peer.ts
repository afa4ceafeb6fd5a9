// One BGP neighbour: the only place that touches its socket and timers. It feeds bytes through
// the framer and decoders, turns messages into FSM events, and carries out the FSM's actions.

import { connect, type Socket } from 'node:net';
import type { Logger } from '@tabby/log';
import type { PeerConfig } from '../config/schema.js';
import { Framer, MAX_EXTENDED_LENGTH, MessageType } from '../wire/framer.js';
import { CeaseSubcode, ErrorCode, WireError, notificationName } from '../wire/errors.js';
import { decodeOpen, encodeOpen, type OpenMessage } from '../wire/open.js';
import { decodeNotification, decodeRouteRefresh, encodeKeepalive, encodeNotification, encodeRouteRefresh } from '../wire/simple.js';
import { decodeUpdate, validateUpdate, type UpdateMessage } from '../wire/update.js';
import { collisionLoser, initialState, step, type DownReason, type FsmAction, type FsmConfig, type FsmEvent, type FsmState, type TimerName } from './fsm.js';
import { negotiate, ourCapabilities, twoOctetAs, type Negotiated } from './negotiate.js';
import { preparedSocket, savedSynTtl, setTtlSecurity, socketFd } from './tcp-md5.js';

/**
 * How long incoming messages may be processed in one turn of the event loop. libuv reads a busy
 * socket many times per turn, which during a full-table transfer means megabytes of UPDATEs
 * before timers get a chance; past this budget the socket is paused until the next turn, so
 * keepalives and hold timers keep their schedule however fast a peer sends.
 */
const TURN_BUDGET_MS = 20;
let turnStart = -1;

/** Milliseconds of work done in the current event-loop turn (starting the clock if needed). */
function turnElapsed(): number {
  const now = performance.now();
  if (turnStart < 0) {
    turnStart = now;
    setImmediate(() => { turnStart = -1; });
  }
  return now - turnStart;
}

/**
 * How long a connection we close is still read after our FIN. Closing a socket with unread
 * input makes the kernel send a RST, which can throw away the NOTIFICATION just written (seen
 * with a peer still sending when its error was found); so the input is drained until the peer
 * closes too, or this much time has passed.
 */
const CLOSE_LINGER_MS = 2000;

/** FIN after everything written; the peer's further input is dropped until it closes or the linger ends. */
function closeAfterFlush(s: Socket): void {
  s.on('error', () => undefined);
  const t = setTimeout(() => s.destroy(), CLOSE_LINGER_MS);
  s.once('close', () => clearTimeout(t));
  s.once('end', () => s.destroy());
  s.resume(); // it may be paused by the turn budget
  s.end();
}

/** How long a colliding incoming connection may take to send its OPEN. */
const COLLISION_OPEN_WAIT_MS = 30_000;

/** A second connection from the peer, accepted while ours was already exchanging OPENs (RFC 4271 §6.8). */
interface PendingConnection {
  socket: Socket;
  framer: Framer;
  timer: NodeJS.Timeout;
}

export interface PeerHooks {
  onEstablished(peer: Peer): void;
  /** `negotiated` is what the session that ended had agreed (graceful restart needs it). */
  onDown(peer: Peer, reason: DownReason, wasEstablished: boolean, negotiated: Negotiated | undefined): void;
  onUpdate(peer: Peer, update: UpdateMessage): void;
  /** ROUTE-REFRESH: subtype 0 a request (RFC 2918), 1 BoRR and 2 EoRR (RFC 7313). */
  onRouteRefresh(peer: Peer, afi: number, safi: number, subtype: number): void;
}

export interface LocalIdentity {
  routerId: string;
  asNumber: number;
}

export interface PeerCounters {
  messagesIn: number;
  messagesOut: number;
  updatesIn: number;
  updatesOut: number;
  /** Malformed UPDATEs handled as withdrawals (RFC 7606) instead of a session reset. */
  treatedAsWithdraw: number;
}

export function describeDown(r: DownReason | undefined): string {
  if (!r) return '';
  switch (r.kind) {
    case 'admin-stop': return 'Administratively stopped';
    case 'hold-timer-expired': return 'Hold timer expired';
    case 'notification-received': return `Received: ${notificationName(r.notification.code, r.notification.subcode)}`;
    case 'notification-sent': return `Error: ${notificationName(r.notification.code, r.notification.subcode)}`;
    case 'connection-closed': return 'Socket: Connection closed';
    case 'connection-failed': return `Socket: ${r.error}`;
    case 'fsm-error': return `FSM error: ${r.event} in ${r.state}`;
    case 'bfd-down': return 'BFD down';
  }
}

export class Peer {
  state: FsmState;
  negotiated: Negotiated | undefined;
  /** When the current state was entered. */
  since = new Date();
  lastError = '';
  readonly counters: PeerCounters = { messagesIn: 0, messagesOut: 0, updatesIn: 0, updatesOut: 0, treatedAsWithdraw: 0 };
  private socket: Socket | undefined;
  /** Whether `socket` is the connection we opened (as opposed to one the peer opened). */
  private outgoing = false;
  private pending: PendingConnection | undefined;
  /** Our connection was closed by the peer for collision resolution: the pending one takes over. */
  private preferPending = false;
  private framer = new Framer();
  private readonly timers = new Map<TimerName, NodeJS.Timeout>();
  private readonly fsmCfg: FsmConfig;

  constructor(
    readonly cfg: PeerConfig,
    private readonly local: LocalIdentity,
    private readonly families: { ipv4: boolean; ipv6: boolean },
    private readonly hooks: PeerHooks,
    private readonly log: Logger,
  ) {
    this.fsmCfg = {
      holdTime: cfg.holdTime, keepaliveTime: cfg.keepaliveTime, connectRetryTime: cfg.connectRetryTime, connectDelay: cfg.connectDelayTime,
      passive: cfg.passive, idleHoldInitial: 1, idleHoldMax: 60,
    };
    this.state = initialState(this.fsmCfg);
  }

  get address(): string {
    return this.cfg.address;
  }

  get ibgp(): boolean {
    return this.cfg.asNumber === (this.cfg.localAsNumber ?? this.local.asNumber);
  }

  get established(): boolean {
    return this.state.name === 'Established';
  }

  /** The local address of the session's socket (our next hop towards this peer). */
  get localAddress(): string | undefined {
    return this.socket?.localAddress?.replace(/^::ffff:/, '');
  }

  start(): void {
    this.dispatch({ type: 'start' });
  }

  stop(): void {
    this.clearBfdHold();
    this.dispatch({ type: 'stop' });
  }

  /** Held down by BFD (RFC 5882): not restarted until BFD reports the path Up again. */
  private bfdHeld = false;
  private bfdHoldTimer: NodeJS.Timeout | undefined;

  /**
   * BFD says the forwarding path to the peer is dead: end the session now and hold it down until
   * BFD is Up again. A peer whose BFD stopped without AdminDown looks the same, so the hold ends
   * after the BGP hold time (when BGP alone would have noticed a dead path); the session then
   * starts as usual and runs unprotected until BFD comes Up.
   */
  bfdDown(why: string): void {
    this.log.warn('BFD down: ending the session', { peer: this.address, state: this.state.name, why });
    this.clearBfdHold();
    this.bfdHeld = true;
    const seconds = this.cfg.holdTime || 90;
    this.bfdHoldTimer = setTimeout(() => {
      if (!this.bfdHeld) return;
      this.log.warn('BFD still down after the hold time: starting the BGP session without it', { peer: this.address, seconds });
      this.bfdUp();
    }, seconds * 1000);
    this.dispatch({ type: 'bfd-down' });
  }

  /** BFD is Up again (or no longer configured): a session held down by BFD starts again. */
  bfdUp(): void {
    if (!this.bfdHeld) return;
    this.clearBfdHold();
    if (this.state.name === 'Idle' && !this.state.autoStart) this.start();
  }

  private clearBfdHold(): void {
    clearTimeout(this.bfdHoldTimer);
    this.bfdHoldTimer = undefined;
    this.bfdHeld = false;
  }

  /** Offered by the speaker's listener; returns false when this peer cannot take it. */
  acceptIncoming(socket: Socket): boolean {
    const name = this.state.name;
    if (name === 'Idle' && !this.state.autoStart) return false;
    if (this.socket && this.outgoing && !this.pending && (name === 'OpenSent' || name === 'OpenConfirm')) {
      // Both sides connected at once: keep the new connection until its OPEN names the peer's
      // BGP identifier, then keep the one the higher identifier opened.
      if (!this.secureIncoming(socket)) return false;
      this.startPending(socket);
      return true;
    }
    if (this.socket && name !== 'Connect' && name !== 'Active' && name !== 'Idle') return false;
    if (!this.secureIncoming(socket)) return false;
    this.replaceSocket(socket);
    this.outgoing = false;
    this.dispatch({ type: 'tcp-accepted' });
    return true;
  }

  /**
   * GTSM on a connection the peer opened: refused when its SYN came from too far away (the
   * listener keeps SYNs when a peer uses GTSM), and from now on the kernel drops its packets
   * that do (the listener already sent our SYN-ACK with TTL 255). The MD5 key was checked by
   * the kernel against the listener's keys before the connection was accepted.
   */
  private secureIncoming(socket: Socket): boolean {
    const hops = this.cfg.ttlSecurity;
    if (hops === undefined) return true;
    try {
      const fd = socketFd(socket);
      const ttl = savedSynTtl(fd);
      if (ttl !== undefined && ttl < 256 - hops) {
        this.noteError(`ttlSecurity: refused a connection whose SYN arrived with TTL ${ttl} (more than ${hops} hop${hops > 1 ? 's' : ''} away; at least ${256 - hops} needed)`);
        return false;
      }
      const family = socket.localAddress && socket.localAddress.includes(':') ? 6 : 4;
      setTtlSecurity(fd, family, this.address, hops);
      return true;
    } catch (e) {
      this.noteError(`cannot apply ttlSecurity to the incoming connection: ${(e as Error).message}`);
      return false;
    }
  }

  /** The last error logged, so that a peer failing the same way on every retry logs it once. */
  private loggedError = '';

  /** Records an error for `status` and logs it when it differs from the last one. */
  private noteError(message: string): void {
    this.lastError = message;
    if (message === this.loggedError) return;
    this.loggedError = message;
    this.log.warn('peer connection problem', { peer: this.address, error: message });
  }

  /**
   * Ends the session because the peer sent more prefixes than `maxPrefixes` allows: Cease /
   * Maximum Number of Prefixes Reached with the AFI, SAFI and limit (RFC 4486; inside a Hard Reset
   * when the N bit was negotiated), then Idle with the usual backoff.
   */
  prefixLimitExceeded(afi: number, safi: number, limit: number, count: number): void {
    if (!this.established) return;
    const data = new Uint8Array(7);
    const v = new DataView(data.buffer);
    v.setUint16(0, afi);
    v.setUint8(2, safi);
    v.setUint32(3, limit);
    this.log.warn('maximum number of prefixes reached', { peer: this.address, limit, received: count });
    // With the N bit (RFC 8538) a plain Cease would start graceful restart (both sides keeping the
    // routes); RFC 8538 §5.1 asks for a Hard Reset here, carrying the Cease/1 inside it.
    const notification = this.negotiated?.gracefulRestart?.notification
      ? { code: ErrorCode.CEASE, subcode: CeaseSubcode.HARD_RESET, data: Uint8Array.of(ErrorCode.CEASE, CeaseSubcode.MAX_PREFIXES, ...data) }
      : { code: ErrorCode.CEASE, subcode: CeaseSubcode.MAX_PREFIXES, data };
    this.dispatch({ type: 'message-error', notification });
  }

  /**
   * Set by the speaker while it comes back from its own restart with the kernel routes kept:
   * OPENs then carry the graceful restart R bit.
   */
  restarting = false;

  private capabilities() {
    const gr = this.cfg.gracefulRestart.enabled ? { restartTime: this.cfg.gracefulRestart.restartTime, restarting: this.restarting } : undefined;
    return ourCapabilities(this.cfg.localAsNumber ?? this.local.asNumber, this.families, gr, this.cfg.addPaths);
  }

  /**
   * Our own graceful restart: close the connection without a NOTIFICATION, so that the peer
   * keeps our routes (RFC 4724) until we are back.
   */
  stopForRestart(): void {
    this.clearBfdHold();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
    if (this.pending) this.dropPending(this.pending, 'restarting');
  }

  private openMessage(): Uint8Array {
    return encodeOpen({
      myAs: twoOctetAs(this.cfg.localAsNumber ?? this.local.asNumber), holdTime: this.cfg.holdTime, bgpId: this.local.routerId,
      capabilities: this.capabilities(),
    });
  }

  private startPending(socket: Socket): void {
    const p: PendingConnection = {
      socket,
      framer: new Framer(),
      timer: setTimeout(() => this.dropPending(p, 'no OPEN on the colliding connection'), COLLISION_OPEN_WAIT_MS),
    };
    this.pending = p;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onPendingData(p, chunk));
    socket.on('error', () => { if (this.pending === p) this.dropPending(p, 'socket error'); });
    socket.on('close', () => { if (this.pending === p) this.dropPending(p, 'closed by the peer'); });
    socket.write(this.openMessage());
    this.log.info('connection collision: holding the incoming connection until its OPEN', { peer: this.address });
  }

  private dropPending(p: PendingConnection, why: string, notify?: { code: number; subcode: number }): void {
    if (this.pending !== p) return;
    const orphaned = this.preferPending && !this.socket;
    this.pending = undefined;
    this.preferPending = false;
    clearTimeout(p.timer);
    p.socket.removeAllListeners('data');
    this.log.info('connection collision: closing the incoming connection', { peer: this.address, why });
    if (notify && !p.socket.destroyed) p.socket.end(encodeNotification(notify.code, notify.subcode), () => p.socket.destroy());
    else p.socket.destroy();
    p.socket.on('error', () => undefined);
    // Our own connection was already given up for this one: the session is gone.
    if (orphaned) this.dispatch({ type: 'tcp-closed' });
  }

  private onPendingData(p: PendingConnection, chunk: Buffer): void {
    if (this.pending !== p) return;
    let frames;
    try {
      frames = p.framer.push(chunk);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      return this.dropPending(p, e.message, { code: e.code, subcode: e.subcode });
    }
    if (!frames.length) return;
    const [first, ...rest] = frames;
    if (first!.type !== MessageType.OPEN) {
      return this.dropPending(p, 'first message was not an OPEN', { code: ErrorCode.FSM, subcode: 0 });
    }
    let open: OpenMessage;
    let negotiated: Negotiated;
    try {
      open = decodeOpen(first!.bytes);
      negotiated = negotiate(this.capabilities(), open, { peerAs: this.cfg.asNumber, localId: this.local.routerId });
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      return this.dropPending(p, e.message, { code: e.code, subcode: e.subcode });
    }
    const loser = this.preferPending ? 'outgoing' : collisionLoser(this.local.routerId, open.bgpId);
    if (loser === 'incoming') {
      return this.dropPending(p, `our BGP identifier ${this.local.routerId} is higher than ${open.bgpId}`, { code: ErrorCode.CEASE, subcode: CeaseSubcode.COLLISION_RESOLUTION });
    }
    // The peer's connection wins: close ours with Cease/Connection Collision Resolution and carry
    // on with theirs, which has already exchanged OPENs.
    this.log.info('connection collision: continuing on the incoming connection', { peer: this.address, peerId: open.bgpId });
    clearTimeout(p.timer);
    this.pending = undefined;
    this.preferPending = false;
    p.socket.removeAllListeners();
    const old = this.socket;
    this.socket = undefined;
    if (old && !old.destroyed) {
      old.on('error', () => undefined);
      old.end(encodeNotification(ErrorCode.CEASE, CeaseSubcode.COLLISION_RESOLUTION), () => old.destroy());
    }
    this.attachSocket(p.socket, p.framer);
    this.outgoing = false;
    this.negotiated = negotiated;
    if (negotiated.extendedMessage) this.framer.maxLength = MAX_EXTENDED_LENGTH;
    this.state = { ...this.state, name: 'OpenSent' };
    this.dispatch({ type: 'open', holdTime: open.holdTime });
    this.handleFrames(rest);
  }

  send(bytes: Uint8Array, isUpdate = false): void {
    if (!this.socket || this.socket.destroyed) return;
    this.socket.write(bytes);
    this.counters.messagesOut++;
    if (isUpdate) this.counters.updatesOut++;
  }

  /**
   * Asks the peer to resend its routes of these families (RFC 2918); false when the session is
   * not established or the peer did not advertise route refresh.
   */
  requestRefresh(families: readonly [number, number][]): boolean {
    if (!this.established || !this.negotiated?.routeRefresh) return false;
    for (const [afi, safi] of families) this.send(encodeRouteRefresh(afi, safi));
    this.log.info('route refresh requested', { peer: this.address, families: families.map((f) => f.join('/')) });
    return true;
  }

  /** Feeds an FSM event and executes the resulting actions. */
  dispatch(ev: FsmEvent): void {
    const before = this.state.name;
    const { state, actions } = step(this.fsmCfg, this.state, ev);
    this.state = state;
    if (state.name !== before) {
      this.since = new Date();
      this.log.debug('fsm transition', { peer: this.address, from: before, to: state.name, event: ev.type });
    }
    for (const a of actions) this.execute(a);
  }

  private execute(a: FsmAction): void {
    switch (a.type) {
      case 'connect': return this.connectOut();
      case 'close': return this.closeSocket();
      case 'send-open':
        this.send(this.openMessage());
        return;
      case 'send-keepalive': return this.send(encodeKeepalive());
      case 'send-notification':
        this.log.warn('sending NOTIFICATION', { peer: this.address, notification: notificationName(a.notification.code, a.notification.subcode) });
        this.send(encodeNotification(a.notification.code, a.notification.subcode, a.notification.data));
        return;
      case 'start-timer': {
        clearTimeout(this.timers.get(a.timer));
        this.timers.set(a.timer, setTimeout(() => {
          this.timers.delete(a.timer);
          this.dispatch({ type: 'timer', timer: a.timer });
        }, a.seconds * 1000));
        return;
      }
      case 'stop-timer':
        clearTimeout(this.timers.get(a.timer));
        this.timers.delete(a.timer);
        return;
      case 'established':
        this.lastError = '';
        this.loggedError = '';
        this.log.info('session established', { peer: this.address, as: this.negotiated?.peerAs, id: this.negotiated?.peerId });
        this.hooks.onEstablished(this);
        return;
      case 'down':
        this.lastError = describeDown(a.reason);
        this.log.info('session down', { peer: this.address, reason: this.lastError });
        const negotiated = this.negotiated;
        this.negotiated = undefined;
        this.hooks.onDown(this, a.reason, a.wasEstablished, negotiated);
        return;
      default: {
        const never: never = a;
        throw new Error(`unknown action ${JSON.stringify(never)}`);
      }
    }
  }

  private connectOut(): void {
    const target = { host: this.cfg.address, port: this.cfg.port, ...(this.cfg.sourceAddress ? { localAddress: this.cfg.sourceAddress } : {}) };
    let s: Socket;
    if (this.cfg.password !== undefined || this.cfg.ttlSecurity !== undefined) {
      // The MD5 key (and GTSM) must be on the socket before its SYN leaves.
      try {
        s = preparedSocket(this.cfg.address, { password: this.cfg.password, ttlSecurity: this.cfg.ttlSecurity });
      } catch (e) {
        this.closeSocket();
        const error = (e as Error).message;
        this.noteError(error);
        // Fail like a refused connection (connect-retry backoff), once the current step is done.
        setImmediate(() => {
          if (!this.socket && this.state.name === 'Connect') this.dispatch({ type: 'tcp-failed', error });
        });
        return;
      }
      s.connect(target);
    } else {
      s = connect(target);
    }
    this.replaceSocket(s);
    this.outgoing = true;
    s.once('connect', () => {
      if (this.socket === s) this.dispatch({ type: 'tcp-connected' });
    });
  }

  private replaceSocket(s: Socket): void {
    this.closeSocket();
    this.attachSocket(s, new Framer());
  }

  private attachSocket(s: Socket, framer: Framer): void {
    this.socket = s;
    this.framer = framer;
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => {
      if (this.socket === s) this.onData(chunk);
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (this.socket !== s) return;
      if (e.code === 'EADDRNOTAVAIL' && e.syscall === 'bind') {
        this.noteError(`Socket: sourceAddress ${this.cfg.sourceAddress ?? ''} is not an address of this host (EADDRNOTAVAIL)`);
      } else {
        this.lastError = `Socket: ${e.code === 'ECONNREFUSED' ? 'Connection refused' : e.message}`;
      }
      this.socket = undefined;
      s.destroy();
      this.dispatch({ type: 'tcp-failed', error: this.lastError });
    });
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      this.dispatch({ type: 'tcp-closed' });
    });
  }

  private closeSocket(): void {
    const s = this.socket;
    this.socket = undefined;
    if (s && !s.destroyed) closeAfterFlush(s);
    this.preferPending = false;
    if (this.pending) this.dropPending(this.pending, 'the session was closed');
  }

  private onData(chunk: Buffer): void {
    turnElapsed();
    let frames;
    try {
      frames = this.framer.push(chunk);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      frames = undefined;
      this.malformed(e);
    }
    if (frames) this.handleFrames(frames);
    const s = this.socket;
    if (s && turnElapsed() > TURN_BUDGET_MS && !s.isPaused()) {
      s.pause();
      setImmediate(() => {
        if (this.socket === s) s.resume();
      });
    }
  }

  private handleFrames(frames: readonly { type: number; bytes: Uint8Array }[]): void {
    const s = this.socket;
    try {
      for (const f of frames) {
        this.counters.messagesIn++;
        this.onMessage(f.type, f.bytes);
        if (this.socket !== s || !s) return; // the session ended (or moved) while handling these
      }
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.malformed(e);
    }
  }

  private malformed(e: WireError): void {
    this.log.warn('malformed message', { peer: this.address, error: e.message });
    this.dispatch({ type: 'message-error', notification: { code: e.code, subcode: e.subcode, data: e.data } });
  }

  private onMessage(type: number, bytes: Uint8Array): void {
    switch (type) {
      case MessageType.OPEN: {
        const open = decodeOpen(bytes);
        const ours = this.capabilities();
        this.negotiated = negotiate(ours, open, { peerAs: this.cfg.asNumber, localId: this.local.routerId });
        if (this.negotiated.extendedMessage) this.framer.maxLength = MAX_EXTENDED_LENGTH;
        this.dispatch({ type: 'open', holdTime: open.holdTime });
        return;
      }
      case MessageType.KEEPALIVE:
        this.dispatch({ type: 'keepalive' });
        return;
      case MessageType.NOTIFICATION: {
        const n = decodeNotification(bytes);
        this.log.warn('received NOTIFICATION', { peer: this.address, notification: notificationName(n.code, n.subcode), text: n.shutdownText });
        if (this.pending && n.code === ErrorCode.CEASE && n.subcode === CeaseSubcode.COLLISION_RESOLUTION && this.state.name !== 'Established') {
          // The peer chose its own connection; drop ours quietly and let the pending one take over.
          const old = this.socket!;
          this.socket = undefined;
          old.destroy();
          this.preferPending = true;
          return;
        }
        this.dispatch({ type: 'notification', notification: { code: n.code, subcode: n.subcode, data: n.data } });
        return;
      }
      case MessageType.UPDATE: {
        if (this.state.name !== 'Established') {
          this.dispatch({ type: 'update' }); // an FSM error outside Established
          return;
        }
        const d = decodeUpdate(bytes, { fourOctetAs: !!this.negotiated?.fourOctetAs, ...(this.negotiated?.addPath ? { addPath: this.negotiated.addPath.receive } : {}) });
        const verdict = validateUpdate(d, { ibgp: this.ibgp });
        const strict = this.cfg.errorHandling === 'strict';
        if (verdict.action === 'reset' || (strict && (verdict.action !== 'accept' || verdict.discarded.length))) {
          // RFC 4271 (and RFC 7606 for errors that leave nothing usable): end the session.
          const e = verdict.action === 'accept' ? verdict.discarded[0]! : verdict.error;
          this.dispatch({ type: 'message-error', notification: { code: e.code, subcode: e.subcode, data: e.data } });
          return;
        }
        this.counters.updatesIn++;
        this.dispatch({ type: 'update' });
        for (const e of verdict.discarded) this.log.warn('attribute discarded (RFC 7606)', { peer: this.address, error: e.message });
        if (verdict.action === 'treat-as-withdraw') {
          // RFC 7606: the session stays; every prefix the UPDATE named is withdrawn.
          this.counters.treatedAsWithdraw++;
          this.log.warn('UPDATE treated as withdraw (RFC 7606)', { peer: this.address, error: verdict.error.message, prefixes: verdict.withdraw.length });
          this.hooks.onUpdate(this, { type: 'update', withdrawn: verdict.withdraw, attributes: {}, nlri: [] });
          return;
        }
        this.hooks.onUpdate(this, d.message);
        return;
      }
      case MessageType.ROUTE_REFRESH: {
        const rr = decodeRouteRefresh(bytes);
        this.dispatch({ type: 'route-refresh' });
        if (this.established) this.hooks.onRouteRefresh(this, rr.afi, rr.safi, rr.subtype);
        return;
      }
      default:
        return;
    }
  }

  /** Stops everything without ceremony (daemon shutdown after stop()). */
  destroy(): void {
    this.clearBfdHold();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.socket?.destroy();
    this.socket = undefined;
    if (this.pending) this.dropPending(this.pending, 'shutting down');
  }
}

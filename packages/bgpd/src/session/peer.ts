// One BGP neighbour: the only place that touches its socket and timers. It feeds bytes through
// the framer and decoders, turns messages into FSM events, and carries out the FSM's actions.

import { connect, type Socket } from 'node:net';
import type { Logger } from '@tabby/log';
import type { PeerConfig } from '../config/schema.js';
import { Framer, MAX_EXTENDED_LENGTH, MessageType } from '../wire/framer.js';
import { WireError, notificationName } from '../wire/errors.js';
import { decodeOpen, encodeOpen } from '../wire/open.js';
import { decodeNotification, decodeRouteRefresh, encodeKeepalive, encodeNotification } from '../wire/simple.js';
import { decodeUpdate, validateUpdate, type UpdateMessage } from '../wire/update.js';
import { initialState, step, type DownReason, type FsmAction, type FsmConfig, type FsmEvent, type FsmState, type TimerName } from './fsm.js';
import { negotiate, ourCapabilities, twoOctetAs, type Negotiated } from './negotiate.js';

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

export interface PeerHooks {
  onEstablished(peer: Peer): void;
  onDown(peer: Peer, reason: DownReason, wasEstablished: boolean): void;
  onUpdate(peer: Peer, update: UpdateMessage): void;
  onRouteRefresh(peer: Peer, afi: number, safi: number): void;
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
  }
}

export class Peer {
  state: FsmState;
  negotiated: Negotiated | undefined;
  /** When the current state was entered. */
  since = new Date();
  lastError = '';
  readonly counters: PeerCounters = { messagesIn: 0, messagesOut: 0, updatesIn: 0, updatesOut: 0 };
  private socket: Socket | undefined;
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
      holdTime: cfg.holdTime, keepaliveTime: cfg.keepaliveTime, connectRetryTime: cfg.connectRetryTime,
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
    this.dispatch({ type: 'stop' });
  }

  /** Offered by the speaker's listener; returns false when this peer cannot take it. */
  acceptIncoming(socket: Socket): boolean {
    const name = this.state.name;
    if (name === 'Idle' || (this.socket && name !== 'Connect' && name !== 'Active')) return false;
    this.replaceSocket(socket);
    this.dispatch({ type: 'tcp-accepted' });
    return true;
  }

  send(bytes: Uint8Array, isUpdate = false): void {
    if (!this.socket || this.socket.destroyed) return;
    this.socket.write(bytes);
    this.counters.messagesOut++;
    if (isUpdate) this.counters.updatesOut++;
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
        this.send(encodeOpen({
          myAs: twoOctetAs(this.cfg.localAsNumber ?? this.local.asNumber), holdTime: a.holdTime, bgpId: this.local.routerId,
          capabilities: ourCapabilities(this.cfg.localAsNumber ?? this.local.asNumber, this.families),
        }));
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
        this.log.info('session established', { peer: this.address, as: this.negotiated?.peerAs, id: this.negotiated?.peerId });
        this.hooks.onEstablished(this);
        return;
      case 'down':
        this.lastError = describeDown(a.reason);
        this.log.info('session down', { peer: this.address, reason: this.lastError });
        this.negotiated = undefined;
        this.hooks.onDown(this, a.reason, a.wasEstablished);
        return;
      default: {
        const never: never = a;
        throw new Error(`unknown action ${JSON.stringify(never)}`);
      }
    }
  }

  private connectOut(): void {
    const s = connect({ host: this.cfg.address, port: this.cfg.port, ...(this.cfg.sourceAddress ? { localAddress: this.cfg.sourceAddress } : {}) });
    this.replaceSocket(s);
    s.once('connect', () => {
      if (this.socket === s) this.dispatch({ type: 'tcp-connected' });
    });
  }

  private replaceSocket(s: Socket): void {
    this.closeSocket();
    this.socket = s;
    this.framer = new Framer();
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => {
      if (this.socket === s) this.onData(chunk);
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (this.socket !== s) return;
      this.lastError = `Socket: ${e.code === 'ECONNREFUSED' ? 'Connection refused' : e.message}`;
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
    if (s && !s.destroyed) s.end(() => s.destroy());
  }

  private onData(chunk: Buffer): void {
    turnElapsed();
    try {
      for (const f of this.framer.push(chunk)) {
        this.counters.messagesIn++;
        this.onMessage(f.type, f.bytes);
        if (!this.socket) return; // the session ended while handling this chunk
      }
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.log.warn('malformed message', { peer: this.address, error: e.message });
      this.dispatch({ type: 'message-error', notification: { code: e.code, subcode: e.subcode, data: e.data } });
    }
    const s = this.socket;
    if (s && turnElapsed() > TURN_BUDGET_MS && !s.isPaused()) {
      s.pause();
      setImmediate(() => {
        if (this.socket === s) s.resume();
      });
    }
  }

  private onMessage(type: number, bytes: Uint8Array): void {
    switch (type) {
      case MessageType.OPEN: {
        const open = decodeOpen(bytes);
        const ours = ourCapabilities(this.cfg.localAsNumber ?? this.local.asNumber, this.families);
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
        this.dispatch({ type: 'notification', notification: { code: n.code, subcode: n.subcode, data: n.data } });
        return;
      }
      case MessageType.UPDATE: {
        if (this.state.name !== 'Established') {
          this.dispatch({ type: 'update' }); // an FSM error outside Established
          return;
        }
        const d = decodeUpdate(bytes, { fourOctetAs: !!this.negotiated?.fourOctetAs });
        const verdict = validateUpdate(d, { ibgp: this.ibgp });
        if (verdict.action !== 'accept') {
          // RFC 4271 handling: any malformed UPDATE ends the session with its NOTIFICATION.
          const e = verdict.error;
          this.dispatch({ type: 'message-error', notification: { code: e.code, subcode: e.subcode, data: e.data } });
          return;
        }
        this.counters.updatesIn++;
        this.dispatch({ type: 'update' });
        this.hooks.onUpdate(this, d.message);
        return;
      }
      case MessageType.ROUTE_REFRESH: {
        const rr = decodeRouteRefresh(bytes);
        this.dispatch({ type: 'route-refresh' });
        if (this.established) this.hooks.onRouteRefresh(this, rr.afi, rr.safi);
        return;
      }
      default:
        return;
    }
  }

  /** Stops everything without ceremony (daemon shutdown after stop()). */
  destroy(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.socket?.destroy();
    this.socket = undefined;
  }
}

// One BFD session (RFC 5880 §6.8) in asynchronous mode, without echo, demand mode or
// authentication. Pure logic: packets come in through receive(), go out through the `send`
// callback, and time comes from an injected clock, so tests drive it with a fake one.

import { Diag, encodeControl, type BfdState, type ControlPacket } from './packet.js';

export interface BfdClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** A number in [0, 1) (jitter). */
  random(): number;
}

export const systemClock: BfdClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  random: () => Math.random(),
};

export interface BfdSessionConfig {
  /** Desired min TX and required min RX interval, milliseconds. */
  minInterval: number;
  /** Detect multiplier. */
  multiplier: number;
}

export interface BfdSessionEvents {
  send(packet: Buffer): void;
  /** `remoteState` is the state the peer last reported (AdminDown means it was shut down on purpose). */
  stateChange(from: BfdState, to: BfdState, diag: number, remoteState: BfdState): void;
}

/** While not Up, the transmit interval we ask for is at least one second (§6.8.3). */
export const SLOW_TX_US = 1_000_000;

export interface BfdSessionCounters {
  packetsIn: number;
  packetsOut: number;
  /** How often the session reached Up. */
  ups: number;
  /** How often it went Down from Up or Init. */
  downs: number;
}

export class BfdSession {
  state: BfdState = 'Down';
  remoteState: BfdState = 'Down';
  remoteDiscriminator = 0;
  localDiag: number = Diag.NONE;
  remoteDiag = 0;
  remoteDetectMult = 0;
  /** µs; the peer's Desired Min TX. */
  remoteDesiredMinTx = 0;
  /** µs; the peer's Required Min RX (RFC initial value 1). */
  remoteMinRx = 1;
  /** A Poll Sequence of ours is in progress. */
  polling = false;
  /** The peer asked for Demand mode (D bit): no periodic packets to it while both are Up (§6.8.7). */
  remoteDemand = false;
  readonly counters: BfdSessionCounters = { packetsIn: 0, packetsOut: 0, ups: 0, downs: 0 };
  /** Clock time of the last state change. */
  since: number;

  /** µs: what our packets currently advertise. */
  private advTx: number;
  private advRx: number;
  /** µs: what pacing and detection use (lag behind advertised values during a Poll Sequence). */
  private txInUse: number;
  private rxInUse: number;
  private cfg: BfdSessionConfig;
  private txTimer: unknown;
  private detectTimer: unknown;
  private running = false;

  constructor(readonly localDiscriminator: number, cfg: BfdSessionConfig, private readonly events: BfdSessionEvents, private readonly clock: BfdClock = systemClock) {
    if (localDiscriminator === 0) throw new RangeError('BFD: the local discriminator must not be 0');
    this.cfg = { ...cfg };
    this.advTx = this.txInUse = this.wantTx();
    this.advRx = this.rxInUse = this.wantRx();
    this.since = clock.now();
  }

  get config(): BfdSessionConfig {
    return { ...this.cfg };
  }

  /** Desired Min TX to advertise now: the configured value once Up, at least 1 s before (§6.8.3). */
  private wantTx(): number {
    const us = this.cfg.minInterval * 1000;
    return this.state === 'Up' ? us : Math.max(SLOW_TX_US, us);
  }

  private wantRx(): number {
    return this.cfg.minInterval * 1000;
  }

  /** Detection time (ms) in asynchronous mode: the peer's multiplier × the agreed peer TX interval. */
  get detectionTime(): number {
    return (this.remoteDetectMult * Math.max(this.rxInUse, this.remoteDesiredMinTx)) / 1000;
  }

  /** The periodic transmit interval (ms) before jitter: max(our Desired Min TX, the peer's Required Min RX). */
  get txInterval(): number {
    return Math.max(this.txInUse, this.remoteMinRx) / 1000;
  }

  /** The next periodic interval (ms) with jitter: 75–100 % of the interval, 75–90 % with detect multiplier 1 (§6.8.7). */
  jitteredInterval(): number {
    const span = this.cfg.multiplier === 1 ? 0.15 : 0.25;
    return this.txInterval * (0.75 + span * this.clock.random());
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.state === 'AdminDown') this.setState('Down', Diag.NONE);
    this.transmit();
    this.scheduleTx();
  }

  /** Stops the session, telling the peer with AdminDown packets (diag 7) that it is not a failure. */
  stop(): void {
    if (!this.running) return;
    this.setState('AdminDown', Diag.ADMIN_DOWN);
    this.transmit();
    this.running = false;
    this.clock.clearTimeout(this.txTimer);
    this.clock.clearTimeout(this.detectTimer);
  }

  /** Changes timers; when Up this runs a Poll Sequence (§6.8.3), otherwise takes effect at once. */
  reconfigure(cfg: BfdSessionConfig): void {
    this.cfg = { ...cfg };
    this.updateTimers();
  }

  /**
   * A validated packet addressed to this session (§6.8.6 after the session-less checks, which
   * decodeControl did).
   */
  receive(p: ControlPacket): void {
    if (!this.running) return;
    this.counters.packetsIn++;
    if (p.final && this.polling) {
      // The peer saw our new timers: the Poll Sequence is over and they take effect.
      this.polling = false;
      this.txInUse = this.advTx;
      this.rxInUse = this.advRx;
      this.scheduleTx();
    }
    this.remoteDiscriminator = p.myDiscriminator;
    this.remoteState = p.state;
    this.remoteDiag = p.diag;
    this.remoteDetectMult = p.detectMult;
    this.remoteDesiredMinTx = p.desiredMinTx;
    this.remoteDemand = p.demand;
    const minRxChanged = p.requiredMinRx !== this.remoteMinRx;
    this.remoteMinRx = p.requiredMinRx;
    if (this.state === 'AdminDown') return;
    if (p.state === 'AdminDown') {
      if (this.state !== 'Down') this.setState('Down', Diag.NEIGHBOR_DOWN);
    } else if (this.state === 'Down') {
      if (p.state === 'Down') this.setState('Init', Diag.NONE);
      else if (p.state === 'Init') this.setState('Up', Diag.NONE);
    } else if (this.state === 'Init') {
      if (p.state === 'Init' || p.state === 'Up') this.setState('Up', Diag.NONE);
    } else if (p.state === 'Down') {
      this.setState('Down', Diag.NEIGHBOR_DOWN);
    }
    // A Poll is answered at once with a Final (§6.8.7), whatever our periodic schedule.
    if (p.poll) this.transmit(true);
    if (minRxChanged) this.scheduleTx();
    this.armDetection();
  }

  private armDetection(): void {
    this.clock.clearTimeout(this.detectTimer);
    const ms = this.detectionTime;
    if (!(ms > 0)) return;
    this.detectTimer = this.clock.setTimeout(() => this.detectionExpired(), ms);
  }

  private detectionExpired(): void {
    this.detectTimer = undefined;
    if (!this.running) return;
    // §6.8.1: no packet for a detection time: the peer's discriminator is forgotten.
    this.remoteDiscriminator = 0;
    if (this.state === 'Init' || this.state === 'Up') this.setState('Down', Diag.DETECTION_TIME_EXPIRED);
  }

  private setState(to: BfdState, diag: number): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.since = this.clock.now();
    if (to === 'Down' || to === 'AdminDown') this.localDiag = diag;
    if (to === 'Up') {
      this.localDiag = Diag.NONE;
      this.counters.ups++;
    }
    if (to === 'Down' && (from === 'Up' || from === 'Init')) this.counters.downs++;
    if (to === 'Down') this.polling = false;
    this.updateTimers();
    this.events.stateChange(from, to, diag, this.remoteState);
  }

  /** Re-derives the advertised intervals; a change while Up starts a Poll Sequence. */
  private updateTimers(): void {
    const tx = this.wantTx();
    const rx = this.wantRx();
    if (tx === this.advTx && rx === this.advRx) return;
    if (this.state === 'Up') {
      // A faster TX and a slower RX are safe at once; a slower TX and a faster RX only once the
      // peer acknowledged them with a Final (§6.8.3).
      if (tx < this.txInUse) this.txInUse = tx;
      if (rx > this.rxInUse) this.rxInUse = rx;
      this.polling = true;
    } else {
      this.txInUse = tx;
      this.rxInUse = rx;
    }
    this.advTx = tx;
    this.advRx = rx;
    if (this.running) this.scheduleTx();
  }

  private scheduleTx(): void {
    this.clock.clearTimeout(this.txTimer);
    this.txTimer = undefined;
    if (!this.running) return;
    // A peer asking for a Required Min RX of 0 wants no periodic packets (§6.8.7).
    if (this.remoteMinRx === 0) return;
    this.txTimer = this.clock.setTimeout(() => {
      this.txTimer = undefined;
      const quiet = this.remoteDemand && this.state === 'Up' && this.remoteState === 'Up' && !this.polling;
      if (!quiet) this.transmit();
      this.scheduleTx();
    }, this.jitteredInterval());
  }

  /** Sends one packet: periodic (with Poll while polling) or a Final answering the peer's Poll. */
  private transmit(final = false): void {
    this.counters.packetsOut++;
    this.events.send(encodeControl({
      diag: this.localDiag,
      state: this.state,
      poll: !final && this.polling,
      final,
      detectMult: this.cfg.multiplier,
      myDiscriminator: this.localDiscriminator,
      yourDiscriminator: this.remoteDiscriminator,
      desiredMinTx: this.advTx,
      requiredMinRx: this.advRx,
      requiredMinEchoRx: 0,
    }));
  }
}

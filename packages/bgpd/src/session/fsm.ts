// The BGP session finite state machine of RFC 4271 §8 as a pure transition function:
// step(state, event) -> { state, actions }. Sockets and timers live in the peer that executes
// the actions; the FSM only decides. Every transition to Idle carries a typed reason.

export type FsmStateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export type TimerName = 'connectRetry' | 'hold' | 'keepalive' | 'idleHold';

export interface NotificationSpec {
  code: number;
  subcode: number;
  data?: Uint8Array;
}

/** Why a session left (or never reached) Established; shown in logs and `ctl node status`. */
export type DownReason =
  | { kind: 'admin-stop' }
  | { kind: 'hold-timer-expired' }
  | { kind: 'notification-received'; notification: NotificationSpec }
  | { kind: 'notification-sent'; notification: NotificationSpec }
  | { kind: 'connection-closed' }
  | { kind: 'connection-failed'; error: string }
  | { kind: 'fsm-error'; event: string; state: FsmStateName }
  /** BFD saw the forwarding path to the peer fail (RFC 5882). */
  | { kind: 'bfd-down' };

export interface FsmConfig {
  /** Hold time we offer (0 disables keepalives, else >= 3). */
  holdTime: number;
  /** Keepalive interval we would like; capped at a third of the negotiated hold time. */
  keepaliveTime: number;
  connectRetryTime: number;
  /** Wait this long in Active (accepting the peer's connection) before our first connect attempt; 0 = connect at once. */
  connectDelay?: number;
  /** Never connect out; only accept. */
  passive: boolean;
  /** First idle-hold delay after an error, doubled per consecutive error up to the max (seconds). */
  idleHoldInitial: number;
  idleHoldMax: number;
}

export interface FsmState {
  name: FsmStateName;
  /** Negotiated after OPEN: min(ours, theirs). */
  holdTime: number;
  keepaliveTime: number;
  /** Next idle-hold delay (seconds), grown by errors and reset once Established. */
  idleHold: number;
  /** When true the FSM restarts by itself after idle hold (automatic start). */
  autoStart: boolean;
  lastDown?: DownReason;
}

export type FsmEvent =
  | { type: 'start' }
  | { type: 'stop' }
  | { type: 'timer'; timer: TimerName }
  | { type: 'tcp-connected' }
  | { type: 'tcp-accepted' }
  | { type: 'tcp-failed'; error: string }
  | { type: 'tcp-closed' }
  /** A well-formed OPEN the peer layer accepted; holdTime is the peer's offer. */
  | { type: 'open'; holdTime: number }
  | { type: 'keepalive' }
  | { type: 'update' }
  | { type: 'route-refresh' }
  | { type: 'notification'; notification: NotificationSpec }
  /** Something the peer sent was wrong (bad header, bad OPEN, malformed UPDATE ...). */
  | { type: 'message-error'; notification: NotificationSpec }
  /** The peer's BFD session went down: end the session and do not restart until BFD is Up again. */
  | { type: 'bfd-down' };

export type FsmAction =
  | { type: 'connect' }
  | { type: 'close' }
  | { type: 'send-open'; holdTime: number }
  | { type: 'send-keepalive' }
  | { type: 'send-notification'; notification: NotificationSpec }
  | { type: 'start-timer'; timer: TimerName; seconds: number }
  | { type: 'stop-timer'; timer: TimerName }
  | { type: 'established' }
  | { type: 'down'; reason: DownReason; wasEstablished: boolean };

export interface StepResult {
  state: FsmState;
  actions: FsmAction[];
}

/** RFC 4271 suggests a large hold time while waiting for the peer's OPEN. */
export const OPEN_HOLD_TIME = 240;

export const NOTIFY = {
  HOLD_TIMER_EXPIRED: { code: 4, subcode: 0 },
  FSM_ERROR: { code: 5, subcode: 0 },
  CEASE_ADMIN_SHUTDOWN: { code: 6, subcode: 2 },
  /** Cease / BFD Down (RFC 9384). */
  CEASE_BFD_DOWN: { code: 6, subcode: 10 },
} as const;

export function initialState(cfg: FsmConfig): FsmState {
  return { name: 'Idle', holdTime: cfg.holdTime, keepaliveTime: cfg.keepaliveTime, idleHold: cfg.idleHoldInitial, autoStart: false };
}

const ALL_TIMERS: TimerName[] = ['connectRetry', 'hold', 'keepalive'];
const stopAll = (): FsmAction[] => ALL_TIMERS.map((timer) => ({ type: 'stop-timer', timer }));

/** Negotiated timers: hold = min of both offers (0 if either is 0); keepalive <= hold / 3. */
export function negotiateTimers(cfg: FsmConfig, peerHold: number): { holdTime: number; keepaliveTime: number } {
  const holdTime = Math.min(cfg.holdTime, peerHold);
  if (holdTime === 0) return { holdTime: 0, keepaliveTime: 0 };
  return { holdTime, keepaliveTime: Math.max(1, Math.min(cfg.keepaliveTime || Math.floor(holdTime / 3), Math.floor(holdTime / 3))) };
}

function toIdle(cfg: FsmConfig, s: FsmState, reason: DownReason, pre: FsmAction[], error: boolean): StepResult {
  const actions: FsmAction[] = [...pre, { type: 'close' }, ...stopAll(), { type: 'down', reason, wasEstablished: s.name === 'Established' }];
  const next: FsmState = { ...s, name: 'Idle', lastDown: reason, holdTime: cfg.holdTime, keepaliveTime: cfg.keepaliveTime };
  if (s.autoStart) {
    // Back off before trying again: a peer that keeps failing is not hammered.
    actions.push({ type: 'start-timer', timer: 'idleHold', seconds: s.idleHold });
    if (error) next.idleHold = Math.min(cfg.idleHoldMax, s.idleHold * 2);
  }
  return { state: next, actions };
}

function sendNotification(cfg: FsmConfig, s: FsmState, n: NotificationSpec, error = true): StepResult {
  return toIdle(cfg, s, { kind: 'notification-sent', notification: n }, [{ type: 'send-notification', notification: n }], error);
}

function begin(cfg: FsmConfig, s: FsmState): StepResult {
  const base: FsmState = { ...s, autoStart: true };
  if (cfg.passive) {
    return { state: { ...base, name: 'Active' }, actions: [] };
  }
  if (cfg.connectDelay) {
    // Connect delay: give the peer the first chance to connect; the retry timer starts ours.
    return { state: { ...base, name: 'Active' }, actions: [{ type: 'start-timer', timer: 'connectRetry', seconds: cfg.connectDelay }] };
  }
  return {
    state: { ...base, name: 'Connect' },
    actions: [{ type: 'connect' }, { type: 'start-timer', timer: 'connectRetry', seconds: cfg.connectRetryTime }],
  };
}

function holdTimerActions(holdTime: number, keepaliveTime: number): FsmAction[] {
  if (holdTime === 0) return [{ type: 'stop-timer', timer: 'hold' }, { type: 'stop-timer', timer: 'keepalive' }];
  return [
    { type: 'start-timer', timer: 'hold', seconds: holdTime },
    { type: 'start-timer', timer: 'keepalive', seconds: keepaliveTime },
  ];
}

/** The transition function. Pure: same input, same output; no clocks, no I/O. */
export function step(cfg: FsmConfig, s: FsmState, ev: FsmEvent): StepResult {
  const unexpected = (): StepResult => sendNotification(cfg, s, NOTIFY.FSM_ERROR);

  if (ev.type === 'stop') {
    const stopped: FsmState = { ...s, autoStart: false, idleHold: cfg.idleHoldInitial };
    const pre: FsmAction[] = [{ type: 'stop-timer', timer: 'idleHold' }];
    if (s.name === 'OpenSent' || s.name === 'OpenConfirm' || s.name === 'Established') {
      pre.push({ type: 'send-notification', notification: NOTIFY.CEASE_ADMIN_SHUTDOWN });
    }
    if (s.name === 'Idle') return { state: stopped, actions: pre };
    return toIdle(cfg, stopped, { kind: 'admin-stop' }, pre, false);
  }

  if (ev.type === 'bfd-down') {
    // RFC 5882 §4.3: the path is dead, so the session ends now (the NOTIFICATION is a courtesy
    // that may never arrive) and is not restarted automatically; the peer layer starts it again
    // once BFD is back Up.
    const held: FsmState = { ...s, autoStart: false };
    const pre: FsmAction[] = [{ type: 'stop-timer', timer: 'idleHold' }];
    if (s.name === 'OpenSent' || s.name === 'OpenConfirm' || s.name === 'Established') {
      pre.push({ type: 'send-notification', notification: NOTIFY.CEASE_BFD_DOWN });
    }
    if (s.name === 'Idle') return { state: held, actions: pre };
    return toIdle(cfg, held, { kind: 'bfd-down' }, pre, false);
  }

  switch (s.name) {
    case 'Idle':
      if (ev.type === 'start') return begin(cfg, { ...s, idleHold: cfg.idleHoldInitial });
      if (ev.type === 'timer' && ev.timer === 'idleHold' && s.autoStart) return begin(cfg, s);
      // While waiting out the idle-hold backoff after an error, the peer's own connection is
      // taken (as BIRD does): both sides backing off in turn could otherwise keep missing each
      // other. A stopped peer still refuses (RFC 4271: Idle ignores everything else).
      if (ev.type === 'tcp-accepted' && s.autoStart) {
        return {
          state: { ...s, name: 'OpenSent' },
          actions: [{ type: 'stop-timer', timer: 'idleHold' }, { type: 'send-open', holdTime: cfg.holdTime }, { type: 'start-timer', timer: 'hold', seconds: OPEN_HOLD_TIME }],
        };
      }
      if (ev.type === 'tcp-accepted') return { state: s, actions: [{ type: 'close' }] };
      return { state: s, actions: [] };

    case 'Connect':
    case 'Active':
      switch (ev.type) {
        case 'start': return { state: s, actions: [] };
        case 'tcp-connected':
        case 'tcp-accepted':
          return {
            state: { ...s, name: 'OpenSent' },
            actions: [
              { type: 'stop-timer', timer: 'connectRetry' },
              { type: 'send-open', holdTime: cfg.holdTime },
              { type: 'start-timer', timer: 'hold', seconds: OPEN_HOLD_TIME },
            ],
          };
        case 'tcp-failed':
          // Wait in Active for the retry timer (or for the peer to connect to us).
          return { state: { ...s, name: 'Active' }, actions: cfg.passive ? [] : [{ type: 'start-timer', timer: 'connectRetry', seconds: cfg.connectRetryTime }] };
        case 'timer':
          if (ev.timer === 'connectRetry' && !cfg.passive) {
            return { state: { ...s, name: 'Connect' }, actions: [{ type: 'close' }, { type: 'connect' }, { type: 'start-timer', timer: 'connectRetry', seconds: cfg.connectRetryTime }] };
          }
          return { state: s, actions: [] };
        case 'tcp-closed':
          return { state: s, actions: [] };
        default:
          return toIdle(cfg, s, { kind: 'fsm-error', event: ev.type, state: s.name }, [], true);
      }

    case 'OpenSent':
      switch (ev.type) {
        case 'start': return { state: s, actions: [] };
        case 'open': {
          const neg = negotiateTimers(cfg, ev.holdTime);
          return {
            state: { ...s, name: 'OpenConfirm', ...neg },
            actions: [{ type: 'send-keepalive' }, ...holdTimerActions(neg.holdTime, neg.keepaliveTime)],
          };
        }
        case 'tcp-closed':
        case 'tcp-failed':
          return toIdle(cfg, s, { kind: 'connection-closed' }, [], true);
        case 'timer':
          if (ev.timer === 'hold') return sendNotification(cfg, s, NOTIFY.HOLD_TIMER_EXPIRED);
          return { state: s, actions: [] };
        case 'notification':
          return toIdle(cfg, s, { kind: 'notification-received', notification: ev.notification }, [], true);
        case 'message-error':
          return sendNotification(cfg, s, ev.notification);
        default:
          return unexpected();
      }

    case 'OpenConfirm':
      if (ev.type === 'keepalive') {
        return {
          state: { ...s, name: 'Established', idleHold: cfg.idleHoldInitial },
          actions: [...(s.holdTime ? [{ type: 'start-timer', timer: 'hold', seconds: s.holdTime } as FsmAction] : []), { type: 'established' }],
        };
      }
      return afterOpen(cfg, s, ev) ?? unexpected();

    case 'Established':
      if (ev.type === 'keepalive' || ev.type === 'update' || ev.type === 'route-refresh') {
        return { state: s, actions: s.holdTime ? [{ type: 'start-timer', timer: 'hold', seconds: s.holdTime }] : [] };
      }
      return afterOpen(cfg, s, ev) ?? unexpected();

    default: {
      const never: never = s.name;
      throw new Error(`unknown state ${String(never)}`);
    }
  }
}

/** Events handled alike once OPENs have been exchanged (OpenConfirm and Established). */
function afterOpen(cfg: FsmConfig, s: FsmState, ev: FsmEvent): StepResult | undefined {
  switch (ev.type) {
    case 'start':
      return { state: s, actions: [] };
    case 'timer':
      if (ev.timer === 'hold') return sendNotification(cfg, s, NOTIFY.HOLD_TIMER_EXPIRED);
      if (ev.timer === 'keepalive') return { state: s, actions: [{ type: 'send-keepalive' }, { type: 'start-timer', timer: 'keepalive', seconds: s.keepaliveTime }] };
      return { state: s, actions: [] };
    case 'tcp-closed':
    case 'tcp-failed':
      return toIdle(cfg, s, { kind: 'connection-closed' }, [], true);
    case 'notification':
      return toIdle(cfg, s, { kind: 'notification-received', notification: ev.notification }, [], true);
    case 'message-error':
      return sendNotification(cfg, s, ev.notification);
    default:
      return undefined;
  }
}

/**
 * Connection collision (RFC 4271 §6.8): when both sides connected, the connection opened by
 * the speaker with the higher BGP identifier survives. Returns which of ours to close.
 */
export function collisionLoser(localId: string, remoteId: string): 'outgoing' | 'incoming' {
  const num = (id: string) => id.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  return num(localId) < num(remoteId) ? 'outgoing' : 'incoming';
}

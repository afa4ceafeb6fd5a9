import { expect } from 'chai';
import { collisionLoser, initialState, negotiateTimers, step, type FsmConfig, type FsmEvent, type FsmState } from '@tabby/bgpd';

const cfg: FsmConfig = { holdTime: 90, keepaliveTime: 30, connectRetryTime: 5, passive: false, idleHoldInitial: 1, idleHoldMax: 8 };

/** Runs events from Idle and returns the final state plus every action in order. */
function run(events: FsmEvent[], c: FsmConfig = cfg, from?: FsmState) {
  let s = from ?? initialState(c);
  const actions = [];
  for (const e of events) {
    const r = step(c, s, e);
    s = r.state;
    actions.push(...r.actions);
  }
  return { s, actions };
}

const toEstablished: FsmEvent[] = [{ type: 'start' }, { type: 'tcp-connected' }, { type: 'open', holdTime: 180 }, { type: 'keepalive' }];

describe('session FSM', () => {
  it('active open: Idle -> Connect -> OpenSent -> OpenConfirm -> Established', () => {
    const names: string[] = [];
    let s = initialState(cfg);
    for (const e of toEstablished) {
      s = step(cfg, s, e).state;
      names.push(s.name);
    }
    expect(names).to.deep.equal(['Connect', 'OpenSent', 'OpenConfirm', 'Established']);
    expect(s).to.include({ holdTime: 90, keepaliveTime: 30 });
  });

  it('emits the RFC 4271 actions on the way up', () => {
    const { actions } = run(toEstablished);
    expect(actions).to.deep.equal([
      { type: 'connect' }, { type: 'start-timer', timer: 'connectRetry', seconds: 5 },
      { type: 'stop-timer', timer: 'connectRetry' }, { type: 'send-open', holdTime: 90 }, { type: 'start-timer', timer: 'hold', seconds: 240 },
      { type: 'send-keepalive' }, { type: 'start-timer', timer: 'hold', seconds: 90 }, { type: 'start-timer', timer: 'keepalive', seconds: 30 },
      { type: 'start-timer', timer: 'hold', seconds: 90 }, { type: 'established' },
    ]);
  });

  it('negotiates the smaller hold time and a keepalive of at most a third of it', () => {
    expect(negotiateTimers(cfg, 9)).to.deep.equal({ holdTime: 9, keepaliveTime: 3 });
    expect(negotiateTimers(cfg, 0)).to.deep.equal({ holdTime: 0, keepaliveTime: 0 });
    expect(negotiateTimers({ ...cfg, keepaliveTime: 10 }, 180)).to.deep.equal({ holdTime: 90, keepaliveTime: 10 });
    const { actions } = run([{ type: 'start' }, { type: 'tcp-connected' }, { type: 'open', holdTime: 0 }]);
    expect(actions.filter((a) => a.type === 'start-timer' && (a.timer === 'hold' || a.timer === 'keepalive')).map((a) => a.type === 'start-timer' && a.seconds)).to.deep.equal([240]);
  });

  it('a passive peer waits in Active and never connects', () => {
    const p = { ...cfg, passive: true };
    const { s, actions } = run([{ type: 'start' }, { type: 'timer', timer: 'connectRetry' }], p);
    expect(s.name).to.equal('Active');
    expect(actions.some((a) => a.type === 'connect')).to.equal(false);
    expect(run([{ type: 'start' }, { type: 'tcp-accepted' }], p).s.name).to.equal('OpenSent');
  });

  it('a connect delay waits in Active (accepting) before the first connect', () => {
    const d = { ...cfg, connectDelay: 7 };
    const first = run([{ type: 'start' }], d);
    expect(first.s.name).to.equal('Active');
    expect(first.actions).to.deep.equal([{ type: 'start-timer', timer: 'connectRetry', seconds: 7 }]);
    const later = run([{ type: 'start' }, { type: 'timer', timer: 'connectRetry' }], d);
    expect(later.s.name).to.equal('Connect');
    expect(later.actions.filter((a) => a.type === 'connect')).to.have.length(1);
    expect(run([{ type: 'start' }, { type: 'tcp-accepted' }], d).s.name, 'the peer may connect during the delay').to.equal('OpenSent');
  });

  it('a failed connect waits in Active and retries on the ConnectRetry timer', () => {
    const { s, actions } = run([{ type: 'start' }, { type: 'tcp-failed', error: 'ECONNREFUSED' }, { type: 'timer', timer: 'connectRetry' }]);
    expect(s.name).to.equal('Connect');
    expect(actions.filter((a) => a.type === 'connect')).to.have.length(2);
  });

  it('hold timer expiry in Established sends NOTIFICATION 4/0, closes and backs off', () => {
    const up = run(toEstablished).s;
    const r = step(cfg, up, { type: 'timer', timer: 'hold' });
    expect(r.state.name).to.equal('Idle');
    expect(r.actions.slice(0, 2)).to.deep.equal([{ type: 'send-notification', notification: { code: 4, subcode: 0 } }, { type: 'close' }]);
    expect(r.actions).to.deep.include({ type: 'down', reason: { kind: 'notification-sent', notification: { code: 4, subcode: 0 } }, wasEstablished: true });
    expect(r.actions).to.deep.include({ type: 'start-timer', timer: 'idleHold', seconds: 1 });
    expect(r.state.lastDown).to.deep.equal({ kind: 'notification-sent', notification: { code: 4, subcode: 0 } });
  });

  it('idle hold doubles per consecutive error up to the maximum, and resets once Established', () => {
    let s = initialState(cfg);
    s = step(cfg, s, { type: 'start' }).state;
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      s = step(cfg, s, { type: 'tcp-connected' }).state;
      const r = step(cfg, s, { type: 'tcp-closed' });
      const t = r.actions.find((a) => a.type === 'start-timer' && a.timer === 'idleHold');
      delays.push(t && t.type === 'start-timer' ? t.seconds : -1);
      s = step(cfg, r.state, { type: 'timer', timer: 'idleHold' }).state;
    }
    expect(delays).to.deep.equal([1, 2, 4, 8, 8, 8]);
    s = run(toEstablished.slice(1), cfg, s).s;
    expect(s.name).to.equal('Established');
    expect(s.idleHold).to.equal(1);
  });

  it('keepalives flow on the keepalive timer and received traffic restarts the hold timer', () => {
    const up = run(toEstablished).s;
    expect(step(cfg, up, { type: 'timer', timer: 'keepalive' }).actions).to.deep.equal([{ type: 'send-keepalive' }, { type: 'start-timer', timer: 'keepalive', seconds: 30 }]);
    expect(step(cfg, up, { type: 'update' }).actions).to.deep.equal([{ type: 'start-timer', timer: 'hold', seconds: 90 }]);
  });

  it('a received NOTIFICATION or a message error ends the session with the right reason', () => {
    const up = run(toEstablished).s;
    const n = { code: 6, subcode: 4 };
    expect(step(cfg, up, { type: 'notification', notification: n }).state.lastDown).to.deep.equal({ kind: 'notification-received', notification: n });
    const bad = { code: 3, subcode: 3, data: new Uint8Array([1]) };
    const r = step(cfg, up, { type: 'message-error', notification: bad });
    expect(r.actions[0]).to.deep.equal({ type: 'send-notification', notification: bad });
  });

  it('an UPDATE before Established is an FSM error (NOTIFICATION 5/0)', () => {
    const opensent = run([{ type: 'start' }, { type: 'tcp-connected' }]).s;
    const r = step(cfg, opensent, { type: 'update' });
    expect(r.state.name).to.equal('Idle');
    expect(r.actions[0]).to.deep.equal({ type: 'send-notification', notification: { code: 5, subcode: 0 } });
  });

  it('stop sends Cease/Administrative Shutdown when a session exists and does not restart', () => {
    const up = run(toEstablished).s;
    const r = step(cfg, up, { type: 'stop' });
    expect(r.state).to.include({ name: 'Idle', autoStart: false });
    expect(r.actions).to.deep.include({ type: 'send-notification', notification: { code: 6, subcode: 2 } });
    expect(r.actions.some((a) => a.type === 'start-timer')).to.equal(false);
    expect(step(cfg, r.state, { type: 'timer', timer: 'idleHold' }).state.name).to.equal('Idle');
  });

  it('an incoming connection while Idle is refused, but taken while waiting out the idle hold after an error', () => {
    expect(step(cfg, initialState(cfg), { type: 'tcp-accepted' }).actions).to.deep.equal([{ type: 'close' }]);
    const backingOff = run([{ type: 'start' }, { type: 'tcp-connected' }, { type: 'tcp-closed' }]);
    expect(backingOff.s.name).to.equal('Idle');
    expect(backingOff.s.autoStart).to.equal(true);
    const r = step(cfg, backingOff.s, { type: 'tcp-accepted' });
    expect(r.state.name).to.equal('OpenSent');
    expect(r.actions.map((a) => a.type)).to.deep.equal(['stop-timer', 'send-open', 'start-timer']);
  });

  it('collision: the side with the higher BGP identifier keeps its own connection', () => {
    expect(collisionLoser('10.0.0.1', '10.0.0.2')).to.equal('outgoing');
    expect(collisionLoser('10.0.0.9', '10.0.0.10')).to.equal('outgoing');
    expect(collisionLoser('192.168.0.1', '10.0.0.2')).to.equal('incoming');
  });
});

import { expect } from 'chai';
import { initialState, step, type FsmConfig, type FsmEvent, type FsmState } from '@tabby/bgpd';

const cfg: FsmConfig = { holdTime: 30, keepaliveTime: 10, connectRetryTime: 5, passive: false, idleHoldInitial: 1, idleHoldMax: 8 };

function run(events: FsmEvent[], from: FsmState = initialState(cfg)) {
  let s = from;
  const actions = [];
  for (const e of events) {
    const r = step(cfg, s, e);
    s = r.state;
    actions.push(...r.actions);
  }
  return { s, actions };
}

describe('session FSM: BFD down (RFC 5882)', () => {
  const established = run([{ type: 'start' }, { type: 'tcp-connected' }, { type: 'open', holdTime: 30 }, { type: 'keepalive' }]).s;

  it('ends an Established session at once with Cease/BFD Down, reason bfd-down, and does not restart it', () => {
    expect(established.name).to.equal('Established');
    const { s, actions } = run([{ type: 'bfd-down' }], established);
    expect(s.name).to.equal('Idle');
    expect(s.autoStart).to.equal(false);
    expect(actions).to.deep.include({ type: 'send-notification', notification: { code: 6, subcode: 10 } });
    expect(actions).to.deep.include({ type: 'close' });
    expect(actions).to.deep.include({ type: 'down', reason: { kind: 'bfd-down' }, wasEstablished: true });
    expect(actions.some((a) => a.type === 'start-timer')).to.equal(false);
    // The peer's connection is refused while held down; a start (BFD Up again) connects.
    expect(run([{ type: 'tcp-accepted' }], s).actions).to.deep.equal([{ type: 'close' }]);
    expect(run([{ type: 'start' }], s).s.name).to.equal('Connect');
  });

  it('in Idle waiting out the backoff, cancels the automatic restart', () => {
    const idle = run([{ type: 'start' }, { type: 'tcp-connected' }, { type: 'tcp-closed' }]).s;
    expect(idle).to.deep.include({ name: 'Idle', autoStart: true });
    const { s, actions } = run([{ type: 'bfd-down' }], idle);
    expect(s.autoStart).to.equal(false);
    expect(actions).to.deep.equal([{ type: 'stop-timer', timer: 'idleHold' }]);
  });
});

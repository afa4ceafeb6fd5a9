import { expect } from 'chai';
import { BfdSession, decodeControl, type BfdClock, type BfdState, type ControlPacket } from '@tabby/bgpd';

/** A clock whose time only moves when the test says so; timers fire in order. */
class FakeClock implements BfdClock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  rnd = 0.5;
  now() { return this.t; }
  random() { return this.rnd; }
  setTimeout(fn: () => void, ms: number) {
    const id = ++this.seq;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown) { this.timers = this.timers.filter((x) => x.id !== h); }
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

interface Harness {
  clock: FakeClock;
  s: BfdSession;
  sent: { at: number; p: ControlPacket }[];
  changes: { from: BfdState; to: BfdState; diag: number; remote: BfdState; at: number }[];
}

function harness(minInterval = 300, multiplier = 3, disc = 0x0a0b0c0d): Harness {
  const clock = new FakeClock();
  const sent: Harness['sent'] = [];
  const changes: Harness['changes'] = [];
  const s = new BfdSession(disc, { minInterval, multiplier }, {
    send: (b) => {
      const d = decodeControl(b);
      if (!d.ok) throw new Error(`session sent an invalid packet: ${d.reason}`);
      sent.push({ at: clock.t, p: d.packet });
    },
    stateChange: (from, to, diag, remote) => changes.push({ from, to, diag, remote, at: clock.t }),
  }, clock);
  return { clock, s, sent, changes };
}

/** What the peer (discriminator 0x99) sends. */
function peer(state: BfdState, yourDisc: number, o: Partial<ControlPacket> = {}): ControlPacket {
  return {
    version: 1, diag: 0, state, poll: false, final: false, cpi: false, auth: false, demand: false, multipoint: false,
    detectMult: 3, myDiscriminator: 0x99, yourDiscriminator: yourDisc, desiredMinTx: 300_000, requiredMinRx: 300_000, requiredMinEchoRx: 0, ...o,
  };
}

/** Three-way handshake to Up: peer Down -> we Init; peer Up -> we Up. */
function bringUp(h: Harness): void {
  h.s.start();
  h.s.receive(peer('Down', 0, { desiredMinTx: 1_000_000 }));
  expect(h.s.state).to.equal('Init');
  h.s.receive(peer('Up', h.s.localDiscriminator));
  expect(h.s.state).to.equal('Up');
}

describe('BFD session state machine (RFC 5880 §6.8)', () => {
  it('sends Down packets at the slow 1 s rate before Up, with our discriminator and your-discriminator 0', () => {
    const h = harness();
    h.s.start();
    h.clock.advance(5000);
    expect(h.sent.length).to.be.within(5, 7);
    for (const { p } of h.sent) {
      expect(p).to.deep.include({ state: 'Down', myDiscriminator: 0x0a0b0c0d, yourDiscriminator: 0, desiredMinTx: 1_000_000, requiredMinRx: 300_000, detectMult: 3, poll: false });
    }
    // Jitter 0.5 -> 87.5 % of 1 s between periodic packets.
    expect(h.sent[2]!.at - h.sent[1]!.at).to.equal(875);
  });

  it('goes Down -> Init -> Up (three-way handshake) and reports each change', () => {
    const h = harness();
    bringUp(h);
    expect(h.changes.map((c) => `${c.from}>${c.to}`)).to.deep.equal(['Down>Init', 'Init>Up']);
    expect(h.s.remoteDiscriminator).to.equal(0x99);
  });

  it('goes straight Down -> Up when the peer is already in Init', () => {
    const h = harness();
    h.s.start();
    h.s.receive(peer('Init', 0x0a0b0c0d));
    expect(h.s.state).to.equal('Up');
  });

  it('stays Down when the peer reports Up (it must see us first)', () => {
    const h = harness();
    h.s.start();
    h.s.receive(peer('Up', 0x0a0b0c0d));
    expect(h.s.state).to.equal('Down');
  });

  it('on Up polls for its faster TX rate, paces at the agreed interval once the Final arrives, and detects a silent peer after multiplier × interval', () => {
    const h = harness();
    bringUp(h);
    h.sent.length = 0;
    h.clock.advance(300);
    const first = h.sent[0]!.p;
    expect(first).to.deep.include({ state: 'Up', poll: true, desiredMinTx: 300_000, yourDiscriminator: 0x99 });
    h.s.receive(peer('Up', h.s.localDiscriminator, { final: true }));
    expect(h.s.polling).to.equal(false);
    h.sent.length = 0;
    h.clock.advance(100); // inside the detection time (900 ms since the last packet)
    h.clock.advance(650);
    expect(h.s.state).to.equal('Up');
    expect(h.sent.every(({ p }) => !p.poll)).to.equal(true);
    expect(h.s.txInterval).to.equal(300);
    expect(h.s.detectionTime).to.equal(900);
    const lastRx = h.clock.t - 750;
    h.clock.advance(200);
    expect(h.s.state).to.equal('Down');
    const down = h.changes.at(-1)!;
    expect(down).to.deep.include({ from: 'Up', to: 'Down', diag: 1 });
    expect(down.at - lastRx).to.equal(900);
    expect(h.s.remoteDiscriminator).to.equal(0);
    // Back to the slow rate and Down packets with diag 1.
    h.sent.length = 0;
    h.clock.advance(3000);
    expect(h.sent.length).to.be.within(3, 4);
    expect(h.sent[0]!.p).to.deep.include({ state: 'Down', diag: 1, desiredMinTx: 1_000_000, yourDiscriminator: 0 });
  });

  it('uses the slower of the two sides: our TX follows the peer’s Required Min RX, detection the peer’s TX', () => {
    const h = harness(100, 3);
    h.s.start();
    h.s.receive(peer('Init', h.s.localDiscriminator, { requiredMinRx: 500_000, desiredMinTx: 200_000, detectMult: 5 }));
    expect(h.s.state).to.equal('Up');
    expect(h.s.txInterval).to.equal(500);
    expect(h.s.detectionTime).to.equal(5 * 200);
  });

  it('answers a Poll at once with a Final (never both bits)', () => {
    const h = harness();
    bringUp(h);
    h.sent.length = 0;
    h.s.receive(peer('Up', h.s.localDiscriminator, { poll: true }));
    expect(h.sent).to.have.length(1);
    expect(h.sent[0]!.p).to.deep.include({ final: true, poll: false, state: 'Up' });
    expect(h.sent[0]!.at).to.equal(h.clock.t);
  });

  it('goes Down with diag 3 when the peer says Down, and without a failure when the peer is AdminDown', () => {
    const h = harness();
    bringUp(h);
    h.s.receive(peer('Down', 0, { diag: 1 }));
    expect(h.changes.at(-1)).to.deep.include({ from: 'Up', to: 'Down', diag: 3, remote: 'Down' });
    const h2 = harness();
    bringUp(h2);
    h2.s.receive(peer('AdminDown', 0, { diag: 7 }));
    expect(h2.changes.at(-1)).to.deep.include({ from: 'Up', to: 'Down', diag: 3, remote: 'AdminDown' });
  });

  it('jitters periodic packets to 75–100 % of the interval, 75–90 % with detect multiplier 1', () => {
    const h = harness(1000, 3);
    h.clock.rnd = 0;
    expect(h.s.jitteredInterval()).to.equal(750);
    h.clock.rnd = 0.999999;
    expect(h.s.jitteredInterval()).to.be.closeTo(1000, 0.01);
    const h1 = harness(1000, 1);
    h1.clock.rnd = 0.999999;
    expect(h1.s.jitteredInterval()).to.be.closeTo(900, 0.01);
    h1.clock.rnd = 0;
    expect(h1.s.jitteredInterval()).to.equal(750);
  });

  it('a slower interval while Up takes effect only after the Poll Sequence; detection keeps the old RX until then', () => {
    const h = harness(300, 3);
    bringUp(h);
    h.s.receive(peer('Up', h.s.localDiscriminator, { final: true }));
    h.s.reconfigure({ minInterval: 1000, multiplier: 3 });
    expect(h.s.polling).to.equal(true);
    // Slower TX waits for the Final; a slower RX is used at once (safe: we tolerate more).
    expect(h.s.txInterval).to.equal(300);
    h.sent.length = 0;
    h.clock.advance(300);
    expect(h.sent[0]!.p).to.deep.include({ poll: true, desiredMinTx: 1_000_000, requiredMinRx: 1_000_000 });
    h.s.receive(peer('Up', h.s.localDiscriminator, { final: true, desiredMinTx: 1_000_000 }));
    expect(h.s.polling).to.equal(false);
    expect(h.s.txInterval).to.equal(1000);
    expect(h.s.detectionTime).to.equal(3000);
  });

  it('a faster RX while Up keeps the old detection time until the Final', () => {
    const h = harness(1000, 3);
    bringUp(h);
    h.s.receive(peer('Up', h.s.localDiscriminator, { final: true, desiredMinTx: 100_000 }));
    expect(h.s.detectionTime).to.equal(3000);
    h.s.reconfigure({ minInterval: 200, multiplier: 3 });
    expect(h.s.txInterval).to.equal(300); // faster TX at once (the peer asked for 300 ms RX)
    h.s.receive(peer('Up', h.s.localDiscriminator, { desiredMinTx: 100_000 }));
    expect(h.s.detectionTime).to.equal(3000);
    h.s.receive(peer('Up', h.s.localDiscriminator, { final: true, desiredMinTx: 100_000 }));
    expect(h.s.detectionTime).to.equal(600);
  });

  it('stops sending periodic packets when the peer asks for Required Min RX 0', () => {
    const h = harness();
    h.s.start();
    h.s.receive(peer('Down', 0, { requiredMinRx: 0 }));
    h.sent.length = 0;
    h.clock.advance(5000);
    expect(h.sent).to.have.length(0);
  });

  it('sends no periodic packets to a peer in Demand mode while both are Up, but still polls and answers Polls', () => {
    const h = harness();
    bringUp(h);
    h.s.receive(peer('Up', h.s.localDiscriminator, { final: true, demand: true }));
    h.sent.length = 0;
    h.clock.advance(600); // within the detection time
    expect(h.sent).to.have.length(0);
    h.s.receive(peer('Up', h.s.localDiscriminator, { demand: true, poll: true }));
    expect(h.sent.map(({ p }) => p.final)).to.deep.equal([true]);
    h.s.reconfigure({ minInterval: 200, multiplier: 3 });
    h.clock.advance(300);
    expect(h.sent.some(({ p }) => p.poll)).to.equal(true);
  });

  it('stop() sends AdminDown with diag 7 and then nothing; packets are ignored afterwards', () => {
    const h = harness();
    bringUp(h);
    h.sent.length = 0;
    h.s.stop();
    expect(h.sent).to.have.length(1);
    expect(h.sent[0]!.p).to.deep.include({ state: 'AdminDown', diag: 7 });
    h.s.receive(peer('Up', h.s.localDiscriminator));
    h.clock.advance(10_000);
    expect(h.sent).to.have.length(1);
    expect(h.s.state).to.equal('AdminDown');
  });

  it('Init times out to Down when the peer goes silent', () => {
    const h = harness();
    h.s.start();
    h.s.receive(peer('Down', 0, { desiredMinTx: 1_000_000 }));
    expect(h.s.state).to.equal('Init');
    h.clock.advance(2999);
    expect(h.s.state).to.equal('Init');
    h.clock.advance(2);
    expect(h.s.state).to.equal('Down');
    expect(h.changes.at(-1)).to.deep.include({ diag: 1 });
  });
});

// Hand-built bad bytes sent to a running bgpd over loopback: each must be answered with the
// exact NOTIFICATION, the daemon must survive, and another session must stay up.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { eventually } from '@tabby/test-support';
import { decodeNotification, encodeOpen, request, type PeerStatus } from '@tabby/bgpd';
import { startLoopbackBgpd, type LoopbackBgpd } from '../daemon/loopback-bgpd.js';
import { ScriptedPeer } from '../daemon/scripted-peer.js';

const MARKER = 'ffffffffffffffffffffffffffffffff';
const hex = (s: string) => Buffer.from(s.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');


// The peer 127.0.0.2 is configured `errorHandling: strict` (RFC 4271: every error resets the
// session, with the NOTIFICATION asserted here); 127.0.0.4 uses the default RFC 7606 handling.
describe('bgpd: malformed input from a peer', function () {
  this.timeout(60_000);
  let bgpd: LoopbackBgpd | undefined;
  let port: number, daemon: ChildProcess, sock: string, good: ScriptedPeer;
  const logs = () => bgpd?.logs().slice(-20_000) ?? '';

  const status = async () => (await request(sock, { cmd: 'status' })) as PeerStatus[];
  const goodStillUp = async () => expect((await status()).find((p) => p.address === '127.0.0.3')!.state).to.equal('up');

  before(async () => {
    bgpd = await startLoopbackBgpd('malformed', `peers:
  - { address: 127.0.0.2, asNumber: 65001, passive: true, errorHandling: strict }
  - { address: 127.0.0.3, asNumber: 65003, passive: true }
  - { address: 127.0.0.4, asNumber: 65004, passive: true }
originate:
  - { prefix: 10.244.9.0/26 }
kernel: { enabled: false }
`, { ready: (peers) => peers.length === 3 });
    ({ port, sock, process: daemon } = bgpd);
    good = await ScriptedPeer.open('127.0.0.3', port);
    await good.establish(65003, '10.3.3.3');
  });

  after(async () => {
    good?.close();
    await bgpd?.stop();
  });

  /** Sends `bad` (after an Established session when asked) and returns the NOTIFICATION. */
  async function notificationFor(bad: Uint8Array, establishFirst: boolean, open?: Uint8Array) {
    // The daemon backs off after each error; wait until it takes a new connection.
    await eventually(async () => (await status()).find((p) => p.address === '127.0.0.2')!.fsmState === 'Active', 15_000, 'peer ready again');
    const p = await ScriptedPeer.open('127.0.0.2', port);
    try {
      if (establishFirst) await p.establish(65001, '10.1.1.1');
      else if (open) {
        await p.next(1);
        p.send(open);
      }
      p.send(bad);
      const n = decodeNotification(await p.next(3));
      await eventually(() => p.closed, 5000, 'connection closed');
      return { code: n.code, subcode: n.subcode, data: Buffer.from(n.data).toString('hex') };
    } finally {
      p.close();
    }
  }

  const update = (body: string) => {
    const b = hex(body);
    const len = 19 + b.length;
    return Buffer.concat([hex(MARKER), Buffer.from([len >> 8, len & 0xff, 2]), b]);
  };
  const ORIGIN = '40 01 01 00', ASPATH = '40 02 06 02 01 0000fde9', NEXTHOP = '40 03 04 7f000002';
  const attrs = (a: string, nlri = '18 0a0101') => { const x = hex(a); return update(`0000 ${x.length.toString(16).padStart(4, '0')} ${a} ${nlri}`); };

  const cases: [string, () => Uint8Array, boolean, { code: number; subcode: number; data: string }][] = [
    ['bad marker', () => hex('ffffffffffffffffffffffffffffff00 0013 04'), true, { code: 1, subcode: 1, data: '' }],
    ['bad length', () => hex(`${MARKER} 0012 04`), true, { code: 1, subcode: 2, data: '0012' }],
    ['bad type', () => hex(`${MARKER} 0013 0b`), true, { code: 1, subcode: 3, data: '0b' }],
    ['malformed attribute list', () => update('0000 0010 40 01 01 00'), true, { code: 3, subcode: 1, data: '' }],
    ['missing well-known attribute', () => attrs(`${ASPATH} ${NEXTHOP}`), true, { code: 3, subcode: 3, data: '01' }],
    ['invalid ORIGIN', () => attrs(`40 01 01 05 ${ASPATH} ${NEXTHOP}`), true, { code: 3, subcode: 6, data: '40010105' }],
    ['invalid NEXT_HOP', () => attrs(`${ORIGIN} ${ASPATH} 40 03 04 e0000001`), true, { code: 3, subcode: 8, data: '400304e0000001' }],
    ['attribute flags', () => attrs(`c0 01 01 00 ${ASPATH} ${NEXTHOP}`), true, { code: 3, subcode: 4, data: 'c0010100' }],
    ['truncated NLRI', () => attrs(`${ORIGIN} ${ASPATH} ${NEXTHOP}`, '18 0a01'), true, { code: 3, subcode: 10, data: '' }],
  ];

  for (const [name, bytes, established, expected] of cases) {
    it(`${name} -> NOTIFICATION ${expected.code}/${expected.subcode}`, async () => {
      expect(await notificationFor(bytes(), established)).to.deep.equal(expected);
      await goodStillUp();
    });
  }

  it('unsupported version -> 2/1 with our version', async () => {
    const open = Buffer.from(encodeOpen({ myAs: 65001, holdTime: 90, bgpId: '10.1.1.1', capabilities: [] }));
    open[19] = 3;
    expect(await notificationFor(open, false)).to.deep.equal({ code: 2, subcode: 1, data: '0004' });
  });

  it('bad peer AS -> 2/2 and unacceptable hold time -> 2/6', async () => {
    expect(await notificationFor(encodeOpen({ myAs: 65009, holdTime: 90, bgpId: '10.1.1.1', capabilities: [] }), false)).to.deep.equal({ code: 2, subcode: 2, data: 'fdf1' });
    expect(await notificationFor(encodeOpen({ myAs: 65001, holdTime: 2, bgpId: '10.1.1.1', capabilities: [] }), false)).to.deep.equal({ code: 2, subcode: 6, data: '' });
    await goodStillUp();
  });

  it('random garbage never crashes the daemon', async () => {
    let seed = 3;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 30; i++) {
      // Whatever state the peer is in (it may be backing off and refuse us), send junk.
      const p = await ScriptedPeer.open('127.0.0.2', port);
      const junk = Buffer.from(Array.from({ length: 19 + (rnd() % 200) }, () => rnd() & 0xff));
      if (i % 2) junk.fill(0xff, 0, 16);
      p.send(junk);
      await new Promise((r) => setTimeout(r, 30));
      p.close();
    }
    expect(daemon.exitCode, logs()).to.equal(null);
    await goodStillUp();
  });

  describe('RFC 7606 (the default errorHandling: revised)', () => {
    let p: ScriptedPeer;
    const routes = async () => ((await request(sock, { cmd: 'routes' })) as { prefix: string; from: string }[]).filter((r) => r.from === '127.0.0.4').map((r) => r.prefix).sort();
    const up = async () => (await status()).find((x) => x.address === '127.0.0.4')!.state;
    const NH4 = '40 03 04 7f000004', AS4 = '40 02 06 02 01 0000fdec';
    const announce = (prefixByte3: string, extra = '') => attrs(`${ORIGIN} ${AS4} ${NH4} ${extra}`, `18 0a04${prefixByte3}`);

    before(async () => {
      p = await ScriptedPeer.open('127.0.0.4', port);
      await p.establish(65004, '10.4.4.4');
      p.send(announce('01'));
      p.send(announce('02'));
      p.send(announce('03'));
      await eventually(async () => (await routes()).length === 3, 5000, 'three routes from 127.0.0.4');
    });
    after(() => p?.close());

    it('a missing well-known attribute withdraws the prefixes and keeps the session', async () => {
      p.send(attrs(`${AS4} ${NH4}`, '18 0a0401'));
      await eventually(async () => !(await routes()).includes('10.4.1.0/24'), 5000, '10.4.1.0/24 withdrawn');
      expect(await up()).to.equal('up');
      expect(p.closed).to.equal(false);
    });

    it('an invalid NEXT_HOP withdraws the prefixes and keeps the session', async () => {
      p.send(attrs(`${ORIGIN} ${AS4} 40 03 04 e0000001`, '18 0a0402'));
      await eventually(async () => !(await routes()).includes('10.4.2.0/24'), 5000, '10.4.2.0/24 withdrawn');
      expect(await up()).to.equal('up');
    });

    it('a malformed ATOMIC_AGGREGATE is discarded and the route used', async () => {
      p.send(announce('05', '40 06 01 00'));
      await eventually(async () => (await routes()).includes('10.4.5.0/24'), 5000, '10.4.5.0/24 accepted');
      expect(await routes()).to.deep.equal(['10.4.3.0/24', '10.4.5.0/24']);
      expect(await up()).to.equal('up');
      expect(p.frames.some((f) => f.type === 3), 'no NOTIFICATION was sent').to.equal(false);
    });

    it('an error that leaves nothing usable still resets (malformed attribute list -> 3/1)', async () => {
      p.send(update('0000 0010 40 01 01 00'));
      const n = decodeNotification(await p.next(3));
      expect([n.code, n.subcode]).to.deep.equal([3, 1]);
      await eventually(async () => (await routes()).length === 0, 5000, 'routes of the reset session removed');
      await goodStillUp();
    });
  });
});

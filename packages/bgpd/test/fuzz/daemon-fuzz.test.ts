// Daemon-level fuzz (fast-check): a real bgpd on loopback, a scripted peer that completes
// OPEN/KEEPALIVE and then sends random and mutated messages seeded from the messages captured
// from BIRD, FRR and GoBGP (test/vectors). Properties, per message:
//  - bgpd answers with a NOTIFICATION whose code/subcode RFC 4271/4486/6608/7313 define and
//    closes, or keeps the session (an RFC 7606 action or an acceptable message) and then still
//    answers a ROUTE-REFRESH within a few seconds (it did not hang, it did not drop us silently);
//  - its control socket answers, the process is alive and it has logged no uncaught exception.
// A second, structured property sends attribute errors whose RFC 7606 action is known and
// checks bgpd's RIB through the control socket (treat-as-withdraw removes the prefix,
// attribute-discard keeps it, session reset removes everything from that peer).
// The first runs again with ADD-PATH and extended messages negotiated (path identifiers in
// every NLRI, messages up to 65535 bytes). A third sends mutated OPENs (from the captured ones): a valid NOTIFICATION or a KEEPALIVE.
// The RFC 7606 property runs for IPv6 routes in MP_REACH_NLRI as well.
// Fixed seed (printed); FUZZ_SEED / FUZZ_RUNS override it. A failure shows the shrunk message.
import { expect } from 'chai';
import fc from 'fast-check';
import { connect, type Socket } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { eventually } from '@tabby/test-support';
import { Framer, decodeNotification, encodeKeepalive, encodeOpen, encodeRouteRefresh, request, type PeerStatus } from '@tabby/bgpd';
import { captures } from '../wire/captures.js';
import { startLoopbackBgpd, type LoopbackBgpd } from '../daemon/loopback-bgpd.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 7606);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 160);
const PEER = '127.0.0.5';
/** A second peer with ADD-PATH (both ways) and extended messages negotiated. */
const PEER_ADD_PATH = '127.0.0.6';
const PEER_AS = 65005;
/** Which of the two the scripted peer currently is. */
let target = { address: PEER, addPath: false };
const ORIGINATED = '10.244.9.0/26';

/** NOTIFICATION codes and subcodes the RFCs define (4271, 4486, 5492, 6608, 7313, 8203, 9003, 9234). */
const VALID: Record<number, number[]> = {
  1: [1, 2, 3],
  2: [0, 1, 2, 3, 4, 6, 7, 11],
  3: [1, 2, 3, 4, 5, 6, 8, 9, 10, 11],
  4: [0],
  5: [0, 1, 2, 3],
  6: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  7: [1],
};
const MARKER = Buffer.alloc(16, 0xff);

class RawPeer {
  private framer = new Framer();
  readonly frames: { type: number; bytes: Uint8Array }[] = [];
  closed = false;
  constructor(readonly sock: Socket) {
    this.framer.maxLength = 65535; // whatever bgpd sends, we only look at it
    sock.on('data', (d) => { try { for (const f of this.framer.push(d)) this.frames.push({ type: f.type, bytes: f.bytes.slice() }); } catch { /* not our subject */ } });
    sock.on('close', () => { this.closed = true; });
    sock.on('error', () => undefined);
  }
  static async open(port: number): Promise<RawPeer> {
    const s = connect({ host: '127.0.0.1', port, localAddress: target.address });
    await new Promise<void>((res, rej) => { s.once('connect', res); s.once('error', rej); });
    return new RawPeer(s);
  }
  send(b: Uint8Array): void {
    if (!this.sock.destroyed) this.sock.write(b);
  }
  take(type: number, match: (b: Uint8Array) => boolean = () => true): Uint8Array | undefined {
    const i = this.frames.findIndex((x) => x.type === type && match(x.bytes));
    return i >= 0 ? this.frames.splice(i, 1)[0]!.bytes : undefined;
  }
  /** The first of: a message of `type`, a NOTIFICATION, the connection closing, or the time running out. */
  async wait(type: number, ms: number, match?: (b: Uint8Array) => boolean): Promise<{ kind: 'message'; bytes: Uint8Array } | { kind: 'notification'; code: number; subcode: number } | { kind: 'closed' } | { kind: 'timeout' }> {
    const end = Date.now() + ms;
    for (;;) {
      const n = this.take(3);
      if (n) { const d = decodeNotification(n); return { kind: 'notification', code: d.code, subcode: d.subcode }; }
      const m = this.take(type, match);
      if (m) return { kind: 'message', bytes: m };
      if (this.closed) return { kind: 'closed' };
      if (Date.now() > end) return { kind: 'timeout' };
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  close(): void {
    this.sock.destroy();
  }
}

const header = (type: number, body: Uint8Array) => {
  const len = 19 + body.length;
  return Buffer.concat([MARKER, Buffer.from([len >> 8, len & 0xff, type]), body]);
};
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Seeds: every UPDATE/NOTIFICATION/KEEPALIVE/ROUTE-REFRESH the real peers sent, plus a few of ours.
const SEEDS: Uint8Array[] = [
  ...captures.flatMap((c) => c.messages).filter((m) => m.length >= 19 && [2, 3, 4, 5].includes(m[18]!)),
  encodeKeepalive(),
  encodeRouteRefresh(1, 1),
  encodeRouteRefresh(2, 1),
];

/** An UPDATE with attribute bytes `attrs` (already encoded) for IPv4 NLRI `nlri`. */
const update = (attrs: Uint8Array, nlri: Uint8Array, withdrawn: Uint8Array = new Uint8Array(0)) => header(2, Buffer.concat([
  Buffer.from([withdrawn.length >> 8, withdrawn.length & 0xff]), withdrawn,
  Buffer.from([attrs.length >> 8, attrs.length & 0xff]), attrs, nlri,
]));
const attr = (flags: number, type: number, value: Uint8Array) => (flags & 0x10)
  ? Buffer.concat([Buffer.from([flags, type, value.length >> 8, value.length & 0xff]), value])
  : Buffer.concat([Buffer.from([flags, type, value.length]), value]);
const ORIGIN = attr(0x40, 1, hex('00'));
const ASPATH = attr(0x40, 2, hex(`02 01 ${PEER_AS.toString(16).padStart(8, '0')}`));
const NEXTHOP = attr(0x40, 3, hex('7f000005'));
const MED = attr(0x80, 4, hex('00000064'));
const COMMUNITY = attr(0xc0, 8, hex('fded0064'));
const VALID_ATTRS = [ORIGIN, ASPATH, NEXTHOP, MED, COMMUNITY];

/** Attribute-level mutations of a valid UPDATE: flags, lengths, duplicates, order, junk. */
const attributeMutation = fc.record({
  which: fc.integer({ min: 0, max: VALID_ATTRS.length - 1 }),
  op: fc.constantFrom('flags', 'length', 'duplicate', 'drop', 'value', 'unknown', 'extended-length'),
  byte: fc.integer({ min: 0, max: 255 }),
  junk: fc.uint8Array({ minLength: 0, maxLength: 12 }),
  prefix: fc.integer({ min: 0, max: 255 }),
}).map(({ which, op, byte, junk, prefix }) => {
  const list = VALID_ATTRS.map((a) => Buffer.from(a));
  const a = list[which]!;
  switch (op) {
    case 'flags': a[0] = byte; break;
    case 'length': a[2] = byte; break;
    case 'duplicate': list.push(Buffer.from(a)); break;
    case 'drop': list.splice(which, 1); break;
    case 'value': if (a.length > 3) a[3 + (byte % (a.length - 3))] = junk[0] ?? byte; break;
    case 'unknown': list.push(attr(byte & 0xf0, 100 + (byte % 100), junk)); break;
    case 'extended-length': list[which] = attr(a[0]! | 0x10, a[1]!, a.subarray(3)); break;
  }
  return update(Buffer.concat(list), hex(`18 0a 4d ${prefix.toString(16).padStart(2, '0')}`));
});

/** Byte-level mutations of a seed message. */
const byteMutation = fc.record({
  seed: fc.constantFrom(...SEEDS),
  op: fc.constantFrom('flip', 'flips', 'truncate', 'length', 'insert', 'type', 'append'),
  at: fc.nat(),
  bit: fc.integer({ min: 0, max: 7 }),
  n: fc.integer({ min: 1, max: 8 }),
  junk: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  len: fc.integer({ min: 0, max: 0xffff }),
}).map(({ seed, op, at, bit, n, junk, len }) => {
  let b = Buffer.from(seed);
  const pos = at % b.length;
  switch (op) {
    case 'flip': b[pos] = b[pos]! ^ (1 << bit); break;
    case 'flips': for (let i = 0; i < n; i++) { const p = (at + i * 7919) % b.length; b[p] = b[p]! ^ (1 << ((bit + i) % 8)); } break;
    case 'truncate': b = b.subarray(0, Math.max(19, pos)); b.writeUInt16BE(b.length, 16); break;
    case 'length': b.writeUInt16BE(len, 16); break;
    case 'insert': b = Buffer.concat([b.subarray(0, Math.max(19, pos)), junk, b.subarray(Math.max(19, pos))]); b.writeUInt16BE(b.length, 16); break;
    case 'type': b[18] = junk[0]!; break;
    case 'append': b = Buffer.concat([b, junk]); b.writeUInt16BE(b.length, 16); break;
  }
  return new Uint8Array(b);
});

/** Random bytes, half of them behind a valid marker so they reach the header checks. */
const randomBytes = fc.record({ body: fc.uint8Array({ minLength: 3, maxLength: 200 }), marker: fc.boolean() })
  .map(({ body, marker }) => new Uint8Array(Buffer.concat([marker ? MARKER : Buffer.alloc(16, body[0]), body])));

const fuzzMessage = fc.oneof(byteMutation, byteMutation, attributeMutation, randomBytes);

/**
 * The bytes actually sent: when the header claims more than there is (up to the 4096 bytes
 * allowed without extended messages, 65535 with them), filler completes the message so that bgpd is not left
 * waiting for the rest of it, which is not a hang.
 */
function complete(m: Uint8Array): Buffer {
  const b = Buffer.from(m);
  if (b.length < 19) return Buffer.concat([b, Buffer.alloc(19 - b.length)]);
  const declared = b.readUInt16BE(16);
  if (declared > b.length && declared <= (target.addPath ? 65535 : 4096)) return Buffer.concat([b, Buffer.alloc(declared - b.length)]);
  return b;
}

const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('bgpd: daemon fuzz with fast-check (loopback)', function () {
  // No time limit inside fast-check: an interrupted run goes on in the background, holding a
  // session the next property then collides with. The runs bound the time instead.
  this.timeout(120_000 + RUNS * 1000);
  let bgpd: LoopbackBgpd | undefined;
  let port: number, daemon: ChildProcess, sock: string;
  const logs = () => bgpd?.logs() ?? '';
  let peer: RawPeer | undefined;

  const status = async () => ((await request(sock, { cmd: 'status' })) as PeerStatus[]).find((p) => p.address === target.address)!;
  const routes = async () => ((await request(sock, { cmd: 'routes' })) as { prefix: string; from: string }[]).filter((r) => r.from === target.address).map((r) => r.prefix);

  /** A peer with an Established session (a new connection when the last one ended). */
  async function established(): Promise<RawPeer> {
    if (peer && !peer.closed) return peer;
    peer?.close();
    return (await eventually(async () => {
      const p = await RawPeer.open(port);
      const open = await p.wait(1, 3000);
      if (open.kind !== 'message') { p.close(); return undefined; }
      p.send(encodeOpen({
        myAs: PEER_AS, holdTime: 90, bgpId: '10.5.5.5',
        capabilities: [
          { type: 'multiprotocol', afi: 1, safi: 1 }, { type: 'multiprotocol', afi: 2, safi: 1 }, { type: 'route-refresh' }, { type: 'four-octet-as', asn: PEER_AS },
          ...(target.addPath ? [{ type: 'extended-message' as const }, { type: 'add-path' as const, families: [1, 2].map((afi) => ({ afi, safi: 1, send: true, receive: true })) }] : []),
        ],
      }));
      p.send(encodeKeepalive());
      const ka = await p.wait(4, 3000);
      if (ka.kind !== 'message') { p.close(); return undefined; }
      // bgpd's first UPDATE (what it originates) must not pass for a later round trip's answer.
      const first = await p.wait(2, 3000);
      if (first.kind !== 'message') { p.close(); return undefined; }
      await new Promise((r) => setTimeout(r, 100));
      p.frames.length = 0;
      peer = p;
      return p;
    }, 15_000, `a new session with bgpd; log: ${logs().slice(-2000)}`))!;
  }

  /** Round trip on a live session: ROUTE-REFRESH -> bgpd resends what it advertises. */
  // The answer must carry what we originate (10.244.9.0/26, NLRI 1a 0af40900): an UPDATE that
  // something else caused does not prove the ROUTE-REFRESH got through.
  async function roundTrip(p: RawPeer, ms = 3000) {
    p.frames.length = 0;
    p.send(encodeRouteRefresh(1, 1));
    return p.wait(2, ms, (b) => Buffer.from(b).toString('hex').includes('1a0af40900'));
  }

  /** Daemon alive, control socket answering, nothing uncaught in its log. */
  async function daemonHealthy(what: string): Promise<void> {
    expect(daemon.exitCode, `bgpd exited after ${what}\n${logs().slice(-3000)}`).to.equal(null);
    expect(logs(), `uncaught error logged after ${what}`).to.not.match(/Uncaught|TypeError|RangeError|ReferenceError|at .+\.js:\d+:\d+\)/);
    await request(sock, { cmd: 'status' }, 3000);
  }

  before(async () => {
    bgpd = await startLoopbackBgpd('fuzz', `peers:
  - { address: ${PEER}, asNumber: ${PEER_AS}, passive: true }
  - { address: ${PEER_ADD_PATH}, asNumber: ${PEER_AS}, passive: true, addPaths: true }
originate:
  - { prefix: ${ORIGINATED} }
kernel: { enabled: false }
`);
    ({ port, sock, process: daemon } = bgpd);
    console.log(`      fuzz seed ${SEED}, ${RUNS} runs (FUZZ_SEED / FUZZ_RUNS to change)`);
  });

  after(async () => {
    peer?.close();
    await bgpd?.stop();
  });

  async function blindFuzz(runs: number): Promise<void> {
    const outcomes: Record<string, number> = {};
    await fc.assert(fc.asyncProperty(fuzzMessage, async (m) => {
      const bytes = complete(m);
      const p = await established();
      p.frames.length = 0;
      p.send(bytes);
      const what = `message ${toHex(bytes)}`;
      // A NOTIFICATION from us ends the session without an answer (RFC 4271 6.4); so does one
      // that bgpd finds malformed.
      const weSentNotification = bytes.subarray(0, 16).equals(MARKER) && bytes[18] === 3;
      const r = await roundTrip(p, 4000);
      let outcome: string;
      if (r.kind === 'notification') {
        expect(VALID[r.code], `NOTIFICATION code ${r.code} for ${what}`).to.not.equal(undefined);
        expect(VALID[r.code], `NOTIFICATION ${r.code}/${r.subcode} for ${what}`).to.include(r.subcode);
        await eventually(() => p.closed, 5000, `connection closed after the NOTIFICATION for ${what}`);
        outcome = `notification ${r.code}/${r.subcode}`;
      } else if (r.kind === 'closed') {
        expect(weSentNotification, `bgpd closed without a NOTIFICATION after ${what.slice(0, 400)}; frames: ${JSON.stringify(p.frames.map((f) => f.type))}; log: ${logs().slice(-1500)}`).to.equal(true);
        outcome = 'closed after our NOTIFICATION';
      } else if (r.kind === 'timeout') {
        expect.fail(`no answer to a ROUTE-REFRESH within 4 s after ${what} (session ${(await status()).fsmState})`);
      } else {
        expect((await status()).state, `session state after ${what}`).to.equal('up');
        outcome = 'kept';
      }
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      await daemonHealthy(what);
    }), { seed: SEED, numRuns: runs, endOnFailure: false });
    console.log(`      outcomes: ${JSON.stringify(outcomes)}`);
    // The generators must actually reach both sides of the property.
    expect(Object.keys(outcomes).some((o) => o.startsWith('notification')), JSON.stringify(outcomes)).to.equal(true);
    expect(outcomes['kept'] ?? 0, JSON.stringify(outcomes)).to.be.greaterThan(0);
  }

  it('answers every random or mutated message with a valid NOTIFICATION or keeps the session, and never hangs or crashes', async () => {
    await blindFuzz(RUNS);
  });

  it('the same with ADD-PATH and extended messages negotiated', async () => {
    peer?.close();
    peer = undefined;
    target = { address: PEER_ADD_PATH, addPath: true };
    try {
      await blindFuzz(Math.ceil(RUNS / 2));
    } finally {
      (peer as RawPeer | undefined)?.close(); // set by established() inside blindFuzz
      peer = undefined;
      target = { address: PEER, addPath: false };
    }
  });

  it('takes the RFC 7606 action for attribute errors whose action is known (checked in the RIB)', async () => {
    type Case = { name: string; attrs: Buffer[]; expect: 'withdraw' | 'discard' | 'reset'; code?: number; subcode?: number };
    const cases = fc.oneof(
      fc.integer({ min: 3, max: 255 }).map((v): Case => ({ name: `ORIGIN ${v}`, attrs: [attr(0x40, 1, Buffer.from([v])), ASPATH, NEXTHOP], expect: 'withdraw' })),
      fc.integer({ min: 0xe0, max: 0xef }).map((v): Case => ({ name: `multicast NEXT_HOP ${v}.0.0.1`, attrs: [ORIGIN, ASPATH, attr(0x40, 3, Buffer.from([v, 0, 0, 1]))], expect: 'withdraw' })),
      fc.constantFrom(0, 1, 2).map((i): Case => ({ name: `missing well-known attribute ${i + 1}`, attrs: [ORIGIN, ASPATH, NEXTHOP].filter((_, j) => j !== i), expect: 'withdraw' })),
      fc.uint8Array({ minLength: 0, maxLength: 8 }).filter((v) => v.length !== 4).map((v): Case => ({ name: `MED of ${v.length} bytes`, attrs: [ORIGIN, ASPATH, NEXTHOP, attr(0x80, 4, Buffer.from(v))], expect: 'withdraw' })),
      fc.uint8Array({ minLength: 1, maxLength: 6 }).map((v): Case => ({ name: `ATOMIC_AGGREGATE of ${v.length} bytes`, attrs: [ORIGIN, ASPATH, NEXTHOP, attr(0x40, 6, Buffer.from(v))], expect: 'discard' })),
      fc.constantFrom(1, 2, 3, 5, 6, 7).map((n): Case => ({ name: `COMMUNITIES of ${n} bytes`, attrs: [ORIGIN, ASPATH, NEXTHOP, attr(0xc0, 8, Buffer.alloc(n, 1))], expect: 'withdraw' })),
      fc.constant<Case>({ name: 'attribute list longer than the UPDATE', attrs: [], expect: 'reset', code: 3, subcode: 1 }),
    );
    const seen = new Set<string>();
    await fc.assert(fc.asyncProperty(cases, fc.integer({ min: 1, max: 250 }), async (c, third) => {
      const prefix = `10.66.${third}.0/24`;
      const nlri = Buffer.from([24, 10, 66, third]);
      const p = await established();
      p.send(update(Buffer.concat([ORIGIN, ASPATH, NEXTHOP]), nlri));
      await eventually(async () => (await routes()).includes(prefix), 5000, `${prefix} announced`).catch(async (e: Error) => {
        throw new Error(`${e.message}; session ${JSON.stringify(await status())}, connection closed: ${p.closed}, log: ${logs().slice(-3000)}`);
      });
      const bad = c.expect === 'reset'
        ? header(2, Buffer.concat([hex('0000 0040'), ORIGIN, nlri]))
        : update(Buffer.concat(c.attrs), nlri);
      const what = `${c.name}: ${toHex(bad)}`;
      p.frames.length = 0;
      p.send(bad);
      const r = await roundTrip(p, 4000);
      if (c.expect === 'reset') {
        expect(r.kind === 'notification' ? [r.code, r.subcode] : r.kind, what).to.deep.equal([c.code, c.subcode]);
        await eventually(async () => (await routes()).length === 0, 5000, `routes of the reset session gone (${what})`);
      } else {
        expect(r.kind, `session kept after ${what}`).to.equal('message');
        expect((await status()).state, what).to.equal('up');
        if (c.expect === 'withdraw') await eventually(async () => !(await routes()).includes(prefix), 5000, `${prefix} treated as withdrawn after ${what}`);
        else {
          await new Promise((res) => setTimeout(res, 50));
          expect(await routes(), `${prefix} kept (attribute discarded) after ${what}`).to.include(prefix);
        }
        // Clean up for the next run.
        p.send(update(Buffer.alloc(0), Buffer.alloc(0), nlri));
        await eventually(async () => !(await routes()).includes(prefix), 5000, `${prefix} withdrawn`);
      }
      seen.add(c.expect);
      await daemonHealthy(what);
    }), { seed: SEED, numRuns: 40, endOnFailure: false });
    expect([...seen].sort()).to.deep.equal(['discard', 'reset', 'withdraw']);
  });

  it('takes the RFC 7606 action for IPv6 routes in MP_REACH_NLRI too (checked in the RIB)', async () => {
    const mpReach = (third: number, plen = 48) => attr(0x90, 14, Buffer.concat([hex('0002 01 10 fd000000000000000000000000000005 00'), Buffer.from([plen, 0xfd, 0x00, 0x00, 0x66, 0x00, third])]));
    const mpUnreach = (third: number) => attr(0x90, 15, Buffer.concat([hex('0002 01'), Buffer.from([48, 0xfd, 0x00, 0x00, 0x66, 0x00, third])]));
    type Case = { name: string; attrs: (third: number) => Buffer[]; expect: 'withdraw' | 'discard' | 'reset' };
    const cases = fc.oneof(
      fc.integer({ min: 3, max: 255 }).map((v): Case => ({ name: `ORIGIN ${v}`, attrs: (t) => [attr(0x40, 1, Buffer.from([v])), ASPATH, mpReach(t)], expect: 'withdraw' })),
      fc.constant<Case>({ name: 'missing ORIGIN', attrs: (t) => [ASPATH, mpReach(t)], expect: 'withdraw' }),
      fc.uint8Array({ minLength: 0, maxLength: 8 }).filter((v) => v.length !== 4).map((v): Case => ({ name: `MED of ${v.length} bytes`, attrs: (t) => [ORIGIN, ASPATH, attr(0x80, 4, Buffer.from(v)), mpReach(t)], expect: 'withdraw' })),
      fc.uint8Array({ minLength: 1, maxLength: 6 }).map((v): Case => ({ name: `ATOMIC_AGGREGATE of ${v.length} bytes`, attrs: (t) => [ORIGIN, ASPATH, attr(0x40, 6, Buffer.from(v)), mpReach(t)], expect: 'discard' })),
      fc.integer({ min: 129, max: 255 }).map((plen): Case => ({ name: `MP_REACH_NLRI prefix length ${plen}`, attrs: (t) => [ORIGIN, ASPATH, mpReach(t, plen)], expect: 'reset' })),
    );
    const seen = new Set<string>();
    await fc.assert(fc.asyncProperty(cases, fc.integer({ min: 1, max: 250 }), async (c, third) => {
      const prefix = `fd00:66:${third.toString(16)}::/48`;
      const p = await established();
      p.send(update(Buffer.concat([ORIGIN, ASPATH, mpReach(third)]), Buffer.alloc(0)));
      await eventually(async () => (await routes()).includes(prefix), 5000, `${prefix} announced (${JSON.stringify(await routes())})`);
      const bad = update(Buffer.concat(c.attrs(third)), Buffer.alloc(0));
      const what = `${c.name}: ${toHex(bad)}`;
      p.frames.length = 0;
      p.send(bad);
      const r = await roundTrip(p, 4000);
      if (c.expect === 'reset') {
        expect(r.kind, `NOTIFICATION for ${what}`).to.equal('notification');
        if (r.kind === 'notification') {
          expect(r.code, what).to.equal(3);
          expect(VALID[3], what).to.include(r.subcode);
        }
        await eventually(async () => (await routes()).length === 0, 5000, `routes of the reset session gone (${what})`);
      } else {
        expect(r.kind, `session kept after ${what}`).to.equal('message');
        if (c.expect === 'withdraw') await eventually(async () => !(await routes()).includes(prefix), 5000, `${prefix} treated as withdrawn after ${what}`);
        else {
          await new Promise((res) => setTimeout(res, 50));
          expect(await routes(), `${prefix} kept (attribute discarded) after ${what}`).to.include(prefix);
        }
        p.send(update(mpUnreach(third), Buffer.alloc(0)));
        await eventually(async () => !(await routes()).includes(prefix), 5000, `${prefix} withdrawn`);
      }
      seen.add(c.expect);
      await daemonHealthy(what);
    }), { seed: SEED, numRuns: 30, endOnFailure: false });
    expect([...seen].sort()).to.deep.equal(['discard', 'reset', 'withdraw']);
  });

  it('answers every mutated OPEN (from the captured ones) with a valid NOTIFICATION or a KEEPALIVE', async () => {
    const opens = captures.flatMap((c) => c.messages).filter((m) => m[18] === 1).map((m) => {
      // The captured OPENs carry the capturing session's AS numbers; ours must be PEER_AS.
      const b = Buffer.from(m);
      b.writeUInt16BE(PEER_AS, 20);
      // ... in the 4-octet AS capability too (code 65, length 4).
      for (let i = 29; i + 6 <= b.length; i++) if (b[i] === 0x41 && b[i + 1] === 4) { b.writeUInt32BE(PEER_AS, i + 2); break; }
      return b;
    });
    const mutatedOpen = fc.record({
      seed: fc.constantFrom(...opens),
      op: fc.constantFrom('flip', 'truncate', 'length', 'param-length', 'cap-length', 'junk'),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
      byte: fc.integer({ min: 0, max: 255 }),
      junk: fc.uint8Array({ minLength: 1, maxLength: 12 }),
    }).map(({ seed, op, at, bit, byte, junk }) => {
      let b = Buffer.from(seed);
      // Keep the AS (and so a chance of success): mutate from the hold time on.
      const pos = 22 + (at % (b.length - 22));
      switch (op) {
        case 'flip': b[pos] = b[pos]! ^ (1 << bit); break;
        case 'truncate': b = b.subarray(0, Math.max(19, pos)); b.writeUInt16BE(b.length, 16); break;
        case 'length': b.writeUInt16BE(19 + (at % 80), 16); break;
        case 'param-length': b[28] = byte; break;
        case 'cap-length': if (b.length > 32) b[32] = byte; break;
        case 'junk': b = Buffer.concat([b.subarray(0, pos), junk, b.subarray(pos)]); b.writeUInt16BE(b.length, 16); if (b.length > 28) b[28] = Math.min(255, b[28]! + junk.length); break;
      }
      return new Uint8Array(b);
    });
    const outcomes: Record<string, number> = {};
    peer?.close();
    peer = undefined;
    await fc.assert(fc.asyncProperty(mutatedOpen, async (m) => {
      const bytes = complete(m);
      const what = `OPEN ${toHex(bytes)}`;
      const p = await eventually(async () => {
        const c = await RawPeer.open(port).catch(() => undefined);
        if (!c) return undefined;
        if ((await c.wait(1, 3000)).kind === 'message') return c;
        c.close();
        return undefined;
      }, 15_000, `bgpd's OPEN (${what})`);
      try {
        p!.send(bytes);
        p!.send(encodeKeepalive());
        const r = await p!.wait(4, 4000);
        let outcome: string;
        if (r.kind === 'notification') {
          expect(VALID[r.code], `NOTIFICATION ${r.code}/${r.subcode} for ${what}`).to.include(r.subcode);
          outcome = `notification ${r.code}/${r.subcode}`;
        } else {
          expect(r.kind, `answer to ${what}`).to.equal('message');
          outcome = 'established';
        }
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      } finally {
        p!.close();
      }
      await daemonHealthy(what);
    }), { seed: SEED, numRuns: 150, endOnFailure: false });
    console.log(`      outcomes: ${JSON.stringify(outcomes)}`);
    expect(Object.keys(outcomes).length, JSON.stringify(outcomes)).to.be.greaterThan(1);
  });

  it('still accepts a fresh session afterwards', async () => {
    peer?.close();
    peer = undefined;
    const p = await established();
    const r = await roundTrip(p);
    expect(r.kind).to.equal('message');
    await daemonHealthy('the fuzz runs');
  });
});

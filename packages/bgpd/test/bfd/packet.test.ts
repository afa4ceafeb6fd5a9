import { expect } from 'chai';
import { decodeControl, encodeControl, parseConfig, type ControlPacket } from '@tabby/bgpd';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex'));

// A packet as a peer sends it in Up: version 1 / diag 0, state Up (11) with Poll, detect mult 3,
// length 24, my discriminator 0x11223344, your discriminator 0x55667788, desired min TX 300 ms,
// required min RX 300 ms, required min echo RX 0.
const UP_POLL = `
  20          # version 1, diag 0
  e0          # state Up (3 << 6), P (0x20)
  03 18       # detect mult 3, length 24
  11223344 55667788
  000493e0    # 300000 us
  000493e0
  00000000`;

describe('BFD control packet codec (RFC 5880 §4.1, §6.8.6)', () => {
  it('decodes every field of a hand-written packet', () => {
    const d = decodeControl(hex(UP_POLL));
    expect(d.ok).to.equal(true);
    const p = (d as { packet: ControlPacket }).packet;
    expect(p).to.deep.equal({
      version: 1, diag: 0, state: 'Up', poll: true, final: false, cpi: false, auth: false, demand: false, multipoint: false,
      detectMult: 3, myDiscriminator: 0x11223344, yourDiscriminator: 0x55667788, desiredMinTx: 300_000, requiredMinRx: 300_000, requiredMinEchoRx: 0,
    });
  });

  it('decodes Down with diag 1, Final, and an unknown your-discriminator of zero', () => {
    const d = decodeControl(hex('21 50 05 18 00000001 00000000 000f4240 00002710 00000032'));
    expect(d.ok && d.packet).to.deep.include({ diag: 1, state: 'Down', final: true, poll: false, detectMult: 5, yourDiscriminator: 0, desiredMinTx: 1_000_000, requiredMinRx: 10_000, requiredMinEchoRx: 50 });
  });

  it('encodes to the exact bytes', () => {
    const b = encodeControl({ diag: 0, state: 'Up', poll: true, final: false, detectMult: 3, myDiscriminator: 0x11223344, yourDiscriminator: 0x55667788, desiredMinTx: 300_000, requiredMinRx: 300_000 });
    expect(Buffer.from(b).toString('hex')).to.equal(Buffer.from(hex(UP_POLL)).toString('hex'));
    const admin = encodeControl({ diag: 7, state: 'AdminDown', poll: false, final: true, detectMult: 1, myDiscriminator: 0xffffffff, yourDiscriminator: 1, desiredMinTx: 1, requiredMinRx: 2 });
    expect(Buffer.from(admin).toString('hex')).to.equal('27' + '10' + '01' + '18' + 'ffffffff' + '00000001' + '00000001' + '00000002' + '00000000');
  });

  it('refuses to encode Poll and Final together and a zero detect multiplier', () => {
    const base = { diag: 0, state: 'Up' as const, poll: true, final: true, detectMult: 3, myDiscriminator: 1, yourDiscriminator: 2, desiredMinTx: 1, requiredMinRx: 1 };
    expect(() => encodeControl(base)).to.throw(/Poll and Final/);
    expect(() => encodeControl({ ...base, final: false, detectMult: 0 })).to.throw(/detect multiplier/);
  });

  const drops: [string, string, string][] = [
    ['empty', '', 'too-short'],
    ['23 bytes', '20c00318 11223344 55667788 000493e0 000493e0 000000', 'too-short'],
    ['version 0', '00c00318 11223344 55667788 000493e0 000493e0 00000000', 'bad-version'],
    ['version 2', '40c00318 11223344 55667788 000493e0 000493e0 00000000', 'bad-version'],
    ['length field 20', '20c00314 11223344 55667788 000493e0 000493e0 00000000', 'bad-length'],
    ['length field beyond the datagram', '20c0031c 11223344 55667788 000493e0 000493e0 00000000', 'bad-length'],
    ['detect mult 0', '20c00018 11223344 55667788 000493e0 000493e0 00000000', 'zero-detect-mult'],
    ['multipoint bit', '20c10318 11223344 55667788 000493e0 000493e0 00000000', 'multipoint'],
    ['my discriminator 0', '20c00318 00000000 55667788 000493e0 000493e0 00000000', 'zero-my-discriminator'],
    ['Up with your discriminator 0', '20c00318 11223344 00000000 000493e0 000493e0 00000000', 'zero-your-discriminator'],
    ['Init with your discriminator 0', '20800318 11223344 00000000 000493e0 000493e0 00000000', 'zero-your-discriminator'],
    // A bit with a 2-byte-long simple password section: we use no authentication.
    ['authentication section', '20c4031c 11223344 55667788 000493e0 000493e0 00000000 01040161', 'authentication'],
    ['A bit with length 24', '20c40318 11223344 55667788 000493e0 000493e0 00000000', 'bad-length'],
  ];
  for (const [name, bytes, reason] of drops) {
    it(`drops ${name} (${reason}) without throwing`, () => {
      expect(decodeControl(hex(bytes))).to.deep.equal({ ok: false, reason });
    });
  }

  it('accepts Down and AdminDown with your discriminator 0, and extra bytes after the length', () => {
    expect(decodeControl(hex('20400318 11223344 00000000 000f4240 000f4240 00000000')).ok).to.equal(true);
    expect(decodeControl(hex('27000318 11223344 00000000 000f4240 000f4240 00000000')).ok).to.equal(true);
    expect(decodeControl(hex('20400318 11223344 00000000 000f4240 000f4240 00000000 deadbeef')).ok).to.equal(true);
  });

  it('never throws on random bytes', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 5000; i++) {
      const b = Uint8Array.from({ length: rnd() % 40 }, rnd);
      if (b.length > 0 && i % 2) b[0] = 0x20 | (b[0]! & 0x1f); // version 1 half the time, to get deeper
      if (b.length > 3 && i % 4 === 1) b[3] = 24;
      expect(() => decodeControl(b)).not.to.throw();
    }
  });
});

describe('BFD peer config', () => {
  const doc = (bfd: unknown) => ({ routerId: '10.0.0.1', asNumber: 65001, peers: [{ address: '10.0.0.2', asNumber: 65002, bfd }] });

  it('is off by default, `true` gives 300 ms × 3, and explicit values are kept', () => {
    expect(parseConfig({ routerId: '10.0.0.1', asNumber: 65001, peers: [{ address: '10.0.0.2', asNumber: 65002 }] }).peers[0]!.bfd).to.deep.equal({ enabled: false, minInterval: 300, multiplier: 3 });
    expect(parseConfig(doc(false)).peers[0]!.bfd).to.deep.equal({ enabled: false, minInterval: 300, multiplier: 3 });
    expect(parseConfig(doc(true)).peers[0]!.bfd).to.deep.equal({ enabled: true, minInterval: 300, multiplier: 3 });
    expect(parseConfig(doc({ minInterval: 100 })).peers[0]!.bfd).to.deep.equal({ enabled: true, minInterval: 100, multiplier: 3 });
    expect(parseConfig(doc({ enabled: false, minInterval: 50, multiplier: 5 })).peers[0]!.bfd).to.deep.equal({ enabled: false, minInterval: 50, multiplier: 5 });
  });

  it('names the field and the rule for bad values', () => {
    expect(() => parseConfig(doc({ minInterval: 5 }))).to.throw(/peers\[0\]\.bfd\.minInterval: must be an integer from 10 to 60000/);
    expect(() => parseConfig(doc({ minInterval: 300.5 }))).to.throw(/peers\[0\]\.bfd\.minInterval/);
    expect(() => parseConfig(doc({ multiplier: 0 }))).to.throw(/peers\[0\]\.bfd\.multiplier: must be an integer from 1 to 255/);
    expect(() => parseConfig(doc({ multiplier: 256 }))).to.throw(/bfd\.multiplier/);
    expect(() => parseConfig(doc({ enabled: 'yes' }))).to.throw(/peers\[0\]\.bfd\.enabled: must be true or false/);
    expect(() => parseConfig(doc({ interval: 300 }))).to.throw(/peers\[0\]\.bfd\.interval: unknown field/);
    expect(() => parseConfig(doc('on'))).to.throw(/peers\[0\]\.bfd: must be a mapping/);
  });
});

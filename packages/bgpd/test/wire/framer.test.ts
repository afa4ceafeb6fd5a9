import { expect } from 'chai';
import { Framer, MAX_EXTENDED_LENGTH, type Frame } from '@tabby/bgpd';
import { MARKER, concat, errorOf, hex, summary, toHex } from './hex.js';
import { ALL_VECTORS, KEEPALIVE_BYTES, OPEN_BIRD, UPDATE_V4 } from './vectors.js';

const frames = (fs: Frame[]) => fs.map((f) => `${f.type}:${toHex(f.bytes)}`);

describe('wire: framing', () => {
  for (const [name, bytes] of Object.entries(ALL_VECTORS)) {
    it(`${name}: the same frame whatever the split point`, () => {
      for (let cut = 0; cut <= bytes.length; cut++) {
        const f = new Framer();
        const out = [...f.push(bytes.slice(0, cut)), ...f.push(bytes.slice(cut))];
        expect(frames(out), `cut at ${cut}`).to.deep.equal([`${bytes[18]}:${toHex(bytes)}`]);
        expect(f.buffered).to.equal(0);
      }
    });
  }

  it('every pair of messages in one stream, split at every offset, and byte by byte', () => {
    const names = Object.keys(ALL_VECTORS);
    for (const a of names) {
      for (const b of names) {
        const x = ALL_VECTORS[a]!;
        const y = ALL_VECTORS[b]!;
        const both = concat(x, y);
        const want = [`${x[18]}:${toHex(x)}`, `${y[18]}:${toHex(y)}`];
        const f = new Framer();
        expect(frames(f.push(both)), `${a}+${b} in one chunk`).to.deep.equal(want);
        for (let cut = 1; cut < both.length; cut++) {
          const g = new Framer();
          expect(frames([...g.push(both.slice(0, cut)), ...g.push(both.slice(cut))]), `${a}+${b} cut at ${cut}`).to.deep.equal(want);
        }
      }
    }
    const f = new Framer();
    const out: Frame[] = [];
    const stream = concat(OPEN_BIRD, KEEPALIVE_BYTES, UPDATE_V4);
    for (const byte of stream) out.push(...f.push(Uint8Array.of(byte)));
    expect(out.map((x) => x.type)).to.deep.equal([1, 4, 2]);
  });

  it('adopts a chunk without copying when nothing is pending', () => {
    const chunk = concat(OPEN_BIRD, KEEPALIVE_BYTES);
    const out = new Framer().push(chunk);
    expect(out.map((x) => x.bytes.buffer === chunk.buffer)).to.deep.equal([true, true]);
    expect(out[1]!.bytes.byteOffset).to.equal(chunk.byteOffset + OPEN_BIRD.length);
  });

  it('copies an incomplete tail, so the chunk it came in is not kept (or read) later', () => {
    const f = new Framer();
    const chunk = concat(KEEPALIVE_BYTES, UPDATE_V4.slice(0, 30));
    expect(f.push(chunk).map((x) => x.type)).to.deep.equal([4]);
    expect(f.buffered).to.equal(30);
    chunk.fill(0); // the socket layer may reuse its buffer
    const [u] = f.push(UPDATE_V4.slice(30));
    expect(toHex(u!.bytes)).to.equal(toHex(UPDATE_V4));
    expect(f.buffered).to.equal(0);
  });

  it('a frame completed from pending bytes stays intact through later pushes', () => {
    const f = new Framer();
    f.push(UPDATE_V4.slice(0, 10));
    const [first] = f.push(concat(UPDATE_V4.slice(10), OPEN_BIRD.slice(0, 25)));
    const later = f.push(OPEN_BIRD.slice(25));
    expect(toHex(first!.bytes)).to.equal(toHex(UPDATE_V4));
    expect(later.map((x) => x.type)).to.deep.equal([1]);
  });

  it('never buffers more than one message, even one announced at 65535 bytes', () => {
    const f = new Framer();
    f.maxLength = MAX_EXTENDED_LENGTH;
    const big = new Uint8Array(65535);
    big.set(hex(`${MARKER} ffff 02 0000 0000`));
    for (let at = 0; at < big.length; at += 1000) {
      const out = f.push(big.subarray(at, Math.min(big.length, at + 1000)));
      expect(f.buffered).to.be.at.most(65535);
      if (at + 1000 >= big.length) expect(out.map((x) => x.bytes.length)).to.deep.equal([65535]);
    }
  });

  describe('header errors, reported before the body arrives', () => {
    const header = (s: string) => hex(`${MARKER} ${s}`);

    it('a marker that is not all ones: 1/1 Connection Not Synchronized, no data', () => {
      expect(summary(errorOf(() => new Framer().push(hex('ffffffffffffffffffffffffffffff00 0013 04'))))).to.deep.equal({ code: 1, subcode: 1, data: '', action: 'reset' });
    });

    it('a broken marker is caught from its first bad byte, not after 19 bytes', () => {
      const f = new Framer();
      expect(f.push(hex('ffff'))).to.deep.equal([]);
      expect(summary(errorOf(() => f.push(hex('ff00'))))).to.deep.include({ code: 1, subcode: 1 });
      expect(errorOf(() => new Framer().push(hex('fffe')))).to.include({ code: 1, subcode: 1 });
    });

    it('a length below 19 or above 4096: 1/2 Bad Message Length with the length as data', () => {
      expect(summary(errorOf(() => new Framer().push(header('0012 04'))))).to.deep.equal({ code: 1, subcode: 2, data: '0012', action: 'reset' });
      expect(summary(errorOf(() => new Framer().push(header('1001 02'))))).to.deep.equal({ code: 1, subcode: 2, data: '1001', action: 'reset' });
      // Split inside the header: still rejected as soon as the 19th byte is here.
      const f = new Framer();
      f.push(header('10').subarray(0, 17));
      expect(toHex(errorOf(() => f.push(hex('01 02'))).data)).to.equal('1001');
    });

    it('a length wrong for the type: KEEPALIVE not 19, OPEN under 29 or over 4096, UPDATE under 23', () => {
      const cases: [string, string][] = [['0014 04', '0014'], ['001c 01', '001c'], ['0016 02', '0016'], ['0014 03', '0014'], ['0016 05', '0016']];
      for (const [h, data] of cases) expect(summary(errorOf(() => new Framer().push(header(h)))), h).to.deep.equal({ code: 1, subcode: 2, data, action: 'reset' });
      const f = new Framer();
      f.maxLength = MAX_EXTENDED_LENGTH;
      expect(toHex(errorOf(() => f.push(header('1001 01'))).data)).to.equal('1001'); // OPEN never extended
      expect(toHex(errorOf(() => f.push(header('0014 04'))).data)).to.equal('0014');
    });

    it('an unknown type: 1/3 Bad Message Type with the type as data', () => {
      expect(summary(errorOf(() => new Framer().push(header('0013 06'))))).to.deep.equal({ code: 1, subcode: 3, data: '06', action: 'reset' });
      expect(summary(errorOf(() => new Framer().push(header('0013 00'))))).to.deep.equal({ code: 1, subcode: 3, data: '00', action: 'reset' });
    });

    it('UPDATEs over 4096 bytes only after extended messages are negotiated', () => {
      expect(errorOf(() => new Framer().push(header('1388 02')))).to.include({ code: 1, subcode: 2 });
      const f = new Framer();
      f.maxLength = MAX_EXTENDED_LENGTH;
      expect(f.push(header('1388 02'))).to.deep.equal([]);
      expect(f.buffered).to.equal(19);
    });
  });
});

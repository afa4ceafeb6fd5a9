import { expect } from 'chai';
import {
  Framer, WireError, decodeOpen, encodeOpen, encodeKeepalive, decodeNotification, encodeNotification,
  shutdownData, decodeRouteRefresh, encodeRouteRefresh, notificationName, stronger,
} from '@tabby/bgpd';
import { hex, MARKER, toHex } from './hex.js';

// An OPEN as a BIRD 2 speaker sends it: AS 65001, hold 240, id 10.0.0.1, capabilities
// MP IPv4 unicast, route refresh, extended message, 4-octet AS 65001, enhanced RR.
const OPEN_BYTES = hex(`
  ${MARKER}
  0035 01          # length 53, type OPEN
  04               # version
  fde9             # my AS 65001
  00f0             # hold time 240
  0a000001         # BGP identifier 10.0.0.1
  18               # optional parameters length 24
  02 16            # parameter: capabilities, 22 bytes
    01 04 0001 00 01   # multiprotocol IPv4 unicast
    02 00              # route refresh
    06 00              # extended message
    41 04 0000fde9     # 4-octet AS 65001
    46 00              # enhanced route refresh
    40 02 0078         # graceful restart, time 120
`);

function errorOf(f: () => unknown): WireError {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(WireError);
    return e as WireError;
  }
  throw new Error('expected a WireError');
}

describe('wire: framing', () => {
  const two = new Uint8Array([...OPEN_BYTES, ...encodeKeepalive()]);

  it('yields the same frames whatever the chunking', () => {
    for (let cut = 0; cut <= two.length; cut++) {
      const f = new Framer();
      const frames = [...f.push(two.subarray(0, cut)), ...f.push(two.subarray(cut))];
      expect(frames.map((x) => [x.type, x.bytes.length]), `cut at ${cut}`).to.deep.equal([[1, 53], [4, 19]]);
      expect(f.buffered).to.equal(0);
    }
    const f = new Framer();
    const out = [];
    for (const b of two) out.push(...f.push(new Uint8Array([b])));
    expect(out.map((x) => x.type)).to.deep.equal([1, 4]);
  });

  it('rejects a bad marker, length and type from the header alone', () => {
    const badMarker = hex(`ffffffffffffffffffffffffffffff00 0013 04`);
    expect(errorOf(() => new Framer().push(badMarker))).to.include({ code: 1, subcode: 1 });
    const badLen = hex(`${MARKER} 1388 02`); // 5000 > 4096, rejected before the body arrives
    const e = errorOf(() => new Framer().push(badLen));
    expect(e).to.include({ code: 1, subcode: 2 });
    expect(toHex(e.data)).to.equal('1388');
    const longKeepalive = hex(`${MARKER} 0014 04 00`);
    expect(toHex(errorOf(() => new Framer().push(longKeepalive)).data)).to.equal('0014');
    const badType = hex(`${MARKER} 0013 09`);
    const t = errorOf(() => new Framer().push(badType));
    expect(t).to.include({ code: 1, subcode: 3 });
    expect(toHex(t.data)).to.equal('09');
  });

  it('accepts long UPDATEs only after extended messages are negotiated', () => {
    const big = hex(`${MARKER} 1388 02`);
    const f = new Framer();
    f.maxLength = 65535;
    expect(f.push(big)).to.deep.equal([]);
    expect(f.buffered).to.equal(19);
  });
});

describe('wire: OPEN', () => {
  it('decodes a hand-written OPEN', () => {
    const m = decodeOpen(OPEN_BYTES);
    expect(m).to.deep.include({ version: 4, myAs: 65001, holdTime: 240, bgpId: '10.0.0.1' });
    expect(m.capabilities).to.deep.equal([
      { type: 'multiprotocol', afi: 1, safi: 1 },
      { type: 'route-refresh' },
      { type: 'extended-message' },
      { type: 'four-octet-as', asn: 65001 },
      { type: 'enhanced-route-refresh' },
      { type: 'graceful-restart', restarting: false, notification: false, time: 120, families: [] },
    ]);
  });

  it('encodes to exactly those bytes', () => {
    const m = decodeOpen(OPEN_BYTES);
    expect(toHex(encodeOpen(m))).to.equal(toHex(OPEN_BYTES));
  });

  it('round-trips add-path, graceful restart with families and unknown capabilities', () => {
    const m = {
      myAs: 23456, holdTime: 90, bgpId: '192.168.1.254',
      capabilities: [
        { type: 'four-octet-as' as const, asn: 4200000000 },
        { type: 'add-path' as const, families: [{ afi: 1, safi: 1, send: true, receive: true }, { afi: 2, safi: 1, send: false, receive: true }] },
        { type: 'graceful-restart' as const, restarting: true, notification: true, time: 300, families: [{ afi: 1, safi: 1, forwarding: true }] },
        { type: 'fqdn' as const, hostname: 'node-1', domain: 'example.org' },
        { type: 'unknown' as const, code: 99, value: new Uint8Array([1, 2, 3]) },
      ],
    };
    const back = decodeOpen(encodeOpen(m));
    expect(back).to.deep.equal({ type: 'open', version: 4, ...m });
  });

  it('uses the RFC 9072 extended parameter length when capabilities exceed 255 bytes', () => {
    const caps = Array.from({ length: 60 }, (_, i) => ({ type: 'unknown' as const, code: 200, value: new Uint8Array([i, i, i]) }));
    const bytes = encodeOpen({ myAs: 1, holdTime: 90, bgpId: '1.1.1.1', capabilities: caps });
    expect(bytes[28]).to.equal(255);
    expect(decodeOpen(bytes).capabilities).to.have.length(60);
  });

  it('reports the RFC 4271 OPEN errors with their data', () => {
    const withByte = (i: number, v: number) => { const b = OPEN_BYTES.slice(); b[i] = v; return b; };
    const v = errorOf(() => decodeOpen(withByte(19, 3)));
    expect(v).to.include({ code: 2, subcode: 1 });
    expect(toHex(v.data)).to.equal('0004');
    const hold = OPEN_BYTES.slice(); hold[22] = 0; hold[23] = 2;
    expect(errorOf(() => decodeOpen(hold))).to.include({ code: 2, subcode: 6 });
    const id0 = OPEN_BYTES.slice(); id0.fill(0, 24, 28);
    expect(errorOf(() => decodeOpen(id0))).to.include({ code: 2, subcode: 3 });
    expect(errorOf(() => decodeOpen(withByte(29, 7)))).to.include({ code: 2, subcode: 4 });
    expect(errorOf(() => decodeOpen(withByte(28, 30)))).to.include({ code: 2, subcode: 0 });
    expect(errorOf(() => decodeOpen(withByte(32, 5)))).to.include({ code: 2 }); // MP capability with bad length
  });

  it('never throws anything but WireError on mutated input', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 5000; i++) {
      const b = OPEN_BYTES.slice(0, 19 + (rnd() % (OPEN_BYTES.length - 18)));
      for (let k = 0; k < 3; k++) b[19 + (rnd() % Math.max(1, b.length - 19))] = rnd() & 0xff;
      try {
        decodeOpen(b);
      } catch (e) {
        expect(e, `input ${toHex(b)}`).to.be.instanceOf(WireError);
      }
    }
  });
});

describe('wire: KEEPALIVE, NOTIFICATION, ROUTE-REFRESH', () => {
  it('KEEPALIVE is the 19-byte header', () => {
    expect(toHex(encodeKeepalive())).to.equal(`${MARKER}001304`);
  });

  it('NOTIFICATION carries code, subcode, data and shutdown text', () => {
    expect(toHex(encodeNotification(4, 0))).to.equal(`${MARKER}00150304 00`.replace(' ', ''));
    const n = decodeNotification(encodeNotification(6, 2, shutdownData('maintenance')));
    expect(n).to.deep.include({ code: 6, subcode: 2, shutdownText: 'maintenance' });
    expect(notificationName(6, 2)).to.equal('Cease: Administrative Shutdown');
    expect(notificationName(3, 3)).to.equal('UPDATE Message Error: Missing Well-known Attribute');
  });

  it('ROUTE-REFRESH round-trips with the RFC 7313 subtype', () => {
    const b = encodeRouteRefresh(2, 1, 1);
    expect(toHex(b)).to.equal(`${MARKER}0017050002` + '0101');
    expect(decodeRouteRefresh(b)).to.deep.equal({ type: 'route-refresh', afi: 2, safi: 1, subtype: 1 });
  });

  it('stronger() keeps the more severe RFC 7606 action', () => {
    const a = new WireError(3, 1, undefined, '', 'treat-as-withdraw');
    const b = new WireError(3, 1, undefined, '', 'reset');
    const c = new WireError(3, 1, undefined, '', 'attribute-discard');
    expect(stronger(a, b)).to.equal(b);
    expect(stronger(a, c)).to.equal(a);
    expect(stronger(undefined, c)).to.equal(c);
  });
});

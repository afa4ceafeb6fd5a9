import { expect } from 'chai';
import { WireError, buildUpdates, decodeUpdate, encodeEndOfRib, endOfRibFamily, validateUpdate, Framer, type DecodeContext, type Prefix } from '@tabby/bgpd';
import { hex, MARKER, toHex } from './hex.js';

const ctx4: DecodeContext = { fourOctetAs: true };

// An UPDATE as a 4-octet-AS eBGP peer sends it for two prefixes.
const UPDATE_BYTES = hex(`
  ${MARKER}
  0034 02            # length 52, UPDATE
  0000               # withdrawn routes length 0
  0014               # path attribute length 20
  40 01 01 00        # ORIGIN IGP
  40 02 06 02 01 0000fde9   # AS_PATH: SEQUENCE of 1 AS, 65001
  40 03 04 0a000001  # NEXT_HOP 10.0.0.1
  1a 0af40100        # NLRI 10.244.1.0/26
  18 0af402          # NLRI 10.244.2.0/24
`);

function buildAttrsUpdate(attrHex: string, nlriHex = '18 0a0000'): Uint8Array {
  const attrs = hex(attrHex);
  const nlri = hex(nlriHex);
  const len = 19 + 4 + attrs.length + nlri.length;
  return new Uint8Array([...hex(MARKER), len >> 8, len & 0xff, 2, 0, 0, attrs.length >> 8, attrs.length & 0xff, ...attrs, ...nlri]);
}
const ORIGIN = '40 01 01 00';
const ASPATH = '40 02 06 02 01 0000fde9';
const NEXTHOP = '40 03 04 0a000001';

describe('wire: UPDATE decode and validation', () => {
  it('decodes a hand-written UPDATE', () => {
    const d = decodeUpdate(UPDATE_BYTES, ctx4);
    expect(d.attributeErrors).to.deep.equal([]);
    expect(d.message).to.deep.equal({
      type: 'update', withdrawn: [],
      attributes: { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '10.0.0.1' },
      nlri: [{ prefix: '10.244.1.0/26' }, { prefix: '10.244.2.0/24' }],
    });
    expect(validateUpdate(d, { ibgp: false }).action).to.equal('accept');
  });

  it('the builder produces exactly those bytes', () => {
    const [b, ...rest] = buildUpdates([], [{ attributes: { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '10.0.0.1' }, prefixes: [{ prefix: '10.244.1.0/26' }, { prefix: '10.244.2.0/24' }] }], { fourOctetAs: true });
    expect(rest).to.deep.equal([]);
    expect(toHex(b!)).to.equal(toHex(UPDATE_BYTES));
  });

  it('missing well-known attributes: 3/3 with the type code as data', () => {
    const v = validateUpdate(decodeUpdate(buildAttrsUpdate(`${ASPATH} ${NEXTHOP}`), ctx4), { ibgp: false });
    expect(v.action).to.equal('treat-as-withdraw');
    if (v.action === 'accept') throw new Error();
    expect(v.error).to.include({ code: 3, subcode: 3 });
    expect(toHex(v.error.data)).to.equal('01');
    const ibgp = validateUpdate(decodeUpdate(buildAttrsUpdate(`${ORIGIN} ${ASPATH} ${NEXTHOP}`), ctx4), { ibgp: true });
    expect(ibgp.action !== 'accept' && toHex(ibgp.error.data)).to.equal('05');
  });

  it('invalid ORIGIN is 3/6 and an invalid NEXT_HOP is 3/8, both treat-as-withdraw', () => {
    const o = validateUpdate(decodeUpdate(buildAttrsUpdate(`40 01 01 07 ${ASPATH} ${NEXTHOP}`), ctx4), { ibgp: false });
    expect(o.action).to.equal('treat-as-withdraw');
    expect(o.action !== 'accept' && o.error).to.include({ code: 3, subcode: 6 });
    const n = validateUpdate(decodeUpdate(buildAttrsUpdate(`${ORIGIN} ${ASPATH} 40 03 04 00000000`), ctx4), { ibgp: false });
    expect(n.action !== 'accept' && n.error).to.include({ code: 3, subcode: 8 });
    expect(n.action === 'treat-as-withdraw' && n.withdraw).to.deep.equal([{ prefix: '10.0.0.0/24' }]);
  });

  it('attribute flags error is 3/4 with the attribute as data', () => {
    const d = decodeUpdate(buildAttrsUpdate(`80 01 01 00 ${ASPATH} ${NEXTHOP}`), ctx4);
    expect(d.attributeErrors[0]).to.include({ code: 3, subcode: 4 });
    expect(toHex(d.attributeErrors[0]!.data)).to.equal('80010100');
  });

  it('malformed AS_PATH is 3/11; attribute length errors are 3/5', () => {
    expect(decodeUpdate(buildAttrsUpdate(`${ORIGIN} 40 02 03 02 05 0001 ${NEXTHOP}`), ctx4).attributeErrors[0]).to.include({ code: 3, subcode: 11 });
    expect(decodeUpdate(buildAttrsUpdate(`${ORIGIN} ${ASPATH} 40 03 03 0a0000`), ctx4).attributeErrors[0]).to.include({ code: 3, subcode: 5 });
  });

  it('truncated NLRI is 3/10; a withdrawn length beyond the message is 3/1 (session reset)', () => {
    const e = (() => { try { decodeUpdate(buildAttrsUpdate(`${ORIGIN} ${ASPATH} ${NEXTHOP}`, '18 0a00'), ctx4); } catch (x) { return x as WireError; } return undefined; })();
    expect(e).to.be.instanceOf(WireError);
    expect(e).to.include({ code: 3, subcode: 10 });
    const bad = hex(`${MARKER} 0017 02 00ff 0000`);
    expect(() => decodeUpdate(bad, ctx4)).to.throw(WireError).with.property('subcode', 1);
  });

  it('an unknown well-known attribute resets; unknown optional transitive ones travel on with Partial', () => {
    const v = validateUpdate(decodeUpdate(buildAttrsUpdate(`${ORIGIN} ${ASPATH} ${NEXTHOP} 40 63 01 00`), ctx4), { ibgp: false });
    expect(v.action).to.equal('reset');
    const d = decodeUpdate(buildAttrsUpdate(`${ORIGIN} ${ASPATH} ${NEXTHOP} c0 63 02 abcd`), ctx4);
    expect(d.message.attributes.unknown).to.deep.equal([{ flags: 0xc0, code: 99, value: hex('abcd') }]);
    const [b] = buildUpdates([], [{ attributes: d.message.attributes, prefixes: [{ prefix: '10.0.0.0/24' }] }], { fourOctetAs: true });
    expect(toHex(b!)).to.include('e06302abcd');
  });

  it('duplicate attributes keep the first; duplicate MP_REACH resets', () => {
    const d = decodeUpdate(buildAttrsUpdate(`${ORIGIN} 40 01 01 02 ${ASPATH} ${NEXTHOP}`), ctx4);
    expect(d.message.attributes.origin).to.equal(0);
    expect(validateUpdate(d, { ibgp: false }).action).to.equal('accept');
  });

  it('rebuilds 4-octet paths from AS_PATH + AS4_PATH from a 2-octet peer, and encodes them', () => {
    const two = { fourOctetAs: false };
    const [b] = buildUpdates([], [{ attributes: { origin: 0, asPath: [{ type: 2, asns: [65001, 4200000001, 65003] }], nextHop: '10.0.0.1' }, prefixes: [{ prefix: '10.9.0.0/16' }] }], two);
    expect(toHex(b!)).to.include('40020802' + '03fde95ba0fdeb'); // AS_TRANS 23456 = 0x5ba0 in place of the 4-octet AS
    const d = decodeUpdate(b!, two);
    expect(d.message.attributes.asPath).to.deep.equal([{ type: 2, asns: [65001, 4200000001, 65003] }]);
  });

  it('IPv6 via MP_REACH with global and link-local next hops round-trips', () => {
    const prefixes: Prefix[] = [{ prefix: 'fd00:10::/64' }, { prefix: '2001:db8::/32' }];
    const [b] = buildUpdates([], [{ attributes: { origin: 0, asPath: [] }, prefixes, ipv6NextHops: ['fd00::1', 'fe80::1'] }], { fourOctetAs: true });
    const d = decodeUpdate(b!, ctx4);
    expect(d.message.attributes.mpReach).to.deep.equal({ afi: 2, safi: 1, nextHops: ['fd00::1', 'fe80::1'], nlri: prefixes });
    expect(validateUpdate(d, { ibgp: false }).action).to.equal('accept');
    const [w] = buildUpdates(prefixes, [], { fourOctetAs: true });
    expect(decodeUpdate(w!, ctx4).message.attributes.mpUnreach).to.deep.equal({ afi: 2, safi: 1, withdrawn: prefixes });
  });

  it('ADD-PATH path identifiers are carried when negotiated', () => {
    const ap = { fourOctetAs: true, addPath: { 1: true } };
    const [b] = buildUpdates([], [{ attributes: { origin: 0, asPath: [], nextHop: '10.0.0.1' }, prefixes: [{ prefix: '10.1.0.0/16', pathId: 7 }] }], ap);
    expect(decodeUpdate(b!, ap).message.nlri).to.deep.equal([{ prefix: '10.1.0.0/16', pathId: 7 }]);
  });

  it('End-of-RIB markers are recognised for both families', () => {
    expect(toHex(encodeEndOfRib(1, 1))).to.equal(`${MARKER}00170200000000`);
    expect(endOfRibFamily(decodeUpdate(encodeEndOfRib(1, 1), ctx4).message)).to.deep.equal({ afi: 1, safi: 1 });
    expect(endOfRibFamily(decodeUpdate(encodeEndOfRib(2, 1), ctx4).message)).to.deep.equal({ afi: 2, safi: 1 });
    expect(endOfRibFamily(decodeUpdate(UPDATE_BYTES, ctx4).message)).to.equal(undefined);
  });
});

describe('wire: UPDATE packing', () => {
  const many = (n: number, v6 = false): Prefix[] => Array.from({ length: n }, (_, i) => ({
    prefix: v6 ? `fd00:${(i + 1).toString(16)}::/64` : `10.${i >> 8}.${i & 255}.0/24`,
  }));

  for (const [label, v6] of [['IPv4', false], ['IPv6', true]] as const) {
    it(`${label}: 10 000 prefixes with one attribute set fill few UPDATEs, each within 4096 bytes, each prefix once`, () => {
      const prefixes = many(10_000, v6);
      const msgs = buildUpdates([], [{ attributes: { origin: 0, asPath: [{ type: 2, asns: [65001] }], ...(v6 ? {} : { nextHop: '10.0.0.1' }), communities: [65001 * 65536 + 100] }, prefixes, ...(v6 ? { ipv6NextHops: ['fd00::1'] } : {}) }], { fourOctetAs: true });
      const seen: string[] = [];
      const framer = new Framer();
      for (const m of msgs) {
        expect(m.length).to.be.at.most(4096);
        for (const f of framer.push(m)) {
          const d = decodeUpdate(f.bytes, ctx4);
          seen.push(...d.message.nlri.map((p) => p.prefix), ...(d.message.attributes.mpReach?.nlri ?? []).map((p) => p.prefix));
        }
      }
      expect(seen).to.deep.equal(prefixes.map((p) => p.prefix));
      const perPrefix = v6 ? 9 : 4;
      const ideal = Math.ceil((prefixes.length * perPrefix) / (4096 - 80));
      expect(msgs.length).to.be.at.most(ideal + 1);
    });
  }

  it('withdrawals pack too', () => {
    const msgs = buildUpdates(many(5000), [], { fourOctetAs: true });
    expect(msgs.length).to.equal(Math.ceil((5000 * 4) / (4096 - 23)));
    expect(msgs.flatMap((m) => decodeUpdate(m, ctx4).message.withdrawn)).to.have.length(5000);
  });
});

describe('wire: UPDATE robustness', () => {
  it('decoding mutated UPDATEs only ever throws WireError', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const base = [UPDATE_BYTES, buildUpdates([], [{ attributes: { origin: 0, asPath: [], communities: [1] }, prefixes: [{ prefix: 'fd00::/64' }], ipv6NextHops: ['fd00::1'] }], { fourOctetAs: true })[0]!];
    for (let i = 0; i < 20_000; i++) {
      const src = base[i % 2]!;
      const b = src.slice(0, 19 + (rnd() % (src.length - 18)));
      for (let k = 0; k < 1 + (rnd() % 4); k++) b[19 + (rnd() % Math.max(1, b.length - 19))] = rnd() & 0xff;
      try {
        const d = decodeUpdate(b, { fourOctetAs: (i & 1) === 0, addPath: { 1: (i & 2) === 0 } });
        validateUpdate(d, { ibgp: (i & 4) === 0 });
      } catch (e) {
        expect(e, `input ${toHex(b)}`).to.be.instanceOf(WireError);
      }
    }
  });
});

import { expect } from 'chai';
import {
  decodeUpdate, encodeEndOfRib, encodeUpdate, endOfRibFamily, mergeAs4Path, asPathLength, type DecodeContext, type PathAttributes,
} from '@tabby/bgpd';
import { errorOf, hex, summary, toHex, update } from './hex.js';
import {
  EOR_V4, EOR_V6, UPDATE_ADD_PATH, UPDATE_AS4, UPDATE_V4, UPDATE_V6, UPDATE_WITHDRAW_V4, UPDATE_WITHDRAW_V6,
} from './vectors.js';

const ctx: DecodeContext = { fourOctetAs: true };
const ORIGIN = '40 01 01 00';
const AS_PATH = '40 02 06 02 01 0000fde9';
const NEXT_HOP = '40 03 04 0a000001';
const BASE = `${ORIGIN} ${AS_PATH} ${NEXT_HOP}`;
const NLRI = '18 0a0000'; // 10.0.0.0/24

/** Attributes of a clean UPDATE with `extra` appended. */
const attrsOf = (extra: string, c: DecodeContext = ctx) => {
  const d = decodeUpdate(update(`${BASE} ${extra}`, NLRI), c);
  expect(d.attributeErrors.map(summary)).to.deep.equal([]);
  return d.message.attributes;
};

describe('wire: UPDATE decoding', () => {
  it('IPv4: attributes and NLRI', () => {
    const d = decodeUpdate(UPDATE_V4, ctx);
    expect(d.attributeErrors).to.deep.equal([]);
    expect(d.message).to.deep.equal({
      type: 'update', withdrawn: [],
      attributes: { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '10.0.0.1' },
      nlri: [{ prefix: '10.244.1.0/26' }, { prefix: '10.244.2.0/24' }],
    });
    expect([...d.raw.keys()]).to.deep.equal([1, 2, 3]);
    expect(toHex(d.raw.get(3)!)).to.equal('4003040a000001');
  });

  it('IPv6: MP_REACH_NLRI with global and link-local next hops, MED, communities, large communities', () => {
    expect(decodeUpdate(UPDATE_V6, ctx).message).to.deep.equal({
      type: 'update', withdrawn: [], nlri: [],
      attributes: {
        mpReach: { afi: 2, safi: 1, nextHops: ['fd00::1', 'fe80::1'], nlri: [{ prefix: 'fd00:10::/64' }, { prefix: '2001:db8::/32' }] },
        origin: 0, asPath: [{ type: 2, asns: [65001, 65002] }], med: 100,
        communities: [0xfde90064, 0xffffff01], largeCommunities: [[65001, 1, 2]],
      },
    });
  });

  it('withdrawals: IPv4 in the Withdrawn Routes field, IPv6 in MP_UNREACH_NLRI', () => {
    expect(decodeUpdate(UPDATE_WITHDRAW_V4, ctx).message.withdrawn).to.deep.equal([{ prefix: '10.244.1.0/26' }, { prefix: '10.0.0.0/8' }]);
    expect(decodeUpdate(UPDATE_WITHDRAW_V6, ctx).message.attributes).to.deep.equal({ mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: 'fd00:10::/64' }] } });
  });

  it('ADD-PATH path identifiers when negotiated for the family, and not otherwise', () => {
    const d = decodeUpdate(UPDATE_ADD_PATH, { fourOctetAs: true, addPath: { 1: true } });
    expect(d.message.withdrawn).to.deep.equal([{ prefix: '10.2.0.0/16', pathId: 3 }]);
    expect(d.message.nlri).to.deep.equal([{ prefix: '10.1.0.0/24', pathId: 7 }]);
    // The same bytes without ADD-PATH are nonsense: prefix length 0 then 0, 0, 3 ... runs past the end.
    expect(errorOf(() => decodeUpdate(UPDATE_ADD_PATH, { fourOctetAs: true, addPath: { 2: true } }))).to.include({ code: 3, subcode: 10 });
  });

  it('ADD-PATH in MP_REACH_NLRI for IPv6', () => {
    const bytes = update(`90 0e 0020 0002 01 10 fd000000000000000000000000000001 00 00000009 30 fd0000000001 ${ORIGIN} 40 02 00`);
    const d = decodeUpdate(bytes, { fourOctetAs: true, addPath: { 2: true } });
    expect(d.attributeErrors).to.deep.equal([]);
    expect(d.message.attributes.mpReach!.nlri).to.deep.equal([{ prefix: 'fd00:0:1::/48', pathId: 9 }]);
  });

  it('host bits past the prefix length are cleared', () => {
    expect(decodeUpdate(update(BASE, '17 0a0101'), ctx).message.nlri).to.deep.equal([{ prefix: '10.1.0.0/23' }]);
    expect(decodeUpdate(update(BASE, '00'), ctx).message.nlri).to.deep.equal([{ prefix: '0.0.0.0/0' }]);
  });

  it('2-octet AS peer: AS4_PATH and AS4_AGGREGATOR recover the real values (RFC 6793 §4.2.3)', () => {
    const a = decodeUpdate(UPDATE_AS4, { fourOctetAs: false }).message.attributes;
    expect(a.asPath).to.deep.equal([{ type: 2, asns: [65001, 4200000001, 65003] }]);
    expect(a.aggregator).to.deep.equal({ asn: 4200000001, address: '10.0.0.9' });
  });

  it('AS4 attributes are ignored when AGGREGATOR is not AS_TRANS, and between 4-octet speakers', () => {
    const ignored = decodeUpdate(update(`${ORIGIN} 40 02 04 02 01 5ba0 ${NEXT_HOP} c0 07 06 fde9 0a000009 c0 11 06 02 01 fa56ea01`, NLRI), { fourOctetAs: false });
    expect(ignored.message.attributes.asPath).to.deep.equal([{ type: 2, asns: [23456] }]);
    expect(ignored.message.attributes.aggregator).to.deep.equal({ asn: 65001, address: '10.0.0.9' });
    const four = decodeUpdate(update(`${BASE} c0 11 06 02 01 fa56ea01`, NLRI), ctx).message.attributes;
    expect(four.asPath).to.deep.equal([{ type: 2, asns: [65001] }]);
    expect(four.unknown).to.equal(undefined);
  });

  it('mergeAs4Path: leading AS numbers of AS_PATH, sets counted once, confederations kept, longer AS4_PATH ignored', () => {
    const seq = (...asns: number[]) => ({ type: 2 as const, asns });
    expect(mergeAs4Path([seq(1, 2, 23456, 23456)], [seq(400000, 500000)])).to.deep.equal([seq(1, 2, 400000, 500000)]);
    expect(mergeAs4Path([{ type: 3, asns: [64512] }, seq(1, 23456)], [seq(400000)])).to.deep.equal([{ type: 3, asns: [64512] }, seq(1, 400000)]);
    expect(mergeAs4Path([seq(1), { type: 1, asns: [7, 8] }, seq(23456)], [seq(400000)])).to.deep.equal([seq(1), { type: 1, asns: [7, 8] }, seq(400000)]);
    expect(mergeAs4Path([seq(23456)], [seq(400000, 500000)])).to.deep.equal([seq(23456)]);
    expect(asPathLength([seq(1, 2), { type: 1, asns: [3, 4] }, { type: 4, asns: [5] }])).to.equal(3);
  });

  it('the Extended Length flag is accepted for short attributes', () => {
    expect(attrsOf('d0 08 0004 fde90064').communities).to.deep.equal([0xfde90064]);
  });

  it('optional attributes: originator, cluster list, extended communities, aggregator, atomic aggregate', () => {
    const a = attrsOf('40 06 00 c0 07 08 0000fde9 0a000009 80 09 04 0a000005 80 0a 08 0a000006 0a000007 c0 10 08 0002fde900000064');
    expect(a).to.deep.include({
      atomicAggregate: true, aggregator: { asn: 65001, address: '10.0.0.9' }, originatorId: '10.0.0.5',
      clusterList: ['10.0.0.6', '10.0.0.7'], extendedCommunities: [hex('0002fde900000064')],
    });
  });

  it('large communities: duplicates dropped (RFC 8092 §5)', () => {
    expect(attrsOf('c0 20 18 00000001 00000002 00000003 00000001 00000002 00000003').largeCommunities).to.deep.equal([[1, 2, 3]]);
  });

  it('unknown optional attributes: transitive ones kept (flags, code, value), non-transitive ones dropped', () => {
    const a = attrsOf('c0 63 02 abcd 80 64 01 00 e0 65 01 ee');
    expect(a.unknown).to.deep.equal([{ flags: 0xc0, code: 99, value: hex('abcd') }, { flags: 0xe0, code: 101, value: hex('ee') }]);
  });

  it('families other than IPv4/IPv6 unicast are recognised but not parsed', () => {
    // IPv4 multicast (SAFI 2) and an unknown AFI: next hops and NLRI stay empty.
    const d = decodeUpdate(update(`80 0e 0d 0001 02 04 0a000001 00 18 0a0000 ${ORIGIN} 40 02 00`), ctx);
    expect(d.attributeErrors).to.deep.equal([]);
    expect(d.message.attributes.mpReach).to.deep.equal({ afi: 1, safi: 2, nextHops: [], nlri: [] });
    expect(decodeUpdate(update('80 0f 05 0019 46 ab cd'), ctx).message.attributes.mpUnreach).to.deep.equal({ afi: 25, safi: 70, withdrawn: [] });
  });

  it('decoded attributes never refer to the frame', () => {
    const frame = update(`${BASE} c0 63 02 abcd c0 10 08 0002fde900000064`, NLRI);
    const a = decodeUpdate(frame, ctx).message.attributes;
    frame.fill(0);
    expect(toHex(a.unknown![0]!.value)).to.equal('abcd');
    expect(toHex(a.extendedCommunities![0]!)).to.equal('0002fde900000064');
  });

  it('structure errors throw: lengths past the message are 3/1, bad NLRI 3/10', () => {
    expect(summary(errorOf(() => decodeUpdate(hex('ffffffffffffffffffffffffffffffff 0017 02 00ff 0000'), ctx)))).to.deep.equal({ code: 3, subcode: 1, data: '', action: 'reset' });
    const total = update(ORIGIN, NLRI);
    total[22] = 0x40; // total path attribute length 64
    expect(summary(errorOf(() => decodeUpdate(total, ctx)))).to.deep.equal({ code: 3, subcode: 1, data: '', action: 'reset' });
    expect(summary(errorOf(() => decodeUpdate(update(BASE, '18 0a00'), ctx)))).to.deep.equal({ code: 3, subcode: 10, data: '', action: 'reset' });
    expect(summary(errorOf(() => decodeUpdate(update(BASE, '21 0a000000 00'), ctx)))).to.deep.equal({ code: 3, subcode: 10, data: '', action: 'reset' });
    expect(summary(errorOf(() => decodeUpdate(update('', '', '18 0a00'), ctx)))).to.deep.equal({ code: 3, subcode: 10, data: '', action: 'reset' });
  });
});

describe('wire: UPDATE encoding', () => {
  it('encodeUpdate writes MP attributes first, the rest in type order, exactly as the vectors', () => {
    for (const v of [UPDATE_V4, UPDATE_V6, UPDATE_WITHDRAW_V4, UPDATE_WITHDRAW_V6]) {
      expect(toHex(encodeUpdate(decodeUpdate(v, ctx).message, ctx))).to.equal(toHex(v));
    }
    expect(toHex(encodeUpdate(decodeUpdate(UPDATE_ADD_PATH, { fourOctetAs: true, addPath: { 1: true } }).message, { fourOctetAs: true, addPath: { 1: true } }))).to.equal(toHex(UPDATE_ADD_PATH));
  });

  it('the Extended Length flag is set only when a value exceeds 255 bytes', () => {
    const base: PathAttributes = { origin: 0, asPath: [], nextHop: '10.0.0.1' };
    const short = encodeUpdate({ withdrawn: [], nlri: [], attributes: { ...base, communities: Array.from({ length: 63 }, (_, i) => i) } }, ctx);
    expect(toHex(short)).to.include('c008fc'); // 252 bytes: one length byte
    const long = encodeUpdate({ withdrawn: [], nlri: [], attributes: { ...base, communities: Array.from({ length: 64 }, (_, i) => i) } }, ctx);
    expect(toHex(long)).to.include('d0080100'); // 256 bytes: Extended Length, two length bytes
    expect(decodeUpdate(long, ctx).message.attributes.communities).to.have.length(64);
  });

  it('unknown optional transitive attributes go out with the Partial bit; 4-octet AS numbers as AS_TRANS + AS4_PATH', () => {
    const a: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001, 4200000001] }], nextHop: '10.0.0.1', unknown: [{ flags: 0xc0, code: 99, value: hex('abcd') }] };
    const bytes = encodeUpdate({ withdrawn: [], attributes: a, nlri: [{ prefix: '10.0.0.0/24' }] }, { fourOctetAs: false });
    expect(toHex(bytes)).to.include('e06302abcd');
    expect(toHex(bytes)).to.include('400206' + '0202fde95ba0');
    expect(toHex(bytes)).to.include('c0110a' + '02020000fde9fa56ea01');
    expect(decodeUpdate(bytes, { fourOctetAs: false }).message.attributes.asPath).to.deep.equal(a.asPath);
  });

  it('refuses what does not fit, and IPv6 prefixes outside MP attributes', () => {
    const nlri = Array.from({ length: 1100 }, (_, i) => ({ prefix: `10.${i >> 8}.${i & 255}.0/24` }));
    expect(() => encodeUpdate({ withdrawn: [], attributes: { origin: 0, asPath: [], nextHop: '10.0.0.1' }, nlri }, ctx)).to.throw(/exceeds 4096/);
    expect(encodeUpdate({ withdrawn: [], attributes: { origin: 0, asPath: [], nextHop: '10.0.0.1' }, nlri }, { ...ctx, extendedMessage: true }).length).to.be.greaterThan(4096);
    expect(() => encodeUpdate({ withdrawn: [{ prefix: 'fd00::/8' }], attributes: {}, nlri: [] }, ctx)).to.throw(/MP_/);
  });
});

describe('wire: End-of-RIB', () => {
  it('encodes the RFC 4724 markers', () => {
    expect(toHex(encodeEndOfRib(1, 1))).to.equal(toHex(EOR_V4));
    expect(toHex(encodeEndOfRib(2, 1))).to.equal(toHex(EOR_V6));
  });

  it('recognises them, and nothing else', () => {
    expect(endOfRibFamily(decodeUpdate(EOR_V4, ctx).message)).to.deep.equal({ afi: 1, safi: 1 });
    expect(endOfRibFamily(decodeUpdate(EOR_V6, ctx).message)).to.deep.equal({ afi: 2, safi: 1 });
    for (const v of [UPDATE_V4, UPDATE_V6, UPDATE_WITHDRAW_V4, UPDATE_WITHDRAW_V6]) expect(endOfRibFamily(decodeUpdate(v, ctx).message)).to.equal(undefined);
  });
});

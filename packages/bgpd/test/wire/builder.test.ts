import { expect } from 'chai';
import { Framer, MAX_EXTENDED_LENGTH, buildUpdates, decodeUpdate, validateUpdate, type BuildContext, type PathAttributes, type Prefix } from '@tabby/bgpd';
import { toHex } from './hex.js';
import { UPDATE_V4, UPDATE_V6, UPDATE_WITHDRAW_V4, UPDATE_WITHDRAW_V6 } from './vectors.js';

const ctx: BuildContext = { fourOctetAs: true };

const v4 = (n: number): Prefix[] => Array.from({ length: n }, (_, i) => ({ prefix: `10.${i >> 8}.${i & 255}.0/24` }));
const v6 = (n: number): Prefix[] => Array.from({ length: n }, (_, i) => ({ prefix: `fd00:${(i + 1).toString(16)}::/64` }));

/** Every UPDATE through the framer and decoder: the prefixes announced and withdrawn, in order. */
function unpack(msgs: Uint8Array[], c: BuildContext, max = 4096) {
  const framer = new Framer();
  framer.maxLength = max;
  const announced: Prefix[] = [];
  const withdrawn: Prefix[] = [];
  for (const m of msgs) {
    expect(m.length).to.be.at.most(max);
    const frames = framer.push(m);
    expect(frames).to.have.length(1);
    const d = decodeUpdate(frames[0]!.bytes, c);
    expect(validateUpdate(d, { ibgp: false }).action).to.equal('accept');
    const a = d.message.attributes;
    announced.push(...d.message.nlri, ...(a.mpReach?.nlri ?? []));
    withdrawn.push(...d.message.withdrawn, ...(a.mpUnreach?.withdrawn ?? []));
  }
  return { announced, withdrawn };
}

const ATTRS: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001] }], communities: [1] };

describe('wire: UPDATE packing', () => {
  it('host bits are cleared on the way out', () => {
    const [m] = buildUpdates([{ prefix: '10.1.255.255/20' }, { prefix: 'fd00::1/8' }], [], ctx);
    expect(decodeUpdate(m!, ctx).message.withdrawn).to.deep.equal([{ prefix: '10.1.240.0/20' }]);
  });

  it('one attribute set, two IPv4 prefixes: exactly the hand-written UPDATE', () => {
    const msgs = buildUpdates([], [{ attributes: { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '10.0.0.1' }, prefixes: [{ prefix: '10.244.1.0/26' }, { prefix: '10.244.2.0/24' }] }], ctx);
    expect(msgs.map(toHex)).to.deep.equal([toHex(UPDATE_V4)]);
  });

  it('IPv6 goes into MP_REACH_NLRI (first), withdrawals into MP_UNREACH_NLRI: the hand-written UPDATEs', () => {
    const attributes: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001, 65002] }], med: 100, communities: [0xfde90064, 0xffffff01], largeCommunities: [[65001, 1, 2]] };
    const [announce] = buildUpdates([], [{ attributes, prefixes: [{ prefix: 'fd00:10::/64' }, { prefix: '2001:db8::/32' }], ipv6NextHops: ['fd00::1', 'fe80::1'] }], ctx);
    expect(toHex(announce!)).to.equal(toHex(UPDATE_V6));
    expect(buildUpdates([{ prefix: 'fd00:10::/64' }], [], ctx).map(toHex)).to.deep.equal([toHex(UPDATE_WITHDRAW_V6)]);
    expect(buildUpdates([{ prefix: '10.244.1.0/26' }, { prefix: '10.0.0.0/8' }], [], ctx).map(toHex)).to.deep.equal([toHex(UPDATE_WITHDRAW_V4)]);
  });

  it('IPv4: 10 000 /24s sharing attributes fill 10 UPDATEs of at most 4096 bytes, each prefix once, in order', () => {
    const prefixes = v4(10_000);
    const msgs = buildUpdates([], [{ attributes: { ...ATTRS, nextHop: '10.0.0.1' }, prefixes }], ctx);
    // 19 header + 4 length fields + 27 of attributes leave 4046 bytes: 1011 prefixes of 4 bytes.
    expect(msgs.length).to.equal(10);
    expect(msgs.slice(0, -1).every((m) => m.length === 4094)).to.equal(true);
    expect(unpack(msgs, ctx).announced).to.deep.equal(prefixes);
  });

  it('IPv6: 10 000 /64s fill 23 UPDATEs, each prefix once, in order', () => {
    const prefixes = v6(10_000);
    const msgs = buildUpdates([], [{ attributes: ATTRS, prefixes, ipv6NextHops: ['fd00::1'] }], ctx);
    // 19 + 4 + MP_REACH header 4 + AFI/SAFI/length 4 + next hop 16 + reserved 1 + 20 of attributes: 4028 bytes, 447 prefixes of 9.
    expect(msgs.length).to.equal(23);
    expect(unpack(msgs, ctx).announced).to.deep.equal(prefixes);
  });

  it('withdrawals pack too: 5000 IPv4 in 5 UPDATEs, 5000 IPv6 in 12', () => {
    const four = buildUpdates(v4(5000), [], ctx);
    expect(four.length).to.equal(Math.ceil(5000 / Math.floor((4096 - 23) / 4)));
    expect(unpack(four, ctx).withdrawn).to.deep.equal(v4(5000));
    const six = buildUpdates(v6(5000), [], ctx);
    expect(six.length).to.equal(Math.ceil(5000 / Math.floor((4096 - 23 - 4 - 3) / 9)));
    expect(unpack(six, ctx).withdrawn).to.deep.equal(v6(5000));
  });

  it('mixed families and several attribute sets in one batch', () => {
    const a = { attributes: { ...ATTRS, nextHop: '10.0.0.1' }, prefixes: [...v4(3), ...v6(2)], ipv6NextHops: ['fd00::1', 'fe80::1'] };
    const b = { attributes: { ...ATTRS, nextHop: '10.0.0.2', med: 5 }, prefixes: [{ prefix: '192.168.0.0/16' }] };
    const msgs = buildUpdates([{ prefix: '10.99.0.0/16' }, { prefix: 'fd99::/16' }], [a, b], ctx);
    expect(msgs.length).to.equal(5);
    const { announced, withdrawn } = unpack(msgs, ctx);
    expect(withdrawn).to.deep.equal([{ prefix: '10.99.0.0/16' }, { prefix: 'fd99::/16' }]);
    expect(announced).to.deep.equal([...v4(3), ...v6(2), { prefix: '192.168.0.0/16' }]);
    // NEXT_HOP only where IPv4 NLRI are.
    expect(decodeUpdate(msgs[3]!, ctx).message.attributes.nextHop).to.equal(undefined);
  });

  it('ADD-PATH path identifiers cost 4 bytes each and survive packing', () => {
    const c: BuildContext = { fourOctetAs: true, addPath: { 1: true, 2: true } };
    const prefixes = v4(3000).map((p, i) => ({ ...p, pathId: i + 1 }));
    const msgs = buildUpdates([], [{ attributes: { ...ATTRS, nextHop: '10.0.0.1' }, prefixes }], c);
    expect(msgs.length).to.equal(Math.ceil(3000 / Math.floor((4096 - 50) / 8)));
    expect(unpack(msgs, c).announced).to.deep.equal(prefixes);
  });

  it('extended messages (RFC 8654): 10 000 IPv4 prefixes in one 40 KB UPDATE', () => {
    const c: BuildContext = { fourOctetAs: true, extendedMessage: true };
    const msgs = buildUpdates([], [{ attributes: { ...ATTRS, nextHop: '10.0.0.1' }, prefixes: v4(10_000) }], c);
    expect(msgs.length).to.equal(1);
    expect(unpack(msgs, c, MAX_EXTENDED_LENGTH).announced).to.have.length(10_000);
    expect(buildUpdates([], [{ attributes: { ...ATTRS, nextHop: '10.0.0.1' }, prefixes: v4(10_000) }], { fourOctetAs: true, maxLength: 65535 })).to.have.length(1);
  });

  it('refuses announcements it cannot express', () => {
    expect(() => buildUpdates([], [{ attributes: ATTRS, prefixes: v4(1) }], ctx)).to.throw(/nextHop/);
    expect(() => buildUpdates([], [{ attributes: ATTRS, prefixes: v6(1) }], ctx)).to.throw(/IPv6 next hop/);
    const huge = { ...ATTRS, nextHop: '10.0.0.1', communities: Array.from({ length: 1100 }, (_, i) => i) };
    expect(() => buildUpdates([], [{ attributes: huge, prefixes: v4(1) }], ctx)).to.throw(/no room/);
    for (const prefix of ['10.0.0.0/33', '10.0.0/24', '300.0.0.0/8', '10.0.0.0', '10.0.0.0/2x', 'fd00::/129', 'fd00:::1/64']) {
      expect(() => buildUpdates([{ prefix }], [], ctx), prefix).to.throw(Error);
    }
  });
});

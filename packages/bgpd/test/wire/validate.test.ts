// UPDATE error vectors: each hand-written UPDATE must give exactly this NOTIFICATION
// (code, subcode, data) and this RFC 7606 action.
import { expect } from 'chai';
import { ATTRIBUTE_RULES, decodeUpdate, validateUpdate, type DecodeContext, type UpdateVerdict } from '@tabby/bgpd';
import { summary, update } from './hex.js';

const ctx: DecodeContext = { fourOctetAs: true };
const ORIGIN = '40 01 01 00';
const AS_PATH = '40 02 06 02 01 0000fde9';
const NEXT_HOP = '40 03 04 0a000001';
const LOCAL_PREF = '40 05 04 00000064';
const BASE = `${ORIGIN} ${AS_PATH} ${NEXT_HOP}`;
const NLRI = '18 0a0000'; // 10.0.0.0/24

function verdict(attrs: string, opts: { ibgp?: boolean; nlri?: string; withdrawn?: string; c?: DecodeContext } = {}): UpdateVerdict {
  return validateUpdate(decodeUpdate(update(attrs, opts.nlri ?? NLRI, opts.withdrawn ?? ''), opts.c ?? ctx), { ibgp: opts.ibgp ?? false });
}

/** The verdict's action and (unless accepted) its error, as plain values. */
function outcome(v: UpdateVerdict) {
  return v.action === 'accept' ? { action: 'accept' } : { action: v.action, error: summary(v.error) };
}

const withdraw = (code: number, subcode: number, data = '') => ({ action: 'treat-as-withdraw', error: { code, subcode, data, action: 'treat-as-withdraw' } });
const reset = (code: number, subcode: number, data = '') => ({ action: 'reset', error: { code, subcode, data, action: 'reset' } });
const accept = { action: 'accept' };

describe('wire: UPDATE validation (RFC 4271 §6.3, RFC 7606)', () => {
  const cases: [string, string, ReturnType<typeof outcome>, { ibgp?: boolean; nlri?: string; c?: DecodeContext }?][] = [
    ['a clean eBGP UPDATE', BASE, accept],
    ['a clean iBGP UPDATE', `${BASE} ${LOCAL_PREF}`, accept, { ibgp: true }],
    // Missing well-known attributes: data is the type code.
    ['missing ORIGIN', `${AS_PATH} ${NEXT_HOP}`, withdraw(3, 3, '01')],
    ['missing AS_PATH', `${ORIGIN} ${NEXT_HOP}`, withdraw(3, 3, '02')],
    ['missing NEXT_HOP with IPv4 NLRI', `${ORIGIN} ${AS_PATH}`, withdraw(3, 3, '03')],
    ['missing LOCAL_PREF on iBGP', BASE, withdraw(3, 3, '05'), { ibgp: true }],
    ['nothing missing when nothing is announced', '', accept, { nlri: '' }],
    ['NEXT_HOP not needed for MP_REACH only', `80 0e 1e 0002 01 10 fd000000000000000000000000000001 00 40 fd00001000000000 ${ORIGIN} ${AS_PATH}`, accept, { nlri: '' }],
    // Attribute values: data is the whole attribute.
    ['invalid ORIGIN value', `40 01 01 03 ${AS_PATH} ${NEXT_HOP}`, withdraw(3, 6, '40010103')],
    ['ORIGIN of 2 bytes', `40 01 02 0000 ${AS_PATH} ${NEXT_HOP}`, withdraw(3, 5, '4001020000')],
    ['NEXT_HOP 0.0.0.0', `${ORIGIN} ${AS_PATH} 40 03 04 00000000`, withdraw(3, 8, '40030400000000')],
    ['NEXT_HOP multicast', `${ORIGIN} ${AS_PATH} 40 03 04 e0000005`, withdraw(3, 8, '400304e0000005')],
    ['NEXT_HOP broadcast', `${ORIGIN} ${AS_PATH} 40 03 04 ffffffff`, withdraw(3, 8, '400304ffffffff')],
    ['NEXT_HOP on loopback is the caller\'s business', `${ORIGIN} ${AS_PATH} 40 03 04 7f000002`, accept],
    ['NEXT_HOP of 5 bytes', `${ORIGIN} ${AS_PATH} 40 03 05 0a00000100`, withdraw(3, 5, '4003050a00000100')],
    ['MED of 2 bytes', `${BASE} 80 04 02 0001`, withdraw(3, 5, '8004020001')],
    ['LOCAL_PREF of 3 bytes on iBGP', `${BASE} 40 05 03 000064`, withdraw(3, 5, '400503000064'), { ibgp: true }],
    ['COMMUNITIES of 5 bytes', `${BASE} c0 08 05 0000000100`, withdraw(3, 5, 'c008050000000100')],
    ['COMMUNITIES empty', `${BASE} c0 08 00`, withdraw(3, 5, 'c00800')],
    ['EXTENDED_COMMUNITIES of 7 bytes', `${BASE} c0 10 07 00020000000000`, withdraw(3, 5, 'c0100700020000000000')],
    ['LARGE_COMMUNITY of 13 bytes', `${BASE} c0 20 0d 00000001000000020000000300`, withdraw(3, 5, 'c0200d00000001000000020000000300')],
    ['ORIGINATOR_ID of 3 bytes on iBGP', `${BASE} ${LOCAL_PREF} 80 09 03 0a0000`, withdraw(3, 5, '8009030a0000'), { ibgp: true }],
    ['CLUSTER_LIST of 6 bytes on iBGP', `${BASE} ${LOCAL_PREF} 80 0a 06 0a0000010a00`, withdraw(3, 5, '800a060a0000010a00'), { ibgp: true }],
    // AS_PATH: malformed has no data (RFC 4271 §6.3).
    ['AS_PATH segment type 5', `${ORIGIN} 40 02 06 05 01 0000fde9 ${NEXT_HOP}`, withdraw(3, 11)],
    ['AS_PATH segment of length 0', `${ORIGIN} 40 02 02 02 00 ${NEXT_HOP}`, withdraw(3, 11)],
    ['AS_PATH segment running past the attribute', `${ORIGIN} 40 02 06 02 02 0000fde9 ${NEXT_HOP}`, withdraw(3, 11)],
    ['AS_PATH with one byte left over', `${ORIGIN} 40 02 07 02 01 0000fde9 02 ${NEXT_HOP}`, withdraw(3, 11)],
    ['AS_PATH of 2-octet AS numbers on a 4-octet session', `${ORIGIN} 40 02 04 02 01 fde9 ${NEXT_HOP}`, withdraw(3, 11)],
    ['confederation segments from an eBGP peer', `${ORIGIN} 40 02 06 03 01 0000fde9 ${NEXT_HOP}`, withdraw(3, 11)],
    ['confederation segments from an iBGP peer are fine', `${ORIGIN} 40 02 06 03 01 0000fde9 ${NEXT_HOP} ${LOCAL_PREF}`, accept, { ibgp: true }],
    // Flags: data is the whole attribute as received.
    ['ORIGIN flagged optional', `c0 01 01 00 ${AS_PATH} ${NEXT_HOP}`, withdraw(3, 4, 'c0010100')],
    ['MED flagged transitive', `${BASE} c0 04 04 00000001`, withdraw(3, 4, 'c00404' + '00000001')],
    ['the Partial bit and the low bits are not checked', `5f 01 0001 00 ${AS_PATH} ${NEXT_HOP} 6f 06 00`, accept],
    // Attribute-discard keeps the route.
    ['ATOMIC_AGGREGATE of 1 byte', `${BASE} 40 06 01 00`, accept],
    ['AGGREGATOR of 7 bytes', `${BASE} c0 07 07 0000fde90a0000`, accept],
    ['AGGREGATOR flags wrong', `${BASE} 40 07 08 0000fde90a000009`, accept],
    ['duplicate ORIGIN: the first is kept', `${ORIGIN} 40 01 01 02 ${AS_PATH} ${NEXT_HOP}`, accept],
    ['LOCAL_PREF from an eBGP peer', `${BASE} ${LOCAL_PREF}`, accept],
    ['malformed LOCAL_PREF from an eBGP peer', `${BASE} 40 05 01 00`, accept],
    ['ORIGINATOR_ID and CLUSTER_LIST from an eBGP peer', `${BASE} 80 09 03 0a0000 80 0a 04 0a000001`, accept],
    ['malformed AS4_PATH from a 2-octet peer', `${ORIGIN} 40 02 04 02 01 5ba0 ${NEXT_HOP} c0 11 03 02 01 00`, accept, { c: { fourOctetAs: false } }],
    // Session resets.
    ['unrecognized well-known attribute: 3/2 with the attribute', `${BASE} 40 63 01 00`, reset(3, 2, '40630100')],
    ['duplicate MP_UNREACH_NLRI: 3/1', `80 0f 03 0002 01 80 0f 03 0002 01`, reset(3, 1), { nlri: '' }],
    ['MP_REACH_NLRI with an 8-byte IPv6 next hop: 3/9 with the attribute', `80 0e 0e 0002 01 08 fd00000000000001 00 00 ${ORIGIN} ${AS_PATH}`, reset(3, 9, '800e0e000201' + '08fd000000000000010000'), { nlri: '' }],
    ['MP_REACH_NLRI with a /129: 3/9', `80 0e 17 0002 01 10 fd000000000000000000000000000001 00 81 fd ${ORIGIN} ${AS_PATH}`, reset(3, 9, '800e17000201' + '10fd00000000000000000000000000000100' + '81fd'), { nlri: '' }],
    ['MP_UNREACH_NLRI cut short: 3/9', `80 0f 02 0002`, reset(3, 9, '800f020002'), { nlri: '' }],
    ['MP_UNREACH_NLRI flagged transitive: 3/4', `c0 0f 03 0002 01`, reset(3, 4, 'c00f03000201'), { nlri: '' }],
    // The attribute list does not add up (RFC 7606 §4): withdraw only if no NLRI can hide in what was not read.
    ['an attribute header cut short at the end', `${BASE} 40 05`, withdraw(3, 1)],
    ['an attribute running past the list with room for MP_REACH behind it', `${BASE} 40 05 0a 00000064 00000000 00`, reset(3, 1)],
    ['an attribute running past the list with no room for one', `${BASE} c0 08 08 00000001`, withdraw(3, 1)],
    // IPv6 next hops in MP_REACH_NLRI: data is the MP_REACH_NLRI attribute.
    ['IPv6 next hop multicast', `80 0e 1e 0002 01 10 ff020000000000000000000000000001 00 40 fd00001000000000 ${ORIGIN} ${AS_PATH}`, withdraw(3, 8, '800e1e000201' + '10ff020000000000000000000000000001' + '0040fd00001000000000'), { nlri: '' }],
    ['IPv6 next hop :: with a link-local one is fine', `80 0e 2e 0002 01 20 00000000000000000000000000000000 fe800000000000000000000000000001 00 40 fd00001000000000 ${ORIGIN} ${AS_PATH}`, accept, { nlri: '' }],
  ];

  for (const [name, attrs, expected, opts] of cases) {
    it(name, () => {
      expect(outcome(verdict(attrs, opts))).to.deep.equal(expected);
    });
  }

  it('treat-as-withdraw names every prefix of the UPDATE: withdrawals and announcements', () => {
    const v = verdict(`40 01 01 03 ${AS_PATH} ${NEXT_HOP}`, { nlri: '18 0a0000 18 0a0001', withdrawn: '10 0a09' });
    expect(v.action === 'treat-as-withdraw' && v.withdraw).to.deep.equal([{ prefix: '10.9.0.0/16' }, { prefix: '10.0.0.0/24' }, { prefix: '10.0.1.0/24' }]);
  });

  it('the first of equally severe problems is reported', () => {
    const v = verdict(`40 01 01 03 ${AS_PATH} 40 03 04 00000000`);
    expect(outcome(v)).to.deep.equal(withdraw(3, 6, '40010103'));
  });

  it('discarded attributes are removed from the accepted message and listed', () => {
    const d = decodeUpdate(update(`${BASE} ${LOCAL_PREF} 80 09 04 0a000005 c0 07 07 0000fde90a0000`, NLRI), ctx);
    const v = validateUpdate(d, { ibgp: false });
    expect(v.action).to.equal('accept');
    expect(v.action === 'accept' && v.discarded.map((e) => e.attribute)).to.have.members([5, 9, 7]);
    expect(d.message.attributes).to.deep.equal({ origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '10.0.0.1' });
    const ibgp = decodeUpdate(update(`${BASE} ${LOCAL_PREF} 80 09 04 0a000005`, NLRI), ctx);
    expect(validateUpdate(ibgp, { ibgp: true }).action).to.equal('accept');
    expect(ibgp.message.attributes).to.deep.include({ localPref: 100, originatorId: '10.0.0.5' });
  });

  it('a malformed AS4_PATH leaves the 2-octet AS_PATH as it was', () => {
    const d = decodeUpdate(update(`${ORIGIN} 40 02 04 02 01 5ba0 ${NEXT_HOP} c0 11 03 02 01 00`, NLRI), { fourOctetAs: false });
    expect(validateUpdate(d, { ibgp: false }).action).to.equal('accept');
    expect(d.message.attributes.asPath).to.deep.equal([{ type: 2, asns: [23456] }]);
  });

  it('the RFC 7606 policy is one table keyed by type code', () => {
    expect(Object.fromEntries(Object.entries(ATTRIBUTE_RULES).map(([code, r]) => [code, r.malformed]))).to.deep.equal({
      1: 'treat-as-withdraw', 2: 'treat-as-withdraw', 3: 'treat-as-withdraw', 4: 'treat-as-withdraw', 5: 'treat-as-withdraw',
      6: 'attribute-discard', 7: 'attribute-discard', 8: 'treat-as-withdraw', 9: 'treat-as-withdraw', 10: 'treat-as-withdraw',
      14: 'reset', 15: 'reset', 16: 'treat-as-withdraw', 17: 'attribute-discard', 18: 'attribute-discard', 32: 'treat-as-withdraw',
    });
  });
});

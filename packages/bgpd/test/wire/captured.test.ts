// Replays what real speakers sent (captured by test/vectors/capture.ts from BIRD 2, BIRD 1.6,
// GoBGP and FRR): every message must frame at any split, decode without a single problem,
// validate as accepted and survive an encode/decode round trip.
import { expect } from 'chai';
import {
  Framer, MAX_EXTENDED_LENGTH, decodeMessage, encodeMessage, endOfRibFamily, validateUpdate,
  type BgpMessage, type DecodedMessage, type UpdateMessage,
} from '@tabby/bgpd';
import { concat, toHex } from './hex.js';
import { captures, type Capture } from './captures.js';

const valueOf = (d: DecodedMessage): BgpMessage => (d.type === 'update' ? d.message : d);
const updates = (c: Capture) => c.messages.map((m) => decodeMessage(m, c.context)).filter((d) => d.type === 'update').map((d) => (d as { message: UpdateMessage }).message);

describe('wire: messages captured from BIRD 2, BIRD 1.6, GoBGP and FRR', () => {
  it('there are captures for every interop peer', () => {
    expect([...new Set(captures.map((c) => c.name.split('/')[0]))].sort()).to.deep.equal(['bird16', 'bird2', 'frr', 'gobgp']);
  });

  for (const c of captures) {
    describe(c.name, () => {
      it('frames the same at every split of the whole stream', () => {
        const stream = concat(...c.messages);
        const want = c.messages.map(toHex);
        for (let cut = 0; cut <= stream.length; cut++) {
          const f = new Framer();
          f.maxLength = MAX_EXTENDED_LENGTH;
          expect([...f.push(stream.subarray(0, cut)), ...f.push(stream.subarray(cut))].map((x) => toHex(x.bytes)), `cut at ${cut}`).to.deep.equal(want);
        }
      });

      it('decodes without a problem, validates as accepted, and round-trips', () => {
        const ibgp = c.name.startsWith('bird16/');
        for (const bytes of c.messages) {
          const d = decodeMessage(bytes, c.context);
          if (d.type === 'update') {
            expect(d.attributeErrors.map((e) => e.message)).to.deep.equal([]);
            expect(validateUpdate(d, { ibgp }).action).to.equal('accept');
          }
          const m = valueOf(d);
          expect(valueOf(decodeMessage(encodeMessage(m, c.context), c.context)), toHex(bytes)).to.deep.equal(m);
        }
      });
    });
  }

  it('what each peer sent, as decoded', () => {
    const get = (name: string) => captures.find((c) => c.name === name)!;
    // BIRD 2 over IPv6: global and link-local next hops in a 32-byte MP_REACH_NLRI next hop.
    const bird6 = updates(get('bird2/ipv6-session.hex'));
    expect(bird6[0]!.attributes.mpReach!.nextHops).to.have.length(2);
    expect(bird6[0]!.attributes.mpReach!.nextHops[1]).to.match(/^fe80:/);
    expect(endOfRibFamily(bird6[1]!)).to.deep.equal({ afi: 2, safi: 1 });
    // BIRD 2 over IPv4 with ADD-PATH: path identifiers on every prefix, then the IPv4 End-of-RIB.
    const bird4 = updates(get('bird2/ipv4-session.hex'));
    expect(bird4[0]!.nlri.every((p) => p.pathId !== undefined)).to.equal(true);
    expect(bird4[0]!.attributes).to.deep.include({ med: 50, largeCommunities: [[65001, 1, 2]] });
    expect(endOfRibFamily(bird4[1]!)).to.deep.equal({ afi: 1, safi: 1 });
    // BIRD 1.6 in Calico's iBGP mesh: an empty AS_PATH, LOCAL_PREF and ADD-PATH identifiers.
    const mesh = updates(get('bird16/ipv4-session.hex'))[0]!;
    expect(mesh.attributes).to.deep.include({ asPath: [], localPref: 200 });
    expect(mesh.nlri.map((p) => p.prefix)).to.deep.equal(['10.79.0.0/24', '10.79.1.0/24']);
    // GoBGP puts MP_REACH_NLRI after the other attributes; FRR sends End-of-RIB first.
    expect(updates(get('gobgp/ipv6-session.hex'))[0]!.attributes.mpReach!.nlri).to.deep.equal([{ prefix: 'fd00:78::/64' }]);
    expect(endOfRibFamily(updates(get('frr/ipv6-session.hex'))[0]!)).to.deep.equal({ afi: 2, safi: 1 });
    expect(updates(get('frr/ipv4-session.hex'))[1]!.nlri[0]!.pathId).to.be.a('number');
  });
});

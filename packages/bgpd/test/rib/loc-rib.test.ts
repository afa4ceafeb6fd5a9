import { expect } from 'chai';
import { AttributeTable, LocRib, PrefixMap, PrefixSet, type PathAttributes, type PeerInfo } from '@tabby/bgpd';

const peerA: PeerInfo = { id: '10.0.0.1', address: '10.0.0.1', routerId: '10.0.0.1', ebgp: true, local: false };
const peerB: PeerInfo = { id: '10.0.0.2', address: '10.0.0.2', routerId: '10.0.0.2', ebgp: true, local: false };
const local: PeerInfo = { id: 'local', address: '0.0.0.0', routerId: '10.0.0.9', ebgp: false, local: true };

const attrs = (asns: number[], nextHop: string): PathAttributes => ({ origin: 0, asPath: [{ type: 2, asns }], nextHop });

/** Announces through the RIB the way the speaker does: acquire, upsert, release. */
function announce(rib: LocRib, prefix: string, source: PeerInfo, a: PathAttributes, pathId = 0): boolean {
  const p = rib.acquire(source, pathId, a);
  try {
    return rib.upsert(prefix, p);
  } finally {
    rib.release(p);
  }
}

describe('attribute interning', () => {
  it('stores each distinct attribute set once and frees it with its last reference', () => {
    const t = new AttributeTable();
    const a = t.intern(attrs([1], '10.0.0.1'));
    const b = t.intern(attrs([1], '10.0.0.1'));
    const c = t.intern(attrs([2], '10.0.0.1'));
    const d = t.intern(attrs([1], '10.0.0.1'), ['10.9.9.9']);
    expect(a).to.equal(b);
    expect(a).to.not.equal(c);
    expect(a, 'next hops are part of the identity').to.not.equal(d);
    expect(t.size).to.equal(3);
    t.release(a);
    expect(t.size).to.equal(3);
    t.release(b);
    expect(t.size).to.equal(2);
  });
});

describe('PrefixMap', () => {
  it('keys IPv4 by (length, address) with host bits cleared, IPv6 by text, and gives canonical text back', () => {
    const m = new PrefixMap<number>();
    m.set('10.1.2.0/24', 1).set('10.1.2.0/25', 2).set('0.0.0.0/0', 3).set('255.255.255.255/32', 4).set('fd00::/64', 5);
    expect(m.size).to.equal(5);
    expect(m.get('10.1.2.77/24'), 'host bits ignored').to.equal(1);
    expect(m.get('10.1.2.0/25')).to.equal(2);
    expect(m.get('10.1.2.0/23')).to.equal(undefined);
    m.set('10.1.2.9/24', 9);
    expect(m.size, 'same key replaced').to.equal(5);
    expect(new Map(m.entries())).to.deep.equal(new Map<string, number>([
      ['0.0.0.0/0', 3], ['10.1.2.0/24', 9], ['10.1.2.0/25', 2], ['255.255.255.255/32', 4], ['fd00::/64', 5],
    ]));
    expect(m.delete('10.1.2.0/24')).to.equal(true);
    expect(m.delete('10.1.2.0/24')).to.equal(false);
    expect(m.size).to.equal(4);
  });

  it('treats text that is not dotted-quad IPv4 as an opaque key', () => {
    const m = new PrefixMap<number>();
    for (const bad of ['10.1.2/24', '10.1.2.300/24', '10.1.2.3/33', '10.1.2.3', 'x']) m.set(bad, 1);
    expect(m.size).to.equal(5);
    expect([...m.keys()].sort()).to.deep.equal(['10.1.2.3', '10.1.2.3/33', '10.1.2.300/24', '10.1.2/24', 'x']);
  });

  it('a PrefixSet survives deletion during iteration', () => {
    const s = new PrefixSet();
    for (let i = 0; i < 1000; i++) s.add(`10.${i >> 8}.${i & 255}.0/24`);
    let seen = 0;
    for (const k of s) { s.delete(k); seen++; }
    expect(seen).to.equal(1000);
    expect(s.size).to.equal(0);
  });
});

describe('Loc-RIB', () => {
  it('selects the best path, reports only selection changes, and falls back on withdraw', () => {
    const rib = new LocRib();
    expect(announce(rib, '10.1.0.0/24', peerA, attrs([65001, 65002], '10.0.0.1'))).to.equal(true);
    expect(announce(rib, '10.1.0.0/24', peerB, attrs([65003], '10.0.0.2'))).to.equal(true);
    const s = rib.selected('10.1.0.0/24')!;
    expect(s.best!.source).to.equal(peerB);
    expect(s.reason).to.equal('as-path-length');
    expect(announce(rib, '10.1.0.0/24', peerA, attrs([65001, 65002, 65005], '10.0.0.1')), 'a worse replacement does not change the selection').to.equal(false);
    expect(rib.withdraw('10.1.0.0/24', peerB.id)).to.equal(true);
    expect(rib.best('10.1.0.0/24')!.source).to.equal(peerA);
    expect(rib.best('10.1.0.0/24')!.asPathLength).to.equal(3);
    expect(rib.withdraw('10.1.0.0/24', peerA.id)).to.equal(true);
    expect(rib.selected('10.1.0.0/24')).to.equal(undefined);
    expect(rib.prefixCount).to.equal(0);
    expect(rib.withdraw('10.1.0.0/24', peerA.id), 'withdrawing what is not there changes nothing').to.equal(false);
  });

  it('re-announcing identical attributes is not a change', () => {
    const rib = new LocRib();
    expect(announce(rib, '10.1.0.0/24', peerA, attrs([65001], '10.0.0.1'))).to.equal(true);
    expect(announce(rib, '10.1.0.0/24', peerA, attrs([65001], '10.0.0.1'))).to.equal(false);
  });

  it('shares one path object among all prefixes with the same source and attributes, and frees it with the last one', () => {
    const rib = new LocRib();
    const a = attrs([65001], '10.0.0.1');
    const p = rib.acquire(peerA, 0, a);
    for (let i = 0; i < 500; i++) rib.upsert(`10.7.${i >> 8}.${i & 255}/32`, p);
    rib.release(p);
    expect(rib.pathObjects).to.equal(1);
    expect(rib.attributes.size).to.equal(1);
    expect(rib.best('10.7.1.3/32')).to.equal(p);
    for (let i = 0; i < 500; i++) rib.withdraw(`10.7.${i >> 8}.${i & 255}/32`, peerA.id);
    expect(rib.pathObjects).to.equal(0);
    expect(rib.attributes.size).to.equal(0);
  });

  it('builds an ECMP set from equally good paths of different peers', () => {
    const rib = new LocRib();
    announce(rib, '10.2.0.0/24', peerA, attrs([65001], '10.0.0.1'));
    announce(rib, '10.2.0.0/24', peerB, attrs([65002], '10.0.0.2'));
    expect(rib.selected('10.2.0.0/24')!.multipath.map((p) => p.source.id)).to.deep.equal(['10.0.0.1', '10.0.0.2']);
    expect(rib.selected('10.2.0.0/24')!.multipath.flatMap((p) => p.nextHops)).to.deep.equal(['10.0.0.1', '10.0.0.2']);
    expect(rib.withdraw('10.2.0.0/24', peerA.id), 'losing an ECMP member changes the selection').to.equal(true);
    expect(rib.selected('10.2.0.0/24')!.multipath).to.have.length(1);
  });

  it('originated routes win and are never multipath partners', () => {
    const rib = new LocRib();
    announce(rib, '10.3.0.0/24', peerA, attrs([], '10.0.0.1'));
    expect(announce(rib, '10.3.0.0/24', local, { origin: 0, asPath: [] })).to.equal(true);
    const s = rib.selected('10.3.0.0/24')!;
    expect(s.best!.source).to.equal(local);
    expect(s.reason).to.equal('local-origin');
    expect(s.multipath).to.have.length(1);
  });

  it('dropping a peer removes all its paths and reports each changed prefix', () => {
    const rib = new LocRib();
    for (let i = 0; i < 100; i++) announce(rib, `10.4.${i}.0/24`, peerA, attrs([65001], '10.0.0.1'));
    announce(rib, '10.4.0.0/24', peerB, attrs([65001, 1], '10.0.0.2'));
    announce(rib, '10.4.200.0/24', peerB, attrs([65001, 1], '10.0.0.2'));
    expect(rib.countFrom(peerA.id)).to.equal(100);
    const changed: string[] = [];
    expect(rib.removeSource(peerA.id, (p) => changed.push(p))).to.equal(100);
    expect(changed).to.have.length(100);
    expect(changed).to.not.include('10.4.200.0/24');
    expect(rib.best('10.4.0.0/24')!.source).to.equal(peerB);
    expect(rib.prefixCount).to.equal(2);
    expect(rib.countFrom(peerA.id)).to.equal(0);
    expect(rib.countFrom(peerB.id)).to.equal(2);
  });

  it('keeps ADD-PATH paths from one peer apart by path id', () => {
    const rib = new LocRib();
    announce(rib, '10.5.0.0/24', peerA, attrs([65001], '10.0.0.1'), 1);
    announce(rib, '10.5.0.0/24', peerA, attrs([65001, 2], '10.0.0.3'), 2);
    expect([...rib.all()][0]!.paths).to.have.length(2);
    expect(rib.countFrom(peerA.id)).to.equal(2);
    expect(rib.withdraw('10.5.0.0/24', peerA.id, 2)).to.equal(false);
    expect(rib.best('10.5.0.0/24')!.pathId).to.equal(1);
    expect(rib.countFrom(peerA.id)).to.equal(1);
    announce(rib, '10.5.0.0/24', peerA, attrs([65001, 2], '10.0.0.3'), 2);
    const changed: string[] = [];
    rib.removeSource(peerA.id, (p) => changed.push(p));
    expect(changed).to.deep.equal(['10.5.0.0/24']);
    expect(rib.prefixCount).to.equal(0);
  });

  it('uses LOCAL_PREF only from iBGP sources', () => {
    const rib = new LocRib();
    const ibgp: PeerInfo = { ...peerB, id: 'ibgp', ebgp: false };
    const withLp = { ...attrs([65001], '10.0.0.1'), localPref: 500 };
    expect(rib.acquire(peerA, 0, withLp).localPref).to.equal(100);
    expect(rib.acquire(ibgp, 0, withLp).localPref).to.equal(500);
  });
});

import { expect } from 'chai';
import { AttributeTable, LocRib, candidateFields, type PathAttributes, type Path, type PeerInfo } from '@tabby/bgpd';

const table = new AttributeTable();
const peerA: PeerInfo = { id: '10.0.0.1', address: '10.0.0.1', routerId: '10.0.0.1', ebgp: true, local: false };
const peerB: PeerInfo = { id: '10.0.0.2', address: '10.0.0.2', routerId: '10.0.0.2', ebgp: true, local: false };
const local: PeerInfo = { id: 'local', address: '0.0.0.0', routerId: '10.0.0.9', ebgp: false, local: true };

function path(prefix: string, source: PeerInfo, a: PathAttributes, pathId = 0): Path {
  const attrs = table.intern(a);
  return { prefix, pathId, source, attrs, nextHops: a.nextHop ? [a.nextHop] : [], ...candidateFields(attrs, source) };
}
const attrs = (asns: number[], nextHop: string): PathAttributes => ({ origin: 0, asPath: [{ type: 2, asns }], nextHop });

describe('attribute interning', () => {
  it('stores each distinct attribute set once and frees it with its last reference', () => {
    const t = new AttributeTable();
    const a = t.intern(attrs([1], '10.0.0.1'));
    const b = t.intern(attrs([1], '10.0.0.1'));
    const c = t.intern(attrs([2], '10.0.0.1'));
    expect(a).to.equal(b);
    expect(a).to.not.equal(c);
    expect(t.size).to.equal(2);
    t.release(a);
    expect(t.size).to.equal(2);
    t.release(b);
    expect(t.size).to.equal(1);
  });
});

describe('Loc-RIB', () => {
  it('selects the best path, reports only selection changes, and falls back on withdraw', () => {
    const rib = new LocRib();
    const long = path('10.1.0.0/24', peerA, attrs([65001, 65002], '10.0.0.1'));
    const short = path('10.1.0.0/24', peerB, attrs([65003], '10.0.0.2'));
    expect(rib.upsert(long)!.best).to.equal(long);
    const c = rib.upsert(short)!;
    expect(c.best).to.equal(short);
    expect(c.reason).to.equal('as-path-length');
    expect(rib.upsert(path('10.1.0.0/24', peerA, attrs([65001, 65002, 65005], '10.0.0.1'))), 'a worse replacement does not change the selection').to.equal(undefined);
    expect(rib.withdraw(peerB.id, '10.1.0.0/24').change!.best!.source).to.equal(peerA);
    const gone = rib.withdraw(peerA.id, '10.1.0.0/24');
    expect(gone.change).to.deep.equal({ prefix: '10.1.0.0/24', best: undefined, multipath: [], reason: undefined });
    expect(rib.prefixCount).to.equal(0);
  });

  it('builds an ECMP set from equally good paths of different peers', () => {
    const rib = new LocRib();
    rib.upsert(path('10.2.0.0/24', peerA, attrs([65001], '10.0.0.1')));
    const c = rib.upsert(path('10.2.0.0/24', peerB, attrs([65002], '10.0.0.2')))!;
    expect(c.multipath.map((p) => p.source.id)).to.deep.equal(['10.0.0.1', '10.0.0.2']);
  });

  it('originated routes win and are never multipath partners', () => {
    const rib = new LocRib();
    rib.upsert(path('10.3.0.0/24', peerA, attrs([], '10.0.0.1')));
    const c = rib.upsert(path('10.3.0.0/24', local, { origin: 0, asPath: [] }))!;
    expect(c.best!.source).to.equal(local);
    expect(c.multipath).to.have.length(1);
  });

  it('dropping a peer removes all its paths and reports each changed prefix', () => {
    const rib = new LocRib();
    for (let i = 0; i < 100; i++) rib.upsert(path(`10.4.${i}.0/24`, peerA, attrs([65001], '10.0.0.1')));
    rib.upsert(path('10.4.0.0/24', peerB, attrs([65001, 1], '10.0.0.2')));
    expect(rib.countFrom(peerA.id)).to.equal(100);
    const { changes, removed } = rib.removeSource(peerA.id);
    expect(removed).to.have.length(100);
    expect(changes).to.have.length(100);
    expect(changes.find((c) => c.prefix === '10.4.0.0/24')!.best!.source).to.equal(peerB);
    expect(rib.prefixCount).to.equal(1);
    expect(rib.countFrom(peerA.id)).to.equal(0);
  });

  it('keeps ADD-PATH paths from one peer apart by path id', () => {
    const rib = new LocRib();
    rib.upsert(path('10.5.0.0/24', peerA, attrs([65001], '10.0.0.1'), 1));
    rib.upsert(path('10.5.0.0/24', peerA, attrs([65001, 2], '10.0.0.3'), 2));
    expect([...rib.all()][0]!.paths).to.have.length(2);
    expect(rib.withdraw(peerA.id, '10.5.0.0/24', 2).removed!.pathId).to.equal(2);
    expect(rib.countFrom(peerA.id)).to.equal(1);
  });

  it('uses LOCAL_PREF only from iBGP sources', () => {
    const ibgp: PeerInfo = { ...peerB, ebgp: false };
    const withLp = { ...attrs([65001], '10.0.0.1'), localPref: 500 };
    expect(path('10.6.0.0/24', peerA, withLp).localPref).to.equal(100);
    expect(path('10.6.0.0/24', ibgp, withLp).localPref).to.equal(500);
  });
});

import { expect } from 'chai';
import { compare, compareMed, compareRouterId, selectBest, type Candidate } from '@tabby/bgpd';

const path = (o: Partial<Candidate> = {}): Candidate => ({
  localPref: 100, asPathLength: 2, neighborAs: 65001, origin: 0, med: 0, ebgp: true, local: false,
  routerId: '10.0.0.1', clusterListLength: 0, peerAddress: '10.0.0.1', ...o,
});

describe('best-path decision', () => {
  const cases: [string, Partial<Candidate>, Partial<Candidate>, string][] = [
    ['originated beats learned', { local: true, localPref: 0 }, { localPref: 500 }, 'local-origin'],
    ['higher LOCAL_PREF', { localPref: 200 }, { localPref: 100, asPathLength: 0 }, 'local-pref'],
    ['shorter AS_PATH', { asPathLength: 1 }, { asPathLength: 3, origin: 0 }, 'as-path-length'],
    ['lower ORIGIN (IGP < EGP < INCOMPLETE)', { origin: 0 }, { origin: 2, med: 0 }, 'origin'],
    ['lower MED from the same neighbour AS', { med: 5 }, { med: 50 }, 'med'],
    ['eBGP over iBGP', { ebgp: true }, { ebgp: false, routerId: '1.1.1.1' }, 'ebgp-over-ibgp'],
    ['lower router id', { routerId: '10.0.0.9' }, { routerId: '10.0.0.10' }, 'router-id'],
    ['shorter CLUSTER_LIST', { clusterListLength: 0 }, { clusterListLength: 1 }, 'cluster-list-length'],
    ['lower peer address', { peerAddress: '10.0.0.2' }, { peerAddress: '10.0.0.3' }, 'peer-address'],
  ];
  for (const [name, a, b, reason] of cases) {
    it(name, () => {
      expect(compare(path(a), path(b))).to.deep.equal({ winner: 'a', reason });
      expect(compare(path(b), path(a))).to.deep.equal({ winner: 'b', reason });
    });
  }

  it('MED is not compared across different neighbouring ASes', () => {
    expect(compareMed(path({ med: 1, neighborAs: 1 }), path({ med: 99, neighborAs: 2 }))).to.equal(0);
  });

  it('router ids compare numerically, not as strings', () => {
    expect(compareRouterId(path({ routerId: '9.0.0.1' }), path({ routerId: '10.0.0.1' }))).to.be.lessThan(0);
  });

  it('selects the best, collects equal-cost multipath and names the reason', () => {
    const a = path({ routerId: '10.0.0.2', peerAddress: '10.0.0.2' });
    const b = path({ routerId: '10.0.0.3', peerAddress: '10.0.0.3' });
    const worse = path({ asPathLength: 5, routerId: '10.0.0.1', peerAddress: '10.0.0.1' });
    const sel = selectBest([worse, b, a])!;
    expect(sel.best).to.equal(a);
    expect(sel.multipath).to.deep.equal([a, b]);
    expect(sel.reason).to.equal('router-id');
    expect(selectBest([worse, a])!.reason).to.equal('as-path-length');
    expect(selectBest([])).to.equal(undefined);
  });
});

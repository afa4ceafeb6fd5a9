import { expect } from 'chai';
import { InboundRefresh, LocRib, type PeerInfo } from '@tabby/bgpd';

const peer: PeerInfo = { id: '10.0.0.1', address: '10.0.0.1', routerId: '10.0.0.1', ebgp: true, local: false };

function setup() {
  const rib = new LocRib();
  const changed: string[] = [];
  const ir = new InboundRefresh(rib, (p) => changed.push(p));
  const add = (prefix: string) => {
    const path = rib.acquire(peer, 0, { origin: 0, asPath: [{ type: 2, asns: [65001] }] }, [prefix.includes(':') ? 'fd00::1' : '10.0.0.1']);
    rib.upsert(prefix, path);
    rib.release(path);
  };
  for (const p of ['10.1.0.0/24', '10.2.0.0/24', 'fd00:1::/64']) add(p);
  return { rib, ir, add, changed };
}

const from = (rib: LocRib, prefix: string) => rib.best(prefix)?.source.id;

describe('bgpd enhanced route refresh, receiving side (RFC 7313)', () => {
  it('BoRR makes one family refresh-stale (still selected); resent routes replace them; EoRR removes the rest', () => {
    const { rib, ir, add } = setup();
    expect(ir.begin(peer.address, peer, '1/1')).to.equal(2);
    expect(ir.active(peer.address)).to.equal(true);
    expect(from(rib, '10.1.0.0/24')).to.equal('10.0.0.1#refresh');
    expect(from(rib, 'fd00:1::/64')).to.equal('10.0.0.1'); // the other family is untouched
    ir.replaced(peer.address, [{ prefix: '10.1.0.0/24' }]);
    add('10.1.0.0/24');
    expect(from(rib, '10.1.0.0/24')).to.equal('10.0.0.1');
    expect(ir.end(peer.address, '1/1')).to.equal(1);
    expect(rib.best('10.2.0.0/24')).to.equal(undefined);
    expect(from(rib, '10.1.0.0/24')).to.equal('10.0.0.1');
    expect(from(rib, 'fd00:1::/64')).to.equal('10.0.0.1');
    expect(ir.active(peer.address)).to.equal(false);
    ir.stop();
  });

  it('EoRR for a family without BoRR does nothing; restore gives refresh-stale routes back; drop removes them', () => {
    const { rib, ir } = setup();
    expect(ir.end(peer.address, '1/1')).to.equal(0);
    ir.begin(peer.address, peer, '1/1');
    expect(ir.restore(peer.address, peer)).to.equal(2);
    expect(from(rib, '10.2.0.0/24')).to.equal('10.0.0.1');
    ir.begin(peer.address, peer, '2/1');
    ir.drop(peer.address);
    expect(rib.best('fd00:1::/64')).to.equal(undefined);
    expect(from(rib, '10.1.0.0/24')).to.equal('10.0.0.1');
    ir.stop();
  });
});

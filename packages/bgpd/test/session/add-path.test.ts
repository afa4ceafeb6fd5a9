import { expect } from 'chai';
import { ConfigError, negotiate, ourCapabilities, parseConfig, type Capability, type OpenMessage } from '@tabby/bgpd';

const open = (caps: Capability[]): OpenMessage => ({ version: 4, myAs: 65001, holdTime: 90, bgpId: '10.0.0.1', capabilities: caps } as OpenMessage);
const peerCaps = (send: boolean, receive: boolean, afis = [1, 2]): Capability[] => [
  { type: 'multiprotocol', afi: 1, safi: 1 }, { type: 'multiprotocol', afi: 2, safi: 1 }, { type: 'four-octet-as', asn: 65001 },
  { type: 'add-path', families: afis.map((afi) => ({ afi, safi: 1, send, receive })) },
];
const expect_ = { peerAs: 65001, localId: '10.0.0.2' };

describe('bgpd ADD-PATH negotiation (RFC 7911)', () => {
  it('offers send and receive for each family we run, only when configured', () => {
    const caps = ourCapabilities(65002, { ipv4: true, ipv6: true }, undefined, { send: true, receive: true });
    expect(caps.find((c) => c.type === 'add-path')).to.deep.equal({ type: 'add-path', families: [
      { afi: 1, safi: 1, send: true, receive: true }, { afi: 2, safi: 1, send: true, receive: true }] });
    expect(ourCapabilities(65002, { ipv4: true, ipv6: true }).some((c) => c.type === 'add-path')).to.equal(false);
  });

  it('receive when we receive and they send; send when we send and they receive; per family', () => {
    const ours = ourCapabilities(65002, { ipv4: true, ipv6: true }, undefined, { send: true, receive: true });
    expect(negotiate(ours, open(peerCaps(true, true)), expect_).addPath).to.deep.equal({ receive: { 1: true, 2: true }, send: { 1: true, 2: true } });
    expect(negotiate(ours, open(peerCaps(true, false, [1])), expect_).addPath).to.deep.equal({ receive: { 1: true }, send: {} });
    expect(negotiate(ours, open(peerCaps(false, true, [2])), expect_).addPath).to.deep.equal({ receive: {}, send: { 2: true } });
    const receiveOnly = ourCapabilities(65002, { ipv4: true, ipv6: true }, undefined, { send: false, receive: true });
    expect(negotiate(receiveOnly, open(peerCaps(false, true)), expect_).addPath).to.equal(undefined);
    expect(negotiate(ourCapabilities(65002, { ipv4: true, ipv6: true }), open(peerCaps(true, true)), expect_).addPath).to.equal(undefined);
  });

  it('enhanced route refresh needs both sides and route refresh from the peer', () => {
    const ours = ourCapabilities(65002, { ipv4: true, ipv6: false });
    expect(ours.some((c) => c.type === 'enhanced-route-refresh')).to.equal(true);
    const both = negotiate(ours, open([...peerCaps(false, false), { type: 'route-refresh' }, { type: 'enhanced-route-refresh' }]), expect_);
    expect([both.routeRefresh, both.enhancedRouteRefresh]).to.deep.equal([true, true]);
    const plain = negotiate(ours, open([...peerCaps(false, false), { type: 'route-refresh' }]), expect_);
    expect([plain.routeRefresh, plain.enhancedRouteRefresh]).to.deep.equal([true, false]);
  });

  it('config: addPaths true | send | receive | {send, receive, maxPaths}', () => {
    const cfg = (addPaths: unknown) => parseConfig({ routerId: '10.0.0.2', asNumber: 65002, peers: [{ address: '10.0.0.1', asNumber: 65001, addPaths }] }).peers[0]!.addPaths;
    expect(cfg(true)).to.deep.equal({ send: true, receive: true, maxPaths: 8 });
    expect(cfg('receive')).to.deep.equal({ send: false, receive: true, maxPaths: 8 });
    expect(cfg({ send: true, receive: false, maxPaths: 2 })).to.deep.equal({ send: true, receive: false, maxPaths: 2 });
    expect(cfg(false)).to.equal(undefined);
    expect(() => cfg({ maxPaths: 0 })).to.throw(ConfigError, /peers\[0\]\.addPaths\.maxPaths/);
    expect(() => cfg('both')).to.throw(ConfigError, /must be true, false, send, receive/);
  });
});

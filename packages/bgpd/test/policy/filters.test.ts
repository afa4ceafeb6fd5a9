import { expect } from 'chai';
import {
  ConfigError, evaluateFilters, wellKnownStops, parseCommunity, parseConfig, ruleMatches, formatCommunity,
  type FilterRule, type FilterSpec, type RouteFacts,
} from '@tabby/bgpd';

const route = (prefix: string, extra: Partial<RouteFacts> = {}): RouteFacts => ({ prefix, remote: true, ibgp: false, ...extra });
const rule = (r: Partial<FilterRule>): FilterRule => ({ action: 'Reject', matchOperator: 'In', ...r });

describe('bgpd communities', () => {
  it('parses standard, large and well-known communities', () => {
    expect(parseCommunity('65000:100')).to.deep.equal({ kind: 'standard', value: (65000 << 16 | 100) >>> 0 });
    expect(parseCommunity('no-export')).to.deep.equal({ kind: 'standard', value: 0xffffff01 });
    expect(parseCommunity('NO-ADVERTISE')).to.deep.equal({ kind: 'standard', value: 0xffffff02 });
    expect(parseCommunity('4200000000:1:2')).to.deep.equal({ kind: 'large', value: [4200000000, 1, 2] });
    expect(formatCommunity(0xffffff01)).to.equal('no-export');
    expect(formatCommunity((65000 << 16 | 100) >>> 0)).to.equal('65000:100');
  });

  it('RFC 1997: NO_ADVERTISE stops a route to every peer, NO_EXPORT(_SUBCONFED) to eBGP peers only', () => {
    expect(wellKnownStops([0xffffff02], true)).to.equal(true);
    expect(wellKnownStops([0xffffff01], false)).to.equal(true);
    expect(wellKnownStops([0xffffff03], false)).to.equal(true);
    expect(wellKnownStops([0xffffff01], true)).to.equal(false);
    expect(wellKnownStops([(65000 << 16 | 100) >>> 0], false)).to.equal(false);
    expect(wellKnownStops(undefined, false)).to.equal(false);
  });

  it('names what is wrong with a bad community', () => {
    expect(parseCommunity('65536:1')).to.match(/0-65535/);
    expect(parseCommunity('1:2:4294967296')).to.match(/0-4294967295/);
    expect(parseCommunity('nonsense')).to.match(/AS:value/);
    expect(parseCommunity(5)).to.match(/must be a string/);
  });
});

describe('bgpd filter rules (BGPFilter semantics)', () => {
  it('In: inside the cidr, with the prefix length range defaulting to cidr length..32', () => {
    const r = rule({ cidr: '10.0.0.0/8' });
    expect(ruleMatches(r, route('10.0.0.0/8'))).to.equal(true);
    expect(ruleMatches(r, route('10.1.2.0/24'))).to.equal(true);
    expect(ruleMatches(r, route('11.0.0.0/8'))).to.equal(false);
    expect(ruleMatches(r, route('10.0.0.0/7'))).to.equal(false);
    expect(ruleMatches(r, route('fd00::/64'))).to.equal(false);
  });

  it('In with prefixLength {min, max}', () => {
    const r = rule({ cidr: '10.0.0.0/8', prefixLength: { min: 16, max: 24 } });
    expect(ruleMatches(r, route('10.1.0.0/16'))).to.equal(true);
    expect(ruleMatches(r, route('10.1.2.0/24'))).to.equal(true);
    expect(ruleMatches(r, route('10.1.2.0/25'))).to.equal(false);
    expect(ruleMatches(r, route('10.0.0.0/8'))).to.equal(false);
  });

  it('NotIn, Equal and NotEqual', () => {
    expect(ruleMatches(rule({ cidr: '10.0.0.0/8', matchOperator: 'NotIn' }), route('192.168.0.0/16'))).to.equal(true);
    expect(ruleMatches(rule({ cidr: '10.0.0.0/8', matchOperator: 'NotIn' }), route('10.9.0.0/16'))).to.equal(false);
    expect(ruleMatches(rule({ cidr: '10.9.0.0/16', matchOperator: 'Equal' }), route('10.9.0.0/16'))).to.equal(true);
    expect(ruleMatches(rule({ cidr: '10.9.0.0/16', matchOperator: 'Equal' }), route('10.9.0.0/17'))).to.equal(false);
    expect(ruleMatches(rule({ cidr: '10.9.0.0/16', matchOperator: 'NotEqual' }), route('10.9.0.0/17'))).to.equal(true);
    expect(ruleMatches(rule({ cidr: 'fd00::/16', matchOperator: 'In' }), route('fd00:1::/64'))).to.equal(true);
  });

  it('source RemotePeers, peerType, interface and communities', () => {
    expect(ruleMatches(rule({ source: 'RemotePeers' }), route('10.0.0.0/24', { remote: false }))).to.equal(false);
    expect(ruleMatches(rule({ source: 'RemotePeers' }), route('10.0.0.0/24'))).to.equal(true);
    expect(ruleMatches(rule({ peerType: 'iBGP' }), route('10.0.0.0/24', { ibgp: true }))).to.equal(true);
    expect(ruleMatches(rule({ peerType: 'iBGP' }), route('10.0.0.0/24'))).to.equal(false);
    expect(ruleMatches(rule({ interface: 'eth*' }), route('10.0.0.0/24'))).to.equal(false);
    const c = rule({ communities: ['65000:100', '65000:1:2'] });
    expect(ruleMatches(c, route('10.0.0.0/24', { communities: [(65000 << 16 | 100) >>> 0], largeCommunities: [[65000, 1, 2]] }))).to.equal(true);
    expect(ruleMatches(c, route('10.0.0.0/24', { communities: [(65000 << 16 | 100) >>> 0] }))).to.equal(false);
  });

  it('the first matching rule across the filters, in order, decides; no match is undefined', () => {
    const filters: Record<string, FilterSpec> = {
      a: { exportV4: [rule({ cidr: '10.1.0.0/16', action: 'Accept' })], importV4: [], exportV6: [], importV6: [rule({ action: 'Reject' })] },
      b: { exportV4: [rule({ cidr: '10.0.0.0/8', action: 'Reject' })], importV4: [rule({ cidr: '10.0.0.0/8', action: 'Reject' })], exportV6: [], importV6: [] },
    };
    expect(evaluateFilters(filters, ['a', 'b'], 'export', route('10.1.2.0/24'))).to.equal('Accept');
    expect(evaluateFilters(filters, ['b', 'a'], 'export', route('10.1.2.0/24'))).to.equal('Reject');
    expect(evaluateFilters(filters, ['a', 'b'], 'export', route('10.2.0.0/24'))).to.equal('Reject');
    expect(evaluateFilters(filters, ['a', 'b'], 'export', route('192.168.0.0/24'))).to.equal(undefined);
    expect(evaluateFilters(filters, ['a'], 'import', route('fd00::/64'))).to.equal('Reject');
    expect(evaluateFilters(filters, ['a'], 'import', route('10.0.0.0/24'))).to.equal(undefined);
  });
});

describe('bgpd config: filters and originate communities', () => {
  const base = { routerId: '10.0.0.2', asNumber: 65002, peers: [{ address: '10.0.0.1', asNumber: 65001 }] };
  const fails = (doc: unknown, field: string, reason: RegExp) => {
    expect(() => parseConfig(doc)).to.throw(ConfigError).that.satisfies((e: ConfigError) => {
      expect(e.field).to.equal(field);
      expect(e.message).to.match(reason);
      return true;
    });
  };

  it('parses filters, peer filter lists and originate communities', () => {
    const cfg = parseConfig({
      ...base,
      filters: { f: { exportV4: [{ action: 'Reject', cidr: '10.244.2.0/26', matchOperator: 'Equal' }], importV6: [{ action: 'Accept', cidr: 'fd00::/8', prefixLength: { max: 64 } }] } },
      peers: [{ address: '10.0.0.1', asNumber: 65001, filters: ['f'] }],
      originate: [{ prefix: '10.244.1.0/26', communities: ['65000:100', 'no-export', '65000:1:2'] }, { prefix: '10.244.2.0/26' }],
    });
    expect(cfg.peers[0]!.filters).to.deep.equal(['f']);
    expect(cfg.filters!['f']!.exportV4[0]).to.deep.equal({ action: 'Reject', cidr: '10.244.2.0/26', matchOperator: 'Equal' });
    expect(cfg.filters!['f']!.importV6[0]!.prefixLength).to.deep.equal({ max: 64 });
    expect(cfg.originate[0]!.communities).to.deep.equal(['65000:100', 'no-export', '65000:1:2']);
    expect(cfg.originate[1]).to.deep.equal({ prefix: '10.244.2.0/26', blackhole: false });
  });

  it('refuses bad filters and communities naming the field', () => {
    fails({ ...base, peers: [{ address: '10.0.0.1', asNumber: 65001, filters: ['nope'] }] }, 'peers[0].filters[0]', /no such filter/);
    fails({ ...base, filters: { f: { exportV4: [{ action: 'Drop' }] } } }, 'filters.f.exportV4[0].action', /Accept or Reject/);
    fails({ ...base, filters: { f: { exportV4: [{ action: 'Accept', cidr: 'fd00::/8' }] } } }, 'filters.f.exportV4[0].cidr', /IPv4 prefix/);
    fails({ ...base, filters: { f: { importV4: [{ action: 'Accept', cidr: '10.0.0.0/8', matchOperator: 'Like' }] } } }, 'filters.f.importV4[0].matchOperator', /Equal, NotEqual, In or NotIn/);
    fails({ ...base, filters: { f: { importV4: [{ action: 'Accept', cidr: '10.0.0.0/16', prefixLength: { min: 8 } }] } } }, 'filters.f.importV4[0].prefixLength.min', /at least/);
    fails({ ...base, filters: { f: { importV4: [{ action: 'Accept', communities: ['x:y'] }] } } }, 'filters.f.importV4[0].communities[0]', /AS:value/);
    fails({ ...base, filters: { f: { exportV5: [] } } }, 'filters.f.exportV5', /unknown field/);
    fails({ ...base, originate: [{ prefix: '10.244.1.0/26', communities: ['65000:70000'] }] }, 'originate[0].communities[0]', /0-65535/);
  });
});

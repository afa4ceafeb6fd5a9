// Config validation of the per-peer hardening and next-hop fields: password (TCP MD5),
// ttlSecurity (GTSM), maxPrefixes, sourceAddress, nextHop, allowLocalAs, localAsNumber.
import { expect } from 'chai';
import { ConfigError, parseConfig } from '@tabby/bgpd';

const withPeer = (extra: Record<string, unknown>, address = '10.0.0.1') => ({
  routerId: '10.0.0.2',
  asNumber: 65002,
  peers: [{ address, asNumber: 65001, ...extra }],
});

function fails(extra: Record<string, unknown>, field: string, reason: RegExp, address?: string): ConfigError {
  try {
    parseConfig(withPeer(extra, address), 'bgpd.yaml');
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    expect((e as ConfigError).field).to.equal(field);
    expect((e as Error).message).to.match(reason);
    return e as ConfigError;
  }
  expect.fail(`expected a ConfigError at ${field}`);
}

describe('bgpd config: authentication, GTSM, prefix limits, next hop', () => {
  it('defaults: no password, no GTSM, no limit, nextHop auto, allowLocalAs 0, localAsNumber = asNumber', () => {
    const p = parseConfig(withPeer({})).peers[0]!;
    expect(p).to.include({ nextHop: 'auto', allowLocalAs: 0, localAsNumber: 65002 });
    expect(p).not.to.have.any.keys('password', 'ttlSecurity', 'maxPrefixes', 'sourceAddress');
  });

  it('accepts every field in its documented forms', () => {
    const p = parseConfig(withPeer({
      password: 's3cret', ttlSecurity: 1, maxPrefixes: 100, sourceAddress: '10.0.0.2', nextHop: 'self', allowLocalAs: 2, localAsNumber: 64512,
    })).peers[0]!;
    expect(p).to.deep.include({ password: 's3cret', ttlSecurity: 1, maxPrefixes: { limit: 100, warnPercent: 90 }, sourceAddress: '10.0.0.2', nextHop: 'self', allowLocalAs: 2, localAsNumber: 64512 });
    const q = parseConfig(withPeer({ maxPrefixes: { limit: 5, warnPercent: 60 }, nextHop: 'keep', ttlSecurity: 254 })).peers[0]!;
    expect(q).to.deep.include({ maxPrefixes: { limit: 5, warnPercent: 60 }, nextHop: 'keep', ttlSecurity: 254 });
  });

  it('password: a non-empty string of at most 80 bytes, never echoed in the error', () => {
    fails({ password: '' }, 'peers[0].password', /non-empty string/);
    fails({ password: 42 }, 'peers[0].password', /non-empty string/);
    const long = 'é'.repeat(41); // 82 bytes in UTF-8
    const e = fails({ password: long }, 'peers[0].password', /at most 80 bytes.*it has 82/);
    expect(e.message).not.to.include(long);
    expect(parseConfig(withPeer({ password: 'x'.repeat(80) })).peers[0]!.password).to.have.length(80);
  });

  it('ttlSecurity: hops from 1 to 254', () => {
    fails({ ttlSecurity: 0 }, 'peers[0].ttlSecurity', /integer from 1 to 254/);
    fails({ ttlSecurity: 255 }, 'peers[0].ttlSecurity', /integer from 1 to 254/);
    fails({ ttlSecurity: true }, 'peers[0].ttlSecurity', /integer/);
  });

  it('maxPrefixes: a positive count or {limit, warnPercent}', () => {
    fails({ maxPrefixes: 0 }, 'peers[0].maxPrefixes', /integer from 1/);
    fails({ maxPrefixes: 'many' }, 'peers[0].maxPrefixes', /number of prefixes or a mapping/);
    fails({ maxPrefixes: { limit: 10, warnPercent: 101 } }, 'peers[0].maxPrefixes.warnPercent', /1 to 100/);
    fails({ maxPrefixes: { warnPercent: 50 } }, 'peers[0].maxPrefixes.limit', /integer/);
    fails({ maxPrefixes: { limit: 10, warn: 5 } }, 'peers[0].maxPrefixes.warn', /unknown field/);
  });

  it('nextHop: auto, self or keep', () => {
    fails({ nextHop: 'peer' }, 'peers[0].nextHop', /auto, self or keep/);
    fails({ nextHop: '10.0.0.9' }, 'peers[0].nextHop', /auto, self or keep/);
  });

  it('allowLocalAs: 0 to 255 occurrences; localAsNumber a valid AS', () => {
    fails({ allowLocalAs: -1 }, 'peers[0].allowLocalAs', /integer from 0 to 255/);
    fails({ allowLocalAs: 1.5 }, 'peers[0].allowLocalAs', /integer/);
    fails({ localAsNumber: 0 }, 'peers[0].localAsNumber', /integer from 1 to 4294967295/);
  });

  it('sourceAddress: an IP of the same family as the peer address', () => {
    fails({ sourceAddress: 'eth0' }, 'peers[0].sourceAddress', /IP address/);
    fails({ sourceAddress: 'fd00::2' }, 'peers[0].sourceAddress', /same address family as the peer address 10\.0\.0\.1/);
    fails({ sourceAddress: '10.0.0.2' }, 'peers[0].sourceAddress', /same address family/, 'fd00::1');
    expect(parseConfig(withPeer({ sourceAddress: 'fd00::2' }, 'fd00::1')).peers[0]!.sourceAddress).to.equal('fd00::2');
  });
});

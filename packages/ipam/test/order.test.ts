// Pure: FNV-1 hashing, the host's walking order over a pool, block finding, pool choice.
import { expect } from 'chai';
import { API_VERSION, type IPAMBlock, type IPPool } from '@tabby/api';
import {
  blockCount, blockLimit, blockOrder, blocksWithSpace, choosePools, findUsableInPool, fnv1_32, IpamError, newBlockSpec,
  poolOf, prng, randomBelow, startIndex, type Pool,
} from '@tabby/ipam';

const pool = (name: string, spec: IPPool['spec']): Pool => poolOf({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name }, spec })!;
const block = (cidr: string, affinity: string | null, used = 0): IPAMBlock => {
  const spec = newBlockSpec(cidr, affinity, 't', 1);
  for (let i = 0; i < used; i++) spec.allocations[spec.unallocated.shift()!] = 0;
  if (used) spec.attributes.push({ handle_id: 'h' });
  return { apiVersion: API_VERSION, kind: 'IPAMBlock', metadata: { name: cidr.replace(/[./:]/g, '-') }, spec };
};

describe('FNV-1 32 (Go hash/fnv New32)', () => {
  it('matches the published FNV-1 test vectors', () => {
    expect(fnv1_32('')).to.equal(0x811c9dc5);
    expect(fnv1_32('a')).to.equal(0x050c5d7e);
    expect(fnv1_32('foobar')).to.equal(0x31f0b262);
  });
});

describe('walking order', () => {
  const p = pool('p', { cidr: '10.0.0.0/24', blockSize: 28 });

  it('visits every block of the pool exactly once, in address order from a start, wrapping', () => {
    const order = [...blockOrder(p, 'node-a')];
    expect(order).to.have.length(16);
    expect(new Set(order).size).to.equal(16);
    const start = Number(startIndex(p, 'node-a'));
    expect(order[0]).to.equal(`10.0.0.${start * 16}/28`);
    for (let i = 1; i < 16; i++) {
      expect(order[i]).to.equal(`10.0.0.${((start + i) % 16) * 16}/28`);
    }
  });

  it('starts at the same place for one hostname and spreads different hostnames', () => {
    expect(startIndex(p, 'node-a')).to.equal(startIndex(p, 'node-a'));
    const starts = new Set(Array.from({ length: 40 }, (_, i) => startIndex(p, `node-${i}`)));
    expect(starts.size).to.be.greaterThan(8);
  });

  it('draws uniformly below huge bounds (IPv6 pools) and stays in range', () => {
    const n = 1n << 58n;
    const next = prng(7);
    for (let i = 0; i < 100; i++) {
      const v = randomBelow(n, next);
      expect(v >= 0n && v < n).to.equal(true);
    }
    expect(blockCount(pool('v6', { cidr: 'fd00::/64' }))).to.equal(n);
    expect(randomBelow(1n, next)).to.equal(0n);
  });

  it('single-address blocks take their start from the random source instead of the hostname', () => {
    const p32 = pool('p32', { cidr: '10.9.0.0/28', blockSize: 32 });
    const a = startIndex(p32, 'same', () => 1);
    const b = startIndex(p32, 'same', () => 2);
    expect(startIndex(p32, 'same', () => 1)).to.equal(a);
    expect(a === b && startIndex(p32, 'same', () => 3) === a).to.equal(false);
  });
});

describe('finding a block to claim', () => {
  const p = pool('p', { cidr: '10.0.0.0/24', blockSize: 28 });
  const order = [...blockOrder(p, 'h1')];

  it('picks the first subnet in walking order without a block (same answer as walking)', () => {
    expect(findUsableInPool(p, [], 'h1')).to.equal(order[0]);
    const taken = [block(order[0]!, 'host:other', 1), block(order[1]!, 'host:other', 16), block(order[3]!, null, 1)];
    expect(findUsableInPool(p, taken, 'h1')).to.equal(order[2]);
  });

  it('prefers one of our own blocks with room when it comes first', () => {
    expect(findUsableInPool(p, [block(order[0]!, 'host:h1', 3)], 'h1')).to.equal(order[0]);
    expect(findUsableInPool(p, [block(order[0]!, 'host:h1', 16)], 'h1')).to.equal(order[1]);
  });

  it('treats a block of another size as covering every subnet it touches', () => {
    const start = Number(startIndex(p, 'h1'));
    const first = start - (start % 2);
    const big = block(`10.0.0.${first * 16}/27`, 'host:other', 1);
    const got = findUsableInPool(p, [big], 'h1');
    expect(got).to.not.equal(`10.0.0.${first * 16}/28`);
    expect(got).to.not.equal(`10.0.0.${(first + 1) * 16}/28`);
  });

  it('reports nothing when every subnet has a block', () => {
    const all = order.map((c) => block(c, 'host:other', 16));
    expect(findUsableInPool(p, all, 'h1')).to.equal(undefined);
  });

  it('lists blocks with space for borrowing in walking order', () => {
    const bs = [block(order[5]!, 'host:x', 2), block(order[2]!, 'host:y', 16), block(order[1]!, null, 1)];
    expect(blocksWithSpace(p, bs, 'h1').map((b) => b.spec.cidr)).to.deep.equal([order[1], order[5]]);
  });
});

describe('pool choice', () => {
  const pools = [
    pool('a', { cidr: '10.1.0.0/16', nodeSelector: "rack == 'r1'" }),
    pool('b', { cidr: '10.2.0.0/16' }),
    pool('off', { cidr: '10.3.0.0/16', disabled: true }),
    pool('tun', { cidr: '10.4.0.0/16', allowedUses: ['Tunnel'] }),
    pool('v6', { cidr: 'fd00::/48' }),
  ];

  it('uses enabled pools of the family whose nodeSelector matches, filtered by use', () => {
    expect(choosePools(pools, 4, 'n', { rack: 'r1' }, undefined, 'Workload').usable.map((p) => p.name)).to.deep.equal(['a', 'b']);
    expect(choosePools(pools, 4, 'n', {}, undefined, 'Workload').usable.map((p) => p.name)).to.deep.equal(['b']);
    expect(choosePools(pools, 4, 'n', {}, undefined, 'Tunnel').usable.map((p) => p.name)).to.deep.equal(['b', 'tun']);
    expect(choosePools(pools, 6, 'n', {}, undefined, 'Workload').usable.map((p) => p.cidr)).to.deep.equal(['fd00::/48']);
  });

  it('uses requested pools by CIDR or name regardless of selectors', () => {
    expect(choosePools(pools, 4, 'n', {}, ['10.1.0.0/16'], 'Workload').usable.map((p) => p.name)).to.deep.equal(['a']);
    expect(choosePools(pools, 4, 'n', {}, ['a'], 'Workload').usable.map((p) => p.name)).to.deep.equal(['a']);
  });

  it('fails clearly for unknown or disabled requested pools and for nodes no pool selects', () => {
    expect(() => choosePools(pools, 4, 'n', {}, ['10.3.0.0/16'], 'Workload')).to.throw(IpamError, 'the given pool (10.3.0.0/16) does not exist, or is not enabled');
    expect(() => choosePools(pools, 4, 'n', {}, ['10.9.0.0/16'], 'Workload')).to.throw(IpamError, /10.9.0.0\/16/);
    expect(() => choosePools([pools[0]!], 4, 'n9', {}, undefined, 'Workload')).to.throw(IpamError, 'no configured Calico pools for node n9');
    expect(() => choosePools([pools[3]!], 4, 'n9', {}, undefined, 'Workload')).to.throw(IpamError, /no pools match the required use \(Workload\)/);
  });

  it('defaults block sizes (26 / 122) and the block limit (min of request and config, else 20)', () => {
    expect(pools[1]!.blockSize).to.equal(26);
    expect(pools[4]!.blockSize).to.equal(122);
    expect(blockLimit(undefined, 0)).to.equal(20);
    expect(blockLimit(3, 0)).to.equal(3);
    expect(blockLimit(0, 5)).to.equal(5);
    expect(blockLimit(7, 5)).to.equal(5);
    expect(blockLimit(2, 5)).to.equal(2);
  });
});

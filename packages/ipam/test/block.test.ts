// Pure block logic: ordinal math, assignment from `unallocated`, release, attributes.
import { expect } from 'chai';
import { parseCidr, validateIPAMBlock, Issues, type IPAMBlock, type IPAMBlockSpec } from '@tabby/api';
import {
  addressOf, assignFromBlock, assignOrdinal, attributeOf, blockCapacity, blockCidrFor, freeCount, inUseCount, isEmpty,
  IpamError, newBlockSpec, ordinalOf, ordinalsByHandle, parseAddress, parseBlockCidr, releaseOrdinals,
} from '@tabby/ipam';

function valid(spec: IPAMBlockSpec): string[] {
  const issues = new Issues();
  const name = spec.cidr.replace(/[.:/]/g, '-');
  validateIPAMBlock({ apiVersion: 'projectcalico.org/v3', kind: 'IPAMBlock', metadata: { name }, spec } as IPAMBlock, issues);
  return issues.list.map((i) => `${i.path}: ${i.reason}`);
}

describe('block math', () => {
  it('maps ordinals to addresses and back, IPv4 and IPv6', () => {
    const v4 = parseBlockCidr('10.244.1.64/26');
    expect(blockCapacity(v4)).to.equal(64);
    expect(addressOf(v4, 0)).to.equal('10.244.1.64');
    expect(addressOf(v4, 63)).to.equal('10.244.1.127');
    expect(ordinalOf(v4, parseAddress('10.244.1.100'))).to.equal(36);
    expect(() => ordinalOf(v4, parseAddress('10.244.1.128'))).to.throw(IpamError, /not in block 10.244.1.64\/26/);
    const v6 = parseBlockCidr('fd00:1::40/122');
    expect(blockCapacity(v6)).to.equal(64);
    expect(addressOf(v6, 5)).to.equal('fd00:1::45');
    expect(ordinalOf(v6, parseAddress('fd00:1::7f'))).to.equal(63);
  });

  it('finds the block of an address for a pool block size', () => {
    expect(blockCidrFor(parseAddress('10.244.7.200'), 26)).to.equal('10.244.7.192/26');
    expect(blockCidrFor(parseAddress('10.244.7.200'), 32)).to.equal('10.244.7.200/32');
    expect(blockCidrFor(parseAddress('fd00::1:2:3:4'), 122)).to.equal('fd00::1:2:3:0/122');
  });

  it('refuses text that is not an address, naming it', () => {
    expect(() => parseAddress('10.0.0.256')).to.throw(IpamError, '"10.0.0.256" is not an IP address');
    expect(parseAddress('10.0.0.5/26').value).to.equal(parseAddress('10.0.0.5').value);
  });
});

describe('block allocation', () => {
  const fresh = () => newBlockSpec('10.0.0.0/29', 'host:n1', '2024-01-01T00:00:00Z', 1000);

  it('starts with every ordinal free, in order, as Calico writes a new block', () => {
    const b = fresh();
    expect(b.allocations).to.deep.equal([null, null, null, null, null, null, null, null]);
    expect(b.unallocated).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(b).to.include({ cidr: '10.0.0.0/29', affinity: 'host:n1', affinityClaimTime: '2024-01-01T00:00:00Z', sequenceNumber: 1000 });
    expect(valid(b)).to.deep.equal([]);
  });

  it('assigns from the front of unallocated under one attribute entry', () => {
    const b = fresh();
    const got = assignFromBlock(b, 3, 'h1', { pod: 'p', namespace: 'ns', node: 'n1' }, 'n1', true);
    expect(got).to.deep.equal([0, 1, 2]);
    expect(b.allocations.slice(0, 4)).to.deep.equal([0, 0, 0, null]);
    expect(b.attributes).to.deep.equal([{ handle_id: 'h1', secondary: { pod: 'p', namespace: 'ns', node: 'n1' } }]);
    expect(b.unallocated).to.deep.equal([3, 4, 5, 6, 7]);
    expect(b.sequenceNumberForAllocation).to.deep.equal({ 0: 1000, 1: 1000, 2: 1000 });
    expect(b.sequenceNumber).to.equal(1001);
    expect(freeCount(b)).to.equal(5);
    expect(inUseCount(b)).to.equal(3);
    expect(valid(b)).to.deep.equal([]);
  });

  it('hands out no more than is free, and nothing from a full block', () => {
    const b = fresh();
    expect(assignFromBlock(b, 20, 'h1', {}, 'n1', true)).to.have.length(8);
    expect(assignFromBlock(b, 1, 'h2', {}, 'n1', true)).to.deep.equal([]);
  });

  it('with the affinity check, refuses a block affine to another host', () => {
    const b = fresh();
    expect(() => assignFromBlock(b, 1, 'h', {}, 'n2', true)).to.throw(IpamError, /affine to host:n1, not to host n2/);
    expect(assignFromBlock(b, 1, 'h', {}, 'n2', false)).to.deep.equal([0]);
  });

  it('release appends freed ordinals to the end of unallocated (reused last)', () => {
    const b = fresh();
    assignFromBlock(b, 4, 'h1', {}, 'n1', true);
    const r = releaseOrdinals(b, [1, 0, 6]);
    expect(r.released).to.deep.equal([1, 0]);
    expect(r.notAllocated).to.deep.equal([6]);
    expect([...r.handles]).to.deep.equal([['h1', 2]]);
    expect(b.unallocated).to.deep.equal([4, 5, 6, 7, 1, 0]);
    expect(assignFromBlock(b, 5, 'h2', {}, 'n1', true)).to.deep.equal([4, 5, 6, 7, 1]);
    expect(valid(b)).to.deep.equal([]);
  });

  it('release drops attribute entries nobody refers to and renumbers the rest', () => {
    const b = fresh();
    assignFromBlock(b, 2, 'a', { pod: 'a' }, 'n1', true);
    assignFromBlock(b, 2, 'b', { pod: 'b' }, 'n1', true);
    assignFromBlock(b, 1, 'c', { pod: 'c' }, 'n1', true);
    expect(b.allocations.slice(0, 5)).to.deep.equal([0, 0, 1, 1, 2]);
    releaseOrdinals(b, ordinalsByHandle(b, 'b'));
    expect(b.attributes.map((a) => a.handle_id)).to.deep.equal(['a', 'c']);
    expect(b.allocations.slice(0, 5)).to.deep.equal([0, 0, null, null, 1]);
    expect(attributeOf(b, 4)).to.deep.equal({ handle_id: 'c', secondary: { pod: 'c' } });
    expect(b.sequenceNumberForAllocation).to.not.have.keys('2', '3');
    expect(valid(b)).to.deep.equal([]);
  });

  it('reuses an identical attribute entry for the same handle', () => {
    const b = fresh();
    assignFromBlock(b, 1, 'a', { pod: 'x', node: 'n1' }, 'n1', true);
    assignFromBlock(b, 1, 'a', { node: 'n1', pod: 'x' }, 'n1', true);
    expect(b.attributes).to.have.length(1);
    assignFromBlock(b, 1, 'a', { pod: 'y' }, 'n1', true);
    expect(b.attributes).to.have.length(2);
  });

  it('assigns a given ordinal once', () => {
    const b = fresh();
    assignOrdinal(b, 5, 'h', {}, 'n1', true);
    expect(b.unallocated).to.deep.equal([0, 1, 2, 3, 4, 6, 7]);
    expect(() => assignOrdinal(b, 5, 'h2', {}, 'n1', false)).to.throw(IpamError, 'Address 10.0.0.5 is already assigned in block 10.0.0.0/29');
    expect(() => assignOrdinal(b, 6, 'h2', {}, 'n2', true)).to.throw(IpamError, /strict affinity/);
    expect(valid(b)).to.deep.equal([]);
  });

  it('knows when it is empty again', () => {
    const b = fresh();
    assignFromBlock(b, 2, 'h', {}, 'n1', true);
    expect(isEmpty(b)).to.equal(false);
    releaseOrdinals(b, [0, 1]);
    expect(isEmpty(b)).to.equal(true);
    expect(b.attributes).to.deep.equal([]);
  });

  it('a /32 block has one address and an IPv6 /122 block has 64', () => {
    expect(newBlockSpec('10.1.2.3/32', null, '', 0).allocations).to.have.length(1);
    expect(newBlockSpec('fd00::/122', null, '', 0).allocations).to.have.length(64);
    expect(parseCidr('fd00::/122')).to.not.equal(undefined);
  });
});

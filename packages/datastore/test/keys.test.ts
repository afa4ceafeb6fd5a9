// Calico's etcd key layout and value encoding, without etcd.
import { expect } from 'chai';
import {
  candidateKeys, decodeKV, encodeValue, InvalidArgumentError, keyMatchesKind, keyOfResource, listPrefixOf, splitAffinityName, stubOf,
} from '@tabby/datastore';
import type { AnyResource } from '@tabby/api';

const res = (kind: string, name: string, spec: object, extra: object = {}) =>
  ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...extra }, spec }) as unknown as AnyResource;
const one = (kind: Parameters<typeof candidateKeys>[0], name: string, ns?: string) => {
  const keys = candidateKeys(kind, name, ns);
  expect(keys, `${kind} ${name}`).to.have.length(1);
  return keys[0];
};

describe('etcd key layout (pure)', () => {
  describe('v3 resources', () => {
    it('live under /calico/resources/v3/projectcalico.org/<plural>/[<namespace>/]<name>', () => {
      expect(one('IPPool', 'pool1')).to.equal('/calico/resources/v3/projectcalico.org/ippools/pool1');
      expect(one('BGPConfiguration', 'default')).to.equal('/calico/resources/v3/projectcalico.org/bgpconfigurations/default');
      expect(one('Node', 'node-1')).to.equal('/calico/resources/v3/projectcalico.org/nodes/node-1');
      expect(one('WorkloadEndpoint', 'n1-k8s-pod-eth0', 'ns1')).to.equal('/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/n1-k8s-pod-eth0');
      expect(one('NetworkPolicy', 'p', 'prod')).to.equal('/calico/resources/v3/projectcalico.org/networkpolicies/prod/p');
      expect(keyOfResource(res('IPPool', 'p', {}))).to.equal('/calico/resources/v3/projectcalico.org/ippools/p');
    });

    it('list per namespace or across all of them', () => {
      expect(listPrefixOf('WorkloadEndpoint')).to.equal('/calico/resources/v3/projectcalico.org/workloadendpoints/');
      expect(listPrefixOf('WorkloadEndpoint', 'ns1')).to.equal('/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/');
      expect(listPrefixOf('IPPool', 'ignored')).to.equal('/calico/resources/v3/projectcalico.org/ippools/');
      expect(keyMatchesKind('WorkloadEndpoint', '/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/a')).to.equal(true);
      expect(keyMatchesKind('WorkloadEndpoint', '/calico/resources/v3/projectcalico.org/workloadendpoints/ns1')).to.equal(false);
      expect(keyMatchesKind('IPPool', '/calico/resources/v3/projectcalico.org/ippools/a/b')).to.equal(false);
    });

    it('refuses names that would escape their key and a missing namespace', () => {
      expect(() => candidateKeys('IPPool', 'a/b')).to.throw(InvalidArgumentError, /must not contain "\/"/);
      expect(() => candidateKeys('WorkloadEndpoint', 'x')).to.throw(InvalidArgumentError, /namespace is required/);
      expect(() => candidateKeys('IPPool', '')).to.throw(InvalidArgumentError, /name is required/);
    });

    it('are stored without resourceVersion, which comes back from the mod revision', () => {
      const r = res('IPPool', 'p', { cidr: '10.0.0.0/8' }, { resourceVersion: '9', uid: 'u' });
      const stored = JSON.parse(encodeValue(r));
      expect(stored).to.deep.equal({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p', uid: 'u' }, spec: { cidr: '10.0.0.0/8' } });
      const back = decodeKV('IPPool', '/calico/resources/v3/projectcalico.org/ippools/p', JSON.stringify(stored), '42');
      expect(back).to.deep.equal({ ...r, metadata: { name: 'p', uid: 'u', resourceVersion: '42' } });
    });

    it('take name and namespace from the key', () => {
      const v = JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: 'other' }, spec: {} });
      const r = decodeKV('WorkloadEndpoint', '/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/wep1', v, '7');
      expect(r.metadata).to.deep.equal({ name: 'wep1', namespace: 'ns1', resourceVersion: '7' });
    });

    it('name the key when a stored value is not decodable', () => {
      const k = '/calico/resources/v3/projectcalico.org/ippools/x';
      expect(() => decodeKV('IPPool', k, 'not json', '1')).to.throw(`cannot decode ${k}: value is not JSON`);
      expect(() => decodeKV('IPPool', k, '[1]', '1')).to.throw(`cannot decode ${k}: value is not a JSON object`);
      expect(() => decodeKV('IPPool', k, '{"kind":"Node","metadata":{"name":"x"}}', '1')).to.throw(/expected a IPPool object/);
    });

    it('stubs carry only the identity', () => {
      expect(stubOf('WorkloadEndpoint', '/calico/resources/v3/projectcalico.org/workloadendpoints/ns/w', '5')).to.deep.equal(
        { apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { namespace: 'ns', name: 'w', resourceVersion: '5' }, spec: {} });
      expect(stubOf('IPPool', '/calico/resources/v3/projectcalico.org/ippools/a/b', '5')).to.equal(undefined);
    });
  });

  describe('IPAM blocks', () => {
    it('are keyed by CIDR with "/" as "-" (libcalico-go BlockKey), named Kubernetes-style', () => {
      expect(one('IPAMBlock', '10-244-1-0-26')).to.equal('/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-26');
      expect(one('IPAMBlock', 'fd80-24e2-f998-72d6---122')).to.equal('/calico/ipam/v2/assignment/ipv6/block/fd80:24e2:f998:72d6::-122');
      expect(one('IPAMBlock', 'fd00---122')).to.equal('/calico/ipam/v2/assignment/ipv6/block/fd00::-122');
      expect(candidateKeys('IPAMBlock', 'not-a-block')).to.deep.equal([]);
      // Only the canonical name of a block denotes it.
      expect(candidateKeys('IPAMBlock', 'fd00-0-0-0-0-0-0-0-122')).to.deep.equal([]);
      expect(listPrefixOf('IPAMBlock')).to.equal('/calico/ipam/v2/assignment/');
    });

    it('store libcalico-go AllocationBlock JSON and read back as a resource', () => {
      const spec = {
        cidr: '10.244.1.0/30', affinity: 'host:n1', affinityClaimTime: '2024-01-02T03:04:05Z', strictAffinity: false,
        allocations: [0, null, null, 1], unallocated: [1, 2], attributes: [{ handle_id: 'h1', secondary: { node: 'n1' } }, { handle_id: 'h2' }],
        sequenceNumber: 3, sequenceNumberForAllocation: { 0: 1, 3: 2 }, deleted: false,
      };
      const r = res('IPAMBlock', '10-244-1-0-30', spec);
      const key = keyOfResource(r);
      expect(key).to.equal('/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-30');
      const value = encodeValue(r);
      expect(JSON.parse(value)).to.deep.equal({
        cidr: '10.244.1.0/30', affinity: 'host:n1', affinity_claim_time: '2024-01-02T03:04:05Z', strictAffinity: false,
        allocations: [0, null, null, 1], unallocated: [1, 2], attributes: [{ handle_id: 'h1', secondary: { node: 'n1' } }, { handle_id: 'h2' }],
        sequenceNumber: 3, sequenceNumberForAllocation: { 0: 1, 3: 2 }, deleted: false,
      });
      expect(decodeKV('IPAMBlock', key, value, '11')).to.deep.equal({ ...r, metadata: { name: '10-244-1-0-30', resourceVersion: '11' } });
    });

    it('read what libcalico-go writes: null slices, no claim time, legacy hostAffinity', () => {
      const v = '{"cidr":"10.0.0.0/31","affinity":null,"hostAffinity":"old","strictAffinity":false,"allocations":[0,1],"unallocated":null,"attributes":[{"handle_id":"h","secondary":null}],"sequenceNumber":0,"sequenceNumberForAllocation":null,"deleted":false}';
      expect(decodeKV('IPAMBlock', '/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-31', v, '2').spec).to.deep.equal({
        cidr: '10.0.0.0/31', affinity: 'host:old', strictAffinity: false, allocations: [0, 1], unallocated: [],
        attributes: [{ handle_id: 'h', secondary: null }], sequenceNumber: 0, sequenceNumberForAllocation: {}, deleted: false,
      });
    });

    it('refuse a name that does not match the CIDR', () => {
      expect(() => keyOfResource(res('IPAMBlock', '10-0-0-0-26', { cidr: '10.0.0.64/26' }))).to.throw(InvalidArgumentError, /must be 10-0-0-64-26/);
      expect(() => keyOfResource(res('IPAMBlock', 'x', { cidr: 'nope' }))).to.throw(InvalidArgumentError, /not a CIDR/);
    });
  });

  describe('block affinities', () => {
    it('are keyed /calico/ipam/v2/host/<node>/ipvN/block/<cidr> with {state, deleted}', () => {
      const r = res('BlockAffinity', 'node-1-10-244-1-0-26', { node: 'node-1', cidr: '10.244.1.0/26', state: 'confirmed' });
      expect(keyOfResource(r)).to.equal('/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26');
      expect(JSON.parse(encodeValue(r))).to.deep.equal({ state: 'confirmed', deleted: false });
      const back = decodeKV('BlockAffinity', '/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26', '{"state":"pending","deleted":false}', '5');
      expect(back).to.deep.equal({ apiVersion: 'projectcalico.org/v3', kind: 'BlockAffinity', metadata: { name: 'node-1-10-244-1-0-26', resourceVersion: '5' },
        spec: { state: 'pending', node: 'node-1', cidr: '10.244.1.0/26', type: 'host', deleted: false } });
      expect(listPrefixOf('BlockAffinity')).to.equal('/calico/ipam/v2/host/');
    });

    it('split IPv4 names uniquely and list every reading of an ambiguous IPv6 name', () => {
      expect(splitAffinityName('node-1-10-244-1-0-26')).to.deep.equal([{ node: 'node-1', cidr: '10.244.1.0/26' }]);
      expect(candidateKeys('BlockAffinity', 'node-1-10-244-1-0-26')).to.deep.equal(['/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26']);
      expect(splitAffinityName('n1-fd00---122')).to.deep.equal([{ node: 'n1', cidr: 'fd00::/122' }]);
      // "abc-fd00---122" is itself a block name (abc:fd00::/122), so "node-abc-fd00---122" reads two ways.
      expect(candidateKeys('BlockAffinity', 'node-abc-fd00---122')).to.deep.equal([
        '/calico/ipam/v2/host/node/ipv6/block/abc:fd00::-122',
        '/calico/ipam/v2/host/node-abc/ipv6/block/fd00::-122',
      ]);
      expect(candidateKeys('BlockAffinity', 'no-block-here')).to.deep.equal([]);
    });

    it('read the empty value of old Calico versions as confirmed', () => {
      expect(decodeKV('BlockAffinity', '/calico/ipam/v2/host/n/ipv6/block/fd00::-122', '', '3').spec).to.include({ state: 'confirmed', node: 'n', cidr: 'fd00::/122' });
    });

    it('refuse a name that does not match node and CIDR, and virtual affinities', () => {
      expect(() => keyOfResource(res('BlockAffinity', 'n1-10-0-0-0-26', { node: 'n2', cidr: '10.0.0.0/26', state: 'confirmed' }))).to.throw(/must be n2-10-0-0-0-26/);
      expect(() => keyOfResource(res('BlockAffinity', 'n1-10-0-0-0-26', { node: 'n1', cidr: '10.0.0.0/26', state: 'confirmed', type: 'virtual' }))).to.throw(/virtual/);
    });
  });

  describe('IPAM handles and config', () => {
    it('handles: /calico/ipam/v2/handle/<id> with {block, deleted}', () => {
      expect(one('IPAMHandle', 'k8s-pod-network.abc')).to.equal('/calico/ipam/v2/handle/k8s-pod-network.abc');
      const r = res('IPAMHandle', 'h1', { handleID: 'h1', block: { '10.0.0.0/26': 2 } });
      expect(JSON.parse(encodeValue(r))).to.deep.equal({ block: { '10.0.0.0/26': 2 }, deleted: false });
      expect(decodeKV('IPAMHandle', '/calico/ipam/v2/handle/h1', '{"block":{"10.0.0.0/26":2},"deleted":false}', '6').spec)
        .to.deep.equal({ handleID: 'h1', block: { '10.0.0.0/26': 2 }, deleted: false });
    });

    it('config: /calico/ipam/v2/config with snake_case fields; absent fields are false/0 (omitempty)', () => {
      expect(one('IPAMConfig', 'default')).to.equal('/calico/ipam/v2/config');
      expect(candidateKeys('IPAMConfig', 'other')).to.deep.equal([]);
      const r = res('IPAMConfig', 'default', { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 4 });
      expect(JSON.parse(encodeValue(r))).to.deep.equal({ strict_affinity: true, auto_allocate_blocks: true, maxBlocksPerHost: 4 });
      expect(decodeKV('IPAMConfig', '/calico/ipam/v2/config', '{"auto_allocate_blocks":true}', '3')).to.deep.equal({
        apiVersion: 'projectcalico.org/v3', kind: 'IPAMConfig', metadata: { name: 'default', resourceVersion: '3' },
        spec: { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 },
      });
      expect(decodeKV('IPAMConfig', '/calico/ipam/v2/config', '{}', '3').spec).to.deep.equal({ strictAffinity: false, autoAllocateBlocks: false, maxBlocksPerHost: 0 });
    });
  });
});

import { expect } from 'chai';
import { blockNameOf, cidrOfBlockName, decodeKV, encodeValue, keyOf, keyOfResource, listPrefixOf, splitAffinityName } from '@tabby/datastore';
import type { AnyResource } from '@tabby/api';

describe('etcd key layout (pure)', () => {
  it('puts cluster-scoped and namespaced v3 resources where Calico does', () => {
    expect(keyOf('IPPool', 'pool1')).to.equal('/calico/resources/v3/projectcalico.org/ippools/pool1');
    expect(keyOf('WorkloadEndpoint', 'n1-k8s-pod-eth0', 'ns1')).to.equal('/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/n1-k8s-pod-eth0');
    expect(keyOf('NetworkPolicy', 'p', 'prod')).to.equal('/calico/resources/v3/projectcalico.org/networkpolicies/prod/p');
    expect(keyOf('BGPConfiguration', 'default')).to.equal('/calico/resources/v3/projectcalico.org/bgpconfigurations/default');
    expect(listPrefixOf('WorkloadEndpoint')).to.equal('/calico/resources/v3/projectcalico.org/workloadendpoints/');
    expect(listPrefixOf('WorkloadEndpoint', 'ns1')).to.equal('/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/');
  });

  it('names IPAM blocks and affinities as Calico does, both families', () => {
    expect(blockNameOf('10.244.1.0/26')).to.equal('10-244-1-0-26');
    expect(blockNameOf('fd80:24e2:f998:72d6::/122')).to.equal('fd80-24e2-f998-72d6---122');
    expect(cidrOfBlockName('10-244-1-0-26')).to.equal('10.244.1.0/26');
    expect(cidrOfBlockName('fd80-24e2-f998-72d6---122')).to.equal('fd80:24e2:f998:72d6::/122');
    expect(cidrOfBlockName('not-a-block')).to.equal(undefined);
    expect(keyOf('IPAMBlock', '10-244-1-0-26')).to.equal('/calico/ipam/v2/assignment/ipv4/block/10-244-1-0-26');
    expect(keyOf('IPAMBlock', 'fd00---122')).to.equal('/calico/ipam/v2/assignment/ipv6/block/fd00---122');
    expect(keyOf('BlockAffinity', 'node-1-10-244-1-0-26')).to.equal('/calico/ipam/v2/host/node-1/ipv4/block/10-244-1-0-26');
    expect(splitAffinityName('node-1-10-244-1-0-26')).to.deep.equal({ node: 'node-1', cidr: '10.244.1.0/26' });
    expect(keyOf('IPAMHandle', 'k8s-pod-network.abc')).to.equal('/calico/ipam/v2/handle/k8s-pod-network.abc');
    expect(keyOf('IPAMConfig', 'default')).to.equal('/calico/ipam/v2/config');
  });

  it('IPv6 affinities are keyed from the spec', () => {
    const r = { apiVersion: 'projectcalico.org/v3', kind: 'BlockAffinity', metadata: { name: 'n1-fd00---122' }, spec: { node: 'n1', cidr: 'fd00::/122', state: 'confirmed' } } as const;
    expect(keyOfResource(r as unknown as AnyResource)).to.equal('/calico/ipam/v2/host/n1/ipv6/block/fd00---122');
  });

  it('refuses names that would escape their key', () => {
    expect(() => keyOf('IPPool', 'a/b')).to.throw(/contain no "\/"/);
    expect(() => keyOf('WorkloadEndpoint', 'x', '')).to.throw(/namespace/);
  });

  it('stores v3 objects without resourceVersion and reads it back from the mod revision', () => {
    const r = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p', resourceVersion: '9', uid: 'u' }, spec: { cidr: '10.0.0.0/8' } };
    const stored = JSON.parse(encodeValue(r as unknown as AnyResource));
    expect(stored.metadata).to.deep.equal({ name: 'p', uid: 'u' });
    const back = decodeKV('IPPool', '/calico/resources/v3/projectcalico.org/ippools/p', JSON.stringify(stored), '42');
    expect(back.metadata.resourceVersion).to.equal('42');
  });

  it('encodes IPAM objects as Calico model JSON and decodes them back', () => {
    const cfg = { apiVersion: 'projectcalico.org/v3', kind: 'IPAMConfig', metadata: { name: 'default' }, spec: { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 4 } };
    expect(JSON.parse(encodeValue(cfg as unknown as AnyResource))).to.deep.equal({ strict_affinity: true, auto_allocate_blocks: true, maxBlocksPerHost: 4 });
    expect(decodeKV('IPAMConfig', '/calico/ipam/v2/config', '{"strict_affinity":false,"auto_allocate_blocks":true}', '3').spec)
      .to.deep.equal({ strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 });
    const aff = decodeKV('BlockAffinity', '/calico/ipam/v2/host/n1/ipv4/block/10-0-0-0-26', '{"state":"confirmed","deleted":false}', '5');
    expect(aff.metadata.name).to.equal('n1-10-0-0-0-26');
    expect(aff.spec).to.include({ node: 'n1', cidr: '10.0.0.0/26', state: 'confirmed' });
    const h = decodeKV('IPAMHandle', '/calico/ipam/v2/handle/k8s-pod-network.c1', '{"block":{"10.0.0.0/26":1},"deleted":false}', '6');
    expect(h.spec).to.deep.equal({ handleID: 'k8s-pod-network.c1', block: { '10.0.0.0/26': 1 }, deleted: false });
  });

  it('names the key when a stored value is not decodable', () => {
    expect(() => decodeKV('IPPool', '/k', 'not json', '1')).to.throw(/cannot decode \/k: value is not JSON/);
    expect(() => decodeKV('IPPool', '/k', '{"kind":"Node","metadata":{"name":"x"}}', '1')).to.throw(/expected a IPPool object/);
  });
});

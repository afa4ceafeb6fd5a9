// Names derived from other names: WorkloadEndpoint names, veth names, IPAM block/affinity/handle names.
import { expect } from 'chai';
import {
  autoHostEndpointName, blockAffinityName, blockAffinityValue, blockNameFromCidr, cidrFromBlockName, cniHandleID,
  IpamNameError, namespaceProfileName, parseBlockAffinityValue, parseWorkloadEndpointName, serviceAccountProfileName,
  splitBlockAffinityName, splitWorkloadEndpointName, tunnelHandleID, workloadEndpointName, WorkloadEndpointNameError,
  workloadEndpointNameMatches, workloadEndpointNamePrefix, workloadEndpointV1Key, workloadInterfaceName,
} from '@tabby/api';

describe('workload endpoint names', () => {
  it("doubles dashes inside segments, as Calico's example shows", () => {
    expect(workloadEndpointName({ node: 'node-1', orchestrator: 'k8s', pod: 'my-pod', endpoint: 'eth0' })).to.equal('node--1-k8s-my--pod-eth0');
  });

  it('takes the third segment from pod (k8s), containerID (cni), the orchestrator (libnetwork) or workload (others)', () => {
    const ids = { node: 'n', pod: 'p', containerID: 'abc123', workload: 'w', endpoint: 'eth0' };
    expect(workloadEndpointName({ ...ids, orchestrator: 'k8s' })).to.equal('n-k8s-p-eth0');
    expect(workloadEndpointName({ ...ids, orchestrator: 'cni' })).to.equal('n-cni-abc123-eth0');
    expect(workloadEndpointName({ ...ids, orchestrator: 'libnetwork' })).to.equal('n-libnetwork-libnetwork-eth0');
    expect(workloadEndpointName({ ...ids, orchestrator: 'openstack' })).to.equal('n-openstack-w-eth0');
  });

  it('round-trips names with many dashes and dots', () => {
    for (const id of [
      { node: 'a', orchestrator: 'k8s', pod: 'b', endpoint: 'eth0' },
      { node: 'ip-10-0-0-1.ec2.internal', orchestrator: 'k8s', pod: 'x--y-z', endpoint: 'eth0' },
      { node: 'n', orchestrator: 'cni', containerID: '0123abcd', endpoint: 'eth1' },
      { node: 'n-1', orchestrator: 'my-orch', workload: 'w-1', endpoint: 'e-1' },
    ]) {
      expect(parseWorkloadEndpointName(workloadEndpointName(id))).to.deep.equal(id);
    }
  });

  it('splits on single dashes only; a leading dash never separates; in "---" the pair comes first', () => {
    expect(splitWorkloadEndpointName('node--1-k8s-my--pod-eth0')).to.deep.equal(['node-1', 'k8s', 'my-pod', 'eth0']);
    expect(splitWorkloadEndpointName('a---b')).to.deep.equal(['a-', 'b']);
    expect(splitWorkloadEndpointName('-a-b')).to.deep.equal(['-a', 'b']);
    expect(splitWorkloadEndpointName('abc')).to.deep.equal(['abc']);
  });

  it('parses partial names as far as they go, and refuses more than four segments', () => {
    expect(parseWorkloadEndpointName('node1-k8s')).to.deep.equal({ node: 'node1', orchestrator: 'k8s' });
    expect(parseWorkloadEndpointName('node1-libnetwork-libnetwork-ep')).to.deep.equal({ node: 'node1', orchestrator: 'libnetwork', endpoint: 'ep' });
    expect(() => parseWorkloadEndpointName('a-b-c-d-e')).to.throw(WorkloadEndpointNameError, /more segments/);
    expect(() => parseWorkloadEndpointName('')).to.throw(WorkloadEndpointNameError);
  });

  it('refuses missing identifiers and segments that begin or end with a dash, naming the field', () => {
    const err = (f: () => unknown) => { try { f(); } catch (e) { return e as WorkloadEndpointNameError; } throw new Error('no error'); };
    expect(err(() => workloadEndpointName({ node: '-n', orchestrator: 'k8s', pod: 'p', endpoint: 'eth0' }))).to.include({ field: 'node', reason: 'must not begin with "-"' });
    expect(err(() => workloadEndpointName({ node: 'n', orchestrator: 'k8s', pod: 'p-', endpoint: 'eth0' }))).to.include({ field: 'pod', reason: 'must not end with "-"' });
    expect(err(() => workloadEndpointName({ node: 'n', orchestrator: 'cni', pod: 'p', endpoint: 'eth0' }))).to.include({ field: 'containerID', reason: 'is required' });
    expect(err(() => workloadEndpointName({ orchestrator: 'k8s', pod: 'p', endpoint: 'eth0' }))).to.include({ field: 'node' });
  });

  it('builds list prefixes and filters what a prefix over-matches', () => {
    expect(workloadEndpointNamePrefix({ node: 'node1', orchestrator: 'k8s', pod: 'pod' })).to.equal('node1-k8s-pod-');
    expect(workloadEndpointNamePrefix({ node: 'node1' })).to.equal('node1-');
    const ids = { node: 'node1', orchestrator: 'k8s', pod: 'pod' };
    expect(workloadEndpointNameMatches(ids, 'node1-k8s-pod-eth0')).to.equal(true);
    expect(workloadEndpointNameMatches(ids, 'node1-k8s-pod--1-eth0')).to.equal(false);
    expect(workloadEndpointNameMatches({ ...ids, endpoint: 'eth1' }, 'node1-k8s-pod-eth0')).to.equal(false);
  });

  it('gives the v1 key Felix reports status under', () => {
    expect(workloadEndpointV1Key('default', 'node--1-k8s-my--pod-eth0')).to.deep.equal({ hostname: 'node-1', orchestratorID: 'k8s', workloadID: 'default/my-pod', endpointID: 'eth0' });
    expect(workloadEndpointV1Key('default', 'node1-k8s')).to.equal(undefined);
  });
});

describe('veth and profile names', () => {
  it('interface name is the prefix + 11 hex of SHA-1("<ns>.<pod>")', () => {
    // printf 'default.nginx' | sha1sum  ->  c440f455693b69cdd48a37aa5ecd78038f50413d
    expect(workloadInterfaceName('default', 'nginx')).to.equal('calic440f455693');
    // printf 'kube-system.coredns-5d78c9869d-abcde' | sha1sum  ->  4d5f75c480cc7f4ead7f9379346b00d119f4b71c
    expect(workloadInterfaceName('kube-system', 'coredns-5d78c9869d-abcde')).to.equal('cali4d5f75c480c');
    expect(workloadInterfaceName('default', 'nginx')).to.have.length(15);
  });

  it('uses the first entry of a comma-separated interface prefix list', () => {
    expect(workloadInterfaceName('default', 'nginx', 'tap,cali')).to.equal('tapc440f455693');
  });

  it('derives profile and auto host endpoint names', () => {
    expect(namespaceProfileName('dev')).to.equal('kns.dev');
    expect(serviceAccountProfileName('dev', 'builder')).to.equal('ksa.dev.builder');
    expect(serviceAccountProfileName('', 'builder')).to.equal('ksa.default.builder');
    expect(autoHostEndpointName('node-1')).to.equal('node-1-auto-hep');
  });
});

describe('IPAM names', () => {
  it('names blocks from their canonical CIDR', () => {
    expect(blockNameFromCidr('10.244.1.0/26')).to.equal('10-244-1-0-26');
    expect(blockNameFromCidr('fd00:1::/122')).to.equal('fd00-1---122');
    expect(blockNameFromCidr('FD00:0001:0:0::/122')).to.equal('fd00-1---122');
    expect(blockNameFromCidr('10.244.1.7/26')).to.equal('10-244-1-0-26');
    expect(() => blockNameFromCidr('10.244.1.0')).to.throw(IpamNameError, /not a CIDR/);
  });

  it('reads block names back, only in their canonical form', () => {
    expect(cidrFromBlockName('10-244-1-0-26')).to.equal('10.244.1.0/26');
    expect(cidrFromBlockName('fd00-1---122')).to.equal('fd00:1::/122');
    expect(cidrFromBlockName('---122')).to.equal('::/122');
    expect(cidrFromBlockName('10-244-1-7-26')).to.equal(undefined);
    expect(cidrFromBlockName('fd00-0-0-0-0-0-0-0-122')).to.equal(undefined);
    expect(cidrFromBlockName('nonsense')).to.equal(undefined);
  });

  it('names affinities <node>-<block>, hashing names that would reach 253 characters', () => {
    expect(blockAffinityName('node-1', '10.244.1.0/26')).to.equal('node-1-10-244-1-0-26');
    const long = 'a'.repeat(250);
    // python3: 'a'*228 + '-10-0-0-0-26-' + sha256(('a'*250 + '+10-0-0-0-26').encode()).hexdigest()[:11]
    const name = blockAffinityName(long, '10.0.0.0/26');
    expect(name).to.equal(`${'a'.repeat(228)}-10-0-0-0-26-8f7e6ea6753`);
    expect(name).to.have.length(252);
  });

  it('splits affinity names into every (node, block) they can stand for', () => {
    expect(splitBlockAffinityName('node-1-10-244-1-0-26')).to.deep.equal([{ node: 'node-1', cidr: '10.244.1.0/26' }]);
    expect(splitBlockAffinityName('n-a-b---122')).to.deep.equal([{ node: 'n', cidr: 'a:b::/122' }, { node: 'n-a', cidr: 'b::/122' }]);
  });

  it('reads and writes the block affinity field and handle IDs', () => {
    expect(blockAffinityValue('host', 'node-1')).to.equal('host:node-1');
    expect(parseBlockAffinityValue('virtual:lb.x')).to.deep.equal({ type: 'virtual', name: 'lb.x' });
    expect(parseBlockAffinityValue('node-1')).to.equal(undefined);
    expect(cniHandleID('k8s-pod-network', 'abc123')).to.equal('k8s-pod-network.abc123');
    expect(tunnelHandleID('ipip', 'node-1')).to.equal('ipip-tunnel-addr-node-1');
    expect(tunnelHandleID('vxlan-v6', 'node-1')).to.equal('vxlan-v6-tunnel-addr-node-1');
  });
});

import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { blockAffinityName, blockNameFromCidr, cidrFromBlockName, parseWorkloadEndpointName, workloadEndpointName, workloadInterfaceName } from '@tabby/api';

describe('workload endpoint names', () => {
  it("doubles dashes inside segments, as Calico's example shows", () => {
    expect(workloadEndpointName({ node: 'node-1', orchestrator: 'k8s', workload: 'my-pod', endpoint: 'eth0' })).to.equal('node--1-k8s-my--pod-eth0');
  });

  it('round-trips names with many dashes and dots', () => {
    for (const id of [
      { node: 'a', orchestrator: 'k8s', workload: 'b', endpoint: 'eth0' },
      { node: 'ip-10-0-0-1.ec2.internal', orchestrator: 'k8s', workload: 'x--y-z', endpoint: 'eth0' },
      { node: 'n', orchestrator: 'cni', workload: '0123abcd', endpoint: 'eth1' },
    ]) {
      expect(parseWorkloadEndpointName(workloadEndpointName(id))).to.deep.equal(id);
    }
  });

  it('refuses segments that start or end with a dash, and unparsable names', () => {
    expect(() => workloadEndpointName({ node: '-n', orchestrator: 'k8s', workload: 'p', endpoint: 'eth0' })).to.throw(/must not begin or end/);
    expect(parseWorkloadEndpointName('only-three-parts')).to.equal(undefined);
    expect(parseWorkloadEndpointName('a-b-c-d-e')).to.equal(undefined);
  });
});

describe('veth and IPAM names', () => {
  it('interface name is cali + 11 hex of SHA-1("<ns>.<pod>")', () => {
    // printf 'default.nginx' | sha1sum  ->  c440f455693b69cdd48a37aa5ecd78038f50413d
    expect(workloadInterfaceName('default', 'nginx')).to.equal('calic440f455693');
    expect(workloadInterfaceName('kube-system', 'coredns-1', 'tap')).to.equal('tap' + createHash('sha1').update('kube-system.coredns-1').digest('hex').slice(0, 11));
  });

  it('block names both ways', () => {
    expect(blockNameFromCidr('10.244.1.0/26')).to.equal('10-244-1-0-26');
    expect(cidrFromBlockName('10-244-1-0-26')).to.equal('10.244.1.0/26');
    expect(cidrFromBlockName(blockNameFromCidr('fd00:1:2::/122'))).to.equal('fd00:1:2::/122');
    expect(blockAffinityName('node-1', '10.244.1.0/26')).to.equal('node-1-10-244-1-0-26');
  });
});

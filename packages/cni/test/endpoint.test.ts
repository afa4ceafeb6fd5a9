// WorkloadEndpoint and namespace profile as Calico's plugin and controllers write them.
import { expect } from 'chai';
import { validateResource } from '@tabby/api';
import { buildNamespaceProfile, buildWorkloadEndpoint, checkWorkloadEndpoint, CniCode, endpointName, podCommands } from '@tabby/cni';
import { cniError } from './helpers.js';

const ids = { node: 'node-1', pod: { namespace: 'team-a', name: 'my-pod' }, endpoint: 'eth0', containerID: 'c0ffee' };

describe('workload endpoint', () => {
  it('has Calico\'s name, labels, profile and spec', () => {
    const wep = buildWorkloadEndpoint(ids, { hostVeth: 'cali0123456789a', mac: '02:00:00:00:00:01', ipNetworks: ['10.1.0.5/32', 'fd00::5/128'] });
    expect(wep).to.deep.equal({
      apiVersion: 'projectcalico.org/v3',
      kind: 'WorkloadEndpoint',
      metadata: {
        name: 'node--1-k8s-my--pod-eth0',
        namespace: 'team-a',
        labels: { 'projectcalico.org/namespace': 'team-a', 'projectcalico.org/orchestrator': 'k8s' },
      },
      spec: {
        orchestrator: 'k8s', node: 'node-1', pod: 'my-pod', endpoint: 'eth0', containerID: 'c0ffee',
        ipNetworks: ['10.1.0.5/32', 'fd00::5/128'], profiles: ['kns.team-a'], interfaceName: 'cali0123456789a', mac: '02:00:00:00:00:01',
      },
    });
    expect(validateResource(wep).issues).to.deep.equal([]);
    expect(() => checkWorkloadEndpoint(wep, CniCode.internal)).not.to.throw();
  });

  it('identifiers that cannot form a name are refused with the variable they came from', () => {
    const e = cniError(() => endpointName({ ...ids, pod: { namespace: 'a', name: 'pod-' } }));
    expect(e.code).to.equal(CniCode.invalidEnvironment);
    expect(e.message).to.contain('CNI_ARGS K8S_POD_NAME');
    const bad = buildWorkloadEndpoint({ ...ids, pod: { namespace: 'Team_A', name: 'p' } }, { hostVeth: 'cali0123456789a', mac: '', ipNetworks: [] });
    const v = cniError(() => checkWorkloadEndpoint(bad, CniCode.invalidEnvironment));
    expect(v.code).to.equal(4);
    expect(v.message).to.contain('metadata.namespace');
  });

  it('namespace profile allows everything and labels with the namespace', () => {
    const p = buildNamespaceProfile('team-a');
    expect(p).to.deep.equal({
      apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: 'kns.team-a' },
      spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply: { 'pcns.projectcalico.org/name': 'team-a' } },
    });
    expect(validateResource(p).issues).to.deep.equal([]);
  });
});

describe('pod-side commands', () => {
  it('addresses as /32 and /128, the link-local gateways, nothing for an absent family', () => {
    const plan = { hostVeth: 'caliX', ifName: 'eth0', netns: '/n', mtu: 1500, ipv4: ['10.1.0.5'], ipv6: ['fd00::5'] };
    expect(podCommands(plan).map((c) => c.join(' '))).to.deep.equal([
      'link set eth0 up',
      'addr add 10.1.0.5/32 dev eth0',
      'route add 169.254.1.1 dev eth0 scope link',
      'route add default via 169.254.1.1 dev eth0',
      'addr add fd00::5/128 dev eth0 nodad',
      'route add default via fe80::ecee:eeff:feee:eeee dev eth0',
    ]);
    expect(podCommands({ ...plan, ipv6: [] }).map((c) => c.join(' '))).to.have.length(4);
    expect(podCommands({ ...plan, ipv4: [] }).map((c) => c.join(' '))).to.deep.equal([
      'link set eth0 up', 'addr add fd00::5/128 dev eth0 nodad', 'route add default via fe80::ecee:eeff:feee:eeee dev eth0',
    ]);
  });
});

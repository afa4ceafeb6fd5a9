// Node, WorkloadEndpoint, BGP, IPPool, Felix/Cluster configuration and IPAM kinds.
import { expect } from 'chai';
import { expectIssue, expectValid, issuesOf } from './policy-support.js';

const res = (kind: string, name: string, spec: Record<string, unknown>, namespace?: string) =>
  ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec });

describe('IPPool', () => {
  it("Calico's documentation example validates and gets Calico's defaults", () => {
    const r = expectValid(res('IPPool', 'my.ippool-1', { cidr: '10.1.0.0/16', ipipMode: 'CrossSubnet', natOutgoing: true, disabled: false, nodeSelector: 'all()', allowedUses: ['Workload', 'Tunnel'] }));
    expect(r.spec).to.deep.include({ blockSize: 26, vxlanMode: 'Never', ipipMode: 'CrossSubnet' });
  });

  it('defaults a bare pool, IPv4 and IPv6', () => {
    expect(expectValid(res('IPPool', 'p4', { cidr: '10.0.0.0/8' })).spec).to.deep.equal({
      cidr: '10.0.0.0/8', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, nodeSelector: 'all()', allowedUses: ['Workload', 'Tunnel'],
    });
    expect(expectValid(res('IPPool', 'p6', { cidr: 'fd00::/48' })).spec).to.include({ blockSize: 122 });
  });

  it('folds the deprecated ipip and nat-outgoing fields into ipipMode and natOutgoing', () => {
    const r = expectValid(res('IPPool', 'old', { cidr: '10.2.0.0/16', ipip: { enabled: true, mode: 'cross-subnet' }, 'nat-outgoing': true }));
    expect(r.spec).to.include({ ipipMode: 'CrossSubnet', natOutgoing: true });
    expect(r.spec).to.not.have.property('ipip');
  });

  it('rejects host bits, bad block sizes, both encapsulations, IPIP on IPv6 and link-local ranges', () => {
    expectIssue(res('IPPool', 'p', { cidr: '10.0.0.1/16' }), 'spec.cidr', 'strictly masked', '10.0.0.1/16');
    expectIssue(res('IPPool', 'p', { cidr: '10.0.0.0/16', blockSize: 19 }), 'spec.blockSize', 'between 20 and 32', 19);
    expectIssue(res('IPPool', 'p', { cidr: '10.0.0.0/27', blockSize: 26 }), 'spec.blockSize', 'smaller than the pool');
    expectIssue(res('IPPool', 'p', { cidr: 'fd00::/64', blockSize: 64 }), 'spec.blockSize', 'between 116 and 128');
    expectIssue(res('IPPool', 'p', { cidr: '10.0.0.0/16', ipipMode: 'Always', vxlanMode: 'CrossSubnet' }), 'spec.vxlanMode', 'cannot be enabled together');
    expectIssue(res('IPPool', 'p', { cidr: 'fd00::/64', ipipMode: 'Always' }), 'spec.ipipMode', 'not supported on an IPv6 pool');
    expectIssue(res('IPPool', 'p', { cidr: '169.254.0.0/24' }), 'spec.cidr', 'link-local');
    expectIssue(res('IPPool', 'p', { cidr: '10.0.0.0/16', ipipMode: 'Sometimes' }), 'spec.ipipMode', 'one of Never, Always, CrossSubnet', 'Sometimes');
    expectIssue(res('IPPool', 'p', { cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer', 'Workload'] }), 'spec.allowedUses', 'LoadBalancer cannot be combined');
    expectIssue(res('IPPool', 'p', {}), 'spec.cidr', 'is required');
  });
});

describe('BGPConfiguration', () => {
  const docsExample = {
    logSeverityScreen: 'Info', nodeToNodeMeshEnabled: true, nodeMeshMaxRestartTime: '120s', asNumber: 63400,
    serviceClusterIPs: [{ cidr: '10.96.0.0/12' }], serviceExternalIPs: [{ cidr: '104.244.42.129/32' }, { cidr: '172.217.3.0/24' }],
    listenPort: 178, bindMode: 'NodeIP', communities: [{ name: 'bgp-large-community', value: '63400:300:100' }],
    prefixAdvertisements: [{ cidr: '172.218.4.0/26', communities: ['bgp-large-community', '63400:120'] }],
  };

  it("Calico's documentation example validates unchanged", () => {
    expectValid(res('BGPConfiguration', 'default', docsExample));
  });

  it('accepts asdot AS numbers and rejects out-of-range ones', () => {
    expectValid(res('BGPConfiguration', 'default', { asNumber: '1.10' }));
    expectIssue(res('BGPConfiguration', 'default', { asNumber: 4294967296 }), 'spec.asNumber', 'AS number');
    expectIssue(res('BGPConfiguration', 'default', { asNumber: '65536.1' }), 'spec.asNumber', 'asdot');
  });

  it('checks community formats and references', () => {
    expectIssue(res('BGPConfiguration', 'default', { communities: [{ name: 'c', value: '65536:1' }] }), 'spec.communities[0].value', 'aa:nn');
    expectIssue(res('BGPConfiguration', 'default', { prefixAdvertisements: [{ cidr: '10.0.0.0/24', communities: ['undefined-name'] }] }),
      'spec.prefixAdvertisements[0].communities[0]', 'must name a community defined');
    expectIssue(res('BGPConfiguration', 'default', { listenPort: 0 }), 'spec.listenPort', 'at least 1');
    expectIssue(res('BGPConfiguration', 'default', { logSeverityScreen: 'Loud' }), 'spec.logSeverityScreen', 'one of');
  });

  it('keeps cluster-wide settings on the default object', () => {
    expectValid(res('BGPConfiguration', 'node.node1', { logSeverityScreen: 'Debug', listenPort: 1790 }));
    expectIssue(res('BGPConfiguration', 'node.node1', { nodeToNodeMeshEnabled: false }), 'spec.nodeToNodeMeshEnabled', 'only be set on the "default"');
    expectIssue(res('BGPConfiguration', 'node.node1', { asNumber: 65000 }), 'spec.asNumber', 'only be set on the "default"');
  });
});

describe('BGPPeer', () => {
  it("Calico's documentation examples validate unchanged", () => {
    expectValid(res('BGPPeer', 'some.name', { node: 'rack1-host1', peerIP: '192.168.1.1', asNumber: 63400 }));
    expectValid(res('BGPPeer', 'peer-with-route-reflectors', { nodeSelector: 'all()', peerSelector: 'route-reflector == "true"' }));
    expectValid(res('BGPPeer', 'port', { peerIP: '192.168.1.1:1790', asNumber: 64512 }));
    expectValid(res('BGPPeer', 'v6port', { peerIP: '[fd00::1]:1790', asNumber: 64512, reachableBy: 'fd00::fe' }));
  });

  it('rejects the exclusive field combinations', () => {
    expectIssue(res('BGPPeer', 'p', { node: 'n1', nodeSelector: 'all()', peerIP: '10.0.0.1', asNumber: 1 }), 'spec.nodeSelector', 'together with spec.node');
    expectIssue(res('BGPPeer', 'p', { peerIP: '10.0.0.1', peerSelector: 'a == "b"', asNumber: 1 }), 'spec.peerSelector', 'together with spec.peerIP');
    expectIssue(res('BGPPeer', 'p', { peerSelector: 'rr == "true"', asNumber: 64512 }), 'spec.asNumber', 'must not be set with spec.peerSelector');
    expectIssue(res('BGPPeer', 'p', { node: 'n1' }), 'spec.peerIP', 'either spec.peerIP or spec.peerSelector');
    expectIssue(res('BGPPeer', 'p', { peerIP: '10.0.0.1' }), 'spec.asNumber', 'is required with spec.peerIP');
    expectIssue(res('BGPPeer', 'p', { peerIP: '10.0.0.1', asNumber: 1, keepOriginalNextHop: true, nextHopMode: 'Self' }), 'spec.nextHopMode', 'keepOriginalNextHop');
    expectIssue(res('BGPPeer', 'p', { peerIP: '10.0.0.1', asNumber: 1, reachableBy: 'fd00::1' }), 'spec.reachableBy', 'same IP version');
    expectIssue(res('BGPPeer', 'p', { peerIP: '10.0.0.1:99999', asNumber: 1 }), 'spec.peerIP', 'IPv4:port', '10.0.0.1:99999');
    expectIssue(res('BGPPeer', 'p', { peerIP: '10.0.0.1', asNumber: 1, nodeSelector: 'a ==' }), 'spec.nodeSelector', 'invalid selector');
  });
});

describe('Node', () => {
  it("Calico's documentation example validates unchanged", () => {
    expectValid(res('Node', 'node-hostname', { bgp: { asNumber: 64512, ipv4Address: '10.244.0.1/24', ipv6Address: '2001:db8:85a3::8a2e:370:7334/120', ipv4IPIPTunnelAddr: '192.168.0.1' } }));
  });

  it('rejects an empty bgp section and malformed addresses', () => {
    expectIssue(res('Node', 'n', { bgp: {} }), 'spec.bgp', 'an empty bgp section is not allowed');
    expectIssue(res('Node', 'n', { bgp: { ipv4Address: 'fd00::1/64' } }), 'spec.bgp.ipv4Address', 'IPv4 address');
    expectIssue(res('Node', 'n', { bgp: { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: 'cluster-1' } }), 'spec.bgp.routeReflectorClusterID', 'IPv4');
    expectIssue(res('Node', 'n', { vxlanTunnelMACAddr: 'zz:zz' }), 'spec.vxlanTunnelMACAddr', 'MAC address');
    expectIssue(res('Node', 'Upper', {}), 'metadata.name', 'DNS-1123');
  });
});

describe('WorkloadEndpoint', () => {
  const wep = (spec: Record<string, unknown>, name = 'node1-k8s-my--pod-eth0') => res('WorkloadEndpoint', name, spec, 'default');
  const base = { orchestrator: 'k8s', node: 'node1', pod: 'my-pod', endpoint: 'eth0', interfaceName: 'cali1234567890a', ipNetworks: ['10.1.0.5/32'], mac: 'ee:ee:ee:ee:ee:ee', profiles: ['kns.default'] };

  it('validates a CNI-written endpoint', () => {
    expectValid(wep(base));
  });

  it('requires interfaceName, single-address networks and a name matching the spec', () => {
    const { interfaceName: _i, ...noIface } = base;
    expectIssue(wep(noIface), 'spec.interfaceName', 'is required');
    expectIssue(wep({ ...base, interfaceName: 'this-name-is-too-long' }), 'spec.interfaceName', '1-15 characters');
    expectIssue(wep({ ...base, ipNetworks: ['10.1.0.0/24'] }), 'spec.ipNetworks[0]', 'single address');
    expectIssue(wep(base, 'node1-k8s-other-eth0'), 'metadata.name', 'expected "node1-k8s-my--pod-eth0"');
    expectIssue(wep({ ...base, ports: [{ name: 'http', protocol: 'TCP', port: 0 }] }), 'spec.ports[0].port', 'at least 1');
  });
});

describe('FelixConfiguration and ClusterInformation', () => {
  it('accepts common felix settings and rejects unknown ones with a suggestion', () => {
    expectValid(res('FelixConfiguration', 'default', { logSeverityScreen: 'Info', iptablesRefreshInterval: '90s', vxlanVNI: 4096, routeTableRange: { min: 1, max: 250 } }));
    expectIssue(res('FelixConfiguration', 'default', { iptablesRefreshInterval: 90 }), 'spec.iptablesRefreshInterval', 'must be a string');
    expectIssue(res('FelixConfiguration', 'default', { logSeverityScren: 'Info' }), 'spec.logSeverityScren', 'did you mean "logSeverityScreen"');
    expectIssue(res('FelixConfiguration', 'other', {}), 'metadata.name', '"default" or "node.<nodename>"');
  });

  it('ClusterInformation must be named default', () => {
    expectValid(res('ClusterInformation', 'default', { clusterGUID: 'abc', datastoreReady: true }));
    expectIssue(res('ClusterInformation', 'x', {}), 'metadata.name', 'must be "default"');
  });
});

describe('IPAM kinds', () => {
  it('validates a consistent block and rejects inconsistent ones', () => {
    const block = { cidr: '10.0.0.0/30', affinity: 'host:n1', allocations: [0, null, null, null], unallocated: [1, 2, 3], attributes: [{ handle_id: 'h', secondary: { node: 'n1' } }] };
    expectValid(res('IPAMBlock', '10-0-0-0-30', block));
    expectIssue(res('IPAMBlock', '10-0-0-4-30', block), 'metadata.name', 'must be 10-0-0-0-30');
    expectIssue(res('IPAMBlock', '10-0-0-0-30', { ...block, allocations: [0, null] }), 'spec.allocations', 'one entry per address');
    expectIssue(res('IPAMBlock', '10-0-0-0-30', { ...block, unallocated: [0] }), 'spec.unallocated[0]', 'listed as free but is allocated');
    expectIssue(res('IPAMBlock', '10-0-0-0-30', { ...block, affinity: 'n1' }), 'spec.affinity', 'host:<node>');
  });

  it('checks affinity and handle naming, and defaults IPAMConfig', () => {
    expectValid(res('BlockAffinity', 'n1-10-0-0-0-26', { node: 'n1', cidr: '10.0.0.0/26', state: 'confirmed' }));
    expectIssue(res('BlockAffinity', 'n2-10-0-0-0-26', { node: 'n1', cidr: '10.0.0.0/26', state: 'confirmed' }), 'metadata.name', 'must be n1-10-0-0-0-26');
    expectIssue(res('BlockAffinity', 'n1-10-0-0-0-26', { node: 'n1', cidr: '10.0.0.0/26', state: 'claimed' }), 'spec.state', 'one of pending, confirmed, pendingDeletion');
    expectValid(res('IPAMHandle', 'k8s-pod-network.abc123', { handleID: 'k8s-pod-network.abc123', block: { '10.0.0.0/26': 1 } }));
    expectIssue(res('IPAMHandle', 'k8s-pod-network.abc123', { handleID: 'other', block: {} }), 'spec.handleID', 'must equal metadata.name');
    expect(expectValid(res('IPAMConfig', 'default', {})).spec).to.deep.equal({ strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 });
    expect(issuesOf({ apiVersion: 'projectcalico.org/v3', kind: 'IPAMConfiguration', metadata: { name: 'default' }, spec: { strictAffinity: true } })).to.deep.equal([]);
  });
});

describe('resource envelope', () => {
  it('names unknown kinds, wrong apiVersion and a namespace on a cluster-scoped kind', () => {
    expectIssue({ apiVersion: 'projectcalico.org/v3', kind: 'IPPol', metadata: { name: 'x' } }, 'kind', 'did you mean "IPPool"');
    expectIssue({ apiVersion: 'projectcalico.org/v2', kind: 'IPPool', metadata: { name: 'x' }, spec: { cidr: '10.0.0.0/8' } }, 'apiVersion', 'must be projectcalico.org/v3');
    expectIssue({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'x', namespace: 'ns' }, spec: { cidr: '10.0.0.0/8' } }, 'metadata.namespace', 'not namespaced');
    expectIssue({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'x', labels: { 'bad key!': 'v' } }, spec: { cidr: '10.0.0.0/8' } }, 'metadata.labels.bad key!', 'invalid label key');
  });
});

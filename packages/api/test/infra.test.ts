// Calico's documented examples for the infrastructure kinds validate unchanged; the envelope rules.
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { expectIssue, expectValid } from './policy-support.js';

/** Every document of a YAML text, as plain data. */
function docs(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text).map((d) => {
    if (d.errors.length) throw new Error(d.errors.map((e) => e.message).join('; '));
    return d.toJS() as Record<string, unknown>;
  });
}

// Sample YAML from docs.tigera.io/calico/latest/reference/resources/{bgpconfig,bgppeer,ippool,node}.
const BGP_CONFIGURATION = `
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: Info
  nodeToNodeMeshEnabled: true
  nodeMeshMaxRestartTime: 120s
  asNumber: 63400
  serviceClusterIPs:
    - cidr: 10.96.0.0/12
  serviceExternalIPs:
    - cidr: 104.244.42.129/32
    - cidr: 172.217.3.0/24
  listenPort: 178
  bindMode: NodeIP
  communities:
    - name: bgp-large-community
      value: 63400:300:100
  prefixAdvertisements:
    - cidr: 172.218.4.0/26
      communities:
        - bgp-large-community
        - 63400:120
`;

const BGP_PEER = `
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: some.name
spec:
  node: rack1-host1
  peerIP: 192.168.1.1
  asNumber: 63400
`;

// From "Configure BGP peering": a global peer, a per-rack peer and route-reflector peerings.
const BGP_PEERING_GUIDE = `
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: my-global-peer
spec:
  peerIP: 192.20.30.40
  asNumber: 64567
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: rack1-tor
spec:
  peerIP: 192.20.30.40
  asNumber: 64567
  nodeSelector: rack == 'rack-1'
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: peer-with-route-reflectors
spec:
  nodeSelector: all()
  peerSelector: route-reflector == 'true'
`;

const IP_POOL_V3_21 = `
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: my.ippool-1
spec:
  cidr: 10.1.0.0/16
  ipipMode: CrossSubnet
  natOutgoing: true
  disabled: false
  nodeSelector: all()
  allowedUses:
  - Workload
  - Tunnel
`;

const IP_POOL = `
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: my.ippool-1
spec:
  cidr: 10.1.0.0/16
  ipipMode: CrossSubnet
  natOutgoing: true
  disabled: false
  nodeSelector: all()
  allowedUses:
    - Workload
    - Tunnel
  assignmentMode: Automatic
`;

const NODE = `
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-hostname
spec:
  bgp:
    asNumber: 64512
    ipv4Address: 10.244.0.1/24
    ipv6Address: 2001:db8:85a3::8a2e:370:7334/120
    ipv4IPIPTunnelAddr: 192.168.0.1
`;

describe("Calico's documented examples", () => {
  for (const [name, text] of Object.entries({ BGP_CONFIGURATION, BGP_PEER, BGP_PEERING_GUIDE, IP_POOL_V3_21, IP_POOL, NODE })) {
    it(`${name} validates unchanged`, () => {
      for (const doc of docs(text)) expectValid(doc);
    });
  }

  it('keeps the documented values and only adds defaults', () => {
    const [pool] = docs(IP_POOL);
    const r = expectValid(pool);
    expect(r.spec).to.deep.equal({
      cidr: '10.1.0.0/16', ipipMode: 'CrossSubnet', natOutgoing: true, disabled: false, nodeSelector: 'all()',
      allowedUses: ['Workload', 'Tunnel'], assignmentMode: 'Automatic', blockSize: 26, vxlanMode: 'Never',
    });
    const node = expectValid(docs(NODE)[0]);
    expect(node.spec).to.deep.equal(docs(NODE)[0]!['spec']);
  });
});

describe('resource envelope', () => {
  const pool = (metadata: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata, spec: { cidr: '10.0.0.0/8' }, ...extra });

  it('names unknown kinds, a wrong apiVersion and a namespace on a cluster-scoped kind', () => {
    expectIssue({ apiVersion: 'projectcalico.org/v3', kind: 'IPPol', metadata: { name: 'x' } }, 'kind', 'did you mean "IPPool"');
    expectIssue(pool({ name: 'x' }, { apiVersion: 'projectcalico.org/v2' }), 'apiVersion', 'must be projectcalico.org/v3');
    expectIssue(pool({ name: 'x', namespace: 'ns' }), 'metadata.namespace', 'not namespaced');
    expectIssue(pool({ name: 'x', labels: { 'bad key!': 'v' } }), 'metadata.labels.bad key!', 'invalid label key');
  });

  it('requires DNS-1123 names for the infrastructure kinds', () => {
    expectIssue(pool({ name: 'My_Pool' }), 'metadata.name', 'DNS-1123', 'My_Pool');
    expectIssue({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'Upper' }, spec: {} }, 'metadata.name', 'DNS-1123');
    expectIssue({ apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'peer_1' }, spec: {} }, 'metadata.name', 'DNS-1123');
  });

  it('suggests the field meant by a misspelling', () => {
    expectIssue({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/8', ipipmode: 'Always' } },
      'spec.ipipmode', 'did you mean "ipipMode"');
  });
});

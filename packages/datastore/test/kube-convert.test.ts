// The Kubernetes backend's pure conversions: pods -> WorkloadEndpoints, namespaces and service
// accounts -> profiles, Kubernetes NetworkPolicy -> Calico policy, Nodes <-> Calico annotations.
import { expect } from 'chai';
import { kubeConvert as kc } from '@tabby/datastore';
import { formatIssue, validateResource, workloadInterfaceName, type AnyResource } from '@tabby/api';

const pod = (over: Record<string, unknown> = {}, ann: Record<string, string> = {}, spec: Record<string, unknown> = {}) => ({
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u1', resourceVersion: '42', creationTimestamp: '2026-01-01T00:00:00Z', labels: { app: 'web' }, annotations: ann, ...over },
  spec: { nodeName: 'node-1', serviceAccountName: 'frontend', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9090 }, { containerPort: 53, protocol: 'UDP', hostPort: 5353 }] }], ...spec },
  status: { phase: 'Running' },
});

describe('kubernetes conversion: pods -> workload endpoints', () => {
  it('derives name, labels, profiles, IPs, interface, container ID and ports as Calico does', () => {
    const w = kc.workloadEndpointFromPod(pod({}, {
      'cni.projectcalico.org/podIP': '10.244.1.5/32', 'cni.projectcalico.org/podIPs': '10.244.1.5/32,fd00::5/128',
      'cni.projectcalico.org/containerID': 'abc123', 'cni.tabby.io/mac': '66:aa:bb:cc:dd:ee',
    }))!;
    expect(w.metadata).to.deep.equal({
      name: 'node--1-k8s-web--1-eth0', namespace: 'shop', uid: 'u1', resourceVersion: '42', creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { app: 'web', 'projectcalico.org/namespace': 'shop', 'projectcalico.org/orchestrator': 'k8s', 'projectcalico.org/serviceaccount': 'frontend' },
    });
    expect(w.spec).to.deep.equal({
      orchestrator: 'k8s', node: 'node-1', pod: 'web-1', endpoint: 'eth0', serviceAccountName: 'frontend',
      ipNetworks: ['10.244.1.5/32', 'fd00::5/128'], profiles: ['kns.shop', 'ksa.shop.frontend'],
      interfaceName: workloadInterfaceName('shop', 'web-1'), containerID: 'abc123', mac: '66:aa:bb:cc:dd:ee',
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }, { protocol: 'UDP', port: 53, hostPort: 5353 }],
    });
    expect(w.spec.interfaceName).to.match(/^cali[0-9a-f]{11}$/);
  });

  it('takes the IP from podIP alone, else from the status; no address, host network or a finished pod: no endpoint', () => {
    expect(kc.workloadEndpointFromPod(pod({}, { 'cni.projectcalico.org/podIP': '10.0.0.7' }))!.spec.ipNetworks).to.deep.equal(['10.0.0.7/32']);
    const withStatus = { ...pod(), status: { phase: 'Running', podIPs: [{ ip: '10.0.0.8' }] } };
    expect(kc.workloadEndpointFromPod(withStatus)!.spec.ipNetworks).to.deep.equal(['10.0.0.8/32']);
    expect(kc.workloadEndpointFromPod(pod())).to.equal(undefined);
    expect(kc.workloadEndpointFromPod(pod({}, { 'cni.projectcalico.org/podIP': '10.0.0.7' }, { hostNetwork: true }))).to.equal(undefined);
    expect(kc.workloadEndpointFromPod({ ...pod({}, { 'cni.projectcalico.org/podIP': '10.0.0.7' }), status: { phase: 'Succeeded' } })).to.equal(undefined);
    expect(kc.workloadEndpointFromPod(pod({}, { 'cni.projectcalico.org/podIP': '10.0.0.7' }, { nodeName: undefined }))).to.equal(undefined);
  });

  it('defaults the service account and leaves out a service account label longer than 63 characters', () => {
    const long = 's'.repeat(64);
    const a = kc.workloadEndpointFromPod(pod({}, { 'cni.projectcalico.org/podIP': '10.0.0.7' }, { serviceAccountName: undefined }))!;
    expect(a.spec.profiles).to.deep.equal(['kns.shop', 'ksa.shop.default']);
    const b = kc.workloadEndpointFromPod(pod({}, { 'cni.projectcalico.org/podIP': '10.0.0.7' }, { serviceAccountName: long }))!;
    expect(b.metadata.labels).to.not.have.property('projectcalico.org/serviceaccount');
    expect(b.spec.profiles).to.deep.equal(['kns.shop', `ksa.shop.${long}`]);
  });

  it('a WorkloadEndpoint write is a merge patch of the pod annotations, with resourceVersion for CAS', () => {
    const w = kc.workloadEndpointFromPod(pod({}, { 'cni.projectcalico.org/podIPs': '10.0.0.7/32,fd00::7/128', 'cni.projectcalico.org/containerID': 'c1' }))!;
    expect(kc.podAnnotationPatch(w, '42')).to.deep.equal({ metadata: { resourceVersion: '42', annotations: {
      'cni.projectcalico.org/podIP': '10.0.0.7/32', 'cni.projectcalico.org/podIPs': '10.0.0.7/32,fd00::7/128',
      'cni.projectcalico.org/containerID': 'c1', 'cni.tabby.io/mac': null,
    } } });
    expect(kc.podAnnotationPatch(undefined)).to.deep.equal({ metadata: { annotations: {
      'cni.projectcalico.org/podIP': '', 'cni.projectcalico.org/podIPs': '', 'cni.projectcalico.org/containerID': '', 'cni.tabby.io/mac': null,
    } } });
    // Emptied annotations (after a DEL) are no address, even though the kubelet's status still has one.
    const torn = { ...pod({}, { 'cni.projectcalico.org/podIP': '', 'cni.projectcalico.org/podIPs': '' }), status: { phase: 'Running', podIP: '10.0.0.8' } };
    expect(kc.workloadEndpointFromPod(torn)).to.equal(undefined);
  });
});

describe('kubernetes conversion: namespaces and service accounts -> profiles', () => {
  it('kns.<ns> allows everything and applies the namespace labels as pcns.*', () => {
    const p = kc.profileFromNamespace({ metadata: { name: 'shop', resourceVersion: '7', uid: 'n1', labels: { team: 'a' } } });
    expect(p).to.deep.equal({
      apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: 'kns.shop', resourceVersion: '7', uid: 'n1' },
      spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply: { 'pcns.projectcalico.org/name': 'shop', 'pcns.team': 'a' } },
    });
  });

  it('ksa.<ns>.<sa> has no rules and applies the service account labels as pcsa.*', () => {
    const p = kc.profileFromServiceAccount({ metadata: { name: 'frontend', namespace: 'shop', resourceVersion: '8', labels: { tier: 'fe' } } });
    expect(p.metadata).to.deep.equal({ name: 'ksa.shop.frontend', resourceVersion: '8' });
    expect(p.spec).to.deep.equal({ labelsToApply: { 'pcsa.projectcalico.org/name': 'frontend', 'pcsa.tier': 'fe' } });
    expect(kc.parseProfileName('ksa.shop.frontend')).to.deep.equal({ namespace: 'shop', serviceAccount: 'frontend' });
    expect(kc.parseProfileName('kns.shop')).to.deep.equal({ namespace: 'shop' });
    expect(kc.parseProfileName('other')).to.equal(undefined);
  });
});

describe('kubernetes conversion: NetworkPolicy -> knp.default.*', () => {
  const np = (spec: Record<string, unknown>) => ({ metadata: { name: 'allow-web', namespace: 'shop', resourceVersion: '9', uid: 'p1' }, spec });

  it('pod selector, namespace selector peer, ports per protocol: the v3 policy Calico writes', () => {
    const p = kc.networkPolicyFromKube(np({
      podSelector: { matchLabels: { role: 'db', app: 'shop' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'stage'] }, { key: 'legacy', operator: 'DoesNotExist' }] },
      ingress: [{
        from: [{ podSelector: { matchLabels: { role: 'frontend' } } }, { namespaceSelector: { matchLabels: { project: 'myproject' } } }],
        ports: [{ protocol: 'TCP', port: 6379 }, { port: 'metrics' }, { protocol: 'UDP', port: 53 }],
      }],
    }));
    expect(p.metadata).to.deep.equal({ name: 'knp.default.allow-web', namespace: 'shop', resourceVersion: '9', uid: 'p1' });
    expect(p.spec).to.deep.equal({
      tier: 'default', order: 1000,
      selector: "projectcalico.org/orchestrator == 'k8s' && app == 'shop' && role == 'db' && env in { 'prod', 'stage' } && ! has(legacy)",
      types: ['Ingress'],
      ingress: [
        { action: 'Allow', protocol: 'TCP', source: { selector: "projectcalico.org/orchestrator == 'k8s' && role == 'frontend'" }, destination: { ports: [6379, 'metrics'] } },
        { action: 'Allow', protocol: 'UDP', source: { selector: "projectcalico.org/orchestrator == 'k8s' && role == 'frontend'" }, destination: { ports: [53] } },
        { action: 'Allow', protocol: 'TCP', source: { selector: "projectcalico.org/orchestrator == 'k8s'", namespaceSelector: "project == 'myproject'" }, destination: { ports: [6379, 'metrics'] } },
        { action: 'Allow', protocol: 'UDP', source: { selector: "projectcalico.org/orchestrator == 'k8s'", namespaceSelector: "project == 'myproject'" }, destination: { ports: [53] } },
      ],
    });
  });

  it('ipBlock with except, endPort ranges, egress only, an empty namespaceSelector (all namespaces)', () => {
    const p = kc.networkPolicyFromKube(np({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ protocol: 'TCP', port: 32000, endPort: 32768 }] },
        { to: [{ namespaceSelector: {} }] },
      ],
    }));
    expect(p.spec).to.deep.equal({
      tier: 'default', order: 1000, selector: "projectcalico.org/orchestrator == 'k8s'", types: ['Egress'],
      egress: [
        { action: 'Allow', protocol: 'TCP', destination: { nets: ['10.0.0.0/8'], notNets: ['10.1.0.0/16'], ports: ['32000:32768'] } },
        { action: 'Allow', destination: { selector: "projectcalico.org/orchestrator == 'k8s'", namespaceSelector: 'all()' } },
      ],
    });
  });

  it('a peer with both podSelector and namespaceSelector selects those pods in those namespaces', () => {
    const p = kc.networkPolicyFromKube(np({ podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } }, namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'Exists' }] } }] }] }));
    expect(p.spec.ingress).to.deep.equal([{ action: 'Allow', source: { selector: "projectcalico.org/orchestrator == 'k8s' && role == 'client'", namespaceSelector: 'has(env)' } }]);
  });

  it('without policyTypes: Ingress always, Egress when there are egress rules; {} allows all, no rules deny all', () => {
    expect(kc.networkPolicyFromKube(np({ podSelector: {} })).spec).to.deep.equal({ tier: 'default', order: 1000, selector: "projectcalico.org/orchestrator == 'k8s'", types: ['Ingress'] });
    const both = kc.networkPolicyFromKube(np({ podSelector: {}, ingress: [{}], egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] }));
    expect(both.spec.types).to.deep.equal(['Ingress', 'Egress']);
    expect(both.spec.ingress).to.deep.equal([{ action: 'Allow' }]);
    expect(both.spec.egress).to.deep.equal([{ action: 'Allow', protocol: 'UDP', destination: { ports: [53] } }]);
    // A protocol listed without a port means all its ports.
    const all = kc.networkPolicyFromKube(np({ podSelector: {}, ingress: [{ ports: [{ protocol: 'TCP', port: 80 }, { protocol: 'TCP' }] }] }));
    expect(all.spec.ingress).to.deep.equal([{ action: 'Allow', protocol: 'TCP' }]);
  });
});

describe('kubernetes conversion: nodes', () => {
  it('reads Calico node annotations, addresses and pod CIDRs', () => {
    const n = kc.nodeFromKube({
      metadata: { name: 'node-1', resourceVersion: '5', labels: { 'kubernetes.io/os': 'linux' }, annotations: {
        'projectcalico.org/IPv4Address': '10.0.0.5/24', 'projectcalico.org/ASNumber': '64513', 'projectcalico.org/IPv4IPIPTunnelAddr': '10.244.0.1',
        'projectcalico.org/IPv4VXLANTunnelAddr': '10.244.0.2', 'projectcalico.org/RouteReflectorClusterID': '1.2.3.4', 'node.alpha.kubernetes.io/ttl': '0',
      } },
      spec: { podCIDRs: ['10.244.0.0/24'] },
      status: { addresses: [{ type: 'InternalIP', address: '10.0.0.5' }, { type: 'Hostname', address: 'node-1' }] },
    });
    expect(n).to.deep.equal({
      apiVersion: 'projectcalico.org/v3', kind: 'Node',
      metadata: { name: 'node-1', resourceVersion: '5', labels: { 'kubernetes.io/os': 'linux' }, annotations: { 'node.alpha.kubernetes.io/ttl': '0' } },
      spec: {
        bgp: { ipv4Address: '10.0.0.5/24', asNumber: 64513, routeReflectorClusterID: '1.2.3.4', ipv4IPIPTunnelAddr: '10.244.0.1' },
        ipv4VXLANTunnelAddr: '10.244.0.2',
        orchRefs: [{ orchestrator: 'k8s', nodeName: 'node-1' }],
        addresses: [{ address: '10.0.0.5/24', type: 'CalicoNodeIP' }, { address: '10.0.0.5', type: 'InternalIP' }],
      },
      status: { podCIDRs: ['10.244.0.0/24'] },
    });
  });

  it('writes them back as a merge patch that also removes unset ones', () => {
    const patch = kc.nodeAnnotationPatch({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'node-1', resourceVersion: '5' }, spec: { bgp: { ipv4Address: '10.0.0.6/24', asNumber: 64514 } } });
    expect(patch['metadata']['resourceVersion']).to.equal('5');
    expect(patch['metadata']['annotations']).to.include({ 'projectcalico.org/IPv4Address': '10.0.0.6/24', 'projectcalico.org/ASNumber': '64514' });
    expect(patch['metadata']['annotations']['projectcalico.org/IPv4IPIPTunnelAddr']).to.equal(null);
  });
});

describe('kubernetes conversion: results are valid v3 resources', () => {
  it('endpoints, profiles and converted policies pass Tabby\'s validation', () => {
    const rs = [
      kc.workloadEndpointFromPod(pod({}, { 'cni.projectcalico.org/podIPs': '10.0.0.7/32,fd00::7/128' }))!,
      kc.profileFromNamespace({ metadata: { name: 'shop', labels: { team: 'a' } } }),
      kc.profileFromServiceAccount({ metadata: { name: 'fe', namespace: 'shop' } }),
      kc.networkPolicyFromKube({ metadata: { name: 'p', namespace: 'shop' }, spec: { podSelector: { matchLabels: { a: 'b' } },
        ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }, { namespaceSelector: {} }], ports: [{ port: 80 }, { port: 'http' }] }],
        egress: [{ to: [{ podSelector: { matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['y'] }] } }] }] } }),
    ] as AnyResource[];
    for (const r of rs) {
      const v = validateResource(r, { applyDefaults: false });
      expect(v.issues.map(formatIssue), `${r.kind} ${r.metadata.name}`).to.deep.equal([]);
    }
  });
});

// The Kubernetes backend against the Kubernetes API test server: objects derived from Pods,
// Namespaces, ServiceAccounts, Nodes and Kubernetes NetworkPolicies, the writes that land on
// them, and watch behaviour (bookmarks, 410 -> resync, outages).
import { expect } from 'chai';
import { startKubeApiTestServer, type KubeApiTestServer } from '@tabby/test-support';
import {
  AlreadyExistsError, ConflictError, createDatastore, configFromEnv, InvalidArgumentError, KubeDatastore, NotFoundError, type Watch,
} from '@tabby/datastore';
import type { AnyResource, Node, WorkloadEndpoint } from '@tabby/api';
import { Events, expectReject, pool, sleep } from './helpers.js';

describe('kubernetes datastore', function () {
  this.timeout(20_000);
  let kube: KubeApiTestServer;
  let ds: KubeDatastore;
  const open: Watch[] = [];
  const watch = async (...args: Parameters<KubeDatastore['watch']>) => {
    const w = await ds.watch(...args);
    open.push(w);
    return w;
  };
  const podPath = (ns: string, name: string) => `/api/v1/namespaces/${ns}/pods/${name}`;
  const mkPod = (ns: string, name: string, labels: Record<string, string>, annotations: Record<string, string> = {}, node = 'node-1') =>
    kube.create(`/api/v1/namespaces/${ns}/pods`, { metadata: { name, labels, annotations }, spec: { nodeName: node, serviceAccountName: 'sa1', containers: [{ name: 'c' }] }, status: { phase: 'Running' } });

  before(async () => {
    kube = await startKubeApiTestServer();
    ds = new KubeDatastore({ kubeconfig: kube.kubeconfig, watchRetryMs: 50 });
    kube.create('/api/v1/namespaces', { metadata: { name: 'shop', labels: { team: 'a' } } });
    kube.create('/api/v1/namespaces/shop/serviceaccounts', { metadata: { name: 'sa1', labels: { role: 'fe' } } });
    kube.create('/api/v1/nodes', { metadata: { name: 'node-1', annotations: { 'projectcalico.org/IPv4Address': '10.0.0.1/24' } }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] } });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((w) => w.close()));
  });
  after(async () => {
    await ds?.close();
    await kube?.close();
  });

  describe('workload endpoints from pods', () => {
    it('a pod with the CNI annotation is an endpoint (labels from the pod); one without is not', async () => {
      mkPod('shop', 'web-1', { app: 'web' }, { 'cni.projectcalico.org/podIP': '10.244.0.5/32', 'cni.projectcalico.org/containerID': 'cid1' });
      mkPod('shop', 'pending', { app: 'web' });
      const list = await ds.list('WorkloadEndpoint', { namespace: 'shop' });
      expect(list.items.map((w) => w.metadata.name)).to.deep.equal(['node--1-k8s-web--1-eth0']);
      const w = await ds.get('WorkloadEndpoint', 'node--1-k8s-web--1-eth0', 'shop');
      expect(w.metadata.labels).to.deep.equal({ app: 'web', 'projectcalico.org/namespace': 'shop', 'projectcalico.org/orchestrator': 'k8s', 'projectcalico.org/serviceaccount': 'sa1' });
      expect(w.spec).to.include({ node: 'node-1', pod: 'web-1', containerID: 'cid1' });
      expect(w.spec.ipNetworks).to.deep.equal(['10.244.0.5/32']);
      expect(w.spec.profiles).to.deep.equal(['kns.shop', 'ksa.shop.sa1']);
      expect(w.metadata.resourceVersion).to.equal(kube.get(podPath('shop', 'web-1'))!['metadata']['resourceVersion']);
      await expectReject(ds.get('WorkloadEndpoint', 'node--1-k8s-pending-eth0', 'shop'), NotFoundError, 'resource does not exist: WorkloadEndpoint(shop/node--1-k8s-pending-eth0)');
      await expectReject(ds.get('WorkloadEndpoint', 'node--2-k8s-web--1-eth0', 'shop'), NotFoundError);
    });

    it('create/update/delete of an endpoint write the pod annotations, compare-and-swap on the pod', async () => {
      const wep = {
        apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: 'node--1-k8s-pending-eth0', namespace: 'shop' },
        spec: { orchestrator: 'k8s', node: 'node-1', pod: 'pending', endpoint: 'eth0', containerID: 'cid2', ipNetworks: ['10.244.0.6/32'], interfaceName: 'cali0', mac: '66:aa:bb:cc:dd:ee', profiles: ['kns.shop'] },
      } as WorkloadEndpoint;
      const created = await ds.create(wep);
      expect(kube.get(podPath('shop', 'pending'))!['metadata']['annotations']).to.deep.equal({
        'cni.projectcalico.org/podIP': '10.244.0.6/32', 'cni.projectcalico.org/podIPs': '10.244.0.6/32',
        'cni.projectcalico.org/containerID': 'cid2', 'cni.tabby.io/mac': '66:aa:bb:cc:dd:ee',
      });
      expect(created.metadata.labels).to.include({ app: 'web' });
      // Through pods/status, which Calico's CNI role may patch (it may not patch pods).
      expect(kube.requests.filter((r) => r.method === 'PATCH').map((r) => r.url)).to.deep.equal(['/api/v1/namespaces/shop/pods/pending/status']);
      expect(created.spec.mac).to.equal('66:aa:bb:cc:dd:ee');
      await expectReject(ds.create(wep), AlreadyExistsError, 'resource already exists: WorkloadEndpoint(shop/node--1-k8s-pending-eth0)');
      const upd = await ds.update({ ...created, spec: { ...created.spec, containerID: 'cid3' } });
      expect(kube.get(podPath('shop', 'pending'))!['metadata']['annotations']['cni.projectcalico.org/containerID']).to.equal('cid3');
      const stale = await expectReject(ds.update({ ...created, spec: { ...created.spec, containerID: 'cid4' } }), ConflictError);
      expect(stale.message).to.equal(`update conflict: WorkloadEndpoint(shop/node--1-k8s-pending-eth0): resourceVersion ${created.metadata.resourceVersion} does not match the stored ${upd.metadata.resourceVersion}`);
      const gone = await ds.delete('WorkloadEndpoint', 'node--1-k8s-pending-eth0', 'shop');
      expect(gone.spec.containerID).to.equal('cid3');
      expect(kube.get(podPath('shop', 'pending'))!['metadata']['annotations']).to.deep.equal({
        'cni.projectcalico.org/podIP': '', 'cni.projectcalico.org/podIPs': '', 'cni.projectcalico.org/containerID': '',
      });
      await expectReject(ds.get('WorkloadEndpoint', 'node--1-k8s-pending-eth0', 'shop'), NotFoundError);
      await expectReject(ds.create({ ...wep, metadata: { name: 'node--1-k8s-nopod-eth0', namespace: 'shop' }, spec: { ...wep.spec, pod: 'nopod' } }), NotFoundError);
      await expectReject(ds.create({ ...wep, metadata: { name: 'node--9-k8s-pending-eth0', namespace: 'shop' } }), InvalidArgumentError, /is named node--1-k8s-pending-eth0/);
    });

    it('watch: a pod getting its address is added, a label change modifies, losing it or the pod deletes', async () => {
      const ev = new Events<AnyResource>();
      await watch('WorkloadEndpoint', { namespace: 'shop' }, ev.push);
      expect(ev.shown()).to.deep.equal(['resync(node--1-k8s-web--1-eth0)']);
      mkPod('shop', 'db', { app: 'db' });
      const db = kube.get(podPath('shop', 'db'))!;
      kube.put(podPath('shop', 'db'), { ...db, metadata: { ...db['metadata'], annotations: { 'cni.projectcalico.org/podIP': '10.244.0.9/32' } } });
      const db2 = kube.get(podPath('shop', 'db'))!;
      kube.put(podPath('shop', 'db'), { ...db2, metadata: { ...db2['metadata'], labels: { app: 'db', tier: 'x' } } });
      kube.remove(podPath('shop', 'web-1'));
      await ev.until((l) => l.length >= 4);
      await sleep(100);
      expect(ev.shown()).to.deep.equal(['resync(node--1-k8s-web--1-eth0)', 'added(node--1-k8s-db-eth0)', 'modified(node--1-k8s-db-eth0)', 'deleted(node--1-k8s-web--1-eth0)']);
      const mod = ev.list[2] as { resource: WorkloadEndpoint; previous: WorkloadEndpoint };
      expect(mod.resource.metadata.labels).to.include({ tier: 'x' });
      expect(mod.previous.metadata.labels).to.not.have.property('tier');
    });
  });

  describe('profiles from namespaces and service accounts', () => {
    it('lists kns.* and ksa.* with the pcns./pcsa. labels; writes are refused', async () => {
      const list = await ds.list('Profile');
      expect(list.items.map((p) => p.metadata.name)).to.deep.equal(['kns.shop', 'ksa.shop.sa1']);
      expect(list.revision).to.match(/^\d+\/\d+$/);
      expect((await ds.get('Profile', 'kns.shop')).spec.labelsToApply).to.deep.equal({ 'pcns.projectcalico.org/name': 'shop', 'pcns.team': 'a' });
      expect((await ds.get('Profile', 'ksa.shop.sa1')).spec.labelsToApply).to.deep.equal({ 'pcsa.projectcalico.org/name': 'sa1', 'pcsa.role': 'fe' });
      await expectReject(ds.get('Profile', 'kns.nope'), NotFoundError);
      await expectReject(ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: 'p' }, spec: {} } as AnyResource), InvalidArgumentError,
        'create Profile is not supported with the Kubernetes datastore: profiles are derived from Namespaces and ServiceAccounts');
    });

    it('watch follows both namespaces and service accounts, and resumes from the joined revision', async () => {
      const { revision } = await ds.list('Profile');
      kube.create('/api/v1/namespaces', { metadata: { name: 'dev' } });
      const ev = new Events<AnyResource>();
      await watch('Profile', { revision }, ev.push);
      kube.create('/api/v1/namespaces/dev/serviceaccounts', { metadata: { name: 'builder' } });
      await ev.until((l) => l.length >= 2);
      expect(ev.shown()).to.deep.equal(['added(kns.dev)', 'added(ksa.dev.builder)']);
      await expectReject(ds.watch('Profile', { revision: '5' }, () => undefined), InvalidArgumentError, /joined by "\/"/);
    });
  });

  describe('network policies', () => {
    it('Calico policies and converted Kubernetes policies side by side; knp.default.* are read-only', async () => {
      await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: 'calico-np', namespace: 'shop' }, spec: { selector: 'all()', order: 5 } } as AnyResource);
      kube.create('/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies', { metadata: { name: 'deny-all' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } });
      const list = await ds.list('NetworkPolicy', { namespace: 'shop' });
      expect(list.items.map((p) => p.metadata.name)).to.deep.equal(['calico-np', 'knp.default.deny-all']);
      const knp = await ds.get('NetworkPolicy', 'knp.default.deny-all', 'shop');
      expect(knp.spec).to.deep.equal({ tier: 'default', order: 1000, selector: "projectcalico.org/orchestrator == 'k8s'", types: ['Ingress', 'Egress'] });
      await expectReject(ds.update(knp), InvalidArgumentError, /update NetworkPolicy is not supported with the Kubernetes datastore: knp\.default\.\* policies are Kubernetes NetworkPolicies/);
      await expectReject(ds.delete('NetworkPolicy', 'knp.default.deny-all', 'shop'), InvalidArgumentError);
      expect(kube.get('/apis/crd.projectcalico.org/v1/namespaces/shop/networkpolicies/calico-np')!['spec']).to.deep.equal({ selector: 'all()', order: 5 });
    });

    it('watch reports changes of either source', async () => {
      const ev = new Events<AnyResource>();
      await watch('NetworkPolicy', { namespace: 'shop' }, ev.push);
      kube.create('/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies', { metadata: { name: 'allow-dns' }, spec: { podSelector: {}, egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }] } });
      await ds.delete('NetworkPolicy', 'calico-np', 'shop');
      await ev.until((l) => l.length >= 3);
      expect(ev.shown()).to.deep.equal(['resync(calico-np,knp.default.deny-all)', 'added(knp.default.allow-dns)', 'deleted(calico-np)']);
      expect((ev.list[1] as { resource: AnyResource }).resource.spec).to.deep.include({ types: ['Ingress', 'Egress'] });
    });
  });

  describe('nodes', () => {
    it('reads Kubernetes Nodes with Calico annotations; an update writes the annotations (CAS); create and delete are refused', async () => {
      const n = await ds.get('Node', 'node-1');
      expect(n.spec.bgp).to.deep.equal({ ipv4Address: '10.0.0.1/24' });
      const upd = await ds.update({ ...n, spec: { ...n.spec, bgp: { ipv4Address: '10.0.0.1/24', asNumber: 64513, ipv4IPIPTunnelAddr: '10.244.0.1' } } } as Node);
      expect(kube.get('/api/v1/nodes/node-1')!['metadata']['annotations']).to.deep.equal({
        'projectcalico.org/IPv4Address': '10.0.0.1/24', 'projectcalico.org/ASNumber': '64513', 'projectcalico.org/IPv4IPIPTunnelAddr': '10.244.0.1',
      });
      expect(upd.spec.bgp).to.deep.equal({ ipv4Address: '10.0.0.1/24', asNumber: 64513, ipv4IPIPTunnelAddr: '10.244.0.1' });
      expect(kube.requests.filter((r) => r.method === 'PATCH').map((r) => r.url).at(-1), 'through nodes/status, as Calico').to.equal('/api/v1/nodes/node-1/status');
      await expectReject(ds.update({ ...n, spec: { bgp: { ipv4Address: '10.0.0.9/24' } } } as Node), ConflictError);
      expect(kube.get('/api/v1/nodes/node-1')!['metadata']['annotations']['projectcalico.org/IPv4Address']).to.equal('10.0.0.1/24');
      await expectReject(ds.create({ ...n, metadata: { name: 'node-2' } } as Node), InvalidArgumentError, /^create Node is not supported with the Kubernetes datastore/);
      await expectReject(ds.delete('Node', 'node-1'), InvalidArgumentError);
      await expectReject(ds.update({ ...n, metadata: { name: 'node-9' } } as Node), NotFoundError, 'resource does not exist: Node(node-9)');
    });
  });

  describe('watch behaviour', () => {
    it('resumes from the last BOOKMARK after the stream ends, so a compaction behind it causes no re-list', async () => {
      const ev = new Events<AnyResource>();
      await watch('IPPool', {}, ev.push);
      mkPod('shop', 'other', {}); // moves the global resourceVersion past anything IPPool saw
      const now = kube.resourceVersion();
      kube.bookmarkNow();
      await sleep(100);
      kube.compact();
      kube.dropWatches();
      await sleep(300);
      await ds.create(pool('bm1', '10.50.0.0/16'));
      await ev.until((l) => l.length >= 2);
      expect(ev.changes()).to.deep.equal(['resync()', 'added(bm1)']);
      const resumed = kube.requests.filter((r) => r.url.startsWith('/apis/crd.projectcalico.org/v1/ippools?watch')).at(-1)!;
      expect(resumed.url).to.include(`resourceVersion=${now}`);
    });

    it('a 410 on reconnect (history compacted past what it saw) re-lists and reports a resync, then continues', async () => {
      const ev = new Events<AnyResource>();
      await watch('IPPool', {}, ev.push);
      mkPod('shop', 'another', {}); // not seen by the IPPool watch (no bookmarks asked of the server here)
      kube.compact();
      kube.create('/apis/crd.projectcalico.org/v1/ippools', { metadata: { name: 'missed' }, spec: { cidr: '10.51.0.0/16' } });
      // The watch got "missed" live; compact again past it and past an unseen write, then cut it.
      mkPod('shop', 'third', {});
      kube.compact();
      kube.dropWatches();
      await ev.until((l) => l.filter((e) => e.type === 'resync').length >= 2);
      await ds.create(pool('after', '10.52.0.0/16'));
      await ev.until((l) => l.some((e) => e.type === 'added' && e.resource.metadata.name === 'after'));
      expect(ev.changes()).to.deep.equal(['resync(bm1)', 'added(missed)', 'resync(bm1,missed)', 'added(after)']);
    });

    it('an unreachable API is reported once as an error; the watch resumes without loss', async () => {
      const ev = new Events<AnyResource>();
      await watch('IPPool', {}, ev.push);
      kube.setUnavailable(true);
      await ev.until((l) => l.some((e) => e.type === 'error'));
      kube.create('/apis/crd.projectcalico.org/v1/ippools', { metadata: { name: 'during' }, spec: { cidr: '10.53.0.0/16' } });
      await sleep(300);
      kube.setUnavailable(false);
      await ev.until((l) => l.some((e) => e.type === 'added'), 10_000);
      await sleep(200);
      expect(ev.changes()).to.deep.equal(['resync(after,bm1,missed)', 'added(during)']);
      const errors = ev.list.filter((e) => e.type === 'error');
      expect(errors, 'one report per outage').to.have.length(1);
      expect(errors[0]!.type === 'error' && errors[0]!.error.name).to.equal('ConnectionError');
    });
  });

  describe('configuration', () => {
    it('DATASTORE_TYPE=kubernetes (or CALICO_DATASTORE_TYPE) with KUBECONFIG opens this backend', async () => {
      for (const env of [{ DATASTORE_TYPE: 'kubernetes', KUBECONFIG: kube.kubeconfig }, { CALICO_DATASTORE_TYPE: 'kubernetes', CALICO_KUBECONFIG: kube.kubeconfig, DATASTORE_TYPE: 'etcdv3' }]) {
        const cfg = configFromEnv(env);
        expect(cfg).to.include({ datastoreType: 'kubernetes', kubeconfig: kube.kubeconfig });
        const other = await createDatastore(cfg);
        try {
          expect(other).to.be.instanceOf(KubeDatastore);
          expect((await other.get('Profile', 'kns.shop')).metadata.name).to.equal('kns.shop');
        } finally {
          await other.close();
        }
      }
    });

    it('over TLS with the CA the kubeconfig names: reads, writes and watches; a CA that did not sign the server is refused', async () => {
      const secure = await startKubeApiTestServer({ tls: true });
      const stranger = await startKubeApiTestServer({ tls: true });
      const other = new KubeDatastore({ kubeconfig: secure.kubeconfig });
      const wrongCa = new KubeDatastore({ kubeconfig: secure.kubeconfig, caFile: stranger.caFile! }, {});
      try {
        expect(secure.url).to.match(/^https:\/\//);
        const ev = new Events<AnyResource>();
        const w = await other.watch('IPPool', {}, ev.push);
        open.push(w);
        await other.create(pool('tls1', '10.60.0.0/16'));
        await ev.until((l) => l.length >= 2);
        expect(ev.shown()).to.deep.equal(['resync()', 'added(tls1)']);
        const e = await expectReject(wrongCa.get('IPPool', 'tls1'), Error);
        expect(e.name).to.equal('ConnectionError');
        expect(e.message).to.match(/^cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:\d+: TLS: the server's certificate is not trusted \(.+\); check the CA in the kubeconfig or K8S_CA_FILE$/);
      } finally {
        await other.close();
        await wrongCa.close();
        await secure.close();
        await stranger.close();
      }
    });

    it('annotation writes fall back from the status subresource to the object when RBAC forbids status (and not the other way round)', async () => {
      const strict = await startKubeApiTestServer({ forbid: ['pods/status', 'nodes/status'] });
      const other = new KubeDatastore({ kubeconfig: strict.kubeconfig });
      try {
        strict.create('/api/v1/nodes', { metadata: { name: 'n1' } });
        strict.create('/api/v1/namespaces/x/pods', { metadata: { name: 'p' }, spec: { nodeName: 'n1' } });
        const n = await other.get('Node', 'n1');
        await other.update({ ...n, spec: { bgp: { ipv4Address: '10.0.0.7/24' } } } as Node);
        expect(strict.get('/api/v1/nodes/n1')!['metadata']['annotations']).to.deep.equal({ 'projectcalico.org/IPv4Address': '10.0.0.7/24' });
        await other.create({ apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: 'n1-k8s-p-eth0', namespace: 'x' },
          spec: { pod: 'p', ipNetworks: ['10.1.1.1/32'], interfaceName: 'cali0', containerID: 'c' } } as WorkloadEndpoint);
        expect(strict.get('/api/v1/namespaces/x/pods/p')!['metadata']['annotations']['cni.projectcalico.org/podIP']).to.equal('10.1.1.1/32');
        expect(strict.requests.filter((r) => r.method === 'PATCH').map((r) => `${r.url} ${r.status}`)).to.deep.equal([
          '/api/v1/nodes/n1/status 403', '/api/v1/nodes/n1 200', '/api/v1/namespaces/x/pods/p/status 403', '/api/v1/namespaces/x/pods/p 200',
        ]);
      } finally {
        await other.close();
        await strict.close();
      }
      const none = await startKubeApiTestServer({ forbid: ['pods/status', 'pods'] });
      const denied = new KubeDatastore({ kubeconfig: none.kubeconfig });
      try {
        none.create('/api/v1/namespaces/x/pods', { metadata: { name: 'p' }, spec: { nodeName: 'n1' } });
        const e = await expectReject(denied.create({ apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: 'n1-k8s-p-eth0', namespace: 'x' },
          spec: { pod: 'p', ipNetworks: ['10.1.1.1/32'], interfaceName: 'cali0' } } as WorkloadEndpoint), Error);
        expect(e.name).to.equal('ConnectionError');
        expect(e.message).to.match(/refused the request \(403 Forbidden\): pods "p" is forbidden/);
      } finally {
        await denied.close();
        await none.close();
      }
    });

    it('a cluster without Calico\'s CRDs gets a message saying so', async () => {
      const bare = await startKubeApiTestServer({ omit: ['crd.projectcalico.org/ippools'] });
      const other = new KubeDatastore({ kubeconfig: bare.kubeconfig });
      try {
        await expectReject(other.list('IPPool'), Error, `the Kubernetes API at ${bare.url} does not serve /apis/crd.projectcalico.org/v1/ippools (are the crd.projectcalico.org CustomResourceDefinitions installed?)`);
        await expectReject(other.watch('IPPool', {}, () => undefined), Error, /does not serve \/apis\/crd\.projectcalico\.org\/v1\/ippools/);
      } finally {
        await other.close();
        await bare.close();
      }
    });

    it('K8S_API_ENDPOINT and K8S_API_TOKEN override the kubeconfig; a wrong token is a clear ConnectionError', async () => {
      const cfg = configFromEnv({ DATASTORE_TYPE: 'kubernetes', KUBECONFIG: kube.kubeconfig, K8S_API_TOKEN: 'wrong' });
      const bad = await createDatastore(cfg);
      try {
        const e = await expectReject(bad.get('IPPool', 'bm1'), Error);
        expect(e.name).to.equal('ConnectionError');
        expect(e.message).to.match(/^Kubernetes API at http:\/\/127\.0\.0\.1:\d+ refused the request \(401 Unauthorized\)/);
      } finally {
        await bad.close();
      }
      const direct = new KubeDatastore({ apiEndpoint: kube.url, token: kube.token, insecureSkipTLSVerify: true }, {});
      expect((await direct.get('IPPool', 'bm1')).metadata.name).to.equal('bm1');
      await direct.close();
      expect(() => new KubeDatastore({ kubeconfig: '/nonexistent/kubeconfig' })).to.throw('kubeconfig /nonexistent/kubeconfig does not exist');
      expect(() => new KubeDatastore({}, {})).to.throw(/no Kubernetes API to talk to/);
    });
  });
});

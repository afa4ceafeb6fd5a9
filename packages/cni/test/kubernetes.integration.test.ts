// The plugins with datastore_type kubernetes, as Calico's conflist configures them, against the
// Kubernetes API test server and real network namespaces: the pod is read from the API (its
// labels become the endpoint's), the address is written back as the pod's
// cni.projectcalico.org annotations, and IPAM lives in the crd.projectcalico.org custom resources.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workloadInterfaceName, type WorkloadEndpoint } from '@tabby/api';
import { KubeDatastore, NotFoundError } from '@tabby/datastore';
import { startKubeApiTestServer, type KubeApiTestServer, type Netns } from '@tabby/test-support';
import { stopChild, TestNode, type PluginRun } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Where the API server appears inside the test's host namespace. */
const API_PORT_IN_HOST = 6443;
const CRD = '/apis/crd.projectcalico.org/v1';

function startForwarder(hostns: Netns, socket: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', hostns.name, process.execPath, join(here, 'fwd.js'), String(API_PORT_IN_HOST), socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error('forwarder did not get ready')); }, 15_000);
    p.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) { clearTimeout(timer); resolve(p); } });
    p.on('exit', (code) => { clearTimeout(timer); reject(new Error(`forwarder exited ${code}`)); });
  });
}

function expectOk(r: PluginRun): Record<string, unknown> {
  expect(r.code, `exit code; stdout: ${r.stdout} stderr: ${r.stderr}`).to.equal(0);
  return r.json ?? {};
}

describe('tabby CNI plugin with the Kubernetes datastore (API test server, real namespaces)', function () {
  this.timeout(90_000);
  const node = new TestNode();
  let kube: KubeApiTestServer;
  let ds: KubeDatastore;
  let bridge: Server | undefined;
  let forwarder: ChildProcess | undefined;
  let kubeconfig: string;
  let n = 0;
  const cid = () => `k${process.pid}x${++n}`;

  before(async () => {
    kube = await startKubeApiTestServer();
    ds = new KubeDatastore({ kubeconfig: kube.kubeconfig });
    await node.start();
    const sock = join(node.dir, 'kube.sock');
    const port = Number(new URL(kube.url).port);
    bridge = createServer((c) => {
      const k = connect(port, '127.0.0.1');
      c.pipe(k);
      k.pipe(c);
      c.on('error', () => k.destroy());
      k.on('error', () => c.destroy());
      c.on('close', () => k.destroy());
      k.on('close', () => c.destroy());
    });
    await new Promise<void>((res) => bridge!.listen(sock, res));
    forwarder = await startForwarder(node.hostns, sock);
    // The kubeconfig the node's install step would write for the plugin.
    kubeconfig = join(node.dir, 'tabby-kubeconfig');
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'tabby',
      clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${API_PORT_IN_HOST}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: kube.token } }],
      contexts: [{ name: 'tabby', context: { cluster: 'c', user: 'u' } }],
    }));
    kube.create('/api/v1/namespaces', { metadata: { name: 'shop', labels: { team: 'a' } } });
    kube.create('/api/v1/namespaces/shop/serviceaccounts', { metadata: { name: 'default' } });
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-v4' }, spec: { cidr: '10.88.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true, nodeSelector: 'all()' } });
  });
  after(async () => {
    await stopChild(forwarder);
    await new Promise<void>((res) => (bridge ? bridge.close(() => res()) : res()));
    await node.stop();
    await ds?.close();
    await kube?.close();
  });
  afterEach(() => node.deletePods());

  const config = (extra: Record<string, unknown> = {}) => ({
    cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tabby', log_level: 'debug', log_file_path: node.logFile,
    ipam_lock_file: join(node.dir, 'ipam.lock'), datastore_type: 'kubernetes', nodename: 'node-1', mtu: 1450, ipam: { type: 'tabby-ipam' }, policy: { type: 'k8s' },
    kubernetes: { kubeconfig }, ...extra,
  });
  const call = (command: 'ADD' | 'DEL' | 'CHECK', pod: Netns, name: string, id: string, extra: Record<string, unknown> = {}) =>
    node.run('tabby', { command, containerID: id, netns: node.netnsPath(pod), args: `K8S_POD_NAMESPACE=shop;K8S_POD_NAME=${name}`, config: config(extra) });
  const mkPod = (name: string, labels: Record<string, string>, nodeName = 'node-1') =>
    kube.create('/api/v1/namespaces/shop/pods', { metadata: { name, labels }, spec: { nodeName, containers: [{ name: 'c' }] }, status: { phase: 'Pending' } });

  it('ADD reads the pod from the API, writes its address annotations, and keeps IPAM in the custom resources; CHECK and DEL agree', async () => {
    mkPod('web-0', { app: 'web', tier: 'front' });
    const pod = node.createPod();
    const id = cid();
    const result = expectOk(await call('ADD', pod, 'web-0', id));
    const ips = result['ips'] as { address: string }[];
    const addr = ips[0]!.address.split('/')[0]!;
    expect(addr.startsWith('10.88.')).to.equal(true);

    // The pod carries what Calico's plugin writes.
    const ann = kube.get('/api/v1/namespaces/shop/pods/web-0')!['metadata']['annotations'];
    expect(ann['cni.projectcalico.org/podIP']).to.equal(`${addr}/32`);
    expect(ann['cni.projectcalico.org/podIPs']).to.equal(`${addr}/32`);
    expect(ann['cni.projectcalico.org/containerID']).to.equal(id);
    const podMac = (result['interfaces'] as { mac: string }[])[1]!.mac;
    expect(ann['cni.tabby.io/mac']).to.equal(podMac);

    // The endpoint as every other component sees it: labels from the pod, profiles from the namespace and service account.
    const wep = await ds.get('WorkloadEndpoint', 'node--1-k8s-web--0-eth0', 'shop') as WorkloadEndpoint;
    expect(wep.metadata.labels).to.deep.equal({ app: 'web', tier: 'front', 'projectcalico.org/namespace': 'shop', 'projectcalico.org/orchestrator': 'k8s', 'projectcalico.org/serviceaccount': 'default' });
    expect(wep.spec).to.deep.include({ node: 'node-1', pod: 'web-0', containerID: id, interfaceName: workloadInterfaceName('shop', 'web-0'), ipNetworks: [`${addr}/32`], profiles: ['kns.shop', 'ksa.shop.default'] });
    expect(kube.requests.filter((r) => r.method !== 'GET' && r.url.includes('profiles')), 'no Profile is written in this mode').to.deep.equal([]);
    // The pod's side of the veth holds the address.
    expect(pod.run('ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0'])).to.contain(`inet ${addr}/32`);

    // IPAM: block, affinity and handle are custom resources.
    const blocks = kube.list(`${CRD}/ipamblocks`);
    expect(blocks.map((b) => [b['metadata']['name'], b['spec']['affinity']])).to.deep.equal([[`10-88-${addr.split('.')[2]}-0-26`, 'host:node-1']]);
    expect(kube.list(`${CRD}/blockaffinities`).map((a) => [a['metadata']['name'], a['spec']['state'], a['spec']['deleted']])).to.deep.equal([[`node-1-${blocks[0]!['metadata']['name']}`, 'confirmed', 'false']]);
    expect(kube.list(`${CRD}/ipamhandles`).map((h) => h['metadata']['name'])).to.deep.equal([`k8s-pod-network.${id}`]);

    expectOk(await call('CHECK', pod, 'web-0', id, { prevResult: result }));

    expectOk(await call('DEL', pod, 'web-0', id));
    expect(kube.get('/api/v1/namespaces/shop/pods/web-0')!['metadata']['annotations']).to.deep.equal({
      'cni.projectcalico.org/podIP': '', 'cni.projectcalico.org/podIPs': '', 'cni.projectcalico.org/containerID': '',
    });
    expect(await ds.get('WorkloadEndpoint', 'node--1-k8s-web--0-eth0', 'shop').then(() => 'found', (e: unknown) => e instanceof NotFoundError ? 'gone' : String(e))).to.equal('gone');
    expect(kube.list(`${CRD}/ipamhandles`)).to.deep.equal([]);
    // A repeated DEL finds nothing to do.
    expectOk(await call('DEL', pod, 'web-0', id));
  });

  it('ADD for a pod the API does not know, or one scheduled elsewhere, fails before taking an address', async () => {
    const pod = node.createPod();
    const r = await call('ADD', pod, 'ghost', cid());
    expect(r.code).to.equal(1);
    expect(r.json!['code']).to.equal(103);
    expect(r.json!['msg']).to.equal('pod shop/ghost does not exist in the Kubernetes API');
    mkPod('elsewhere', {}, 'node-2');
    const r2 = await call('ADD', pod, 'elsewhere', cid());
    expect(r2.json!['code']).to.equal(7);
    expect(r2.json!['msg']).to.equal("pod shop/elsewhere is scheduled to node node-2, but this node's nodename is node-1");
    expect(kube.list(`${CRD}/ipamhandles`)).to.deep.equal([]);
  });

  it('DEL after the pod object is gone (force-deleted) still releases the address', async () => {
    mkPod('gone-0', {});
    const pod = node.createPod();
    const id = cid();
    expectOk(await call('ADD', pod, 'gone-0', id));
    expect(kube.list(`${CRD}/ipamhandles`).map((h) => h['metadata']['name'])).to.deep.equal([`k8s-pod-network.${id}`]);
    kube.remove('/api/v1/namespaces/shop/pods/gone-0');
    expectOk(await call('DEL', pod, 'gone-0', id));
    expect(kube.list(`${CRD}/ipamhandles`)).to.deep.equal([]);
    const used = kube.list(`${CRD}/ipamblocks`).flatMap((b) => (b['spec']['allocations'] as unknown[]).filter((a) => a !== null));
    expect(used).to.deep.equal([]);
  });
});

// ctl with DATASTORE_TYPE=kubernetes and KUBECONFIG, run as a subprocess against the Kubernetes
// API test server (asynchronously: the server lives in this process and must keep answering).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { startKubeApiTestServer, type KubeApiTestServer } from '@tabby/test-support';
import { CTL_BIN } from './helpers.js';

interface Run { code: number; stdout: string; stderr: string }

function ctlAsync(args: string[], env: Record<string, string>, input = ''): Promise<Run> {
  return new Promise((resolve) => {
    const full: NodeJS.ProcessEnv = { ...process.env, ...env };
    const p = execFile(process.execPath, [CTL_BIN, ...args], { env: full, encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    p.stdin!.end(input);
  });
}

describe('ctl with the Kubernetes datastore', function () {
  this.timeout(60_000);
  let kube: KubeApiTestServer;
  let env: Record<string, string>;

  before(async () => {
    kube = await startKubeApiTestServer();
    env = { DATASTORE_TYPE: 'kubernetes', KUBECONFIG: kube.kubeconfig };
    kube.create('/api/v1/nodes', { metadata: { name: 'node-1', annotations: { 'projectcalico.org/IPv4Address': '10.0.0.1/24', 'projectcalico.org/ASNumber': '64513' } } });
    kube.create('/api/v1/nodes', { metadata: { name: 'node-2' } });
    kube.create('/api/v1/namespaces', { metadata: { name: 'shop' } });
    kube.create('/api/v1/namespaces/shop/serviceaccounts', { metadata: { name: 'default' } });
    kube.create('/api/v1/namespaces/shop/pods', { metadata: { name: 'web-0', labels: { app: 'web' }, annotations: { 'cni.projectcalico.org/podIP': '10.88.0.5/32' } }, spec: { nodeName: 'node-1' } });
    kube.create('/api/v1/namespaces/shop/pods', { metadata: { name: 'no-ip' }, spec: { nodeName: 'node-1' } });
  });
  after(async () => {
    await kube?.close();
  });

  it('create -f stores an IPPool as a crd.projectcalico.org custom resource; get ippools shows it', async () => {
    const r = await ctlAsync(['create', '-f', '-'], env, 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pool-a\nspec:\n  cidr: 10.88.0.0/16\n  ipipMode: Always\n  natOutgoing: true\n');
    expect(r, r.stderr).to.include({ code: 0, stdout: "Successfully created 1 'IPPool' resource(s)\n" });
    const stored = kube.get('/apis/crd.projectcalico.org/v1/ippools/pool-a')!;
    expect(stored['kind']).to.equal('IPPool');
    expect(stored['spec']).to.include({ cidr: '10.88.0.0/16', ipipMode: 'Always', natOutgoing: true, blockSize: 26 });
    const get = await ctlAsync(['get', 'ippools', '-o', 'wide'], env);
    expect(get.code, get.stderr).to.equal(0);
    expect(get.stdout.split('\n')[1]).to.match(/^pool-a\s+10\.88\.0\.0\/16\s+true\s+Always\s+Never\s+false\s+false\s+all\(\)\s*$/);
  });

  it('get nodes shows Kubernetes Nodes with the AS and address from Calico\'s annotations', async () => {
    const r = await ctlAsync(['get', 'nodes', '-o', 'wide'], env);
    expect(r.code, r.stderr).to.equal(0);
    const rows = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(rows).to.deep.equal([['NAME', 'ASN', 'IPV4', 'IPV6'], ['node-1', '64513', '10.0.0.1/24'], ['node-2', '(64512)']]);
  });

  it('get wep lists pods that have an address as workload endpoints with their profiles', async () => {
    const r = await ctlAsync(['get', 'wep', '-A', '-o', 'wide'], env);
    expect(r.code, r.stderr).to.equal(0);
    const rows = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(rows[0]).to.deep.equal(['NAMESPACE', 'NAME', 'WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE', 'PROFILES', 'NATS']);
    expect(rows.slice(1)).to.have.length(1);
    expect(rows[1]!.slice(0, 5)).to.deep.equal(['shop', 'node--1-k8s-web--0-eth0', 'web-0', 'node-1', '10.88.0.5/32']);
    expect(rows[1]![6]).to.equal('kns.shop,ksa.shop.default');
    const json = JSON.parse((await ctlAsync(['get', 'wep', 'node--1-k8s-web--0-eth0', '-n', 'shop', '-o', 'json'], env)).stdout);
    expect(json.metadata.labels).to.include({ app: 'web', 'projectcalico.org/orchestrator': 'k8s' });
  });

  it('refuses writes to derived kinds with a clear message', async () => {
    const r = await ctlAsync(['create', '-f', '-'], env, 'apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata:\n  name: p1\nspec: {}\n');
    expect(r.code).to.equal(1);
    expect(r.stdout + r.stderr).to.contain('create Profile is not supported with the Kubernetes datastore: profiles are derived from Namespaces and ServiceAccounts');
  });

  it('an unreadable KUBECONFIG is reported by name', async () => {
    const r = await ctlAsync(['get', 'nodes'], { DATASTORE_TYPE: 'kubernetes', KUBECONFIG: '/nonexistent/kubeconfig' });
    expect(r.code).to.equal(1);
    expect(r.stdout + r.stderr).to.contain('kubeconfig /nonexistent/kubeconfig does not exist');
  });
});

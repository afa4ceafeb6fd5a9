// The CNI plugin as the image ships it: scripts/build-cni-sea.sh builds one standalone executable
// (Node single executable application, no Node.js needed on the host), installed as `tabby` and
// hard-linked as `tabby-ipam`. Built here for real, then run as the kubelet would: VERSION, the
// role picked by the name, and an IPAM ADD/DEL against a real etcd (gRPC definitions embedded).
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdDatastore } from '@tabby/datastore';
import { startEtcd, startKubeApiTestServer, tmpDir, type EtcdServer, type KubeApiTestServer } from '@tabby/test-support';
import { ROOT } from './lib.js';

/** Runs a plugin call asynchronously (the Kubernetes API test server lives in this process). */
function run(bin: string, env: NodeJS.ProcessEnv, stdin: string): Promise<{ status: number | null; out: Record<string, unknown>; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, [], { env: { PATH: process.env['PATH'], ...env }, cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    p.on('close', (status) => {
      clearTimeout(timer);
      let out: Record<string, unknown>;
      try { out = JSON.parse(stdout) as Record<string, unknown>; } catch { out = { unparsed: stdout }; }
      resolve({ status, out, stderr });
    });
    p.stdin.end(stdin);
  });
}

describe('deploy: standalone CNI executable (scripts/build-cni-sea.sh)', function () {
  this.timeout(600_000);
  let dir: string;
  let etcd: EtcdServer | undefined;
  let ds: EtcdDatastore | undefined;
  let kube: KubeApiTestServer | undefined;

  before(() => {
    dir = tmpDir('tabby-cni-sea-');
    const r = spawnSync('bash', [join(ROOT, 'scripts/build-cni-sea.sh'), join(dir, 'bin')], { encoding: 'utf8', timeout: 540_000 });
    if (r.status !== 0) throw new Error(`build-cni-sea.sh failed (${r.status}): ${r.stderr.slice(-3000)}`);
  });
  after(async () => {
    await ds?.close();
    await etcd?.stop();
    await kube?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('builds one executable, installed under both names', () => {
    const a = statSync(join(dir, 'bin', 'tabby'));
    const b = statSync(join(dir, 'bin', 'tabby-ipam'));
    expect(a.ino).to.equal(b.ino);
    expect(a.mode & 0o111).to.not.equal(0);
  });

  it('answers VERSION under either name without Node.js on the PATH', async () => {
    for (const name of ['tabby', 'tabby-ipam']) {
      const r = await run(join(dir, 'bin', name), { CNI_COMMAND: 'VERSION', PATH: '/nonexistent' }, '{"cniVersion":"1.0.0"}');
      expect(r.status, `${name}: ${r.stderr}`).to.equal(0);
      expect(r.out['supportedVersions'], name).to.include('1.0.0');
    }
  });

  it('acts as the plugin or the IPAM plugin by the name it runs as, and assigns and releases from etcd', async () => {
    etcd = await startEtcd();
    ds = new EtcdDatastore({ endpoints: [etcd.endpoint] });
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'sea-pool' }, spec: { cidr: '10.66.0.0/24', blockSize: 28 } });
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tabby', etcd_endpoints: etcd.endpoint, nodename: 'sea-node', ipam: { type: 'tabby-ipam' } });
    const env = { CNI_CONTAINERID: 'sea1', CNI_NETNS: '/proc/self/ns/net', CNI_IFNAME: 'eth0', CNI_PATH: join(dir, 'bin') };
    // As `tabby`, an ADD without the pod's name is refused by the main plugin (code 4).
    const main = await run(join(dir, 'bin', 'tabby'), { ...env, CNI_COMMAND: 'ADD' }, conf);
    expect(main.status).to.equal(1);
    expect(main.out['msg']).to.match(/K8S_POD_NAMESPACE and K8S_POD_NAME missing/);
    // As `tabby-ipam`, the same call assigns an address from the pool through etcd.
    const add = await run(join(dir, 'bin', 'tabby-ipam'), { ...env, CNI_COMMAND: 'ADD' }, conf);
    expect(add.status, add.stderr).to.equal(0);
    const ips = add.out['ips'] as { address: string }[];
    expect(ips).to.have.length(1);
    expect(ips[0]!.address).to.match(/^10\.66\.0\.\d+\/32$/);
    const handles = await ds.list('IPAMHandle');
    expect(handles.items.map((h) => h.metadata.name)).to.include('k8s-pod-network.sea1');
    const del = await run(join(dir, 'bin', 'tabby-ipam'), { ...env, CNI_COMMAND: 'DEL' }, conf);
    expect(del.status, del.stderr).to.equal(0);
    expect((await ds.list('IPAMHandle')).items.map((h) => h.metadata.name)).to.not.include('k8s-pod-network.sea1');
  });

  it('Kubernetes datastore: assigns and releases through the API (Kubernetes API test server)', async () => {
    kube = await startKubeApiTestServer();
    kube.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'sea-node' } });
    kube.create('/apis/crd.projectcalico.org/v1/ippools', { apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', metadata: { name: 'sea-pool' }, spec: { cidr: '10.67.0.0/24', blockSize: 28 } });
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tabby', datastore_type: 'kubernetes', kubernetes: { kubeconfig: kube.kubeconfig }, nodename: 'sea-node', ipam: { type: 'tabby-ipam' } });
    const env = { CNI_CONTAINERID: 'sea2', CNI_NETNS: '/proc/self/ns/net', CNI_IFNAME: 'eth0', CNI_PATH: join(dir, 'bin') };
    const add = await run(join(dir, 'bin', 'tabby-ipam'), { ...env, CNI_COMMAND: 'ADD' }, conf);
    expect(add.status, `${JSON.stringify(add.out)} ${add.stderr}`).to.equal(0);
    expect((add.out['ips'] as { address: string }[])[0]!.address).to.match(/^10\.67\.0\.\d+\/32$/);
    // Optional modules are stubbed in the bundle: no warning from the executable's require().
    expect(add.stderr).to.not.match(/single-executable|only supports loading built-in modules/);
    const handles = () => kube!.list('/apis/crd.projectcalico.org/v1/ipamhandles').map((h) => h['metadata']['name'] as string);
    expect(handles()).to.include('k8s-pod-network.sea2');
    const del = await run(join(dir, 'bin', 'tabby-ipam'), { ...env, CNI_COMMAND: 'DEL' }, conf);
    expect(del.status, del.stderr).to.equal(0);
    expect(handles()).to.not.include('k8s-pod-network.sea2');
  });
});

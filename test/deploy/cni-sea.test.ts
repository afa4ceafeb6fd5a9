// The CNI plugin as the image ships it: scripts/build-cni-sea.sh builds one standalone executable
// (Node single executable application, no Node.js needed on the host), installed as `tabby` and
// hard-linked as `tabby-ipam`. Built here for real, then run as the kubelet would: VERSION, the
// role picked by the name, and an IPAM ADD/DEL against a real etcd (gRPC definitions embedded).
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdDatastore } from '@tabby/datastore';
import { createNetns, eventually, startEtcd, startKubeApiTestServer, tmpDir, type EtcdServer, type KubeApiTestServer, type Netns } from '@tabby/test-support';
import { writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { ROOT } from './lib.js';

/** Runs a plugin call asynchronously (the Kubernetes API test server lives in this process). */
function run(bin: string, env: NodeJS.ProcessEnv, stdin: string, args: string[] = []): Promise<{ status: number | null; out: Record<string, unknown>; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { env: { PATH: process.env['PATH'], ...env }, cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
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
  const namespaces: Netns[] = [];
  let nsEtcd: ChildProcess | undefined;

  before(() => {
    dir = tmpDir('tabby-cni-sea-');
    const r = spawnSync('bash', [join(ROOT, 'scripts/build-cni-sea.sh'), join(dir, 'bin')], { encoding: 'utf8', timeout: 540_000 });
    if (r.status !== 0) throw new Error(`build-cni-sea.sh failed (${r.status}): ${r.stderr.slice(-3000)}`);
  });
  after(async () => {
    await ds?.close();
    await etcd?.stop();
    await kube?.close();
    if (nsEtcd && nsEtcd.exitCode === null) {
      const gone = new Promise((r) => nsEtcd!.once('exit', r));
      nsEtcd.kill('SIGTERM');
      await gone;
    }
    for (const ns of namespaces) ns.delete();
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
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tabby', etcd_endpoints: etcd.endpoint, nodename: 'sea-node', ipam_lock_file: join(dir, 'ipam.lock'), ipam: { type: 'tabby-ipam' } });
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
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tabby', datastore_type: 'kubernetes', kubernetes: { kubeconfig: kube.kubeconfig }, nodename: 'sea-node', ipam_lock_file: join(dir, 'ipam.lock'), ipam: { type: 'tabby-ipam' } });
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

  it('wires a pod as the kubelet would: ADD in a host namespace gives the pod eth0, the /32 route and a workload endpoint; DEL removes them', async () => {
    // A "host" namespace (own etcd on its loopback) and a pod namespace; nothing touches this machine's own network.
    const host = createNetns('seahost');
    namespaces.push(host);
    const pod = createNetns('seapod');
    namespaces.push(pod);
    const data = join(dir, 'etcd-in-ns');
    nsEtcd = spawn('ip', ['netns', 'exec', host.name, 'etcd', '--data-dir', data, '--listen-client-urls', 'http://127.0.0.1:2379',
      '--advertise-client-urls', 'http://127.0.0.1:2379', '--listen-peer-urls', 'http://127.0.0.1:2380'], { stdio: 'ignore' });
    await eventually(() => host.tryRun('etcdctl', ['--endpoints', 'http://127.0.0.1:2379', 'endpoint', 'health']).code === 0, 30_000, 'etcd in the host namespace');
    const ctl = (...args: string[]) => spawnSync('ip', ['netns', 'exec', host.name, process.execPath, join(ROOT, 'packages/ctl/bin/ctl.js'), ...args],
      { env: { ...process.env, DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'http://127.0.0.1:2379' }, encoding: 'utf8', cwd: '/' });
    writeFileSync(join(dir, 'pool.yaml'), 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: { name: sea-ns-pool }\nspec: { cidr: 10.68.0.0/24, blockSize: 28, ipipMode: Never, natOutgoing: false }\n');
    const created = ctl('create', '-f', join(dir, 'pool.yaml'));
    expect(created.status, created.stderr).to.equal(0);

    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tabby', etcd_endpoints: 'http://127.0.0.1:2379', nodename: 'sea-node', mtu: 1480, ipam_lock_file: join(dir, 'ipam.lock'), ipam: { type: 'tabby-ipam' } });
    const env = { CNI_CONTAINERID: 'sea3', CNI_NETNS: `/var/run/netns/${pod.name}`, CNI_IFNAME: 'eth0', CNI_PATH: join(dir, 'bin'), CNI_ARGS: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=sea-pod' };
    const inHost = (command: string) => run('ip', { ...env, CNI_COMMAND: command }, conf, ['netns', 'exec', host.name, join(dir, 'bin', 'tabby')]);
    const add = await inHost('ADD');
    expect(add.status, `${JSON.stringify(add.out)} ${add.stderr}`).to.equal(0);
    const ip = (add.out['ips'] as { address: string }[])[0]!.address.split('/')[0]!;
    expect(ip).to.match(/^10\.68\.0\.\d+$/);
    expect(pod.run('ip', ['-o', '-4', 'addr', 'show', 'dev', 'eth0'])).to.include(`${ip}/32`);
    expect(pod.run('ip', ['link', 'show', 'eth0'])).to.include('mtu 1480');
    const route = host.run('ip', ['-4', 'route', 'show', `${ip}/32`]);
    expect(route, 'host route to the pod').to.match(/dev cali[0-9a-f]{11}/);
    const weps = ctl('get', 'workloadendpoints', '-A', '-o', 'json');
    expect(weps.status, weps.stderr).to.equal(0);
    expect(weps.stdout).to.include(`${ip}/32`);

    const del = await inHost('DEL');
    expect(del.status, del.stderr).to.equal(0);
    expect(host.run('ip', ['-4', 'route', 'show', `${ip}/32`]).trim(), 'route gone').to.equal('');
    expect(host.run('ip', ['-o', 'link', 'show']), 'veth gone').to.not.match(/cali[0-9a-f]{11}/);
    expect(ctl('get', 'workloadendpoints', '-A', '-o', 'json').stdout).to.not.include(`${ip}/32`);
  });
});

// tabby-kube-controllers as a user runs it (the executable, a real etcd, the Kubernetes API test
// server): what the API holds is copied into etcd in Calico's form, changes on either side are
// followed, copies whose source is gone are removed, and nothing else in etcd is touched.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NetworkPolicy, Profile, WorkloadEndpoint } from '@tabby/api';
import { EtcdDatastore, kubeConvert, NotFoundError } from '@tabby/datastore';
import { eventually, startEtcd, startKubeApiTestServer, type EtcdServer, type KubeApiTestServer } from '@tabby/test-support';
import { enabledControllers } from '@tabby/kube-controllers';

const BIN = fileURLToPath(new URL('../../bin/tabby-kube-controllers.js', import.meta.url));
const V3 = 'projectcalico.org/v3';
const NP_PATH = '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies';

const k8sPolicy = (port: number) => ({
  metadata: { name: 'web-ingress', namespace: 'shop' },
  spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ protocol: 'TCP', port }] }] },
});
const pod = (name: string, labels: Record<string, string>) => ({
  metadata: { name, namespace: 'shop', labels }, spec: { nodeName: 'node-1', serviceAccountName: 'api', containers: [{ name: 'c' }] }, status: { phase: 'Running' },
});
/** A WorkloadEndpoint as the CNI plugin writes it in etcd mode: no pod labels, the namespace profile only. */
const pluginWep = (podName: string, ip: string): WorkloadEndpoint => ({
  apiVersion: V3, kind: 'WorkloadEndpoint',
  metadata: { name: kubeConvert.podEndpointName('node-1', podName), namespace: 'shop', labels: { 'projectcalico.org/namespace': 'shop', 'projectcalico.org/orchestrator': 'k8s' } },
  spec: { orchestrator: 'k8s', node: 'node-1', pod: podName, endpoint: 'eth0', interfaceName: `cali${podName.replace(/\W/g, '')}`, ipNetworks: [`${ip}/32`], profiles: ['kns.shop'] },
});

describe('tabby-kube-controllers (etcd + Kubernetes API test server)', function () {
  this.timeout(60_000);
  let etcd: EtcdServer, kube: KubeApiTestServer, ds: EtcdDatastore;
  let child: ChildProcess | undefined;
  let out = '';

  const getOrUndefined = async <T>(f: () => Promise<T>) => { try { return await f(); } catch (e) { if (e instanceof NotFoundError) return undefined; throw e; } };
  const policy = (name: string, ns = 'shop') => getOrUndefined(() => ds.get('NetworkPolicy', name, ns) as Promise<NetworkPolicy>);
  const profile = (name: string) => getOrUndefined(() => ds.get('Profile', name) as Promise<Profile>);
  const wep = (podName: string) => ds.get('WorkloadEndpoint', kubeConvert.podEndpointName('node-1', podName), 'shop') as Promise<WorkloadEndpoint>;
  const until = <T>(f: () => Promise<T> | T, what: string) => eventually(f, 15_000, what).catch((e: Error) => { throw new Error(`${e.message}\n--- kube-controllers output:\n${out.slice(-3000)}`); });

  before(async () => {
    etcd = await startEtcd();
    kube = await startKubeApiTestServer();
    ds = new EtcdDatastore({ endpoints: [etcd.endpoint] });
    // The cluster before the controllers start.
    kube.create('/api/v1/namespaces', { metadata: { name: 'shop', labels: { team: 'a' } } });
    kube.create('/api/v1/namespaces/shop/serviceaccounts', { metadata: { name: 'api', namespace: 'shop', labels: { tier: 'back' } } });
    kube.create(NP_PATH, k8sPolicy(8080));
    kube.create('/api/v1/namespaces/shop/pods', pod('web-1', { app: 'web' }));
    kube.create('/api/v1/namespaces/shop/pods', pod('web-2', { app: 'web', canary: 'yes' }));
    // etcd: an endpoint the plugin wrote, copies whose source is gone, and things of the user's.
    await ds.create(pluginWep('web-1', '10.65.0.1'));
    await ds.create({ apiVersion: V3, kind: 'NetworkPolicy', metadata: { name: 'knp.default.gone', namespace: 'shop' }, spec: { order: 1000, selector: 'all()', types: ['Ingress'] } });
    await ds.create({ apiVersion: V3, kind: 'NetworkPolicy', metadata: { name: 'allow-all', namespace: 'shop' }, spec: { selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Allow' }] } });
    await ds.create({ apiVersion: V3, kind: 'Profile', metadata: { name: 'kns.deleted' }, spec: {} });
    await ds.create({ apiVersion: V3, kind: 'Profile', metadata: { name: 'my-profile' }, spec: { labelsToApply: { mine: 'yes' } } });

    child = spawn(process.execPath, [BIN], {
      env: { PATH: process.env['PATH'], ETCD_ENDPOINTS: etcd.endpoint, KUBECONFIG: kube.kubeconfig, LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => { out = (out + d).slice(-100_000); });
    await until(() => out.includes('in sync'), 'the controllers in sync');
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    await ds?.close();
    await kube?.close();
    await etcd?.stop();
  });

  it('copies policies, namespace and service-account profiles and pod labels; removes stale copies only', async () => {
    const np = await policy('knp.default.web-ingress');
    expect(np?.spec).to.deep.include({ order: 1000, selector: "projectcalico.org/orchestrator == 'k8s' && app == 'web'", types: ['Ingress'] });
    expect(np?.spec.ingress?.[0]?.destination?.ports).to.deep.equal([8080]);
    expect(await policy('knp.default.gone'), 'a copy without a source is removed').to.equal(undefined);
    expect(await policy('allow-all'), 'the user\'s policy stays').to.not.equal(undefined);

    expect((await profile('kns.shop'))?.spec.labelsToApply).to.deep.include({ 'pcns.team': 'a', 'pcns.projectcalico.org/name': 'shop' });
    expect((await profile('ksa.shop.api'))?.spec.labelsToApply).to.deep.include({ 'pcsa.tier': 'back', 'pcsa.projectcalico.org/name': 'api' });
    expect(await profile('kns.deleted'), 'a namespace profile without a namespace is removed').to.equal(undefined);
    expect((await profile('my-profile'))?.spec.labelsToApply, 'the user\'s profile stays').to.deep.equal({ mine: 'yes' });

    const w = await wep('web-1');
    expect(w.metadata.labels).to.deep.equal({ app: 'web', 'projectcalico.org/namespace': 'shop', 'projectcalico.org/orchestrator': 'k8s', 'projectcalico.org/serviceaccount': 'api' });
    expect(w.spec.profiles).to.deep.equal(['kns.shop', 'ksa.shop.api']);
    expect(w.spec.ipNetworks, 'the rest of the endpoint is the plugin\'s').to.deep.equal(['10.65.0.1/32']);
  });

  it('follows changes in the API: policy edited and deleted, namespace relabelled, pod relabelled, a new endpoint', async () => {
    kube.put(`${NP_PATH}/web-ingress`, { ...kube.get(`${NP_PATH}/web-ingress`)!, spec: k8sPolicy(9090).spec });
    await until(async () => (await policy('knp.default.web-ingress'))?.spec.ingress?.[0]?.destination?.ports?.[0] === 9090, 'policy port 9090 in etcd');

    const ns = kube.get('/api/v1/namespaces/shop')!;
    kube.put('/api/v1/namespaces/shop', { ...ns, metadata: { ...ns['metadata'], labels: { team: 'b' } } });
    await until(async () => (await profile('kns.shop'))?.spec.labelsToApply?.['pcns.team'] === 'b', 'namespace label team=b on kns.shop');

    const p = kube.get('/api/v1/namespaces/shop/pods/web-1')!;
    kube.put('/api/v1/namespaces/shop/pods/web-1', { ...p, metadata: { ...p['metadata'], labels: { app: 'web', version: 'v2' } } });
    await until(async () => (await wep('web-1')).metadata.labels?.['version'] === 'v2', 'pod label version=v2 on the endpoint');

    // The plugin writes web-2's endpoint after the controllers started: it gets its labels too.
    await ds.create(pluginWep('web-2', '10.65.0.2'));
    await until(async () => (await wep('web-2')).metadata.labels?.['canary'] === 'yes', 'web-2 endpoint labelled');

    kube.remove(`${NP_PATH}/web-ingress`);
    await until(async () => (await policy('knp.default.web-ingress')) === undefined, 'policy gone from etcd');
    expect(await policy('allow-all')).to.not.equal(undefined);
  });

  it('puts back a copy changed or deleted in etcd by hand', async () => {
    const cur = (await profile('ksa.shop.api'))!;
    await ds.update({ ...cur, spec: { labelsToApply: { 'pcsa.tier': 'forged' } } });
    await until(async () => (await profile('ksa.shop.api'))?.spec.labelsToApply?.['pcsa.tier'] === 'back', 'ksa profile restored');
    await ds.delete('Profile', 'kns.shop');
    await until(async () => (await profile('kns.shop')) !== undefined, 'kns profile recreated');
  });

  it('rides out an API outage and catches up afterwards', async () => {
    kube.setUnavailable(true);
    await new Promise((r) => setTimeout(r, 1500));
    kube.setUnavailable(false);
    kube.create(NP_PATH, { metadata: { name: 'after-outage', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Egress'] } });
    await until(async () => (await policy('knp.default.after-outage'))?.spec.types?.[0] === 'Egress', 'policy made after the outage copied');
    expect(child!.exitCode, 'still running').to.equal(null);
  });

  it('refuses a bad configuration, naming what is wrong', () => {
    expect(() => enabledControllers('policy,bogus')).to.throw('ENABLED_CONTROLLERS: unknown controller "bogus"');
    expect(enabledControllers('policy,node')).to.deep.equal({ run: ['policy'], skipped: ['node'] });
    expect(enabledControllers(undefined).run).to.deep.equal(['policy', 'namespace', 'serviceaccount', 'workloadendpoint']);
    const run = (env: Record<string, string>) => spawnSync(process.execPath, [BIN], { env: { PATH: process.env['PATH'], KUBECONFIG: kube.kubeconfig, ...env }, encoding: 'utf8', timeout: 10_000 });
    const bad = run({ ETCD_ENDPOINTS: etcd.endpoint, ENABLED_CONTROLLERS: 'policy,bogus' });
    expect(bad.status).to.equal(1);
    expect(bad.stdout + bad.stderr).to.include('unknown controller "bogus"');
    const kdd = run({ DATASTORE_TYPE: 'kubernetes' });
    expect(kdd.status).to.equal(1);
    expect(kdd.stdout + kdd.stderr).to.include('these controllers are for etcd');
  });
});

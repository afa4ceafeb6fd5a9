// Structure of the Kubernetes manifests in deploy/: required fields per kind, references between
// objects, RBAC, CRDs, probes and the environment the containers get.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { KINDS } from '@tabby/api';
import { DEFAULT_SETTINGS } from '@tabby/felix';
import { configFromEnv } from '@tabby/node';
import { ROOT, loadManifests, ofKind, named, where, envOf, envNamesReadBy, envNamesReadByScript, packageSources, parseDockerfile, copyParts, type Manifest, type Obj } from './lib.js';
import { readFileSync } from 'node:fs';

const manifests = loadManifests();
const main = manifests.filter((m) => /^tabby(-etcd)?\.yaml$/.test(m.file));
const kubeMode = main.find((m) => m.file === 'tabby.yaml')!;
const etcdMode = main.find((m) => m.file === 'tabby-etcd.yaml')!;

function daemonSet(m: Manifest): Obj {
  const ds = named(m, 'DaemonSet', 'tabby-node');
  if (!ds) throw new Error(`${m.file}: no DaemonSet tabby-node`);
  return ds;
}
const podSpec = (m: Manifest): Obj => daemonSet(m)['spec']['template']['spec'];
const nodeContainer = (m: Manifest): Obj => (podSpec(m)['containers'] as Obj[]).find((c) => c['name'] === 'tabby-node')!;
const initContainer = (m: Manifest): Obj => (podSpec(m)['initContainers'] as Obj[]).find((c) => c['name'] === 'install-cni')!;

/** Image paths the Dockerfile creates with `ln -s TARGET LINK` or COPY, mapped to repo files. */
function imagePaths(): Map<string, string> {
  const out = new Map<string, string>();
  for (const ins of parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))) {
    if (ins.op === 'RUN') {
      for (const m of ins.args.matchAll(/ln -s (\S+) (\S+)/g)) out.set(m[2]!, m[1]!.replace(/^\/opt\/tabby\//, ''));
    }
    if (ins.op === 'COPY') {
      const c = copyParts(ins.args);
      if (!c.from && c.sources.length === 1 && !c.dest.endsWith('/')) out.set(c.dest, c.sources[0]!);
    }
  }
  return out;
}

describe('deploy: manifests', () => {
  it('every manifest in deploy/ parses, and every object has apiVersion, kind and metadata.name', () => {
    expect(manifests.map((m) => m.file)).to.include.members(['tabby.yaml', 'tabby-etcd.yaml', 'tabby-monitoring.yaml']);
    for (const m of manifests) {
      expect(m.docs.length, m.file).to.be.above(0);
      for (const d of m.docs) {
        expect(d['apiVersion'], `${where(m, d)}: apiVersion`).to.be.a('string').and.not.equal('');
        expect(d['kind'], `${m.file}: kind`).to.be.a('string').and.not.equal('');
        expect(d['metadata']?.['name'], `${m.file}: ${d['kind']} metadata.name`).to.match(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
      }
      const ids = m.docs.map((d) => `${d['kind']}/${d['metadata']?.['namespace'] ?? ''}/${d['metadata']['name']}`);
      expect(ids.filter((id, i) => ids.indexOf(id) !== i), `${m.file}: duplicate objects`).to.deep.equal([]);
    }
  });

  for (const m of main) {
    describe(m.file, () => {
      it('has the tabby-node DaemonSet: selector matches the template labels, host network, privileged, critical priority, tolerates every taint', () => {
        const ds = daemonSet(m);
        const sel = ds['spec']['selector']['matchLabels'] as Record<string, string>;
        const labels = ds['spec']['template']['metadata']['labels'] as Record<string, string>;
        expect(Object.keys(sel).length, 'selector').to.be.above(0);
        for (const [k, v] of Object.entries(sel)) expect(labels[k], `template label ${k}`).to.equal(v);
        const spec = podSpec(m);
        expect(spec['hostNetwork']).to.equal(true);
        expect(spec['priorityClassName']).to.equal('system-node-critical');
        expect(spec['nodeSelector']?.['kubernetes.io/os']).to.equal('linux');
        const tol = spec['tolerations'] as Obj[];
        for (const effect of ['NoSchedule', 'NoExecute']) expect(tol.some((t) => t['operator'] === 'Exists' && t['effect'] === effect && !t['key']), `tolerates every ${effect} taint`).to.equal(true);
        for (const c of [...spec['containers'], ...spec['initContainers']] as Obj[]) {
          expect(c['image'], `${c['name']}: image`).to.be.a('string').and.match(/\S/);
          expect(c['securityContext']?.['privileged'], `${c['name']}: privileged`).to.equal(true);
        }
      });

      it('refers only to a ServiceAccount, ConfigMaps and Secrets that are in the same file', () => {
        const spec = podSpec(m);
        expect(named(m, 'ServiceAccount', spec['serviceAccountName']), `ServiceAccount ${spec['serviceAccountName']}`).to.not.equal(undefined);
        for (const c of [...spec['containers'], ...spec['initContainers']] as Obj[]) {
          for (const e of (c['env'] ?? []) as Obj[]) {
            const cm = e['valueFrom']?.['configMapKeyRef'];
            if (cm) expect(named(m, 'ConfigMap', cm['name'])?.['data']?.[cm['key']], `${c['name']} env ${e['name']}: ConfigMap ${cm['name']} key ${cm['key']}`).to.not.equal(undefined);
          }
          const volumes = new Set((spec['volumes'] as Obj[]).map((v) => v['name']));
          for (const vm of (c['volumeMounts'] ?? []) as Obj[]) expect(volumes.has(vm['name']), `${c['name']}: volume ${vm['name']}`).to.equal(true);
        }
        for (const v of spec['volumes'] as Obj[]) {
          if (v['secret']) expect(named(m, 'Secret', v['secret']['secretName']), `Secret ${v['secret']['secretName']}`).to.not.equal(undefined);
          if (v['configMap']) expect(named(m, 'ConfigMap', v['configMap']['name']), `ConfigMap ${v['configMap']['name']}`).to.not.equal(undefined);
        }
      });

      it('mounts the host paths the agent uses', () => {
        const spec = podSpec(m);
        const hostPaths = new Map((spec['volumes'] as Obj[]).filter((v) => v['hostPath']).map((v) => [v['name'], v['hostPath']['path']]));
        const mounted = (c: Obj) => new Map(((c['volumeMounts'] ?? []) as Obj[]).filter((vm) => hostPaths.has(vm['name'])).map((vm) => [vm['mountPath'], hostPaths.get(vm['name'])]));
        const node = mounted(nodeContainer(m));
        expect(node.get('/lib/modules')).to.equal('/lib/modules');
        expect(node.get('/run/xtables.lock')).to.equal('/run/xtables.lock');
        // The state dir the agent is told to use is the host's, so bgpd's socket outlives restarts.
        const stateDir = envOf(nodeContainer(m)).get('TABBY_STATE_DIR');
        expect(stateDir).to.be.a('string');
        expect(node.get(stateDir!), `TABBY_STATE_DIR ${stateDir} mounted from the host`).to.equal(stateDir);
        const init = mounted(initContainer(m));
        expect(init.get('/host/opt/cni/bin')).to.equal('/opt/cni/bin');
        expect(init.get('/host/etc/cni/net.d')).to.equal('/etc/cni/net.d');
        // The token directory install-cni reads is where the token Secret is mounted.
        const tokenDir = envOf(initContainer(m)).get('TABBY_CNI_TOKEN_DIR');
        if (tokenDir !== undefined) {
          const vm = ((initContainer(m)['volumeMounts'] ?? []) as Obj[]).find((v) => v['mountPath'] === tokenDir);
          const vol = (spec['volumes'] as Obj[]).find((v) => v['name'] === vm?.['name']);
          expect(vol?.['secret']?.['secretName'], `TABBY_CNI_TOKEN_DIR ${tokenDir} is a mounted Secret`).to.equal('tabby-cni-token');
        }
      });

      it("gives every port the agent's processes open on the host network its own number", () => {
        const env = envOf(nodeContainer(m));
        const ports: [string, string][] = [
          ['felix metrics', env.get('FELIX_PROMETHEUSMETRICSPORT') ?? ''],
          ['bgpd metrics', env.get('TABBY_BGPD_METRICS_PORT') ?? ''],
          ['node metrics', env.get('TABBY_NODE_METRICS_PORT') ?? ''],
          ['felix health', env.get('FELIX_HEALTHPORT') ?? String(DEFAULT_SETTINGS.healthPort)],
          ['node health', env.get('TABBY_NODE_HEALTH_PORT') ?? String(configFromEnv({ NODENAME: 'x' }).healthPort)],
        ];
        for (const [what, port] of ports) expect(port, what).to.match(/^\d+$/);
        const nums = ports.map(([, p]) => p);
        expect(nums.filter((p, i) => nums.indexOf(p) !== i), 'ports used twice').to.deep.equal([]);
      });

      it('probes run flags that tabby-node knows, through the path the image installs it at', () => {
        const c = nodeContainer(m);
        const paths = imagePaths();
        for (const kind of ['livenessProbe', 'readinessProbe']) {
          const cmd = c[kind]?.['exec']?.['command'] as string[] | undefined;
          expect(cmd, `${kind}.exec.command`).to.be.an('array').with.length.above(1);
          const target = paths.get(cmd![0]!);
          expect(target, `${kind}: ${cmd![0]} is created in the image by the Dockerfile`).to.equal('packages/node/bin/tabby-node.js');
          // Run the real agent with the probe's flag: an unknown flag exits 2; a known one checks
          // health and exits 0 or 1 (nothing is running here, so 1 is expected, but either is fine).
          const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], NODENAME: 'probe-test', TABBY_STATE_DIR: '/nonexistent/tabby-probe-test', FELIX_HEALTHPORT: '1' };
          for (const [k, v] of envOf(c)) if (v !== undefined && k !== 'TABBY_STATE_DIR') env[k] = v;
          const r = spawnSync(process.execPath, [join(ROOT, target!), ...cmd!.slice(1)], { env, encoding: 'utf8', timeout: 20_000 });
          expect(r.stderr, `${kind} ${cmd!.join(' ')}`).to.not.match(/unknown flag/);
          expect(r.status, `${kind} ${cmd!.join(' ')}: ${r.stderr}`).to.be.oneOf([0, 1]);
        }
      });

      it('sets only environment variables the code reads', () => {
        const code = envNamesReadBy(packageSources());
        const node = [...envOf(nodeContainer(m)).keys()];
        expect(node.length).to.be.above(5);
        expect(node.filter((n) => !code.has(n)), 'tabby-node env that no package reads').to.deep.equal([]);
        // The init container runs install-cni: its variables are the script's.
        const init = initContainer(m);
        expect(init['command']).to.deep.equal(['/usr/local/bin/tabby-install-cni']);
        const script = imagePaths().get('/usr/local/bin/tabby-install-cni');
        expect(script, 'install-cni copied into the image').to.equal('deploy/install-cni.sh');
        const readByScript = envNamesReadByScript(join(ROOT, script!));
        expect([...envOf(init).keys()].filter((n) => !readByScript.has(n)), 'install-cni env that the script does not read').to.deep.equal([]);
      });

      it('serves metrics on the ports the env enables, and declares them', () => {
        const c = nodeContainer(m);
        const env = envOf(c);
        const ports = new Map(((c['ports'] ?? []) as Obj[]).map((p) => [p['name'], p['containerPort']]));
        expect(env.get('FELIX_PROMETHEUSMETRICSENABLED')).to.equal('true');
        expect(String(ports.get('felix-metrics'))).to.equal(env.get('FELIX_PROMETHEUSMETRICSPORT'));
        expect(String(ports.get('bgpd-metrics'))).to.equal(env.get('TABBY_BGPD_METRICS_PORT'));
        expect(String(ports.get('node-metrics'))).to.equal(env.get('TABBY_NODE_METRICS_PORT'));
      });
    });
  }

  describe('RBAC', () => {
    it('each ClusterRoleBinding binds a ClusterRole and ServiceAccounts of the same file', () => {
      for (const m of main) {
        for (const b of ofKind(m, 'ClusterRoleBinding')) {
          expect(b['roleRef']['kind'], where(m, b)).to.equal('ClusterRole');
          expect(named(m, 'ClusterRole', b['roleRef']['name']), `${where(m, b)}: roleRef`).to.not.equal(undefined);
          for (const s of b['subjects'] as Obj[]) {
            expect(s['kind'], where(m, b)).to.equal('ServiceAccount');
            const sa = named(m, 'ServiceAccount', s['name']);
            expect(sa, `${where(m, b)}: subject ${s['name']}`).to.not.equal(undefined);
            expect(sa!['metadata']['namespace'], `${where(m, b)}: subject namespace`).to.equal(s['namespace']);
          }
        }
      }
    });

    it('Kubernetes mode: the agent may read what it derives endpoints and policy from, and write only its own kinds; no wildcards', () => {
      const role = named(kubeMode, 'ClusterRole', 'tabby-node')!;
      const can = (group: string, resource: string, verb: string) =>
        (role['rules'] as Obj[]).some((r) => r['apiGroups'].includes(group) && r['resources'].includes(resource) && r['verbs'].includes(verb));
      for (const r of ['pods', 'namespaces', 'serviceaccounts', 'nodes']) for (const v of ['get', 'list', 'watch']) expect(can('', r, v), `${v} ${r}`).to.equal(true);
      expect(can('', 'nodes', 'patch'), 'patch nodes (Calico node annotations)').to.equal(true);
      expect(can('', 'pods', 'patch'), 'the agent does not write pods').to.equal(false);
      expect(can('networking.k8s.io', 'networkpolicies', 'watch')).to.equal(true);
      for (const def of Object.values(KINDS)) {
        if (['Node', 'WorkloadEndpoint', 'Profile'].includes(def.kind)) continue;
        expect(can('crd.projectcalico.org', def.plural, 'watch'), `watch ${def.plural}`).to.equal(true);
      }
      expect(can('crd.projectcalico.org', 'globalnetworkpolicies', 'update'), 'policy is read-only for the agent').to.equal(false);
      for (const r of role['rules'] as Obj[]) for (const k of ['apiGroups', 'resources', 'verbs']) expect(r[k], `${k} wildcard`).to.not.include('*');
      // The CNI plugin has its own account: read its pod and patch the IP annotations.
      const cni = named(kubeMode, 'ClusterRole', 'tabby-cni')!;
      const cniCan = (resource: string, verb: string) => (cni['rules'] as Obj[]).some((r) => r['resources'].includes(resource) && r['verbs'].includes(verb));
      expect(cniCan('pods', 'get') && cniCan('pods', 'patch')).to.equal(true);
      expect(cniCan('pods', 'list'), 'the plugin never lists pods').to.equal(false);
      for (const r of ['ipamblocks', 'blockaffinities', 'ipamhandles']) expect(cniCan(r, 'update'), `update ${r}`).to.equal(true);
      const secret = named(kubeMode, 'Secret', 'tabby-cni-token')!;
      expect(secret['type']).to.equal('kubernetes.io/service-account-token');
      expect(named(kubeMode, 'ServiceAccount', secret['metadata']['annotations']['kubernetes.io/service-account.name'])).to.not.equal(undefined);
    });

    it('etcd mode: the node gets no API rights and no token; only tabby-kube-controllers reads the API, read-only, no wildcards', () => {
      expect(podSpec(etcdMode)['automountServiceAccountToken']).to.equal(false);
      expect(ofKind(etcdMode, 'ClusterRole').map((r) => r['metadata']['name'])).to.deep.equal(['tabby-kube-controllers']);
      const bindings = ofKind(etcdMode, 'ClusterRoleBinding');
      expect(bindings.flatMap((b) => (b['subjects'] as Obj[]).map((x) => x['name']))).to.deep.equal(['tabby-kube-controllers']);
      const rules = named(etcdMode, 'ClusterRole', 'tabby-kube-controllers')!['rules'] as Obj[];
      const granted = rules.flatMap((r) => (r['apiGroups'] as string[]).flatMap((g) => (r['resources'] as string[]).flatMap((res) => (r['verbs'] as string[]).map((v) => `${g}/${res}:${v}`))));
      expect(granted.filter((x) => x.includes('*')), 'no wildcards').to.deep.equal([]);
      expect(granted.filter((x) => !/:(get|list|watch)$/.test(x)), 'read-only').to.deep.equal([]);
      for (const res of ['/pods', '/namespaces', '/serviceaccounts', 'networking.k8s.io/networkpolicies']) expect(granted, res).to.include(`${res}:watch`);
    });
  });

  describe('etcd mode: tabby-kube-controllers', () => {
    const dep = named(etcdMode, 'Deployment', 'tabby-kube-controllers')!;
    const pod = () => dep['spec']['template']['spec'] as Obj;
    const container = () => (pod()['containers'] as Obj[])[0]!;

    it('is one replica under its own account, selector matching the template', () => {
      expect(dep['spec']['replicas']).to.equal(1);
      expect(dep['spec']['selector']['matchLabels']).to.deep.equal(dep['spec']['template']['metadata']['labels']);
      expect(pod()['serviceAccountName']).to.equal('tabby-kube-controllers');
      expect(named(etcdMode, 'ServiceAccount', 'tabby-kube-controllers')).to.not.equal(undefined);
    });

    it('runs the program the image installs, with env the code reads and controllers it knows', async () => {
      const cmd = container()['command'] as string[];
      const target = imagePaths().get(cmd[0]!);
      expect(target, `${cmd[0]} linked in the image`).to.equal('packages/kube-controllers/bin/tabby-kube-controllers.js');
      const pkg = JSON.parse(readFileSync(join(ROOT, 'packages/kube-controllers/package.json'), 'utf8')) as { bin: Record<string, string> };
      expect(`packages/kube-controllers/${pkg.bin['tabby-kube-controllers']!.replace(/^\.\//, '')}`).to.equal(target);
      const env = envOf(container());
      const code = envNamesReadBy(packageSources());
      expect([...env.keys()].filter((n) => !code.has(n)), 'env that no package reads').to.deep.equal([]);
      const { enabledControllers } = await import('@tabby/kube-controllers');
      expect(enabledControllers(env.get('ENABLED_CONTROLLERS')).skipped).to.deep.equal([]);
      // The etcd TLS paths the ConfigMap may name are under the Secret's mount.
      const mounts = (container()['volumeMounts'] as Obj[]).map((v) => v['mountPath']);
      expect(mounts).to.include('/tabby-secrets');
    });
  });

  describe('CRDs', () => {
    it('Kubernetes mode has a crd.projectcalico.org/v1 CRD for every kind stored as a custom resource', () => {
      const crds = ofKind(kubeMode, 'CustomResourceDefinition');
      const want = Object.values(KINDS).filter((d) => !['Node', 'WorkloadEndpoint', 'Profile'].includes(d.kind));
      expect(crds.map((c) => c['spec']['names']['kind']).sort()).to.deep.equal(want.map((d) => d.kind).sort());
      for (const crd of crds) {
        const s = crd['spec'];
        const def = want.find((d) => d.kind === s['names']['kind'])!;
        const w = `CRD ${crd['metadata']['name']}`;
        expect(crd['apiVersion'], w).to.equal('apiextensions.k8s.io/v1');
        expect(s['group'], w).to.equal('crd.projectcalico.org');
        expect(s['names']['plural'], w).to.equal(def.plural);
        expect(crd['metadata']['name'], w).to.equal(`${s['names']['plural']}.${s['group']}`);
        expect(s['scope'], w).to.equal(def.namespaced ? 'Namespaced' : 'Cluster');
        const versions = s['versions'] as Obj[];
        expect(versions.filter((v) => v['storage']).length, `${w}: one storage version`).to.equal(1);
        const v1 = versions.find((v) => v['name'] === 'v1');
        expect(v1?.['served'] && v1?.['storage'], `${w}: v1 served and stored`).to.equal(true);
        const schema = v1!['schema']?.['openAPIV3Schema'];
        expect(schema?.['type'], `${w}: structural schema`).to.equal('object');
        expect(schema['properties']['spec']['type'], `${w}: spec`).to.equal('object');
      }
    });

    it('etcd mode has no CRDs', () => {
      expect(ofKind(etcdMode, 'CustomResourceDefinition')).to.deep.equal([]);
    });
  });

  describe('monitoring', () => {
    const mon = manifests.find((m) => m.file === 'tabby-monitoring.yaml')!;
    it('the ServiceMonitor selects the metrics Service, whose ports target ports the DaemonSet declares', () => {
      const svc = named(mon, 'Service', 'tabby-node-metrics')!;
      const sm = named(mon, 'ServiceMonitor', 'tabby-node')!;
      expect(sm['apiVersion']).to.equal('monitoring.coreos.com/v1');
      for (const [k, v] of Object.entries(sm['spec']['selector']['matchLabels'] as Record<string, string>)) expect(svc['metadata']['labels'][k], `Service label ${k}`).to.equal(v);
      const svcPorts = new Map((svc['spec']['ports'] as Obj[]).map((p) => [p['name'], p]));
      for (const ep of sm['spec']['endpoints'] as Obj[]) expect(svcPorts.has(ep['port']), `ServiceMonitor port ${ep['port']}`).to.equal(true);
      for (const m of main) {
        const ds = daemonSet(m);
        for (const [k, v] of Object.entries(svc['spec']['selector'] as Record<string, string>)) expect(ds['spec']['template']['metadata']['labels'][k], `${m.file}: Service selector ${k}`).to.equal(v);
        const declared = new Map(((nodeContainer(m)['ports'] ?? []) as Obj[]).map((p) => [p['name'], p['containerPort']]));
        for (const p of svcPorts.values()) {
          expect(declared.get(p['targetPort']), `${m.file}: container port ${p['targetPort']}`).to.equal(p['port']);
        }
      }
    });
  });
});

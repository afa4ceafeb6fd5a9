// deploy/install-cni.sh run for real (into a temporary host root) with the env each manifest gives
// the init container: the files it writes are the ones the kubelet and the plugin read, and the
// conflist it renders is accepted by the plugin's own config parser.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import YAML from 'yaml';
import { tmpDir } from '@tabby/test-support';
import { parseNetConf } from '@tabby/cni';
import { ROOT, loadManifest, named, resolveEnv, type Manifest, type Obj } from './lib.js';

const SCRIPT = join(ROOT, 'deploy', 'install-cni.sh');

interface Run {
  root: string;
  status: number | null;
  stderr: string;
  stdout: string;
}

/** Runs the script as the manifest's init container would, with the host at `root`. */
function install(m: Manifest, extra: NodeJS.ProcessEnv = {}, patchEnv?: (env: Record<string, string>) => void): Run {
  const root = tmpDir('tabby-install-cni-');
  const ds = named(m, 'DaemonSet', 'tabby-node')!;
  const init = (ds['spec']['template']['spec']['initContainers'] as Obj[]).find((c) => c['name'] === 'install-cni')!;
  const env = resolveEnv(m, init, 'node-1');
  patchEnv?.(env);
  // The image's CNI executable, stood in for by a script (building the real one takes a minute).
  const src = join(root, 'image-cni-bin');
  mkdirSync(src);
  writeFileSync(join(src, 'tabby'), '#!/bin/sh\necho stand-in\n');
  chmodSync(join(src, 'tabby'), 0o755);
  linkSync(join(src, 'tabby'), join(src, 'tabby-ipam')); // as scripts/build-cni-sea.sh leaves it
  // The image's portmap (Debian's containernetworking-plugins), stood in for likewise.
  writeFileSync(join(src, 'portmap'), '#!/bin/sh\necho portmap stand-in\n');
  chmodSync(join(src, 'portmap'), 0o755);
  // The service-account token Secret the manifest mounts (Kubernetes mode).
  const tokenDir = join(root, 'token');
  mkdirSync(tokenDir);
  writeFileSync(join(tokenDir, 'token'), 'eyJ-test-token');
  writeFileSync(join(tokenDir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n');
  const hostRoot = join(root, 'host');
  const full: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    ...env,
    TABBY_HOST_ROOT: hostRoot,
    TABBY_CNI_BIN_SRC: src,
    ...(env['TABBY_CNI_TOKEN_DIR'] ? { TABBY_CNI_TOKEN_DIR: tokenDir } : {}),
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    ...extra,
  };
  const r = spawnSync('sh', [SCRIPT], { env: full, encoding: 'utf8' });
  return { root: hostRoot, status: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** What a runtime hands the first plugin of a conflist: the plugin's keys plus name and cniVersion. */
function pluginConf(list: Obj, i: number): string {
  return JSON.stringify({ cniVersion: list['cniVersion'], name: list['name'], ...list['plugins'][i] });
}

describe('deploy: install-cni', () => {
  const roots: string[] = [];
  const track = (r: Run) => { roots.push(dirname(r.root)); return r; };
  after(() => { for (const r of roots) rmSync(r, { recursive: true, force: true }); });

  for (const file of ['tabby.yaml', 'tabby-etcd.yaml']) {
    describe(file, () => {
      const m = loadManifest(file);
      const ds = named(m, 'DaemonSet', 'tabby-node')!;
      const spec = ds['spec']['template']['spec'];

      it('installs tabby and tabby-ipam, and writes a conflist that the plugin\'s parser accepts', () => {
        const r = track(install(m));
        expect(r.status, r.stderr).to.equal(0);
        const env = resolveEnv(m, spec['initContainers'].find((c: Obj) => c['name'] === 'install-cni'), 'node-1');
        const confPath = join(r.root, 'etc/cni/net.d', env['CNI_CONF_NAME']!);
        // The kubelet reads *.conflist files in /etc/cni/net.d, in name order: ours sorts first.
        expect(env['CNI_CONF_NAME']).to.match(/^10-.*\.conflist$/);
        const list = JSON.parse(readFileSync(confPath, 'utf8')) as Obj;
        expect(list['plugins'], 'plugins').to.be.an('array').with.length.above(0);
        const conf = parseNetConf(pluginConf(list, 0));
        expect(conf.nodename).to.equal('node-1');
        expect(conf.mtu).to.equal(Number(named(m, 'ConfigMap', 'tabby-config')!['data']['veth_mtu']));
        // The executables the conflist names exist on the host, executable; tabby-ipam is the same binary.
        for (const name of [conf.type, conf.ipam.type]) {
          const p = join(r.root, 'opt/cni/bin', name);
          expect(existsSync(p), `${name} installed`).to.equal(true);
          expect(statSync(p).mode & 0o111, `${name} executable`).to.not.equal(0);
        }
        expect(statSync(join(r.root, 'opt/cni/bin/tabby-ipam')).ino).to.equal(statSync(join(r.root, 'opt/cni/bin/tabby')).ino);
        // Every plugin chained after tabby (portmap for hostPort, as in Calico's conflist) is installed too.
        const chained = (list['plugins'] as Obj[]).slice(1).map((p) => p['type'] as string);
        expect(chained).to.include('portmap');
        expect((list['plugins'] as Obj[]).find((p) => p['type'] === 'portmap')!['capabilities']).to.deep.equal({ portMappings: true });
        for (const name of chained) {
          const p = join(r.root, 'opt/cni/bin', name);
          expect(existsSync(p), `${name} installed`).to.equal(true);
          expect(statSync(p).mode & 0o111, `${name} executable`).to.not.equal(0);
          expect(readFileSync(p, 'utf8')).to.include(`${name} stand-in`);
        }
        // The plugin logs where the node container mounts a host directory (so it exists).
        const hostDirs = (spec['volumes'] as Obj[]).filter((v) => v['hostPath']?.['type'] === 'DirectoryOrCreate').map((v) => v['hostPath']['path'] as string);
        expect(conf.logFilePath).to.be.a('string');
        expect(hostDirs, `a DirectoryOrCreate host path holds ${conf.logFilePath}`).to.include(dirname(conf.logFilePath!));
        if (file === 'tabby.yaml') {
          expect(conf.datastoreType).to.equal('kubernetes');
          const kc = (conf as unknown as { kubernetes?: { kubeconfig?: string } }).kubernetes?.kubeconfig;
          expect(kc, 'kubernetes.kubeconfig').to.be.a('string');
          const text = readFileSync(join(r.root, kc!), 'utf8');
          const doc = YAML.parse(text) as Obj;
          expect(doc['users'][0]['user']['token']).to.equal('eyJ-test-token');
          expect(doc['clusters'][0]['cluster']['server']).to.equal('https://10.96.0.1:443');
          expect(statSync(join(r.root, kc!)).mode & 0o077, 'kubeconfig readable by root only').to.equal(0);
        } else {
          expect(conf.datastoreType).to.equal('etcdv3');
          expect(conf.etcd.endpoints).to.deep.equal(named(m, 'ConfigMap', 'tabby-config')!['data']['etcd_endpoints'].split(','));
          expect(conf.etcd.caCertFile, 'no TLS configured').to.equal(undefined);
        }
      });

      it('fails with a message naming what is missing', () => {
        const r = track(install(m, {}, (env) => { delete env['KUBERNETES_NODE_NAME']; }));
        expect(r.status).to.equal(1);
        expect(r.stderr).to.match(/KUBERNETES_NODE_NAME is not set/);
        const bad = track(install(m, {}, (env) => { env['CNI_MTU'] = 'big'; }));
        expect(bad.status).to.equal(1);
        expect(bad.stderr).to.match(/CNI_MTU=big/);
      });
    });
  }

  it('etcd with TLS: the files are copied next to the config and the conflist points at the copies', () => {
    const m = loadManifest('tabby-etcd.yaml');
    const secrets = tmpDir('tabby-etcd-tls-');
    roots.push(secrets);
    for (const f of ['ca', 'cert', 'key']) writeFileSync(join(secrets, f), `pem ${f}\n`);
    const r = track(install(m, {}, (env) => {
      env['ETCD_ENDPOINTS'] = 'https://10.0.0.1:2379,https://10.0.0.2:2379';
      env['ETCD_CA_CERT_FILE'] = join(secrets, 'ca');
      env['ETCD_CERT_FILE'] = join(secrets, 'cert');
      env['ETCD_KEY_FILE'] = join(secrets, 'key');
    }));
    expect(r.status, r.stderr).to.equal(0);
    const list = JSON.parse(readFileSync(join(r.root, 'etc/cni/net.d/10-tabby.conflist'), 'utf8')) as Obj;
    const conf = parseNetConf(pluginConf(list, 0));
    expect(conf.etcd.endpoints).to.deep.equal(['https://10.0.0.1:2379', 'https://10.0.0.2:2379']);
    for (const [file, src] of [[conf.etcd.caCertFile, 'ca'], [conf.etcd.certFile, 'cert'], [conf.etcd.keyFile, 'key']] as const) {
      expect(file, src).to.match(/^\/etc\/cni\/net\.d\//);
      expect(readFileSync(join(r.root, file!), 'utf8')).to.equal(`pem ${src}\n`);
    }
  });
});

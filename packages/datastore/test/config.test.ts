// Client connection settings: CalicoAPIConfig files and the environment, as calicoctl reads them.
import { expect } from 'chai';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '@tabby/test-support';
import { ConfigError, configFromEnv, configFromFile, createDatastore, EtcdDatastore, etcdOptionsOf, kubeOptionsOf, loadClientConfig } from '@tabby/datastore';
import { expectReject } from './helpers.js';

describe('client config', () => {
  let dir: string;
  const file = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const cfg = (spec: string) => `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n${spec}`;
  before(() => { dir = tmpDir('tabby-config-'); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('from the environment', () => {
    it('defaults to etcdv3 at http://127.0.0.1:2379', () => {
      expect(configFromEnv({})).to.deep.equal({ datastoreType: 'etcdv3', etcdEndpoints: ['http://127.0.0.1:2379'] });
    });

    it('reads Calico variable names; a list of endpoints is comma-separated', () => {
      expect(configFromEnv({
        DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'https://10.0.0.1:2379, https://10.0.0.2:2379', ETCD_CA_CERT_FILE: '/ca.pem',
        ETCD_CERT_FILE: '/c.pem', ETCD_KEY_FILE: '/k.pem', ETCD_USERNAME: 'u', ETCD_PASSWORD: 'p', KUBECONFIG: '/kc',
      })).to.deep.equal({
        datastoreType: 'etcdv3', etcdEndpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'], etcdCACertFile: '/ca.pem',
        etcdCertFile: '/c.pem', etcdKeyFile: '/k.pem', etcdUsername: 'u', etcdPassword: 'p', kubeconfig: '/kc',
      });
    });

    it('CALICO_-prefixed names win over plain ones', () => {
      expect(configFromEnv({ ETCD_ENDPOINTS: 'http://a:1', CALICO_ETCD_ENDPOINTS: 'http://b:2' }).etcdEndpoints).to.deep.equal(['http://b:2']);
    });

    it('errors name the variable', () => {
      expect(() => configFromEnv({ DATASTORE_TYPE: 'consul' })).to.throw(ConfigError, 'DATASTORE_TYPE: unknown datastore type "consul" (expected etcdv3 or kubernetes)');
      expect(() => configFromEnv({ CALICO_ETCD_ENDPOINTS: '10.0.0.1:2379' })).to.throw(ConfigError, /^CALICO_ETCD_ENDPOINTS: "10.0.0.1:2379" is not an etcd endpoint URL/);
      expect(() => configFromEnv({ ETCD_CERT_FILE: '/c.pem' })).to.throw(ConfigError, /^ETCD_CERT_FILE: a client certificate needs its key/);
      expect(() => configFromEnv({ ETCD_DISCOVERY_SRV: 'example.com' })).to.throw(ConfigError, /^ETCD_DISCOVERY_SRV: .*not supported yet/);
    });
  });

  describe('from a CalicoAPIConfig file', () => {
    it('reads the spec fields, including inline certificates', () => {
      const f = file('full.cfg', cfg('  datastoreType: etcdv3\n  etcdEndpoints: https://127.0.0.1:2379,https://127.0.0.2:2379\n  etcdCACert: "CA"\n  etcdCert: "C"\n  etcdKey: "K"\n  etcdUsername: u\n  etcdPassword: p\n'));
      return loadClientConfig({ configFile: f, env: {} }).then((c) => expect(c).to.deep.equal({
        datastoreType: 'etcdv3', etcdEndpoints: ['https://127.0.0.1:2379', 'https://127.0.0.2:2379'],
        etcdCACert: 'CA', etcdCert: 'C', etcdKey: 'K', etcdUsername: 'u', etcdPassword: 'p',
      }));
    });

    it('is not merged with the environment', async () => {
      const f = file('only.cfg', cfg('  etcdEndpoints: http://10.1.1.1:2379\n'));
      const c = await loadClientConfig({ configFile: f, env: { ETCD_ENDPOINTS: 'http://10.9.9.9:2379', ETCD_USERNAME: 'x' } });
      expect(c).to.deep.equal({ datastoreType: 'etcdv3', etcdEndpoints: ['http://10.1.1.1:2379'] });
    });

    it('errors name the file and the field', async () => {
      const cases: [string, string | RegExp][] = [
        [cfg('  etcdEndpoint: http://a:1\n'), /bad\.cfg: spec\.etcdEndpoint: unknown field$/],
        [cfg('  etcdEndpoints: 2379\n'), /bad\.cfg: spec\.etcdEndpoints: must be a string, not 2379$/],
        [cfg('  datastoreType: etcd\n'), /bad\.cfg: spec\.datastoreType: unknown datastore type "etcd"/],
        [cfg('  etcdEndpoints: a:1\n'), /bad\.cfg: spec\.etcdEndpoints: "a:1" is not an etcd endpoint URL/],
        [cfg('  etcdCACert: x\n  etcdCACertFile: /ca.pem\n'), /bad\.cfg: spec\.etcdCACert: inline certificates and keys cannot be mixed/],
        ['apiVersion: v1\nkind: CalicoAPIConfig\n', /bad\.cfg: apiVersion: unknown APIVersion "v1" \(expected projectcalico.org\/v3\)/],
        ['apiVersion: projectcalico.org/v3\nkind: IPPool\n', /bad\.cfg: kind: expected CalicoAPIConfig, got "IPPool"/],
        ['apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec: [1]\n', /bad\.cfg: spec: must be a mapping/],
        ['spec: {a: [}\n', /^syntax error in .*bad\.cfg: /],
      ];
      for (const [text, msg] of cases) {
        const f = file('bad.cfg', text);
        await expectReject(loadClientConfig({ configFile: f, env: {} }), ConfigError, msg);
      }
    });
  });

  describe('choosing between file and environment', () => {
    it('a named file must exist', async () => {
      await expectReject(loadClientConfig({ configFile: join(dir, 'nope.cfg'), env: {} }), ConfigError, `config file ${join(dir, 'nope.cfg')} does not exist`);
    });

    it('the default file is used when present, else the environment', async () => {
      const env = { ETCD_ENDPOINTS: 'http://10.2.2.2:2379' };
      expect((await loadClientConfig({ defaultFile: join(dir, 'absent.cfg'), env })).etcdEndpoints).to.deep.equal(['http://10.2.2.2:2379']);
      const def = file('default.cfg', cfg('  etcdEndpoints: http://10.3.3.3:2379\n'));
      expect((await loadClientConfig({ defaultFile: def, env })).etcdEndpoints).to.deep.equal(['http://10.3.3.3:2379']);
    });
  });

  describe('createDatastore', () => {
    it('opens an etcd datastore (lazily), or the Kubernetes one, whose kubeconfig must exist', async () => {
      const ds = await createDatastore({ datastoreType: 'etcdv3', etcdEndpoints: ['http://127.0.0.1:1'] });
      expect(ds).to.be.instanceOf(EtcdDatastore);
      await ds.close();
      await expectReject(createDatastore({ datastoreType: 'kubernetes', etcdEndpoints: [], kubeconfig: join(dir, 'no-kubeconfig') }), ConfigError,
        `kubeconfig ${join(dir, 'no-kubeconfig')} does not exist`);
    });

    it('reads the Kubernetes settings from the file (k8s* fields) or the environment (K8S_*), as Calico names them', () => {
      const f = file('k8s.cfg', cfg('  datastoreType: kubernetes\n  kubeconfig: /etc/k\n  k8sAPIEndpoint: https://10.96.0.1:443\n  k8sAPIToken: t\n  k8sInsecureSkipTLSVerify: true\n'));
      expect(kubeOptionsOf(configFromFile(f))).to.deep.equal({ kubeconfig: '/etc/k', apiEndpoint: 'https://10.96.0.1:443', token: 't', insecureSkipTLSVerify: true });
      const env = { DATASTORE_TYPE: 'kubernetes', K8S_API_ENDPOINT: 'https://k:6443', K8S_CA_FILE: '/ca', K8S_CERT_FILE: '/c', K8S_KEY_FILE: '/k', K8S_INSECURE_SKIP_TLS_VERIFY: 'false' };
      expect(kubeOptionsOf(configFromEnv(env))).to.deep.equal({ apiEndpoint: 'https://k:6443', caFile: '/ca', certFile: '/c', keyFile: '/k', insecureSkipTLSVerify: false });
      expect(() => configFromEnv({ ...env, K8S_INSECURE_SKIP_TLS_VERIFY: 'maybe' })).to.throw(ConfigError, 'K8S_INSECURE_SKIP_TLS_VERIFY: must be true or false, not "maybe"');
      expect(() => configFromEnv({ ...env, K8S_API_ENDPOINT: 'k:6443' })).to.throw(ConfigError, 'K8S_API_ENDPOINT: "k:6443" is not a Kubernetes API URL');
    });

    it('passes credentials only when both username and password are set, as Calico does', () => {
      expect(etcdOptionsOf({ datastoreType: 'etcdv3', etcdEndpoints: ['http://a:1'], etcdUsername: 'u' })).to.deep.equal({ endpoints: ['http://a:1'] });
      expect(etcdOptionsOf({ datastoreType: 'etcdv3', etcdEndpoints: ['https://a:1'], etcdUsername: 'u', etcdPassword: 'p', etcdCACertFile: '/ca' }))
        .to.deep.equal({ endpoints: ['https://a:1'], username: 'u', password: 'p', caFile: '/ca' });
    });
  });
});

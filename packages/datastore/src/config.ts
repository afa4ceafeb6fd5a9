// Client connection settings, found the way calicoctl finds them (libcalico-go apiconfig): a
// CalicoAPIConfig file when one is named or the default file exists, otherwise the environment.
// The two are never merged. In the environment `CALICO_<NAME>` wins over `<NAME>` (envconfig's
// rule with the "calico" prefix), e.g. CALICO_ETCD_ENDPOINTS over ETCD_ENDPOINTS.
//
// One difference from current Calico: without a datastore type Calico picks "kubernetes" unless
// etcd endpoints are set; Tabby defaults to etcdv3 at 127.0.0.1:2379. DATASTORE_TYPE=kubernetes
// selects the Kubernetes backend (kubernetes/), configured by KUBECONFIG, K8S_API_ENDPOINT,
// K8S_API_TOKEN, K8S_CA_FILE, K8S_CERT_FILE, K8S_KEY_FILE, K8S_INSECURE_SKIP_TLS_VERIFY (or the
// file's kubeconfig / k8s* fields), else the in-cluster service account.

import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { Datastore } from './datastore.js';
import { ConfigError } from './errors.js';
import { EtcdDatastore, type EtcdOptions } from './etcd/etcd-datastore.js';
import { KubeDatastore } from './kubernetes/kube-datastore.js';
import type { KubeOptions } from './kubernetes/client.js';

export const DEFAULT_CONFIG_FILE = '/etc/tabby/ctl.cfg';
export const DEFAULT_ETCD_ENDPOINT = 'http://127.0.0.1:2379';
export const CONFIG_API_VERSION = 'projectcalico.org/v3';

export type DatastoreType = 'etcdv3' | 'kubernetes';

export interface ClientConfig {
  datastoreType: DatastoreType;
  etcdEndpoints: string[];
  etcdCACertFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
  /** Inline PEM (config file only, never from the environment, as in Calico). */
  etcdCACert?: string;
  etcdCert?: string;
  etcdKey?: string;
  etcdUsername?: string;
  etcdPassword?: string;
  kubeconfig?: string;
  k8sAPIEndpoint?: string;
  k8sAPIToken?: string;
  k8sCAFile?: string;
  k8sCertFile?: string;
  k8sKeyFile?: string;
  k8sInsecureSkipTLSVerify?: boolean;
}

type StringField = Exclude<keyof ClientConfig, 'datastoreType' | 'etcdEndpoints' | 'k8sInsecureSkipTLSVerify'>;

/** CalicoAPIConfig spec fields and their types; Kubernetes ones are accepted but unused for now. */
const SPEC_FIELDS: Record<string, 'string' | 'boolean' | 'number'> = {
  datastoreType: 'string', etcdEndpoints: 'string', etcdDiscoverySrv: 'string', etcdUsername: 'string',
  etcdPassword: 'string', etcdKeyFile: 'string', etcdCertFile: 'string', etcdCACertFile: 'string',
  etcdKey: 'string', etcdCert: 'string', etcdCACert: 'string',
  kubeconfig: 'string', k8sAPIEndpoint: 'string', k8sKeyFile: 'string', k8sCertFile: 'string', k8sCAFile: 'string',
  k8sAPIToken: 'string', k8sInsecureSkipTLSVerify: 'boolean', k8sDisableNodePoll: 'boolean', usePodCIDR: 'boolean',
  kubeconfigInline: 'string', k8sClientQPS: 'number', k8sCurrentContext: 'string', calicoAPIGroup: 'string',
};

/** Environment variables of the fields Tabby uses (libcalico-go's envconfig names). */
const ENV_NAMES: Record<string, string> = {
  datastoreType: 'DATASTORE_TYPE', etcdEndpoints: 'ETCD_ENDPOINTS', etcdDiscoverySrv: 'ETCD_DISCOVERY_SRV',
  etcdUsername: 'ETCD_USERNAME', etcdPassword: 'ETCD_PASSWORD', etcdKeyFile: 'ETCD_KEY_FILE',
  etcdCertFile: 'ETCD_CERT_FILE', etcdCACertFile: 'ETCD_CA_CERT_FILE', kubeconfig: 'KUBECONFIG',
  k8sAPIEndpoint: 'K8S_API_ENDPOINT', k8sAPIToken: 'K8S_API_TOKEN', k8sCAFile: 'K8S_CA_FILE', k8sCertFile: 'K8S_CERT_FILE',
  k8sKeyFile: 'K8S_KEY_FILE', k8sInsecureSkipTLSVerify: 'K8S_INSECURE_SKIP_TLS_VERIFY',
};

/** Turns raw field values (file spec or environment) into a ClientConfig; `where` names each field. */
function build(raw: Record<string, string | undefined>, where: (field: string) => string): ClientConfig {
  const type = raw['datastoreType'] || 'etcdv3';
  if (type !== 'etcdv3' && type !== 'kubernetes') {
    throw new ConfigError(`${where('datastoreType')}: unknown datastore type "${type}" (expected etcdv3 or kubernetes)`);
  }
  if (raw['etcdEndpoints'] && raw['etcdDiscoverySrv']) {
    throw new ConfigError(`${where('etcdDiscoverySrv')}: use either etcdEndpoints or etcdDiscoverySrv, not both`);
  }
  if (type === 'etcdv3' && raw['etcdDiscoverySrv']) {
    throw new ConfigError(`${where('etcdDiscoverySrv')}: etcd discovery through DNS SRV records is not supported yet; list etcdEndpoints`);
  }
  const endpoints = (raw['etcdEndpoints'] || DEFAULT_ETCD_ENDPOINT).split(',').map((s) => s.trim()).filter(Boolean);
  if (!endpoints.length) throw new ConfigError(`${where('etcdEndpoints')}: no etcd endpoints given`);
  for (const e of endpoints) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(e)) throw new ConfigError(`${where('etcdEndpoints')}: "${e}" is not an etcd endpoint URL (expected http(s)://host:port)`);
  }
  const c: ClientConfig = { datastoreType: type, etcdEndpoints: endpoints };
  const fields: StringField[] = ['etcdCACertFile', 'etcdCertFile', 'etcdKeyFile', 'etcdCACert', 'etcdCert', 'etcdKey', 'etcdUsername', 'etcdPassword', 'kubeconfig',
    'k8sAPIEndpoint', 'k8sAPIToken', 'k8sCAFile', 'k8sCertFile', 'k8sKeyFile'];
  for (const f of fields) if (raw[f]) c[f] = raw[f];
  const skip = raw['k8sInsecureSkipTLSVerify'];
  if (skip) {
    if (!['true', 'false'].includes(skip.toLowerCase())) throw new ConfigError(`${where('k8sInsecureSkipTLSVerify')}: must be true or false, not "${skip}"`);
    c.k8sInsecureSkipTLSVerify = skip.toLowerCase() === 'true';
  }
  if (c.k8sAPIEndpoint && !/^https?:\/\/[^/\s]+\/?$/.test(c.k8sAPIEndpoint)) {
    throw new ConfigError(`${where('k8sAPIEndpoint')}: "${c.k8sAPIEndpoint}" is not a Kubernetes API URL (expected http(s)://host:port)`);
  }
  const inline = ['etcdCACert', 'etcdCert', 'etcdKey'].filter((f) => raw[f]);
  const files = ['etcdCACertFile', 'etcdCertFile', 'etcdKeyFile'].filter((f) => raw[f]);
  if (inline.length && files.length) {
    throw new ConfigError(`${where(inline[0]!)}: inline certificates and keys cannot be mixed with certificate/key files (${files.join(', ')})`);
  }
  if (!!(c.etcdCertFile || c.etcdCert) !== !!(c.etcdKeyFile || c.etcdKey)) {
    throw new ConfigError(`${where(c.etcdCertFile || c.etcdKeyFile ? 'etcdCertFile' : 'etcdCert')}: a client certificate needs its key and a key its certificate`);
  }
  return c;
}

/** The environment half of calicoctl's rule. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const raw: Record<string, string | undefined> = {};
  const used: Record<string, string> = {};
  for (const [field, name] of Object.entries(ENV_NAMES)) {
    const prefixed = `CALICO_${name}`;
    const hit = prefixed in env ? prefixed : name in env ? name : undefined;
    if (hit) {
      raw[field] = env[hit];
      used[field] = hit;
    }
  }
  return build(raw, (field) => used[field] ?? ENV_NAMES[field] ?? field);
}

/** A CalicoAPIConfig file (YAML or JSON); errors name the file and the field. */
export function configFromFile(file: string): ClientConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new ConfigError(`syntax error in ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${file}: expected a CalicoAPIConfig mapping`);
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(k)) throw new ConfigError(`${file}: ${k}: unknown field`);
  }
  if (d['apiVersion'] !== CONFIG_API_VERSION) {
    throw new ConfigError(`${file}: apiVersion: unknown APIVersion ${JSON.stringify(d['apiVersion'] ?? '')} (expected ${CONFIG_API_VERSION})`);
  }
  if (d['kind'] !== 'CalicoAPIConfig') throw new ConfigError(`${file}: kind: expected CalicoAPIConfig, got ${JSON.stringify(d['kind'] ?? '')}`);
  const spec = d['spec'] ?? {};
  if (typeof spec !== 'object' || Array.isArray(spec)) throw new ConfigError(`${file}: spec: must be a mapping`);
  const raw: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(spec as Record<string, unknown>)) {
    const type = SPEC_FIELDS[k];
    if (!type) throw new ConfigError(`${file}: spec.${k}: unknown field`);
    if (v === null || v === undefined) continue;
    if (typeof v !== type) throw new ConfigError(`${file}: spec.${k}: must be a ${type}, not ${JSON.stringify(v)}`);
    if (type === 'string') raw[k] = v as string;
    else if (k === 'k8sInsecureSkipTLSVerify') raw[k] = String(v);
  }
  return build(raw, (field) => `${file}: spec.${field}`);
}

export interface LoadOptions {
  /** An explicitly chosen file; it must exist. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  /** The file tried when none is chosen (default /etc/tabby/ctl.cfg); if missing, the environment is used. */
  defaultFile?: string;
}

/** calicoctl's rule: the named file (which must exist), else the default file if present, else the environment. */
export async function loadClientConfig(opts: LoadOptions = {}): Promise<ClientConfig> {
  if (opts.configFile !== undefined) {
    if (!existsSync(opts.configFile)) throw new ConfigError(`config file ${opts.configFile} does not exist`);
    return configFromFile(opts.configFile);
  }
  const def = opts.defaultFile ?? DEFAULT_CONFIG_FILE;
  if (existsSync(def)) return configFromFile(def);
  return configFromEnv(opts.env ?? process.env);
}

/** The etcd client options a config asks for. */
export function etcdOptionsOf(cfg: ClientConfig): EtcdOptions {
  const o: EtcdOptions = { endpoints: cfg.etcdEndpoints };
  if (cfg.etcdCACertFile) o.caFile = cfg.etcdCACertFile;
  if (cfg.etcdCertFile) o.certFile = cfg.etcdCertFile;
  if (cfg.etcdKeyFile) o.keyFile = cfg.etcdKeyFile;
  if (cfg.etcdCACert) o.caCert = cfg.etcdCACert;
  if (cfg.etcdCert) o.cert = cfg.etcdCert;
  if (cfg.etcdKey) o.key = cfg.etcdKey;
  // As libcalico-go: credentials are used only when both are set.
  if (cfg.etcdUsername && cfg.etcdPassword) {
    o.username = cfg.etcdUsername;
    o.password = cfg.etcdPassword;
  }
  return o;
}

/** The Kubernetes client options a config asks for. */
export function kubeOptionsOf(cfg: ClientConfig): KubeOptions {
  const o: KubeOptions = {};
  if (cfg.kubeconfig) o.kubeconfig = cfg.kubeconfig;
  if (cfg.k8sAPIEndpoint) o.apiEndpoint = cfg.k8sAPIEndpoint;
  if (cfg.k8sAPIToken) o.token = cfg.k8sAPIToken;
  if (cfg.k8sCAFile) o.caFile = cfg.k8sCAFile;
  if (cfg.k8sCertFile) o.certFile = cfg.k8sCertFile;
  if (cfg.k8sKeyFile) o.keyFile = cfg.k8sKeyFile;
  if (cfg.k8sInsecureSkipTLSVerify !== undefined) o.insecureSkipTLSVerify = cfg.k8sInsecureSkipTLSVerify;
  return o;
}

/** Opens the datastore a config describes. Both clients connect lazily, on the first call. */
export async function createDatastore(cfg: ClientConfig): Promise<Datastore> {
  if (cfg.datastoreType === 'kubernetes') return new KubeDatastore(kubeOptionsOf(cfg));
  return new EtcdDatastore(etcdOptionsOf(cfg));
}

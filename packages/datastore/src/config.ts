// Client connection settings, the way calicoctl and calico-node find them: a CalicoAPIConfig
// file when there is one, else the environment.

import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { Datastore } from './datastore.js';
import { ConnectionError } from './errors.js';
import { EtcdDatastore } from './etcd/etcd-datastore.js';

export const DEFAULT_CONFIG_FILE = '/etc/tabby/ctl.cfg';
export const DEFAULT_ETCD_ENDPOINT = 'http://127.0.0.1:2379';

export type DatastoreType = 'etcdv3' | 'kubernetes';

export interface ClientConfig {
  datastoreType: DatastoreType;
  etcdEndpoints: string[];
  etcdCACertFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
  etcdUsername?: string;
  etcdPassword?: string;
  kubeconfig?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const SPEC_FIELDS = ['datastoreType', 'etcdEndpoints', 'etcdCACertFile', 'etcdCertFile', 'etcdKeyFile', 'etcdUsername', 'etcdPassword', 'kubeconfig', 'k8sAPIEndpoint', 'k8sAPIToken', 'k8sCAFile', 'k8sCertFile', 'k8sKeyFile', 'k8sInsecureSkipTLSVerify'];

function endpoints(v: string, where: string): string[] {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const e of list) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(e)) throw new ConfigError(`${where}: "${e}" is not an etcd endpoint URL (expected http(s)://host:port)`);
  }
  if (!list.length) throw new ConfigError(`${where}: no etcd endpoints given`);
  return list;
}

function datastoreType(v: string, where: string): DatastoreType {
  if (v === 'etcdv3' || v === 'kubernetes') return v;
  throw new ConfigError(`${where}: unknown datastore type "${v}" (expected etcdv3 or kubernetes)`);
}

export function configFromEnv(env: NodeJS.ProcessEnv): ClientConfig {
  const opt = (k: string) => (env[k] ? { [k]: env[k] } : {});
  const c: ClientConfig = {
    datastoreType: datastoreType(env['DATASTORE_TYPE'] || 'etcdv3', 'DATASTORE_TYPE'),
    etcdEndpoints: endpoints(env['ETCD_ENDPOINTS'] || DEFAULT_ETCD_ENDPOINT, 'ETCD_ENDPOINTS'),
  };
  const map: Record<string, keyof ClientConfig> = {
    ETCD_CA_CERT_FILE: 'etcdCACertFile', ETCD_CERT_FILE: 'etcdCertFile', ETCD_KEY_FILE: 'etcdKeyFile',
    ETCD_USERNAME: 'etcdUsername', ETCD_PASSWORD: 'etcdPassword', KUBECONFIG: 'kubeconfig',
  };
  for (const [envName, field] of Object.entries(map)) {
    const v = opt(envName)[envName];
    if (v) (c as unknown as Record<string, string>)[field] = v;
  }
  return c;
}

export function configFromFile(file: string): ClientConfig {
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const d = (doc ?? {}) as Record<string, unknown>;
  if (d['kind'] !== 'CalicoAPIConfig') throw new ConfigError(`${file}: kind must be CalicoAPIConfig, not ${JSON.stringify(d['kind'])}`);
  const spec = (d['spec'] ?? {}) as Record<string, unknown>;
  if (typeof spec !== 'object' || Array.isArray(spec)) throw new ConfigError(`${file}: spec must be a mapping`);
  for (const [k, v] of Object.entries(spec)) {
    if (!SPEC_FIELDS.includes(k)) throw new ConfigError(`${file}: spec.${k}: unknown field`);
    if (v !== null && typeof v !== 'string' && typeof v !== 'boolean') throw new ConfigError(`${file}: spec.${k}: must be a string`);
  }
  const s = (k: string) => (typeof spec[k] === 'string' && spec[k] !== '' ? (spec[k] as string) : undefined);
  const c: ClientConfig = {
    datastoreType: datastoreType(s('datastoreType') ?? 'etcdv3', `${file}: spec.datastoreType`),
    etcdEndpoints: endpoints(s('etcdEndpoints') ?? DEFAULT_ETCD_ENDPOINT, `${file}: spec.etcdEndpoints`),
  };
  for (const k of ['etcdCACertFile', 'etcdCertFile', 'etcdKeyFile', 'etcdUsername', 'etcdPassword', 'kubeconfig'] as const) {
    const v = s(k);
    if (v) c[k] = v;
  }
  return c;
}

export interface LoadOptions {
  /** An explicitly chosen file; it must exist. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  /** The file tried when none is chosen; a missing default means "use the environment". */
  defaultFile?: string;
}

/** calicoctl's rule: the config file if present (required when named explicitly), else the environment. */
export async function loadClientConfig(opts: LoadOptions = {}): Promise<ClientConfig> {
  const env = opts.env ?? process.env;
  if (opts.configFile !== undefined) {
    if (!existsSync(opts.configFile)) throw new ConfigError(`config file ${opts.configFile} does not exist`);
    return configFromFile(opts.configFile);
  }
  const def = opts.defaultFile ?? DEFAULT_CONFIG_FILE;
  if (existsSync(def)) return configFromFile(def);
  return configFromEnv(env);
}

export async function createDatastore(cfg: ClientConfig): Promise<Datastore> {
  if (cfg.datastoreType === 'kubernetes') {
    throw new ConnectionError('DATASTORE_TYPE=kubernetes is not supported yet; use etcdv3');
  }
  return new EtcdDatastore({
    endpoints: cfg.etcdEndpoints,
    ...(cfg.etcdCACertFile ? { caFile: cfg.etcdCACertFile } : {}),
    ...(cfg.etcdCertFile ? { certFile: cfg.etcdCertFile } : {}),
    ...(cfg.etcdKeyFile ? { keyFile: cfg.etcdKeyFile } : {}),
    ...(cfg.etcdUsername ? { username: cfg.etcdUsername } : {}),
    ...(cfg.etcdPassword ? { password: cfg.etcdPassword } : {}),
  });
}

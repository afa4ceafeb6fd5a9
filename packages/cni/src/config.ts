// The network configuration a runtime writes on stdin: the standard CNI keys plus Calico's own
// (datastore_type, etcd_*, nodename, mtu, ipam.ipv4_pools, log_level, ...). Parsing is pure;
// errors are the spec's code 7 (6 for text that is not JSON) and name the key and the value.

import { CniCode, CniError } from './errors.js';
import { requireSupportedVersion, type CniVersion } from './version.js';

export const DEFAULT_MTU = 1500;
export const DEFAULT_NODENAME_FILE = '/var/lib/calico/nodename';
/** Calico's IPAM lock file: plugin runs on a node take turns at IPAM through it. */
export const DEFAULT_IPAM_LOCK_FILE = '/var/run/calico/ipam.lock';
export const DEFAULT_ETCD_ENDPOINT = 'http://127.0.0.1:2379';
export const TABBY_IPAM = 'tabby-ipam';

export interface Dns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface IpamConf {
  type: string;
  ipv4Pools?: string[];
  ipv6Pools?: string[];
  assignIpv4: boolean;
  assignIpv6: boolean;
}

export interface EtcdConf {
  endpoints: string[];
  caCertFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** `kubernetes` section (datastore_type kubernetes): how the plugin reaches the API server. */
export interface KubernetesConf {
  kubeconfig?: string;
  /** Calico's k8s_api_root: the API server URL, used instead of the kubeconfig's. */
  apiRoot?: string;
}

export interface NetConf {
  cniVersion: CniVersion;
  /** The network name; IPAM handles are `<name>.<containerID>`. */
  name: string;
  type: string;
  datastoreType: 'etcdv3' | 'kubernetes';
  etcd: EtcdConf;
  /** Set when datastoreType is kubernetes. */
  kubernetes?: KubernetesConf;
  nodename?: string;
  nodenameFile: string;
  /** When false, a configured nodename_file that does not exist is an error. */
  nodenameFileOptional: boolean;
  nodenameFileGiven: boolean;
  mtu: number;
  ipam: IpamConf;
  logLevel: string;
  logFilePath?: string;
  /** The host-wide IPAM lock file (`ipam_lock_file`); empty turns the lock off. */
  ipamLockFile: string;
  dns?: Dns;
  /** The previous plugin's result (conflists), still in its own version's format. */
  prevResult?: unknown;
  /** The configuration exactly as received: what is handed on to the IPAM plugin. */
  raw: Record<string, unknown>;
}

function invalid(field: string, value: unknown, why: string): CniError {
  const shown = value === undefined ? '' : ` ${JSON.stringify(value)}`;
  return new CniError(CniCode.invalidNetworkConfig, `network config: ${field}${shown}: ${why}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optString(o: Record<string, unknown>, key: string, field = key): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(field, v, 'must be a string');
  return v;
}

function optStringList(o: Record<string, unknown>, key: string, field: string): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) throw invalid(field, v, 'must be a list of non-empty strings');
  return v as string[];
}

/** Calico writes these as strings ("true"/"false"); plain JSON booleans are accepted as well. */
function optBool(o: Record<string, unknown>, key: string, field: string, def: boolean): boolean {
  const v = o[key];
  if (v === undefined || v === null || v === '') return def;
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalid(field, v, 'must be true or false');
}

const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const LOG_LEVELS = ['panic', 'fatal', 'error', 'warning', 'warn', 'info', 'debug', 'trace'];

function parseEtcd(o: Record<string, unknown>): EtcdConf {
  const text = optString(o, 'etcd_endpoints') ?? DEFAULT_ETCD_ENDPOINT;
  const endpoints = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!endpoints.length) throw invalid('etcd_endpoints', text, 'lists no endpoint');
  for (const e of endpoints) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(e)) throw invalid('etcd_endpoints', text, `"${e}" is not an etcd URL such as http://10.0.0.1:2379`);
  }
  if (new Set(endpoints.map((e) => e.split(':')[0])).size > 1) throw invalid('etcd_endpoints', text, 'mixes http:// and https:// endpoints');
  const etcd: EtcdConf = { endpoints };
  const ca = optString(o, 'etcd_ca_cert_file');
  const cert = optString(o, 'etcd_cert_file');
  const key = optString(o, 'etcd_key_file');
  if (ca) etcd.caCertFile = ca;
  if (cert) etcd.certFile = cert;
  if (key) etcd.keyFile = key;
  if (!!cert !== !!key) throw invalid(cert ? 'etcd_key_file' : 'etcd_cert_file', undefined, 'is required: a client certificate needs its key and a key its certificate');
  return etcd;
}

function parseKubernetes(v: unknown): KubernetesConf {
  if (v !== undefined && v !== null && !isObject(v)) throw invalid('kubernetes', v, 'must be an object');
  const o = (v ?? {}) as Record<string, unknown>;
  const k: KubernetesConf = {};
  const kubeconfig = optString(o, 'kubeconfig', 'kubernetes.kubeconfig');
  const root = optString(o, 'k8s_api_root', 'kubernetes.k8s_api_root');
  if (kubeconfig) k.kubeconfig = kubeconfig;
  if (root) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(root)) throw invalid('kubernetes.k8s_api_root', root, 'is not an API server URL such as https://10.96.0.1:443');
    k.apiRoot = root;
  }
  if (!k.kubeconfig) throw invalid('kubernetes.kubeconfig', undefined, 'is required with datastore_type kubernetes (e.g. /etc/cni/net.d/tabby-kubeconfig)');
  return k;
}

function parseIpam(v: unknown): IpamConf {
  if (v === undefined || v === null) throw invalid('ipam', undefined, `is required (e.g. {"type": "${TABBY_IPAM}"})`);
  if (!isObject(v)) throw invalid('ipam', v, 'must be an object');
  const type = optString(v, 'type', 'ipam.type');
  if (!type) throw invalid('ipam.type', undefined, `is required (e.g. "${TABBY_IPAM}")`);
  if (type.includes('/') || type === '.' || type === '..') throw invalid('ipam.type', type, 'must be a plugin name, not a path');
  const ipam: IpamConf = {
    type,
    assignIpv4: optBool(v, 'assign_ipv4', 'ipam.assign_ipv4', true),
    assignIpv6: optBool(v, 'assign_ipv6', 'ipam.assign_ipv6', false),
  };
  const v4 = optStringList(v, 'ipv4_pools', 'ipam.ipv4_pools');
  const v6 = optStringList(v, 'ipv6_pools', 'ipam.ipv6_pools');
  if (v4) ipam.ipv4Pools = v4;
  if (v6) ipam.ipv6Pools = v6;
  return ipam;
}

function parseDns(v: unknown): Dns | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalid('dns', v, 'must be an object');
  const dns: Dns = {};
  const ns = optStringList(v, 'nameservers', 'dns.nameservers');
  const domain = optString(v, 'domain', 'dns.domain');
  const search = optStringList(v, 'search', 'dns.search');
  const options = optStringList(v, 'options', 'dns.options');
  if (ns) dns.nameservers = ns;
  if (domain) dns.domain = domain;
  if (search) dns.search = search;
  if (options) dns.options = options;
  return dns;
}

function parseMtu(v: unknown): number {
  if (v === undefined || v === null || v === 0) return DEFAULT_MTU;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 68 || v > 65535) throw invalid('mtu', v, 'must be an integer from 68 to 65535 (0 or absent: 1500)');
  return v;
}

/** The JSON text of stdin: code 6 if it is not JSON, code 1 for an unsupported cniVersion, else code 7. */
export function decodeConfig(text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CniError(CniCode.decodingFailure, `network config on stdin is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new CniError(CniCode.decodingFailure, 'network config on stdin must be a JSON object');
  return doc;
}

export function parseNetConf(text: string): NetConf {
  const o = decodeConfig(text);
  const cniVersion = requireSupportedVersion(o['cniVersion']);
  const name = optString(o, 'name');
  if (!name) throw invalid('name', undefined, 'is required');
  if (!NETWORK_NAME.test(name)) throw invalid('name', name, 'must start with a letter or digit and hold only letters, digits, "_", "." and "-"');
  const type = optString(o, 'type');
  if (!type) throw invalid('type', undefined, 'is required');

  const ds = optString(o, 'datastore_type') || 'etcdv3';
  if (ds !== 'etcdv3' && ds !== 'kubernetes') throw invalid('datastore_type', ds, 'unknown datastore type (expected etcdv3 or kubernetes)');

  const logLevel = optString(o, 'log_level') || 'info';
  if (!LOG_LEVELS.includes(logLevel.toLowerCase())) throw invalid('log_level', logLevel, `must be one of ${LOG_LEVELS.join(', ')}`);

  const nodename = optString(o, 'nodename');
  const nodenameFile = optString(o, 'nodename_file');
  const conf: NetConf = {
    cniVersion,
    name,
    type,
    datastoreType: ds,
    etcd: parseEtcd(o),
    nodenameFile: nodenameFile || DEFAULT_NODENAME_FILE,
    nodenameFileGiven: !!nodenameFile,
    nodenameFileOptional: optBool(o, 'nodename_file_optional', 'nodename_file_optional', false),
    mtu: parseMtu(o['mtu']),
    ipam: parseIpam(o['ipam']),
    ipamLockFile: optString(o, 'ipam_lock_file') ?? DEFAULT_IPAM_LOCK_FILE,
    logLevel,
    raw: o,
  };
  if (nodename) conf.nodename = nodename;
  if (ds === 'kubernetes') conf.kubernetes = parseKubernetes(o['kubernetes']);
  const logFile = optString(o, 'log_file_path');
  if (logFile) conf.logFilePath = logFile;
  const dns = parseDns(o['dns']);
  if (dns) conf.dns = dns;
  if (o['prevResult'] !== undefined && o['prevResult'] !== null) {
    if (!isObject(o['prevResult'])) throw invalid('prevResult', o['prevResult'], 'must be an object');
    conf.prevResult = o['prevResult'];
  }
  return conf;
}

export interface NodenameSources {
  readFile(path: string): string | undefined;
  hostname(): string;
}

/**
 * This node's name as Calico's plugin finds it: `nodename` from the config, else the content of
 * nodename_file (written by the node agent), else the host name. A nodename_file named in the
 * config must exist unless nodename_file_optional is true.
 */
export function resolveNodename(conf: NetConf, src: NodenameSources): string {
  if (conf.nodename) return conf.nodename;
  const fromFile = src.readFile(conf.nodenameFile)?.trim();
  if (fromFile) return fromFile;
  if (conf.nodenameFileGiven && !conf.nodenameFileOptional) {
    throw invalid('nodename_file', conf.nodenameFile, 'does not exist or is empty: check that the node agent is running and has written it, or set nodename');
  }
  const host = src.hostname().trim().toLowerCase();
  if (!host) throw invalid('nodename', undefined, 'is not set and the host name is empty');
  return host;
}

// The node agent's configuration: calico-node's environment variables, read once at start.
// Pure: every variable is checked here and a bad value is reported with its name.

import { hostname } from 'node:os';
import { isIPv4, isIPv6 } from 'node:net';
import { parseCidrOrIpLoose, canonicalCidr } from '@tabby/linux';

export type NetworkingBackend = 'bird' | 'vxlan' | 'none';
export type EncapMode = 'Always' | 'CrossSubnet' | 'Never';

/** How this node's address is found (IP_AUTODETECTION_METHOD). */
export type AutodetectMethod =
  | { kind: 'first-found' }
  | { kind: 'can-reach'; destination: string }
  | { kind: 'interface'; patterns: RegExp[] }
  | { kind: 'skip-interface'; patterns: RegExp[] }
  | { kind: 'cidr'; cidrs: string[] };

/** IP / IP6: autodetect, a fixed address with prefix length, or none. */
export type AddressSetting = { kind: 'autodetect' } | { kind: 'none' } | { kind: 'fixed'; cidr: string };

export interface PoolSetting {
  cidr: string;
  blockSize: number;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  natOutgoing: boolean;
  nodeSelector: string;
}

export interface NodeAgentConfig {
  nodename: string;
  ip: AddressSetting;
  ip6: AddressSetting;
  autodetect4: AutodetectMethod;
  autodetect6: AutodetectMethod;
  /** AS number for this node (unset: the cluster default applies). */
  as?: number;
  backend: NetworkingBackend;
  defaultPools: { v4?: PoolSetting; v6?: PoolSetting };
  /** Where bgpd's config, control socket and pid file live. */
  stateDir: string;
  /** Port of the agent's own /liveness and /readiness (0 = off). */
  healthPort: number;
  healthHost: string;
  /** Felix's health port (FELIX_HEALTHPORT), which the agent polls for readiness. */
  felixHealthPort: number;
  /** Port of the agent's Prometheus /metrics (TABBY_NODE_METRICS_PORT; 0 = off, the default). */
  metricsPort: number;
  metricsHost: string;
  /** Run felix / confd+bgpd (the backend decides the latter); for debugging single parts. */
  runFelix: boolean;
}

export class EnvError extends Error {
  override name = 'EnvError';
  constructor(readonly variable: string, readonly value: string | undefined, reason: string) {
    super(`${variable}=${JSON.stringify(value ?? '')}: ${reason}`);
  }
}

type Env = NodeJS.ProcessEnv;

function bool(env: Env, name: string, dflt: boolean): boolean {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  throw new EnvError(name, v, 'must be true or false');
}

function int(env: Env, name: string, min: number, max: number, dflt: number): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new EnvError(name, v, `must be an integer from ${min} to ${max}`);
  return n;
}

function encap(env: Env, name: string, dflt: EncapMode): EncapMode {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  // Calico accepts the modes case-insensitively and "Off" as Never.
  const m = ({ always: 'Always', crosssubnet: 'CrossSubnet', never: 'Never', off: 'Never' } as const)[v.toLowerCase() as 'always'];
  if (!m) throw new EnvError(name, v, 'must be Always, CrossSubnet or Never');
  return m;
}

function cidr(name: string, v: string, family: 4 | 6): string {
  const c = parseCidrOrIpLoose(v);
  if (!c || c.family !== family || !v.includes('/')) throw new EnvError(name, v, `must be an IPv${family} CIDR such as ${family === 4 ? '192.168.0.0/16' : 'fd00:10:244::/64'}`);
  return canonicalCidr(c);
}

function address(env: Env, name: string, family: 4 | 6, dflt: AddressSetting['kind']): AddressSetting {
  const v = env[name];
  if (v === undefined || v === '') return dflt === 'fixed' ? { kind: 'none' } : { kind: dflt };
  if (v === 'autodetect') return { kind: 'autodetect' };
  if (v === 'none') return { kind: 'none' };
  const [ip, len] = v.split('/');
  if (!(family === 4 ? isIPv4(ip!) : isIPv6(ip!)) || (len !== undefined && !/^\d+$/.test(len))) {
    throw new EnvError(name, v, `must be autodetect, none, or an IPv${family} address (optionally with a prefix length)`);
  }
  const max = family === 4 ? 32 : 128;
  if (len !== undefined && Number(len) > max) throw new EnvError(name, v, `prefix length must be at most ${max}`);
  // Calico keeps the host part: the Node records "10.0.0.5/24", not the network.
  return { kind: 'fixed', cidr: `${ip}/${len ?? max}` };
}

function patterns(name: string, v: string, list: string): RegExp[] {
  return list.split(',').map((p) => {
    try {
      return new RegExp(`^(?:${p.trim()})$`);
    } catch (e) {
      throw new EnvError(name, v, `bad regular expression ${JSON.stringify(p)}: ${(e as Error).message}`);
    }
  });
}

export function parseAutodetect(name: string, v: string | undefined, family: 4 | 6): AutodetectMethod {
  if (v === undefined || v === '' || v === 'first-found') return { kind: 'first-found' };
  const eq = v.indexOf('=');
  const key = eq < 0 ? v : v.slice(0, eq);
  const arg = eq < 0 ? '' : v.slice(eq + 1);
  switch (key) {
    case 'can-reach': {
      if (!arg) throw new EnvError(name, v, 'can-reach= needs a destination (address or host name)');
      return { kind: 'can-reach', destination: arg };
    }
    case 'interface':
      if (!arg) throw new EnvError(name, v, 'interface= needs a comma-separated list of regular expressions');
      return { kind: 'interface', patterns: patterns(name, v, arg) };
    case 'skip-interface':
      if (!arg) throw new EnvError(name, v, 'skip-interface= needs a comma-separated list of regular expressions');
      return { kind: 'skip-interface', patterns: patterns(name, v, arg) };
    case 'cidr':
      if (!arg) throw new EnvError(name, v, 'cidr= needs a comma-separated list of CIDRs');
      return { kind: 'cidr', cidrs: arg.split(',').map((c) => cidr(name, c.trim(), family)) };
    default:
      throw new EnvError(name, v, 'must be first-found, can-reach=DEST, interface=REGEX, skip-interface=REGEX or cidr=CIDR[,CIDR]');
  }
}

function pool(env: Env, family: 4 | 6, backend: NetworkingBackend): PoolSetting {
  const p = `CALICO_IPV${family}POOL_`;
  const dfltCidr = family === 4 ? '192.168.0.0/16' : undefined;
  const raw = env[`${p}CIDR`];
  const c = raw ? cidr(`${p}CIDR`, raw, family) : dfltCidr;
  if (!c) throw new EnvError(`${p}CIDR`, raw, 'is required for an IPv6 pool');
  // calico-node's defaults: IPIP Always for IPv4 with the BIRD backend, VXLAN Always with the VXLAN backend.
  const ipipDefault: EncapMode = family === 4 && backend === 'bird' ? 'Always' : 'Never';
  const vxlanDefault: EncapMode = backend === 'vxlan' ? 'Always' : 'Never';
  const ipipMode = encap(env, `${p}IPIP`, ipipDefault);
  const vxlanMode = encap(env, `${p}VXLAN`, vxlanDefault);
  if (ipipMode !== 'Never' && vxlanMode !== 'Never') throw new EnvError(`${p}VXLAN`, env[`${p}VXLAN`], `cannot be enabled together with ${p}IPIP=${ipipMode}`);
  if (family === 6 && ipipMode !== 'Never') throw new EnvError(`${p}IPIP`, env[`${p}IPIP`], 'IPIP is IPv4 only');
  const blockSize = int(env, `${p}BLOCK_SIZE`, family === 4 ? 20 : 116, family === 4 ? 32 : 128, family === 4 ? 26 : 122);
  const prefixLen = Number(c.split('/')[1]);
  if (blockSize < prefixLen) throw new EnvError(`${p}BLOCK_SIZE`, String(blockSize), `must not be shorter than the pool's prefix length /${prefixLen}`);
  return {
    cidr: c,
    blockSize,
    ipipMode,
    vxlanMode,
    natOutgoing: bool(env, `${p}NAT_OUTGOING`, family === 4),
    nodeSelector: env[`${p}NODE_SELECTOR`] || 'all()',
  };
}

/** Reads the agent's configuration; throws EnvError naming the first bad variable. */
export function configFromEnv(env: Env = process.env): NodeAgentConfig {
  const backendRaw = env['CALICO_NETWORKING_BACKEND'] || 'bird';
  if (backendRaw !== 'bird' && backendRaw !== 'vxlan' && backendRaw !== 'none') {
    throw new EnvError('CALICO_NETWORKING_BACKEND', backendRaw, 'must be bird, vxlan or none');
  }
  const backend: NetworkingBackend = backendRaw;
  const nodename = (env['NODENAME'] || env['HOSTNAME'] || hostname()).trim().toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(nodename)) throw new EnvError('NODENAME', nodename, 'must be a DNS subdomain (lower-case letters, digits, "-" and ".")');
  let as: number | undefined;
  const asRaw = env['AS'];
  if (asRaw) {
    const m = /^(\d+)(?:\.(\d+))?$/.exec(asRaw);
    const n = m ? (m[2] !== undefined ? Number(m[1]) * 65536 + Number(m[2]) : Number(m[1])) : NaN;
    if (!m || !(n >= 1 && n <= 0xffffffff) || (m[2] !== undefined && (Number(m[1]) > 65535 || Number(m[2]) > 65535))) {
      throw new EnvError('AS', asRaw, 'must be an AS number from 1 to 4294967295 (asplain or asdot)');
    }
    as = n;
  }
  const noPools = bool(env, 'NO_DEFAULT_POOLS', false);
  const defaultPools: NodeAgentConfig['defaultPools'] = {};
  if (!noPools) {
    defaultPools.v4 = pool(env, 4, backend);
    if (env['CALICO_IPV6POOL_CIDR']) defaultPools.v6 = pool(env, 6, backend);
  }
  return {
    nodename,
    ip: address(env, 'IP', 4, 'autodetect'),
    ip6: address(env, 'IP6', 6, 'none'),
    autodetect4: parseAutodetect('IP_AUTODETECTION_METHOD', env['IP_AUTODETECTION_METHOD'], 4),
    autodetect6: parseAutodetect('IP6_AUTODETECTION_METHOD', env['IP6_AUTODETECTION_METHOD'], 6),
    ...(as !== undefined ? { as } : {}),
    backend,
    defaultPools,
    stateDir: env['TABBY_STATE_DIR'] || '/var/run/tabby',
    healthPort: int(env, 'TABBY_NODE_HEALTH_PORT', 0, 65535, 9098),
    healthHost: env['TABBY_NODE_HEALTH_HOST'] || '127.0.0.1',
    felixHealthPort: int(env, 'FELIX_HEALTHPORT', 1, 65535, 9099),
    metricsPort: int(env, 'TABBY_NODE_METRICS_PORT', 0, 65535, 0),
    metricsHost: env['TABBY_NODE_METRICS_HOST'] || '',
    runFelix: bool(env, 'TABBY_RUN_FELIX', true),
  };
}

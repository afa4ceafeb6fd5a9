// Felix's settings, merged as Calico merges them: FELIX_<NAME> environment variables win over
// FelixConfiguration `node.<nodename>`, which wins over FelixConfiguration `default`, which wins
// over the built-in defaults. Pure: the daemon passes the environment and the resources in.

import type { FelixConfiguration, FelixConfigurationSpec } from '@tabby/api';
import type { IptablesBackendSetting } from '../dataplane/iptables-backend.js';

export interface FelixSettings {
  nodeName: string;
  logSeverityScreen: string;
  iptablesBackend: IptablesBackendSetting;
  /** 0 disables the periodic refresh. */
  iptablesRefreshIntervalMs: number;
  routeRefreshIntervalMs: number;
  healthEnabled: boolean;
  healthHost: string;
  healthPort: number;
  prometheusMetricsEnabled: boolean;
  prometheusMetricsHost: string;
  prometheusMetricsPort: number;
  interfacePrefixes: string[];
  vxlanVni: number;
  vxlanPort: number;
  vxlanMtu?: number;
  deviceRouteProtocol: number;
  removeExternalRoutes: boolean;
  /** Program policy for IPv6 too (ip6tables, cali60 sets); Calico's default true. */
  ipv6Support: boolean;
}

export const DEFAULT_SETTINGS: Omit<FelixSettings, 'nodeName'> = Object.freeze({
  logSeverityScreen: 'Info',
  iptablesBackend: 'auto',
  iptablesRefreshIntervalMs: 90_000,
  routeRefreshIntervalMs: 90_000,
  healthEnabled: true,
  healthHost: 'localhost',
  healthPort: 9099,
  prometheusMetricsEnabled: false,
  prometheusMetricsHost: '',
  prometheusMetricsPort: 9091,
  interfacePrefixes: ['cali'],
  vxlanVni: 4096,
  vxlanPort: 4789,
  deviceRouteProtocol: 80,
  removeExternalRoutes: true,
  ipv6Support: true,
});

export class FelixConfigError extends Error {
  override name = 'FelixConfigError';
}

/** Go duration ("90s", "1m30s", "500ms") or a plain number of seconds (what FELIX_* env vars use). */
export function parseDurationMs(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v * 1000;
  if (typeof v !== 'string') throw new FelixConfigError(`${where}: not a duration: ${JSON.stringify(v)}`);
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) { total += Number(m[1]) * units[m[2]!]!; pos = re.lastIndex; }
  if (pos !== s.length || s === '') throw new FelixConfigError(`${where}: not a duration: ${JSON.stringify(v)}`);
  return total;
}

function bool(v: unknown, where: string): boolean {
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['true', '1', 'yes', 'y', 't'].includes(s)) return true;
  if (['false', '0', 'no', 'n', 'f'].includes(s)) return false;
  throw new FelixConfigError(`${where}: not a boolean: ${JSON.stringify(v)}`);
}

function port(v: unknown, where: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new FelixConfigError(`${where}: not a port: ${JSON.stringify(v)}`);
  return n;
}

function int(v: unknown, where: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new FelixConfigError(`${where}: not a non-negative integer: ${JSON.stringify(v)}`);
  return n;
}

function backend(v: unknown, where: string): IptablesBackendSetting {
  const s = String(v).toLowerCase();
  if (s === 'auto' || s === 'legacy' || s === 'nft') return s;
  throw new FelixConfigError(`${where}: must be Auto, Legacy or NFT, not ${JSON.stringify(v)}`);
}

/** FelixConfiguration field name -> how to apply it. Env names are FELIX_ + the upper-cased field. */
const FIELDS: Record<string, (s: FelixSettings, v: unknown, where: string) => void> = {
  logSeverityScreen: (s, v) => { s.logSeverityScreen = String(v); },
  iptablesBackend: (s, v, w) => { s.iptablesBackend = backend(v, w); },
  iptablesRefreshInterval: (s, v, w) => { s.iptablesRefreshIntervalMs = parseDurationMs(v, w); },
  routeRefreshInterval: (s, v, w) => { s.routeRefreshIntervalMs = parseDurationMs(v, w); },
  healthEnabled: (s, v, w) => { s.healthEnabled = bool(v, w); },
  healthHost: (s, v) => { s.healthHost = String(v); },
  healthPort: (s, v, w) => { s.healthPort = port(v, w); },
  prometheusMetricsEnabled: (s, v, w) => { s.prometheusMetricsEnabled = bool(v, w); },
  prometheusMetricsHost: (s, v) => { s.prometheusMetricsHost = String(v); },
  prometheusMetricsPort: (s, v, w) => { s.prometheusMetricsPort = port(v, w); },
  interfacePrefix: (s, v) => { s.interfacePrefixes = String(v).split(',').map((x) => x.trim()).filter(Boolean); },
  vxlanVNI: (s, v, w) => { s.vxlanVni = int(v, w); },
  vxlanPort: (s, v, w) => { s.vxlanPort = port(v, w); },
  vxlanMTU: (s, v, w) => { s.vxlanMtu = int(v, w); },
  deviceRouteProtocol: (s, v, w) => { s.deviceRouteProtocol = int(v, w); },
  removeExternalRoutes: (s, v, w) => { s.removeExternalRoutes = bool(v, w); },
  ipv6Support: (s, v, w) => { s.ipv6Support = bool(v, w); },
};

function applySpec(s: FelixSettings, spec: FelixConfigurationSpec | undefined, where: string): void {
  if (!spec) return;
  for (const [k, f] of Object.entries(FIELDS)) {
    const v = spec[k];
    if (v !== undefined && v !== null && v !== '') f(s, v, `${where} spec.${k}`);
  }
}

/**
 * Merges the settings. `configs` are the FelixConfiguration resources known (any names; only
 * `default` and `node.<nodeName>` count). Throws FelixConfigError naming the bad field.
 */
export function resolveSettings(env: NodeJS.ProcessEnv, configs: Iterable<FelixConfiguration> = []): FelixSettings {
  const nodeName = env['NODENAME'] || env['FELIX_FELIXHOSTNAME'] || env['HOSTNAME'];
  if (!nodeName) throw new FelixConfigError('NODENAME is not set');
  const s: FelixSettings = { ...DEFAULT_SETTINGS, interfacePrefixes: [...DEFAULT_SETTINGS.interfacePrefixes], nodeName };
  const byName = new Map([...configs].map((c) => [c.metadata.name, c]));
  applySpec(s, byName.get('default')?.spec, 'FelixConfiguration default');
  applySpec(s, byName.get(`node.${nodeName}`)?.spec, `FelixConfiguration node.${nodeName}`);
  for (const [k, f] of Object.entries(FIELDS)) {
    const v = env[`FELIX_${k.toUpperCase()}`];
    if (v !== undefined && v !== '') f(s, v, `FELIX_${k.toUpperCase()}`);
  }
  return s;
}

/** Settings that only take effect at start (Calico restarts felix when they change). */
export const RESTART_FIELDS: readonly (keyof FelixSettings)[] = [
  'iptablesBackend', 'ipv6Support', 'healthEnabled', 'healthHost', 'healthPort', 'prometheusMetricsEnabled', 'prometheusMetricsHost',
  'prometheusMetricsPort', 'interfacePrefixes', 'deviceRouteProtocol',
];

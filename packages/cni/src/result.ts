// CNI results: the 1.0.0 shape is kept internally; formatResult writes it in the version the
// runtime asked for (0.3.x and 0.4.0 carry `version` on each IP), parseResult reads any of them
// (a prevResult, or what the IPAM plugin printed).

import { parseCidr, parseIP, type IpVersion } from '@tabby/api';
import { CniError } from './errors.js';
import type { Dns } from './config.js';
import { versionHasIpVersionField, type CniVersion } from './version.js';

export interface ResultInterface {
  name: string;
  mac?: string;
  mtu?: number;
  /** The container's netns path; absent for host-side interfaces. */
  sandbox?: string;
}

export interface ResultIp {
  /** Address with prefix length, e.g. 10.244.1.5/32. */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
}

export interface ResultRoute {
  dst: string;
  gw?: string;
}

export interface Result {
  cniVersion: string;
  interfaces?: ResultInterface[];
  ips?: ResultIp[];
  routes?: ResultRoute[];
  dns?: Dns;
}

/** 4 or 6 for an address with or without a prefix length. */
export function ipVersionOf(address: string): IpVersion {
  const v = (parseCidr(address) ?? parseIP(address))?.version;
  if (!v) throw new Error(`not an IP address: ${address}`);
  return v;
}

function hasDns(d: Dns | undefined): d is Dns {
  return !!d && (!!d.nameservers?.length || !!d.domain || !!d.search?.length || !!d.options?.length);
}

/** The JSON object for `version`, fields in the spec's order, empty lists left out. */
export function formatResult(r: Result, version: CniVersion): Record<string, unknown> {
  const out: Record<string, unknown> = { cniVersion: version };
  if (r.interfaces?.length) out['interfaces'] = r.interfaces.map((i) => ({ ...i }));
  if (r.ips?.length) {
    out['ips'] = r.ips.map((ip) => {
      const o: Record<string, unknown> = {};
      if (versionHasIpVersionField(version)) o['version'] = String(ipVersionOf(ip.address));
      if (ip.interface !== undefined) o['interface'] = ip.interface;
      o['address'] = ip.address;
      if (ip.gateway) o['gateway'] = ip.gateway;
      return o;
    });
  }
  if (r.routes?.length) out['routes'] = r.routes.map((rt) => ({ ...rt }));
  // A DNS object is always present in 0.3+ results; an empty one is what Go plugins print.
  out['dns'] = hasDns(r.dns) ? { ...r.dns } : {};
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a result of any supported version. `where` prefixes every message (e.g. "prevResult" or
 * "IPAM plugin tabby-ipam result") and errors carry `code`.
 */
export function parseResult(v: unknown, where: string, code: number): Result {
  const bad = (field: string, value: unknown, why: string) =>
    new CniError(code, `${where}: ${[field, value === undefined ? '' : JSON.stringify(value)].filter(Boolean).join(' ')}: ${why}`);
  if (!isObject(v)) throw bad('', v, 'must be a JSON object');
  const r: Result = { cniVersion: typeof v['cniVersion'] === 'string' ? v['cniVersion'] : '' };
  const list = (key: string): unknown[] | undefined => {
    const x = v[key];
    if (x === undefined || x === null) return undefined;
    if (!Array.isArray(x)) throw bad(key, x, 'must be a list');
    return x;
  };
  const ifs = list('interfaces');
  if (ifs) {
    r.interfaces = ifs.map((i, n) => {
      if (!isObject(i) || typeof i['name'] !== 'string' || !i['name']) throw bad(`interfaces[${n}]`, i, 'must be an object with a name');
      const o: ResultInterface = { name: i['name'] };
      if (typeof i['mac'] === 'string' && i['mac']) o.mac = i['mac'];
      if (typeof i['mtu'] === 'number') o.mtu = i['mtu'];
      if (typeof i['sandbox'] === 'string' && i['sandbox']) o.sandbox = i['sandbox'];
      return o;
    });
  }
  const ips = list('ips');
  if (ips) {
    r.ips = ips.map((ip, n) => {
      if (!isObject(ip)) throw bad(`ips[${n}]`, ip, 'must be an object');
      const addr = ip['address'];
      const c = typeof addr === 'string' ? parseCidr(addr) : undefined;
      if (!c) throw bad(`ips[${n}].address`, addr, 'must be an address with a prefix length, e.g. 10.0.0.5/32');
      const out: ResultIp = { address: addr as string };
      const ver = ip['version'];
      if (ver !== undefined && ver !== String(c.version)) throw bad(`ips[${n}].version`, ver, `does not match the address (IPv${c.version})`);
      const gw = ip['gateway'];
      if (gw !== undefined && gw !== null && gw !== '') {
        if (typeof gw !== 'string' || !parseIP(gw)) throw bad(`ips[${n}].gateway`, gw, 'must be an IP address');
        out.gateway = gw;
      }
      const idx = ip['interface'];
      if (idx !== undefined && idx !== null) {
        if (typeof idx !== 'number' || !Number.isInteger(idx) || idx < 0 || idx >= (r.interfaces?.length ?? 0)) {
          throw bad(`ips[${n}].interface`, idx, `must be an index into interfaces (0-${(r.interfaces?.length ?? 0) - 1})`);
        }
        out.interface = idx;
      }
      return out;
    });
  }
  const routes = list('routes');
  if (routes) {
    r.routes = routes.map((rt, n) => {
      if (!isObject(rt) || typeof rt['dst'] !== 'string' || !parseCidr(rt['dst'])) throw bad(`routes[${n}].dst`, isObject(rt) ? rt['dst'] : rt, 'must be a CIDR');
      const o: ResultRoute = { dst: rt['dst'] };
      if (typeof rt['gw'] === 'string' && rt['gw']) {
        if (!parseIP(rt['gw'])) throw bad(`routes[${n}].gw`, rt['gw'], 'must be an IP address');
        o.gw = rt['gw'];
      }
      return o;
    });
  }
  if (isObject(v['dns'])) {
    const d = v['dns'];
    const dns: Dns = {};
    if (Array.isArray(d['nameservers'])) dns.nameservers = d['nameservers'].filter((x): x is string => typeof x === 'string');
    if (typeof d['domain'] === 'string' && d['domain']) dns.domain = d['domain'];
    if (Array.isArray(d['search'])) dns.search = d['search'].filter((x): x is string => typeof x === 'string');
    if (Array.isArray(d['options'])) dns.options = d['options'].filter((x): x is string => typeof x === 'string');
    if (hasDns(dns)) r.dns = dns;
  }
  return r;
}

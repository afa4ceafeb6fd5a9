// bgpd's own configuration file (written by confd, or by hand). bgpd knows nothing about
// Calico resources: this is the whole contract between them.

import { isIPv4, isIP } from 'node:net';
import { canonicalCidr, parseCidrOrIpLoose } from '@tabby/linux';
import { parseBfdConfig, type BfdConfig } from '../bfd/config.js';
import { parseFilters, type FilterSpec } from '../policy/filters.js';
import { parseCommunities } from '../policy/communities.js';

export type PeerType = 'mesh' | 'global' | 'node';

export interface PeerConfig {
  address: string;
  asNumber: number;
  /** How `ctl node status` labels the peer. */
  type: PeerType;
  /** Never connect out; wait for the peer. */
  passive: boolean;
  port: number;
  holdTime: number;
  keepaliveTime: number;
  connectRetryTime: number;
  /** Seconds to wait (accepting the peer's connection) before connecting out; 0 = at once. */
  connectDelayTime: number;
  sourceAddress?: string;
  /** Local AS to present to this peer (default: the global asNumber). */
  localAsNumber?: number;
  /**
   * How malformed UPDATEs are handled: `revised` (RFC 7606, the default: treat-as-withdraw or
   * attribute-discard where the RFC allows, keeping the session) or `strict` (RFC 4271: every
   * error resets the session with its NOTIFICATION).
   */
  errorHandling: 'revised' | 'strict';
  /**
   * Graceful restart (RFC 4724, with the N bit of RFC 8538): when enabled, a peer's routes are kept
   * (stale) for its restart time while it restarts, and our own restarts keep the kernel routes
   * and ask the peer to keep ours for `restartTime` seconds.
   */
  gracefulRestart: { enabled: boolean; restartTime: number };
  /** This iBGP peer is a route reflector client of ours (RFC 4456). */
  routeReflectorClient: boolean;
  /** BFD (RFC 5880/5881, single hop): a dead forwarding path ends the session within minInterval × multiplier ms. */
  bfd: BfdConfig;
  /** TCP MD5 signature password (RFC 2385), on both our outgoing and the peer's incoming connections. */
  password?: string;
  /**
   * GTSM (RFC 5082): send with TTL 255 and drop packets from the peer whose TTL shows they
   * crossed more than this many hops (1 = directly connected).
   */
  ttlSecurity?: number;
  /**
   * Most prefixes accepted from the peer (all families together): one more ends the session with
   * Cease/Maximum Number of Prefixes Reached (RFC 4486); a warning is logged at `warnPercent`.
   */
  maxPrefixes?: { limit: number; warnPercent: number };
  /**
   * Next hop sent to the peer: `auto` (RFC 4271: ourselves to eBGP peers, unchanged to iBGP
   * peers and when reflecting), `self` (always ourselves) or `keep` (always unchanged).
   */
  nextHop: 'auto' | 'self' | 'keep';
  /** Accept routes whose AS_PATH holds our own AS up to this many times (0: loop, rejected). */
  allowLocalAs: number;
  /** Names of top-level `filters` applied to this peer's routes, in order (Calico's BGPPeer `filters`). */
  filters?: string[];
  /**
   * ADD-PATH (RFC 7911), like BIRD's `add paths`: `receive` takes several paths per prefix from
   * the peer, `send` gives it up to `maxPaths` of ours (the best first) when it can receive them.
   */
  addPaths?: { send: boolean; receive: boolean; maxPaths: number };
}

export interface OriginateConfig {
  prefix: string;
  /** Also install a local blackhole route for the prefix (as Calico does for its IPAM blocks). */
  blackhole: boolean;
  /** Communities sent with the prefix: `AS:n` (RFC 1997), `g:l1:l2` (RFC 8092) or well-known names. */
  communities?: string[];
}

/**
 * How learned routes inside `prefix` are installed. The most specific rule containing a route's
 * prefix applies (e.g. Calico's IPIP pools: `device: tunl0, onlink: true`; VXLAN pools, whose
 * routes felix programs: `install: false`).
 */
export interface KernelRouteRule {
  prefix: string;
  /** false: keep such routes out of the kernel (they are still used and advertised). */
  install: boolean;
  /** Send via this interface (`dev`). */
  device?: string;
  /** Treat the next hop as directly reachable on `device` (`onlink`). */
  onlink: boolean;
}

export interface KernelConfig {
  enabled: boolean;
  /** Route protocol number marking bgpd's kernel routes. */
  protocol: number;
  table: number;
  routes: KernelRouteRule[];
}

export interface BgpdConfig {
  routerId: string;
  asNumber: number;
  /** Route reflector cluster ID (RFC 4456), written like an IPv4 address; default: the router ID. */
  clusterId?: string;
  listen: { address: string; port: number } | null;
  peers: PeerConfig[];
  originate: OriginateConfig[];
  kernel: KernelConfig;
  /** Named route filters (Calico's BGPFilter), applied per peer through `peers[].filters`. */
  filters?: Record<string, FilterSpec>;
}

/** Distinct from BIRD (12), Felix (80) and the kernel's own numbers. */
export const DEFAULT_KERNEL_PROTOCOL = 201;

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly field: string, readonly value: unknown, readonly reason: string, readonly file?: string) {
    super(`${file ? file + ': ' : ''}${field}: ${reason} (value: ${JSON.stringify(value) ?? 'missing'})`);
  }

  withFile(file: string): ConfigError {
    return this.file ? this : new ConfigError(this.field, this.value, this.reason, file);
  }
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function noUnknown(o: Obj, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new ConfigError(path ? `${path}.${k}` : k, o[k], `unknown field; expected one of ${allowed.join(', ')}`);
  }
}

function int(v: unknown, path: string, min: number, max: number, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(path, v, `must be an integer from ${min} to ${max}`);
  return v;
}

function bool(v: unknown, path: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new ConfigError(path, v, 'must be true or false');
  return v;
}

function ip(v: unknown, path: string, v4only = false): string {
  if (typeof v !== 'string' || !(v4only ? isIPv4(v) : isIP(v))) throw new ConfigError(path, v, v4only ? 'must be an IPv4 address' : 'must be an IP address');
  return v;
}

function gracefulRestart(v: unknown, path: string): PeerConfig['gracefulRestart'] {
  if (v === undefined) return { enabled: false, restartTime: 120 };
  if (typeof v === 'boolean') return { enabled: v, restartTime: 120 };
  if (!isObj(v)) throw new ConfigError(path, v, 'must be a mapping {enabled, restartTime} (or true/false)');
  noUnknown(v, path, ['enabled', 'restartTime']);
  // The capability carries the restart time in 12 bits.
  return { enabled: bool(v['enabled'], `${path}.enabled`, true), restartTime: int(v['restartTime'], `${path}.restartTime`, 1, 4095, 120) };
}

function errorHandling(v: unknown, path: string): 'revised' | 'strict' {
  if (v === undefined) return 'revised';
  if (v !== 'revised' && v !== 'strict') throw new ConfigError(path, v, 'must be revised (RFC 7606) or strict (RFC 4271)');
  return v;
}

function nextHop(v: unknown, path: string): PeerConfig['nextHop'] {
  if (v === undefined) return 'auto';
  if (v !== 'auto' && v !== 'self' && v !== 'keep') throw new ConfigError(path, v, 'must be auto, self or keep');
  return v;
}

/** RFC 2385 keys are at most 80 bytes (the kernel's TCP_MD5SIG_MAXKEYLEN). */
function password(v: unknown, path: string): string {
  if (typeof v !== 'string' || v === '') throw new ConfigError(path, v === undefined ? v : '(hidden)', 'must be a non-empty string');
  const bytes = Buffer.byteLength(v, 'utf8');
  if (bytes > 80) throw new ConfigError(path, '(hidden)', `must be at most 80 bytes long (TCP MD5 key limit); it has ${bytes}`);
  return v;
}

function maxPrefixes(v: unknown, path: string): NonNullable<PeerConfig['maxPrefixes']> {
  if (typeof v === 'number') return { limit: int(v, path, 1, 0xffffffff), warnPercent: 90 };
  if (!isObj(v)) throw new ConfigError(path, v, 'must be a number of prefixes or a mapping {limit, warnPercent}');
  noUnknown(v, path, ['limit', 'warnPercent']);
  return { limit: int(v['limit'], `${path}.limit`, 1, 0xffffffff), warnPercent: int(v['warnPercent'], `${path}.warnPercent`, 1, 100, 90) };
}

/** `true` (both ways, as BIRD's `add paths on`), `send`, `receive`, or {send, receive, maxPaths}. */
function addPaths(v: unknown, path: string): NonNullable<PeerConfig['addPaths']> {
  const DEFAULT_MAX = 8;
  if (v === true) return { send: true, receive: true, maxPaths: DEFAULT_MAX };
  if (v === 'send' || v === 'receive') return { send: v === 'send', receive: v === 'receive', maxPaths: DEFAULT_MAX };
  if (!isObj(v)) throw new ConfigError(path, v, 'must be true, false, send, receive or a mapping {send, receive, maxPaths}');
  noUnknown(v, path, ['send', 'receive', 'maxPaths']);
  return { send: bool(v['send'], `${path}.send`, true), receive: bool(v['receive'], `${path}.receive`, true), maxPaths: int(v['maxPaths'], `${path}.maxPaths`, 1, 64, DEFAULT_MAX) };
}

function filterNames(v: unknown, path: string): string[] {
  if (!Array.isArray(v) || v.some((n) => typeof n !== 'string' || n === '')) throw new ConfigError(path, v, 'must be a list of filter names');
  return v as string[];
}

function holdTime(v: unknown, path: string): number {
  const h = int(v, path, 0, 65535, 90);
  if (h === 1 || h === 2) throw new ConfigError(path, v, 'must be 0 or at least 3 seconds (RFC 4271)');
  return h;
}

/** A prefix in canonical text (RFC 5952 for IPv6); host bits are refused rather than guessed away. */
function prefix(v: unknown, path: string): string {
  const m = typeof v === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(v) : null;
  const fam = m ? isIP(m[1]!) : 0;
  const c = m && fam ? parseCidrOrIpLoose(v as string) : undefined;
  if (!c) throw new ConfigError(path, v, 'must be a prefix such as 10.244.1.0/26');
  const canonical = canonicalCidr(c);
  const full = c.family === 4 ? 32 : 128;
  const bits = BigInt(full - c.len);
  if ((c.addr & ((1n << bits) - 1n)) !== 0n) throw new ConfigError(path, v, `has host bits set (did you mean ${canonical}?)`);
  return canonical;
}

const DEVICE = /^[A-Za-z0-9_.:@-]{1,15}$/;

function kernelRule(v: unknown, path: string): KernelRouteRule {
  if (!isObj(v)) throw new ConfigError(path, v, 'must be a mapping {prefix, install, device, onlink}');
  noUnknown(v, path, ['prefix', 'install', 'device', 'onlink']);
  const rule: KernelRouteRule = {
    prefix: prefix(v['prefix'], `${path}.prefix`),
    install: bool(v['install'], `${path}.install`, true),
    onlink: bool(v['onlink'], `${path}.onlink`, false),
  };
  if (v['device'] !== undefined) {
    if (typeof v['device'] !== 'string' || !DEVICE.test(v['device'])) throw new ConfigError(`${path}.device`, v['device'], 'must be an interface name (1-15 characters, no spaces or "/")');
    rule.device = v['device'];
  }
  if (rule.onlink && !rule.device) throw new ConfigError(`${path}.onlink`, true, 'needs device: the kernel only accepts onlink next hops on a given interface');
  return rule;
}

const PEER_FIELDS = ['address', 'asNumber', 'type', 'passive', 'port', 'holdTime', 'keepaliveTime', 'connectRetryTime', 'connectDelayTime', 'sourceAddress', 'localAsNumber', 'errorHandling', 'gracefulRestart', 'routeReflectorClient',
  'password', 'ttlSecurity', 'maxPrefixes', 'nextHop', 'allowLocalAs', 'filters', 'addPaths'] as const;

function peer(v: unknown, path: string, globalAs: number): PeerConfig {
  if (!isObj(v)) throw new ConfigError(path, v, 'must be a mapping');
  noUnknown(v, path, [...PEER_FIELDS, 'bfd']);
  const hold = holdTime(v['holdTime'], `${path}.holdTime`);
  const keepalive = int(v['keepaliveTime'], `${path}.keepaliveTime`, 0, 21845, Math.floor(hold / 3));
  if (hold > 0 && keepalive > hold) throw new ConfigError(`${path}.keepaliveTime`, keepalive, `must not exceed holdTime (${hold})`);
  const type = v['type'] ?? 'global';
  if (type !== 'mesh' && type !== 'global' && type !== 'node') throw new ConfigError(`${path}.type`, type, 'must be mesh, global or node');
  const pc: PeerConfig = {
    address: ip(v['address'], `${path}.address`),
    asNumber: int(v['asNumber'], `${path}.asNumber`, 1, 0xffffffff),
    type,
    passive: bool(v['passive'], `${path}.passive`, false),
    port: int(v['port'], `${path}.port`, 1, 65535, 179),
    holdTime: hold,
    keepaliveTime: keepalive,
    connectRetryTime: int(v['connectRetryTime'], `${path}.connectRetryTime`, 1, 65535, 5),
    connectDelayTime: int(v['connectDelayTime'], `${path}.connectDelayTime`, 0, 65535, 0),
    errorHandling: errorHandling(v['errorHandling'], `${path}.errorHandling`),
    gracefulRestart: gracefulRestart(v['gracefulRestart'], `${path}.gracefulRestart`),
    routeReflectorClient: bool(v['routeReflectorClient'], `${path}.routeReflectorClient`, false),
    bfd: parseBfdConfig(v['bfd'], `${path}.bfd`, (field, value, reason) => { throw new ConfigError(field, value, reason); }),
    nextHop: nextHop(v['nextHop'], `${path}.nextHop`),
    allowLocalAs: int(v['allowLocalAs'], `${path}.allowLocalAs`, 0, 255, 0),
    ...(v['password'] !== undefined ? { password: password(v['password'], `${path}.password`) } : {}),
    ...(v['filters'] !== undefined ? { filters: filterNames(v['filters'], `${path}.filters`) } : {}),
    ...(v['addPaths'] !== undefined && v['addPaths'] !== false ? { addPaths: addPaths(v['addPaths'], `${path}.addPaths`) } : {}),
    // 255 hops would accept any TTL, i.e. no check at all.
    ...(v['ttlSecurity'] !== undefined ? { ttlSecurity: int(v['ttlSecurity'], `${path}.ttlSecurity`, 1, 254) } : {}),
    ...(v['maxPrefixes'] !== undefined ? { maxPrefixes: maxPrefixes(v['maxPrefixes'], `${path}.maxPrefixes`) } : {}),
    ...(v['sourceAddress'] !== undefined ? { sourceAddress: ip(v['sourceAddress'], `${path}.sourceAddress`) } : {}),
    ...(v['localAsNumber'] !== undefined ? { localAsNumber: int(v['localAsNumber'], `${path}.localAsNumber`, 1, 0xffffffff) } : { localAsNumber: globalAs }),
  };
  if (pc.sourceAddress && isIP(pc.sourceAddress) !== isIP(pc.address)) {
    throw new ConfigError(`${path}.sourceAddress`, pc.sourceAddress, `must be of the same address family as the peer address ${pc.address}`);
  }
  return pc;
}

/** Validates parsed YAML/JSON into a complete config; throws ConfigError naming the field. */
export function parseConfig(doc: unknown, file?: string): BgpdConfig {
  try {
    if (!isObj(doc)) throw new ConfigError('(top level)', doc, 'must be a mapping');
    noUnknown(doc, '', ['routerId', 'asNumber', 'clusterId', 'listen', 'peers', 'originate', 'kernel', 'filters']);
    const filters = parseFilters(doc['filters'], 'filters', (field, value, reason) => { throw new ConfigError(field, value, reason); });
    const asNumber = int(doc['asNumber'], 'asNumber', 1, 0xffffffff);
    let listen: BgpdConfig['listen'] = { address: '0.0.0.0', port: 179 };
    if (doc['listen'] === null || doc['listen'] === false) listen = null;
    else if (doc['listen'] !== undefined) {
      const l = doc['listen'];
      if (!isObj(l)) throw new ConfigError('listen', l, 'must be a mapping {address, port}, or null to not listen');
      noUnknown(l, 'listen', ['address', 'port']);
      listen = { address: l['address'] === undefined ? '0.0.0.0' : ip(l['address'], 'listen.address'), port: int(l['port'], 'listen.port', 1, 65535, 179) };
    }
    const rawPeers = doc['peers'] ?? [];
    if (!Array.isArray(rawPeers)) throw new ConfigError('peers', rawPeers, 'must be a list');
    const peers = rawPeers.map((p, i) => peer(p, `peers[${i}]`, asNumber));
    peers.forEach((p, i) => p.filters?.forEach((n, j) => {
      if (!filters[n]) throw new ConfigError(`peers[${i}].filters[${j}]`, n, `no such filter; defined: ${Object.keys(filters).join(', ') || '(none)'}`);
    }));
    const seen = new Map<string, number>();
    peers.forEach((p, i) => {
      const k = `${p.address}:${p.port}`;
      if (seen.has(k)) throw new ConfigError(`peers[${i}].address`, p.address, `duplicates peers[${seen.get(k)}]`);
      seen.set(k, i);
    });
    const rawOrig = doc['originate'] ?? [];
    if (!Array.isArray(rawOrig)) throw new ConfigError('originate', rawOrig, 'must be a list');
    const originate = rawOrig.map((o, i) => {
      const path = `originate[${i}]`;
      if (!isObj(o)) throw new ConfigError(path, o, 'must be a mapping {prefix, blackhole, communities}');
      noUnknown(o, path, ['prefix', 'blackhole', 'communities']);
      const oc: OriginateConfig = { prefix: prefix(o['prefix'], `${path}.prefix`), blackhole: bool(o['blackhole'], `${path}.blackhole`, false) };
      const cs = o['communities'];
      if (cs !== undefined) {
        if (!Array.isArray(cs)) throw new ConfigError(`${path}.communities`, cs, 'must be a list such as [65000:100, no-export, 65000:1:2]');
        parseCommunities(cs, (j, value, reason) => { throw new ConfigError(`${path}.communities[${j}]`, value, reason); });
        if (cs.length) oc.communities = cs.map(String);
      }
      return oc;
    });
    const k = doc['kernel'] ?? {};
    if (!isObj(k)) throw new ConfigError('kernel', k, 'must be a mapping');
    noUnknown(k, 'kernel', ['enabled', 'protocol', 'table', 'routes']);
    const rawRules = k['routes'] ?? [];
    if (!Array.isArray(rawRules)) throw new ConfigError('kernel.routes', rawRules, 'must be a list');
    const rules = rawRules.map((r, i) => kernelRule(r, `kernel.routes[${i}]`));
    rules.forEach((r, i) => {
      const j = rules.findIndex((o) => o.prefix === r.prefix);
      if (j !== i) throw new ConfigError(`kernel.routes[${i}].prefix`, r.prefix, `duplicates kernel.routes[${j}]`);
    });
    originate.forEach((o, i) => {
      const j = originate.findIndex((x) => x.prefix === o.prefix);
      if (j !== i) throw new ConfigError(`originate[${i}].prefix`, o.prefix, `duplicates originate[${j}]`);
    });
    return {
      routerId: ip(doc['routerId'], 'routerId', true),
      asNumber,
      ...(doc['clusterId'] !== undefined ? { clusterId: ip(doc['clusterId'], 'clusterId', true) } : {}),
      listen,
      peers,
      originate,
      kernel: {
        enabled: bool(k['enabled'], 'kernel.enabled', true),
        protocol: int(k['protocol'], 'kernel.protocol', 1, 255, DEFAULT_KERNEL_PROTOCOL),
        table: int(k['table'], 'kernel.table', 1, 0xffffffff, 254),
        routes: rules,
      },
      ...(Object.keys(filters).length ? { filters } : {}),
    };
  } catch (e) {
    throw e instanceof ConfigError && file ? e.withFile(file) : e;
  }
}

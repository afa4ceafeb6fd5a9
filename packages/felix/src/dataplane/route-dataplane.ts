// Applies RouteTargets to the kernel: the VXLAN device, FDB and static ARP entries, felix's
// routes (through @tabby/linux RouteTable, owned by protocol 80) and workload sysctls.
// Each part keeps a cached view of the kernel; resync() drops the caches so the next apply
// re-reads everything and repairs drift.
//
// Ownership: only routes with felix's protocol are replaced/deleted by the route table. Routes
// of other protocols on workload interfaces (e.g. the CNI's) are deleted only when no endpoint
// wants that destination and they have been seen for longer than the grace period, because the
// CNI adds its route before felix hears about the endpoint. Nothing on other interfaces is touched.

import { exec as defaultExec, ipBatch, ipJson, RouteTable, type Exec, type Route } from '@tabby/linux';
import type { Logger } from '@tabby/log';
import {
  FELIX_ROUTE_PROTOCOL, IPIP_DEVICE, VXLAN_DEVICE, isWorkloadInterface,
  type FdbEntry, type Neighbour, type RouteTargets, type Sysctl, type VxlanDevice,
} from '../routes/calc.js';

export interface RouteDataplaneOptions {
  exec?: Exec;
  netns?: string;
  logger?: Logger;
  interfacePrefixes?: readonly string[];
  /** Grace before deleting foreign routes on workload interfaces (Calico: 10 s). */
  graceMs?: number;
  protocol?: number;
  now?: () => number;
}

export interface RouteApplyResult {
  routesReplaced: number;
  routesDeleted: number;
  foreignRoutesDeleted: number;
  neighboursWritten: number;
  neighboursDeleted: number;
  fdbWritten: number;
  sysctlsWritten: number;
  vxlanRecreated: boolean;
  failures: string[];
}

interface KernelNeigh { dst: string; dev: string; lladdr?: string; state?: string[] }
interface KernelLink { ifname: string; address?: string; mtu?: number; linkinfo?: { info_kind?: string; info_data?: { id?: number; port?: number; local?: string } } }

const neighKey = (n: { dev: string; ip: string }) => `${n.dev}|${n.ip}`;

export class RouteDataplane {
  readonly table: RouteTable;
  readonly #exec: Exec;
  readonly #opts: RouteDataplaneOptions;
  readonly #prefixes: readonly string[];
  #targets: RouteTargets = { routes: [], ipipRoutes: [], neighbours: [], fdb: [], sysctls: [], problems: [] };
  #neighCache: Map<string, string> | null = null;
  #sysctlCache: Map<string, string> | null = null;
  #fdbCache: Map<string, string> | null = null;
  #vxlanChecked = false;
  readonly #foreignSeen = new Map<string, number>();
  #ipipWarned = false;

  constructor(opts: RouteDataplaneOptions = {}) {
    this.#opts = opts;
    this.#exec = opts.exec ?? defaultExec;
    this.#prefixes = opts.interfacePrefixes ?? ['cali'];
    this.table = new RouteTable({
      protocol: opts.protocol ?? FELIX_ROUTE_PROTOCOL, families: [4, 6],
      ...(opts.netns && { netns: opts.netns }), ...(opts.exec && { exec: opts.exec }),
    });
  }

  get targets(): RouteTargets {
    return this.#targets;
  }

  setTargets(t: RouteTargets): void {
    const vxlanChanged = JSON.stringify(t.vxlan) !== JSON.stringify(this.#targets.vxlan);
    this.#targets = t;
    if (vxlanChanged) this.#vxlanChecked = false;
    this.table.setRoutes(t.routes);
  }

  /** Next apply re-reads the kernel for every part. */
  queueResync(): void {
    this.table.queueResync();
    this.#neighCache = null;
    this.#sysctlCache = null;
    this.#fdbCache = null;
    this.#vxlanChecked = false;
  }

  async #run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return this.#exec(cmd, args, this.#opts.netns ? { netns: this.#opts.netns } : {});
  }

  #ipOpts() {
    return { ...(this.#opts.netns && { netns: this.#opts.netns }), ...(this.#opts.exec && { exec: this.#opts.exec }) };
  }

  async apply(): Promise<RouteApplyResult> {
    const res: RouteApplyResult = {
      routesReplaced: 0, routesDeleted: 0, foreignRoutesDeleted: 0, neighboursWritten: 0, neighboursDeleted: 0,
      fdbWritten: 0, sysctlsWritten: 0, vxlanRecreated: false, failures: [],
    };
    const links = await ipJson<KernelLink[]>(['-d', 'link', 'show'], this.#ipOpts());
    const linkNames = new Set(links.map((l) => l.ifname));
    if (!this.#vxlanChecked) {
      res.vxlanRecreated = await this.#applyVxlan(this.#targets.vxlan, links.find((l) => l.ifname === VXLAN_DEVICE), res);
      if (res.vxlanRecreated) { this.#neighCache = null; this.#fdbCache = null; this.table.queueResync(); linkNames.add(VXLAN_DEVICE); }
      this.#vxlanChecked = true;
    }
    await this.#applyFdb(this.#targets.fdb, linkNames, res);
    await this.#applyNeighbours(this.#targets.neighbours, linkNames, res);
    const r = await this.table.apply();
    res.routesReplaced = r.replaced;
    res.routesDeleted = r.deleted;
    for (const f of r.failures) res.failures.push(`ip ${f.command.join(' ')}: ${f.error}`);
    if (this.#targets.ipipRoutes.length) {
      if (!linkNames.has(IPIP_DEVICE) && !this.#ipipWarned) {
        this.#opts.logger?.warn('IPIP pools need the tunl0 device (kernel ipip module), which is missing: IPIP routes are not programmed', {
          routes: this.#targets.ipipRoutes.map((x) => x.dst),
        });
        this.#ipipWarned = true;
      }
    }
    await this.#applySysctls(this.#targets.sysctls, linkNames, res);
    if (res.failures.length) this.#opts.logger?.warn('route dataplane: some changes failed', { failures: res.failures });
    return res;
  }

  /** Re-reads the kernel and repairs every difference; also collects foreign routes past their grace. */
  async resync(): Promise<RouteApplyResult> {
    this.queueResync();
    const res = await this.apply();
    res.foreignRoutesDeleted = await this.#cleanForeignRoutes();
    return res;
  }

  async #cleanForeignRoutes(): Promise<number> {
    const now = (this.#opts.now ?? Date.now)();
    const grace = this.#opts.graceMs ?? 10_000;
    const wanted = new Set(this.#targets.routes.map((r) => r.dst));
    const protocol = String(this.#opts.protocol ?? FELIX_ROUTE_PROTOCOL);
    const seen = new Set<string>();
    const del: string[][] = [];
    for (const fam of ['-4', '-6']) {
      const rows = await ipJson<{ dst: string; dev?: string; protocol?: string | number; type?: string }[]>([fam, 'route', 'show', 'table', 'main'], this.#ipOpts());
      for (const row of rows) {
        if (!row.dev || !isWorkloadInterface(row.dev, this.#prefixes) || String(row.protocol) === protocol) continue;
        if (row.protocol === 'kernel') continue; // link-scope routes of the interface's own addresses
        const dst = row.dst.includes('/') ? row.dst : `${row.dst}/${row.dst.includes(':') ? 128 : 32}`;
        if (wanted.has(dst)) continue;
        const key = `${row.dev}|${dst}`;
        seen.add(key);
        const first = this.#foreignSeen.get(key) ?? now;
        this.#foreignSeen.set(key, first);
        if (now - first >= grace) del.push(['route', 'del', dst, 'dev', row.dev]);
      }
    }
    for (const k of this.#foreignSeen.keys()) if (!seen.has(k)) this.#foreignSeen.delete(k);
    const failures = await ipBatch(del, this.#ipOpts());
    if (del.length) this.#opts.logger?.info('removed stale routes on workload interfaces', { routes: del.map((d) => `${d[2]} dev ${d[4]}`) });
    return del.length - failures.length;
  }

  async #applyVxlan(want: VxlanDevice | undefined, have: KernelLink | undefined, res: RouteApplyResult): Promise<boolean> {
    const ip = (args: string[]) => this.#run('ip', args);
    if (!want) {
      if (have) await ip(['link', 'del', VXLAN_DEVICE]);
      return false;
    }
    const info = have?.linkinfo?.info_data;
    const matches = have && have.linkinfo?.info_kind === 'vxlan' && info?.id === want.vni && info?.port === want.port && info?.local === want.localIp;
    let recreated = false;
    if (!matches) {
      if (have) await ip(['link', 'del', VXLAN_DEVICE]);
      const addrs = await ipJson<{ ifname: string; addr_info?: { local: string }[] }[]>(['addr', 'show'], this.#ipOpts());
      const parent = addrs.find((l) => l.addr_info?.some((a) => a.local === want.localIp))?.ifname;
      const args = ['link', 'add', VXLAN_DEVICE, 'type', 'vxlan', 'id', String(want.vni), 'local', want.localIp, 'dstport', String(want.port), 'nolearning'];
      if (parent) args.push('dev', parent);
      const r = await ip(args);
      if (r.code !== 0) { res.failures.push(`ip ${args.join(' ')}: ${r.stderr.trim()}`); this.#vxlanChecked = false; return false; }
      recreated = true;
      this.#opts.logger?.info('created the VXLAN device', { vni: want.vni, port: want.port, parent, mac: want.mac });
    }
    const fix: string[][] = [];
    if (recreated || have?.address !== want.mac) fix.push(['link', 'set', VXLAN_DEVICE, 'address', want.mac]);
    if (want.mtu !== undefined && (recreated || have?.mtu !== want.mtu)) fix.push(['link', 'set', VXLAN_DEVICE, 'mtu', String(want.mtu)]);
    fix.push(['addr', 'replace', `${want.address}/32`, 'dev', VXLAN_DEVICE], ['link', 'set', VXLAN_DEVICE, 'up']);
    for (const f of await ipBatch(fix, this.#ipOpts())) res.failures.push(`ip ${f.command.join(' ')}: ${f.error}`);
    return recreated;
  }

  async #applyFdb(want: readonly FdbEntry[], links: Set<string>, res: RouteApplyResult): Promise<void> {
    if (!links.has(VXLAN_DEVICE)) { this.#fdbCache = null; return; }
    if (!this.#fdbCache) {
      const r = await this.#run('bridge', ['-json', 'fdb', 'show', 'dev', VXLAN_DEVICE]);
      const rows = r.code === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) as { mac: string; dst?: string }[]) : [];
      this.#fdbCache = new Map(rows.filter((x) => x.dst && x.mac !== '00:00:00:00:00:00').map((x) => [x.mac, x.dst!]));
    }
    const cache = this.#fdbCache;
    const wanted = new Set(want.map((f) => f.mac));
    for (const f of want) {
      if (cache.get(f.mac) === f.dst) continue;
      const args = ['fdb', 'replace', f.mac, 'dev', f.dev, 'dst', f.dst, 'self', 'permanent'];
      const r = await this.#run('bridge', args);
      if (r.code === 0) { cache.set(f.mac, f.dst); res.fdbWritten++; } else res.failures.push(`bridge ${args.join(' ')}: ${r.stderr.trim()}`);
    }
    for (const [mac, dst] of [...cache]) {
      if (wanted.has(mac)) continue;
      const r = await this.#run('bridge', ['fdb', 'del', mac, 'dev', VXLAN_DEVICE, 'dst', dst, 'self']);
      if (r.code === 0) cache.delete(mac);
    }
  }

  async #applyNeighbours(want: readonly Neighbour[], links: Set<string>, res: RouteApplyResult): Promise<void> {
    if (!this.#neighCache) {
      const rows = await ipJson<KernelNeigh[]>(['-4', 'neigh', 'show', 'nud', 'permanent'], this.#ipOpts());
      this.#neighCache = new Map(rows.filter((n) => this.#ownsNeighDev(n.dev)).map((n) => [neighKey({ dev: n.dev, ip: n.dst }), (n.lladdr ?? '').toLowerCase()]));
    }
    const cache = this.#neighCache;
    const cmds: string[][] = [];
    const ops: { key: string; mac: string | undefined }[] = [];
    const wanted = new Set<string>();
    for (const n of want) {
      if (!links.has(n.dev)) continue; // the CNI has not created the interface yet, or it is gone
      const key = neighKey(n);
      wanted.add(key);
      if (cache.get(key) === n.mac) continue;
      cmds.push(['neigh', 'replace', n.ip, 'lladdr', n.mac, 'dev', n.dev, 'nud', 'permanent']);
      ops.push({ key, mac: n.mac });
    }
    for (const key of cache.keys()) {
      if (wanted.has(key)) continue;
      const [dev, ip] = key.split('|') as [string, string];
      if (!links.has(dev)) { cache.delete(key); continue; }
      cmds.push(['neigh', 'del', ip, 'dev', dev]);
      ops.push({ key, mac: undefined });
    }
    const failed = new Set((await ipBatch(cmds, this.#ipOpts())).map((f) => { res.failures.push(`ip ${f.command.join(' ')}: ${f.error}`); return f.line - 1; }));
    ops.forEach((op, i) => {
      if (failed.has(i)) return;
      if (op.mac) { cache.set(op.key, op.mac); res.neighboursWritten++; } else { cache.delete(op.key); res.neighboursDeleted++; }
    });
    if (failed.size) this.#neighCache = null;
  }

  #ownsNeighDev(dev: string): boolean {
    return dev === VXLAN_DEVICE || isWorkloadInterface(dev, this.#prefixes);
  }

  async #applySysctls(want: readonly Sysctl[], links: Set<string>, res: RouteApplyResult): Promise<void> {
    const present = want.filter((s) => links.has(s.iface));
    if (!present.length) return;
    if (!this.#sysctlCache) this.#sysctlCache = new Map();
    const cache = this.#sysctlCache;
    const unknown = present.filter((s) => !cache.has(s.path));
    // Six sysctls per interface: with thousands of endpoints one command line would pass the
    // kernel's argv limit (E2BIG), so reads and writes go in chunks.
    for (const part of argvChunks(unknown.map((s) => `/proc/sys/${s.path}`))) {
      // `grep -H '' files` prints "file:value" for each readable file; missing ones only warn.
      const r = await this.#run('grep', ['-H', '', ...part]);
      for (const line of r.stdout.split('\n')) {
        const i = line.lastIndexOf(':');
        if (i > 0) cache.set(line.slice('/proc/sys/'.length, i), line.slice(i + 1).trim());
      }
    }
    const writes = present.filter((s) => cache.get(s.path) !== s.value);
    if (!writes.length) return;
    const r = { code: 0, stderr: '' };
    for (const part of argvChunks(writes.map((s) => `${s.path}=${s.value}`))) {
      const p = await this.#run('sysctl', ['-q', '-w', ...part]);
      if (p.code !== 0) { r.code = p.code; r.stderr += p.stderr; }
    }
    for (const s of writes) cache.set(s.path, s.value);
    res.sysctlsWritten += writes.length;
    if (r.code !== 0) {
      const hard = writes.filter((s) => !s.warnOnly && r.stderr.includes(s.path.split('/').slice(-1)[0]!));
      if (hard.length || !writes.every((s) => s.warnOnly)) res.failures.push(`sysctl: ${r.stderr.trim()}`);
      this.#sysctlCache = null; // re-read next time
    }
  }

  /** Removes felix's routes, static ARP entries and the VXLAN device (test cleanup, uninstall). */
  async uninstall(): Promise<void> {
    this.setTargets({ routes: [], ipipRoutes: [], neighbours: [], fdb: [], sysctls: [], problems: [] });
    this.queueResync();
    await this.apply();
  }
}

/** Splits arguments into groups of at most ~256 KB of command line (ARG_MAX is usually 2 MB). */
function argvChunks(args: readonly string[], maxBytes = 256 * 1024): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let size = 0;
  for (const a of args) {
    if (cur.length && size + a.length + 1 > maxBytes) { out.push(cur); cur = []; size = 0; }
    cur.push(a);
    size += a.length + 1;
  }
  if (cur.length) out.push(cur);
  return out;
}

export type { Route };

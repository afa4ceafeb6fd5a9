// The felix daemon: watches the datastore, feeds the policy calculator and the route/NAT/VXLAN
// calculation, and applies deltas through one serial apply loop. Periodic resyncs re-read the
// kernel and repair drift. Datastore trouble never touches the dataplane: the watches resume by
// themselves and the last known state stays programmed.

import { createServer, type Server } from 'node:http';
import type { FelixConfiguration, GlobalNetworkPolicy, IPAMBlock, IPPool, KindMap, Node, NetworkPolicy, Profile, WorkloadEndpoint } from '@tabby/api';
import type { Datastore, Watch, WatchEvent } from '@tabby/datastore';
import { exec as defaultExec, type Exec } from '@tabby/linux';
import { normaliseLevel, type Logger } from '@tabby/log';
import { ipv6PolicyUnavailable, PolicyDataplane } from '../dataplane/policy-dataplane.js';
import { IptablesTable } from '../dataplane/iptables-table.js';
import { RouteDataplane } from '../dataplane/route-dataplane.js';
import { calculateRoutes } from '../routes/calc.js';
import { calculateNat, NAT_HOOKS } from '../routes/nat.js';
import { resolveSettings, RESTART_FIELDS, type FelixSettings } from './config.js';
import { FelixMetrics } from './metrics.js';

type Watched = 'WorkloadEndpoint' | 'NetworkPolicy' | 'GlobalNetworkPolicy' | 'Profile' | 'IPPool' | 'Node' | 'IPAMBlock' | 'FelixConfiguration';
const WATCHED: readonly Watched[] = ['FelixConfiguration', 'IPPool', 'Node', 'IPAMBlock', 'Profile', 'NetworkPolicy', 'GlobalNetworkPolicy', 'WorkloadEndpoint'];
const POLICY_KINDS = new Set<Watched>(['WorkloadEndpoint', 'NetworkPolicy', 'GlobalNetworkPolicy', 'Profile']);

export interface FelixDaemonOptions {
  datastore: Datastore;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  exec?: Exec;
  netns?: string;
}

const keyOf = (r: { metadata: { name: string; namespace?: string } }) => `${r.metadata.namespace ?? ''}/${r.metadata.name}`;

export class FelixDaemon {
  settings: FelixSettings;
  readonly metrics = new FelixMetrics();
  readonly #o: FelixDaemonOptions;
  readonly #log: Logger;
  readonly #state = new Map<Watched, Map<string, KindMap[Watched]>>(WATCHED.map((k) => [k, new Map()]));
  readonly #watches: Watch[] = [];
  readonly #servers: Server[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  #policy!: PolicyDataplane;
  /** The IPv6 policy dataplane (ip6tables, cali60 sets); undefined when IPv6 support is off or unavailable. */
  #policy6: PolicyDataplane | undefined;
  #nat!: IptablesTable;
  /** ip6tables' nat table (NAT outgoing for IPv6 pools), beside #policy6. */
  #nat6: IptablesTable | undefined;
  #routes!: RouteDataplane;
  #rpFilter = 1;
  #synced = new Set<Watched>();
  #routesDirty = true;
  #natDirty = true;
  #iptablesResync = false;
  #routeResync = false;
  #loop: Promise<void> | undefined;
  #again = false;
  #lastApplyOk = false;
  #stopped = false;
  #datastoreOk = true;

  constructor(opts: FelixDaemonOptions) {
    this.#o = opts;
    this.#log = opts.logger;
    this.settings = resolveSettings(opts.env);
  }

  get ready(): boolean {
    return this.#synced.size === WATCHED.length && this.#lastApplyOk;
  }

  get policy(): PolicyDataplane { return this.#policy; }
  get policy6(): PolicyDataplane | undefined { return this.#policy6; }
  /** The policy dataplanes in use: IPv4, then IPv6 when enabled. */
  get #policies(): PolicyDataplane[] { return this.#policy6 ? [this.#policy, this.#policy6] : [this.#policy]; }
  get routes(): RouteDataplane { return this.#routes; }

  async start(): Promise<void> {
    const ds = this.#o.datastore;
    // FelixConfiguration first: it decides the backend, ports and intervals.
    const configs = await this.#retry('list FelixConfiguration', () => ds.list('FelixConfiguration'));
    this.settings = resolveSettings(this.#o.env, configs.items);
    this.#log.level = normaliseLevel(this.settings.logSeverityScreen);
    this.#log.info('starting', { node: this.settings.nodeName, settings: this.settings });
    const where = { ...(this.#o.exec && { exec: this.#o.exec }), ...(this.#o.netns && { netns: this.#o.netns }) };
    try {
      const r = await (this.#o.exec ?? defaultExec)('cat', ['/proc/sys/net/ipv4/conf/default/rp_filter'], this.#o.netns ? { netns: this.#o.netns } : {});
      if (r.code === 0 && /^\d+$/.test(r.stdout.trim())) this.#rpFilter = Number(r.stdout.trim());
    } catch { /* keep 1 */ }
    this.#policy = await PolicyDataplane.create({
      nodeName: this.settings.nodeName, iptablesBackend: this.settings.iptablesBackend, logger: this.#log,
      chains: { interfacePrefixes: this.settings.interfacePrefixes, vxlanPort: this.settings.vxlanPort }, ...where,
    });
    if (this.settings.ipv6Support) {
      const why = await ipv6PolicyUnavailable(this.#policy.iptables.backend, where);
      if (why) {
        this.#log.warn('IPv6 support is on but this host cannot take IPv6 policy; programming IPv4 policy only', { reason: why });
      } else {
        this.#policy6 = await PolicyDataplane.create({
          nodeName: this.settings.nodeName, iptablesBackend: this.#policy.iptables.backend, logger: this.#log, ipVersion: 6,
          chains: { interfacePrefixes: this.settings.interfacePrefixes, vxlanPort: this.settings.vxlanPort }, ...where,
        });
        this.#log.info('IPv6 policy enabled (ip6tables, cali60 IP sets)', { backend: this.#policy.iptables.backend });
      }
    } else {
      this.#log.info('IPv6 support is off (ipv6Support=false): IPv4 policy only');
    }
    this.#nat = new IptablesTable({ backend: this.#policy.iptables.backend, table: 'nat', hooks: NAT_HOOKS, logger: this.#log, ...where });
    if (this.#policy6) this.#nat6 = new IptablesTable({ backend: this.#policy.iptables.backend, table: 'nat', ipVersion: 6, hooks: NAT_HOOKS, logger: this.#log, ...where });
    this.#routes = new RouteDataplane({ ...where, logger: this.#log, interfacePrefixes: this.settings.interfacePrefixes, protocol: this.settings.deviceRouteProtocol });
    this.#startServers();
    for (const kind of WATCHED) {
      const w = await this.#retry(`watch ${kind}`, () => ds.watch(kind, {}, (ev) => this.#onEvent(kind, ev as WatchEvent<KindMap[Watched]>)));
      this.#watches.push(w);
    }
    this.#armTimers();
    this.#schedule();
    await this.#loop;
  }

  async #retry<T>(what: string, f: () => Promise<T>): Promise<T> {
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      if (this.#stopped) throw new Error('stopped');
      try { return await f(); } catch (e) {
        this.#log.warn(`${what} failed; retrying`, { error: (e as Error).message, retryInMs: delay });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  #armTimers(): void {
    for (const t of this.#timers.splice(0)) clearInterval(t);
    const { iptablesRefreshIntervalMs: ipt, routeRefreshIntervalMs: rt } = this.settings;
    if (ipt > 0) this.#timers.push(setInterval(() => { this.#iptablesResync = true; this.#schedule(); }, ipt));
    if (rt > 0) this.#timers.push(setInterval(() => { this.#routeResync = true; this.#schedule(); }, rt));
  }

  #onEvent(kind: Watched, ev: WatchEvent<KindMap[Watched]>): void {
    const map = this.#state.get(kind)!;
    const changed: { upd: KindMap[Watched][]; del: KindMap[Watched][] } = { upd: [], del: [] };
    switch (ev.type) {
      case 'error':
        if (this.#datastoreOk) this.#log.warn('datastore watch error; keeping the dataplane as it is', { kind, error: ev.error.message });
        this.#datastoreOk = false;
        this.metrics.datastoreErrors.inc();
        return;
      case 'resync': {
        const next = new Map(ev.items.map((r) => [keyOf(r), r]));
        for (const [k, r] of map) if (!next.has(k)) changed.del.push(r);
        changed.upd.push(...ev.items);
        map.clear();
        for (const [k, r] of next) map.set(k, r);
        this.#synced.add(kind);
        break;
      }
      case 'added': case 'modified':
        map.set(keyOf(ev.resource), ev.resource);
        changed.upd.push(ev.resource);
        break;
      case 'deleted':
        map.delete(keyOf(ev.resource));
        changed.del.push(ev.resource);
        break;
    }
    if (!this.#datastoreOk) { this.#datastoreOk = true; this.#log.info('datastore events flowing again'); }
    if (POLICY_KINDS.has(kind)) {
      for (const p of this.#policies) {
        for (const r of changed.del) p.calc.remove(kind as 'WorkloadEndpoint', r.metadata.name, r.metadata.namespace);
        for (const r of changed.upd) {
          try { p.calc.update(r as WorkloadEndpoint | NetworkPolicy | GlobalNetworkPolicy | Profile); } catch (e) {
            // Both families refuse the same resources: warn once.
            if (p === this.#policy) this.#log.warn('ignoring unusable resource', { kind, name: keyOf(r), error: (e as Error).message });
          }
        }
      }
    }
    if (kind === 'WorkloadEndpoint' || kind === 'Node' || kind === 'IPAMBlock' || kind === 'IPPool') this.#routesDirty = true;
    if (kind === 'IPPool') this.#natDirty = true;
    if (kind === 'FelixConfiguration') this.#reconfigure();
    this.#schedule();
  }

  #reconfigure(): void {
    const before = this.settings;
    let next: FelixSettings;
    try { next = resolveSettings(this.#o.env, this.#values<FelixConfiguration>('FelixConfiguration')); } catch (e) {
      this.#log.error('bad FelixConfiguration; keeping the previous settings', { error: (e as Error).message });
      return;
    }
    const restart = RESTART_FIELDS.filter((f) => JSON.stringify(before[f]) !== JSON.stringify(next[f]));
    if (restart.length) this.#log.warn('FelixConfiguration changes that need a restart to take effect', { fields: restart });
    for (const f of RESTART_FIELDS) (next as unknown as Record<string, unknown>)[f] = before[f];
    this.settings = next;
    this.#log.level = normaliseLevel(next.logSeverityScreen);
    if (next.iptablesRefreshIntervalMs !== before.iptablesRefreshIntervalMs || next.routeRefreshIntervalMs !== before.routeRefreshIntervalMs) this.#armTimers();
    this.#routesDirty = true;
  }

  #values<T>(kind: Watched): T[] {
    return [...this.#state.get(kind)!.values()] as T[];
  }

  #schedule(): void {
    if (this.#stopped) return;
    if (this.#loop) { this.#again = true; return; }
    this.#loop = (async () => {
      do {
        this.#again = false;
        // Wait until every kind has been listed once, so we never program a partial picture.
        if (this.#synced.size < WATCHED.length) break;
        await this.#applyOnce();
      } while (this.#again && !this.#stopped);
    })().finally(() => { this.#loop = undefined; });
  }

  async #timed<T>(part: string, f: () => Promise<T>): Promise<T> {
    const end = this.metrics.applyDuration.startTimer({ part });
    try { return await f(); } finally { end(); }
  }

  async #applyOnce(): Promise<void> {
    let ok = true;
    const fail = (part: string, e: unknown) => {
      ok = false;
      this.metrics.applyFailures.inc();
      this.#log.error(`applying ${part} failed; retrying on the next change or resync`, { error: (e as Error).message });
    };
    const iptablesResync = this.#iptablesResync;
    const routeResync = this.#routeResync;
    this.#iptablesResync = this.#routeResync = false;
    if (this.#natDirty) {
      const pools = this.#values<IPPool>('IPPool');
      const nat = calculateNat(pools);
      for (const s of nat.ipsets) this.#policy.ipsets.updateSet(s);
      this.#nat.setChains(nat.chains);
      this.metrics.rules.set({ table: 'nat' }, nat.chains.reduce((n, c) => n + c.rules.length, 0));
      this.metrics.chains.set({ table: 'nat' }, nat.chains.length);
      if (this.#policy6 && this.#nat6) {
        const nat6 = calculateNat(pools, { ipVersion: 6 });
        for (const s of nat6.ipsets) this.#policy6.ipsets.updateSet(s);
        this.#nat6.setChains(nat6.chains);
        this.metrics.rules.set({ table: 'nat6' }, nat6.chains.reduce((n, c) => n + c.rules.length, 0));
        this.metrics.chains.set({ table: 'nat6' }, nat6.chains.length);
      }
      this.#natDirty = false;
    }
    let v4Ok = false;
    try {
      if (iptablesResync) { this.metrics.resyncs.inc({ kind: 'iptables' }); this.#nat.queueResync(); this.#nat6?.queueResync(); }
      const r = await this.#timed('policy', () => (iptablesResync ? this.#policy.resync() : this.#policy.apply()));
      if (r.iptables.written.length || r.iptables.deleted.length || r.iptables.hooksFixed.length) this.#log.info('filter table updated', r.iptables);
      v4Ok = true;
    } catch (e) { fail('iptables', e); this.#iptablesResync = true; }
    if (this.#policy6) {
      const p6 = this.#policy6;
      let v6Ok = false;
      try {
        const r = await this.#timed('policy6', () => (iptablesResync ? p6.resync() : p6.apply()));
        if (r.iptables.written.length || r.iptables.deleted.length || r.iptables.hooksFixed.length) this.#log.info('ip6tables filter table updated', r.iptables);
        v6Ok = true;
      } catch (e) { fail('ip6tables', e); this.#iptablesResync = true; }
      const nat6 = this.#nat6;
      if (v6Ok && nat6) {
        // As for IPv4: the rules use the cali60 pool sets that apply just wrote.
        try {
          const n = await this.#timed('nat6', () => nat6.apply());
          if (n.written.length || n.hooksFixed.length) this.#log.info('ip6tables nat table updated', n);
        } catch (e) { fail('ip6tables', e); this.#iptablesResync = true; }
      }
    }
    if (v4Ok) {
      // NAT rules use the cali40 pool sets the IPv4 policy apply just wrote.
      try {
        const n = await this.#timed('nat', () => this.#nat.apply());
        if (n.written.length || n.hooksFixed.length) this.#log.info('nat table updated', n);
      } catch (e) { fail('iptables', e); this.#iptablesResync = true; }
    }
    const chains = [...this.#policy.calc.chains.values()];
    this.metrics.chains.set({ table: 'filter' }, chains.length);
    this.metrics.rules.set({ table: 'filter' }, chains.reduce((n, c) => n + c.rules.length, 0));
    if (this.#policy6) {
      const chains6 = [...this.#policy6.calc.chains.values()];
      this.metrics.chains.set({ table: 'filter6' }, chains6.length);
      this.metrics.rules.set({ table: 'filter6' }, chains6.reduce((n, c) => n + c.rules.length, 0));
    }
    try {
      if (this.#routesDirty) {
        this.#routesDirty = false;
        const weps = this.#values<WorkloadEndpoint>('WorkloadEndpoint');
        const t = calculateRoutes(
          { endpoints: weps, pools: this.#values<IPPool>('IPPool'), nodes: this.#values<Node>('Node'), blocks: this.#values<IPAMBlock>('IPAMBlock') },
          { nodeName: this.settings.nodeName, interfacePrefixes: this.settings.interfacePrefixes, rpFilter: this.#rpFilter, vxlanVni: this.settings.vxlanVni, vxlanPort: this.settings.vxlanPort, ...(this.settings.vxlanMtu !== undefined && { vxlanMtu: this.settings.vxlanMtu }) },
        );
        for (const p of t.problems) this.#log.warn(p);
        this.#routes.setTargets(t);
        this.metrics.localEndpoints.set(weps.filter((w) => w.spec.node === this.settings.nodeName).length);
        this.metrics.routes.set(t.routes.length);
      }
      if (routeResync) this.metrics.resyncs.inc({ kind: 'routes' });
      const r = await this.#timed('routes', () => (routeResync ? this.#routes.resync() : this.#routes.apply()));
      if (r.failures.length) ok = false;
      if (r.routesReplaced || r.routesDeleted || r.sysctlsWritten || r.neighboursWritten || r.neighboursDeleted || r.foreignRoutesDeleted) this.#log.info('routes updated', r);
    } catch (e) { fail('routes', e); this.#routeResync = true; }
    this.#lastApplyOk = ok;
  }

  #startServers(): void {
    const s = this.settings;
    if (s.healthEnabled) {
      const srv = createServer((req, res) => {
        const path = (req.url ?? '').split('?')[0];
        const ok = path === '/liveness' ? !this.#stopped : path === '/readiness' ? this.ready : undefined;
        if (ok === undefined) { res.writeHead(404).end('not found\n'); return; }
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
      });
      srv.listen(s.healthPort, s.healthHost || undefined);
      srv.on('error', (e) => this.#log.error('health server failed', { error: e.message }));
      this.#servers.push(srv);
    }
    if (s.prometheusMetricsEnabled) {
      const srv = createServer((req, res) => {
        if ((req.url ?? '').split('?')[0] !== '/metrics') { res.writeHead(404).end('not found\n'); return; }
        this.metrics.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
          (e: Error) => res.writeHead(500).end(e.message),
        );
      });
      srv.listen(s.prometheusMetricsPort, s.prometheusMetricsHost || undefined);
      srv.on('error', (e) => this.#log.error('metrics server failed', { error: e.message }));
      this.#servers.push(srv);
    }
  }

  /** Stops watching and serving; the dataplane stays as programmed (as Calico's felix on exit). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers.splice(0)) clearInterval(t);
    await Promise.allSettled(this.#watches.splice(0).map((w) => w.close()));
    await this.#loop;
    await Promise.all(this.#servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  }
}

// A desired-state route manager for one owner, recognised in the kernel by its route protocol
// number. Callers declare the full set they want; apply() changes only the difference.
//
// Kernel quirks handled here:
// - `ip route replace` is idempotent and atomic per route, so adds and changes are one verb.
// - Routes are matched on (table, dst, metric); the kernel keys them the same way.
// - Only routes carrying our protocol number are ever deleted, so routes of other owners
//   (the CNI plugin, BIRD, an operator) are never touched.
// - The kernel view is cached; a resync re-reads it (on start, on a timer, after any failure),
//   so drift made behind our back is repaired on the next resync.

import { ipBatch, ipJson, type BatchFailure, type IpOptions } from './ip.js';
import { deleteArgs, replaceArgs, routeFromJson, routeKey, routeMatches, type IpJsonRoute, type Route } from './routes.js';

export interface RouteTableOptions extends IpOptions {
  /** Route protocol number that marks our routes (e.g. 12 bird, 80 felix); required. */
  protocol: number;
  /** Routing table (default main = 254). */
  table?: number;
  families?: readonly (4 | 6)[];
}

export interface ApplyResult {
  replaced: number;
  deleted: number;
  failures: BatchFailure[];
}

export class RouteTable {
  private readonly desired = new Map<string, Route>();
  /** Keys changed by upsert/remove since the last apply; undefined = compare everything. */
  private pending: Set<string> | undefined;
  /** Our routes as last read from (or written to) the kernel; undefined = must re-read. */
  private actual: Map<string, Route> | undefined;
  private readonly table: number;
  private readonly families: readonly (4 | 6)[];

  constructor(private readonly opts: RouteTableOptions) {
    this.table = opts.table ?? 254;
    this.families = opts.families ?? [4, 6];
  }

  private own(r: Route): Route {
    return { ...r, protocol: this.opts.protocol, table: this.table };
  }

  /** Replaces the whole desired set. */
  setRoutes(routes: Iterable<Route>): void {
    this.desired.clear();
    for (const r of routes) this.upsert(r);
    this.pending = undefined;
  }

  /** Adds or changes one route; the next apply() looks only at routes touched this way (plus everything after a resync). */
  upsert(r: Route): void {
    const own = this.own(r);
    const key = routeKey(own);
    this.desired.set(key, own);
    this.pending?.add(key);
  }

  remove(dst: string, metric?: number): void {
    const key = routeKey(this.own({ dst, nexthops: [], ...(metric !== undefined ? { metric } : {}) }));
    this.desired.delete(key);
    this.pending?.add(key);
  }

  desiredRoutes(): Route[] {
    return [...this.desired.values()];
  }

  /** Forget the cached kernel view: the next apply() reads the kernel first. */
  queueResync(): void {
    this.actual = undefined;
    this.pending = undefined;
  }

  /** Our routes currently in the kernel. */
  async readKernel(): Promise<Route[]> {
    const out: Route[] = [];
    for (const family of this.families) {
      const rows = await ipJson<IpJsonRoute[]>([`-${family}`, 'route', 'show', 'table', String(this.table), 'proto', String(this.opts.protocol)], this.ipOpts());
      for (const j of rows) out.push(routeFromJson(j, family, this.table, this.opts.protocol));
    }
    return out;
  }

  async apply(): Promise<ApplyResult> {
    if (!this.actual) {
      this.actual = new Map((await this.readKernel()).map((r) => [routeKey(r), r]));
    }
    const actual = this.actual;
    const commands: string[][] = [];
    const ops: { kind: 'replace' | 'delete'; route: Route }[] = [];
    const compare = (key: string) => {
      const want = this.desired.get(key);
      const have = actual.get(key);
      if (want && (!have || !routeMatches(have, want))) {
        commands.push(replaceArgs(want));
        ops.push({ kind: 'replace', route: want });
      } else if (!want && have) {
        commands.push(deleteArgs(have));
        ops.push({ kind: 'delete', route: have });
      }
    };
    // Incremental: only the routes touched since the last apply. After a resync (or setRoutes)
    // every desired and every kernel route is compared.
    if (this.pending) {
      for (const key of this.pending) compare(key);
    } else {
      for (const key of this.desired.keys()) compare(key);
      for (const key of actual.keys()) if (!this.desired.has(key)) compare(key);
    }
    this.pending = new Set();
    const failures = await ipBatch(commands, this.ipOpts());
    const failed = new Set(failures.map((f) => f.line - 1));
    let replaced = 0;
    let deleted = 0;
    ops.forEach((op, i) => {
      if (failed.has(i)) return;
      const key = routeKey(op.route);
      if (op.kind === 'replace') { actual.set(key, op.route); replaced++; }
      else { actual.delete(key); deleted++; }
    });
    // After a failure our picture of the kernel may be wrong: re-read next time.
    if (failures.length) this.queueResync();
    return { replaced, deleted, failures };
  }

  private ipOpts(): IpOptions {
    return { ...(this.opts.netns ? { netns: this.opts.netns } : {}), ...(this.opts.exec ? { exec: this.opts.exec } : {}) };
  }
}

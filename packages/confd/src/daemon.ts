// The confd daemon: watches the kinds that shape this node's BGP setup, keeps the current set
// of each in memory, and after a burst of changes renders, writes the file if its content
// changed, and reloads the BGP daemon. Nothing is rendered until every watch has delivered its
// first full list, and a datastore outage keeps the last rendered file: a partial or empty view
// of the cluster must never become an empty BGP config.

import type { AnyResource, KindMap } from '@tabby/api';
import type { Datastore, Watch, WatchEvent } from '@tabby/datastore';
import type { Logger } from '@tabby/log';
import { bgpdConfigFromPlan, bgpdYaml } from './bgpd.js';
import { birdConfigFromPlan } from './bird.js';
import { NoRouterIdError, planBgp, type ConfdInput } from './plan.js';
import { reload, writeIfChanged, type ReloadAction } from './writer.js';

export type Target = 'bgpd' | 'bird';

export const WATCHED_KINDS = ['Node', 'BGPConfiguration', 'BGPPeer', 'BGPFilter', 'IPPool', 'BlockAffinity', 'IPAMBlock'] as const;
type WatchedKind = (typeof WATCHED_KINDS)[number];

/**
 * Kinds a cluster may lack (BGPFilter's CRD came with Calico 3.26): when the datastore does not
 * serve them they count as empty, so confd still renders; the watch is retried now and then.
 */
const OPTIONAL_KINDS: ReadonlySet<WatchedKind> = new Set(['BGPFilter']);
const OPTIONAL_RETRY_MS = 60_000;
const notServed = (e: Error) => /does not serve/.test(e.message);

export interface ConfdOptions {
  nodeName: string;
  datastore: Datastore;
  out: string;
  target: Target;
  reload: ReloadAction;
  log: Logger;
  routerId?: string;
  /** Quiet time after the last event before rendering (default 200 ms). */
  debounceMs?: number;
  /** Delay between attempts to open a watch while the datastore is unreachable (default 1 s). */
  retryMs?: number;
}

/** Renders the file content for a snapshot of the datastore (throws NoRouterIdError). */
export function renderTarget(input: ConfdInput, target: Target): { content: string; warnings: string[] } {
  const plan = planBgp(input);
  if (target === 'bird') {
    const extra = [
      ...(Object.keys(plan.filters).length ? [`BGPFilters (${Object.keys(plan.filters).join(', ')}) are rendered for bgpd only; the BIRD config has none`] : []),
      ...(plan.originate.some((o) => o.communities?.length) ? ['prefixAdvertisements communities are rendered for bgpd only; the BIRD config has none'] : []),
    ];
    return { content: birdConfigFromPlan(plan) + '\n', warnings: [...plan.warnings, ...extra] };
  }
  const { config, warnings } = bgpdConfigFromPlan(plan);
  return { content: bgpdYaml(config, input.nodeName), warnings };
}

const keyOf = (r: AnyResource) => `${r.metadata.namespace ?? ''}/${r.metadata.name}`;

export interface RenderOutcome {
  written: boolean;
  reloaded: boolean;
}

/** Lists everything once, renders, writes if changed and reloads if written (confd --once). */
export async function renderOnce(opts: ConfdOptions): Promise<RenderOutcome> {
  const lists = await Promise.all(WATCHED_KINDS.map((k) => opts.datastore.list(k).catch((e: Error) => {
    if (OPTIONAL_KINDS.has(k) && notServed(e)) {
      opts.log.info('the datastore does not serve this kind; treating it as empty', { kind: k, error: e.message });
      return { items: [] as AnyResource[] };
    }
    throw e;
  })));
  const input = inputOf(opts, (k) => lists[WATCHED_KINDS.indexOf(k)]!.items);
  return apply(opts, input);
}

function inputOf(opts: ConfdOptions, items: <K extends WatchedKind>(k: K) => readonly AnyResource[]): ConfdInput {
  return {
    nodeName: opts.nodeName,
    nodes: items('Node') as KindMap['Node'][],
    bgpConfigurations: items('BGPConfiguration') as KindMap['BGPConfiguration'][],
    bgpPeers: items('BGPPeer') as KindMap['BGPPeer'][],
    bgpFilters: items('BGPFilter') as KindMap['BGPFilter'][],
    ipPools: items('IPPool') as KindMap['IPPool'][],
    blockAffinities: items('BlockAffinity') as KindMap['BlockAffinity'][],
    ipamBlocks: items('IPAMBlock') as KindMap['IPAMBlock'][],
    ...(opts.routerId ? { routerId: opts.routerId } : {}),
  };
}

async function apply(opts: ConfdOptions, input: ConfdInput, memo: { warnings?: string } = {}): Promise<RenderOutcome> {
  const { content, warnings } = renderTarget(input, opts.target);
  // Logged when they change, not on every render.
  const w = warnings.join('\n');
  if (w !== memo.warnings) {
    for (const msg of warnings) opts.log.warn(msg);
    memo.warnings = w;
  }
  const written = await writeIfChanged(opts.out, content);
  if (!written) return { written, reloaded: false };
  opts.log.info('configuration written', { file: opts.out, target: opts.target });
  await reload(opts.reload);
  if (opts.reload.kind !== 'none') opts.log.info('reload triggered', { action: opts.reload.kind });
  return { written, reloaded: opts.reload.kind !== 'none' };
}

export class Confd {
  readonly #opts: ConfdOptions;
  readonly #state = new Map<WatchedKind, Map<string, AnyResource>>();
  readonly #synced = new Set<WatchedKind>();
  readonly #watches: Watch[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #closed = false;
  #retryTimers = new Set<NodeJS.Timeout>();
  /** Renders attempted / files written; for tests and logs. */
  readonly stats = { renders: 0, writes: 0, reloads: 0, errors: 0 };
  #idleWaiters: (() => void)[] = [];
  readonly #memo: { warnings?: string } = {};

  constructor(opts: ConfdOptions) {
    this.#opts = opts;
  }

  /** Starts every watch (retrying in the background while the datastore is unreachable). */
  start(): void {
    for (const kind of WATCHED_KINDS) this.#open(kind);
  }

  #open(kind: WatchedKind): void {
    if (this.#closed) return;
    this.#opts.datastore.watch(kind, {}, (ev) => this.#onEvent(kind, ev as WatchEvent<AnyResource>)).then(
      (w) => {
        if (this.#closed) void w.close();
        else this.#watches.push(w);
      },
      (e: Error) => {
        const optional = OPTIONAL_KINDS.has(kind) && notServed(e);
        if (optional) {
          if (!this.#synced.has(kind)) {
            this.#opts.log.info('the datastore does not serve this kind; treating it as empty', { kind, error: e.message });
            this.#state.set(kind, new Map());
            this.#synced.add(kind);
            this.#schedule();
          }
        } else {
          this.#opts.log.warn('cannot watch the datastore yet; retrying', { kind, error: e.message });
        }
        const t = setTimeout(() => {
          this.#retryTimers.delete(t);
          this.#open(kind);
        }, optional ? Math.max(OPTIONAL_RETRY_MS, this.#opts.retryMs ?? 1000) : this.#opts.retryMs ?? 1000);
        this.#retryTimers.add(t);
      },
    );
  }

  #onEvent(kind: WatchedKind, ev: WatchEvent<AnyResource>): void {
    if (this.#closed) return;
    let m = this.#state.get(kind);
    if (!m) this.#state.set(kind, (m = new Map()));
    switch (ev.type) {
      case 'error':
        this.#opts.log.warn('datastore watch interrupted; keeping the current configuration', { kind, error: ev.error.message });
        return;
      case 'resync':
        m.clear();
        for (const r of ev.items) m.set(keyOf(r), r);
        this.#synced.add(kind);
        break;
      case 'added':
      case 'modified':
        m.set(keyOf(ev.resource), ev.resource);
        break;
      case 'deleted':
        m.delete(keyOf(ev.resource));
        break;
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#running.then(() => this.#render());
    }, this.#opts.debounceMs ?? 200);
  }

  async #render(): Promise<void> {
    try {
      if (this.#closed || WATCHED_KINDS.some((k) => !this.#synced.has(k))) return;
      this.stats.renders++;
      const input = inputOf(this.#opts, (k) => [...(this.#state.get(k)?.values() ?? [])]);
      const out = await apply(this.#opts, input, this.#memo);
      if (out.written) this.stats.writes++;
      if (out.reloaded) this.stats.reloads++;
    } catch (e) {
      this.stats.errors++;
      const level = e instanceof NoRouterIdError ? 'warn' : 'error';
      this.#opts.log.log(level, 'not rendering; keeping the current configuration', { error: (e as Error).message });
    } finally {
      if (!this.#timer) for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  /** Resolves after the next render attempt that leaves nothing pending (for tests). */
  nextIdle(): Promise<void> {
    return new Promise((res) => this.#idleWaiters.push(res));
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const t of this.#retryTimers) clearTimeout(t);
    await Promise.all(this.#watches.splice(0).map((w) => w.close()));
    await this.#running;
  }
}

// List+watch over Kubernetes collections with the client's Watch, like an informer: it keeps the
// converted objects it has seen (so it can tell added from modified and report deletions with
// the last state), resumes from the last resourceVersion it saw (events and BOOKMARKs) when a
// stream ends, re-lists and reports a `resync` when the server answers 410 Gone / Expired, and
// reports an outage once as an `error` while it keeps reconnecting with a doubling delay.
//
// A kind backed by several collections (Profiles: Namespaces and ServiceAccounts; NetworkPolicy:
// Calico's custom resources and Kubernetes policies) watches each; its revision is the
// collections' resourceVersions joined by "/".

import { createLogger } from '@tabby/log';
import type { Watch, WatchEvent } from '../datastore.js';
import { ConnectionError, DatastoreError, InvalidArgumentError } from '../errors.js';
import { Pause } from '../pause.js';
import { clientLibrary, KubeApiError, type Json, type KubeClient } from './client.js';
import { collectionPath, type Collection } from './paths.js';

const log = createLogger('datastore');

/** One Kubernetes collection as a source of resources of one kind. */
export interface Source<R> {
  collection: Collection;
  /** Limit to one namespace (namespaced collections only). */
  namespace?: string;
  /** The resource an object stands for, or undefined if it stands for none (e.g. a pod without an address). */
  convert(o: Json): R | undefined;
}

export async function listSource<R>(client: KubeClient, s: Source<R>): Promise<{ items: { key: string; r: R }[]; revision: string }> {
  const path = collectionPath(s.collection, s.namespace);
  let res: Json;
  try {
    res = await client.request('GET', path);
  } catch (e) {
    if (e instanceof KubeApiError && e.code === 404) {
      const crd = s.collection.base.includes('crd.projectcalico.org') ? ' (are the crd.projectcalico.org CustomResourceDefinitions installed?)' : '';
      throw new DatastoreError(`the Kubernetes API at ${client.server} does not serve ${path}${crd}`);
    }
    throw e;
  }
  const items: { key: string; r: R }[] = [];
  for (const o of (res['items'] ?? []) as Json[]) {
    const r = safeConvert(s, o);
    if (r) items.push({ key: keyOf(o), r });
  }
  return { items, revision: String(res['metadata']?.['resourceVersion'] ?? '0') };
}

const keyOf = (o: Json) => `${o['metadata']?.['namespace'] ?? ''}/${o['metadata']?.['name']}`;

function safeConvert<R>(s: Source<R>, o: Json): R | undefined {
  try {
    return s.convert(o);
  } catch (e) {
    log.warn('skipping an object that cannot be converted', { collection: s.collection.plural, name: keyOf(o), error: (e as Error).message });
    return undefined;
  }
}


interface SourceHandlers<R> {
  event(ev: WatchEvent<R>): void;
  /** This source re-listed: its items replace what it had. */
  relisted(): void;
  error(e: Error): void;
}

type Outcome = { kind: 'ended' } | { kind: 'expired' } | { kind: 'failed'; error: Error };

class SourceWatch<R> {
  revision = '0';
  readonly cache = new Map<string, R>();
  /** Whether the cache holds every object (after a list); resumed watches learn as they go. */
  private complete = false;
  private closed = false;
  private controller: AbortController | undefined;
  private readonly pause = new Pause();
  private down = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly src: Source<R>,
    private readonly h: SourceHandlers<R>,
    private readonly retryMs: number,
    private readonly compositeRevision: () => string,
  ) {}

  async list(): Promise<void> {
    const res = await listSource(this.client, this.src);
    this.cache.clear();
    for (const { key, r } of res.items) this.cache.set(key, r);
    this.revision = res.revision;
    this.complete = true;
  }

  resumeFrom(revision: string): void {
    this.revision = revision;
    this.complete = false;
  }

  /** Starts watching; resolves after the first connection attempt (successful or not). */
  start(): Promise<void> {
    let first!: () => void;
    const attempted = new Promise<void>((r) => { first = r; });
    this.loop = this.run(first);
    return attempted;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pause.end();
    this.controller?.abort();
    await this.loop?.catch(() => undefined);
  }

  private report(e: Error): void {
    if (this.down || this.closed) return;
    this.down = true;
    log.warn('Kubernetes watch failed; retrying', { collection: this.src.collection.plural, error: e.message });
    this.h.error(e);
  }

  private async run(firstAttempt: () => void): Promise<void> {
    let delay = this.retryMs;
    let relist = false;
    while (!this.closed) {
      if (relist) {
        try {
          await this.list();
          relist = false;
          if (this.closed) break;
          this.h.relisted();
        } catch (e) {
          this.report(e as Error);
          await this.pause.wait(delay);
          delay = Math.min(delay * 2, 5000);
          continue;
        }
      }
      const outcome = await this.watchOnce(() => {
        firstAttempt();
        delay = this.retryMs;
        if (this.down) {
          this.down = false;
          log.info('Kubernetes watch reconnected', { collection: this.src.collection.plural, revision: this.revision });
        }
      });
      firstAttempt();
      if (this.closed) break;
      if (outcome.kind === 'expired') {
        log.info('Kubernetes watch expired (410); re-listing', { collection: this.src.collection.plural, revision: this.revision });
        relist = true;
        continue;
      }
      if (outcome.kind === 'failed') {
        this.report(outcome.error);
        await this.pause.wait(delay);
        delay = Math.min(delay * 2, 5000);
      } else {
        await this.pause.wait(20); // a stream the server ended: resume from where it stopped
      }
    }
  }

  /** One watch request, until its stream ends. */
  private watchOnce(connected: () => void): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let expired = false;
      let settled = false;
      const finish = (o: Outcome) => {
        if (settled) return;
        settled = true;
        resolve(o);
      };
      const path = collectionPath(this.src.collection, this.src.namespace);
      const query = { resourceVersion: this.revision, allowWatchBookmarks: true };
      const onLine = (type: string, obj: Json) => {
        if (this.closed || settled) return;
        if (type === 'ERROR') {
          const code = Number(obj?.['code']);
          if (code === 410) expired = true;
          else finish({ kind: 'failed', error: new ConnectionError(`Kubernetes watch on ${path}: ${obj?.['message'] ?? 'error'}`) });
          this.controller?.abort();
          return;
        }
        const rv = obj?.['metadata']?.['resourceVersion'];
        if (rv) this.revision = String(rv);
        if (type === 'BOOKMARK') return;
        this.apply(type, obj);
      };
      const onDone = (err: unknown) => {
        if (expired) return finish({ kind: 'expired' });
        if (!err) return finish({ kind: 'ended' });
        const code = (err as { statusCode?: number }).statusCode;
        if (code === 410) return finish({ kind: 'expired' });
        const e = err as NodeJS.ErrnoException;
        if (e.name === 'AbortError') return finish({ kind: 'ended' });
        const cause = e.code === 'ECONNREFUSED' ? 'connection refused' : code ? `HTTP ${code} ${e.message}` : e.message;
        finish({ kind: 'failed', error: new ConnectionError(`cannot watch ${path} at ${this.client.server}: ${cause}`, err) });
      };
      clientLibrary().then((lib) => new lib.Watch(this.client.kc).watch(path, query, onLine, onDone)).then(
        (c) => {
          this.controller = c;
          if (this.closed) c.abort();
          if (!settled) connected();
        },
        (e: unknown) => finish({ kind: 'failed', error: e instanceof DatastoreError ? e : new ConnectionError(`cannot watch ${path}: ${(e as Error).message}`, e) }),
      );
    });
  }

  /** Turns one Kubernetes event into the kind's events, tracking what the watcher holds. */
  private apply(type: string, obj: Json): void {
    const key = keyOf(obj);
    const prev = this.cache.get(key);
    if (type === 'DELETED') {
      const gone = prev ?? safeConvert(this.src, obj);
      this.cache.delete(key);
      if (gone) this.h.event({ type: 'deleted', resource: gone, revision: this.compositeRevision() });
      return;
    }
    if (type !== 'ADDED' && type !== 'MODIFIED') return;
    const now = safeConvert(this.src, obj);
    if (now) {
      this.cache.set(key, now);
      if (prev) this.h.event({ type: 'modified', resource: now, previous: prev });
      else if (type === 'ADDED' || this.complete) this.h.event({ type: 'added', resource: now });
      else this.h.event({ type: 'modified', resource: now });
    } else if (prev) {
      // It stopped being a resource of this kind (e.g. a pod lost its address or finished).
      this.cache.delete(key);
      this.h.event({ type: 'deleted', resource: prev, revision: this.compositeRevision() });
    }
  }
}

/** A watch over a kind backed by one or more collections. */
export class KindWatch<R> implements Watch {
  private readonly parts: SourceWatch<R>[];
  private closed = false;

  constructor(client: KubeClient, sources: Source<R>[], private readonly onEvent: (ev: WatchEvent<R>) => void, retryMs: number) {
    const revision = () => this.parts.map((p) => p.revision).join('/');
    this.parts = sources.map((s) => new SourceWatch<R>(client, s, {
      event: (ev) => this.emit(ev),
      relisted: () => this.emit({ type: 'resync', items: this.items(), revision: revision() }),
      error: (e) => this.emit({ type: 'error', error: e }),
    }, retryMs, revision));
  }

  private items(): R[] {
    return this.parts.flatMap((p) => [...p.cache.values()]);
  }

  private emit(ev: WatchEvent<R>): void {
    if (!this.closed) this.onEvent(ev);
  }

  async open(revision?: string): Promise<void> {
    try {
      if (revision === undefined) {
        for (const p of this.parts) await p.list();
        this.emit({ type: 'resync', items: this.items(), revision: this.parts.map((p) => p.revision).join('/') });
      } else {
        const revs = revision.split('/');
        if (revs.length !== this.parts.length || revs.some((r) => !/^\d+$/.test(r))) {
          throw new InvalidArgumentError(`watch: revision "${revision}" is not one this kind's list returned (${this.parts.length} resourceVersion(s) joined by "/")`);
        }
        this.parts.forEach((p, i) => p.resumeFrom(revs[i]!));
      }
      await Promise.all(this.parts.map((p) => p.start()));
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.parts.map((p) => p.close()));
  }
}

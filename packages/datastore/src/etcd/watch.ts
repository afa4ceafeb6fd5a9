// One resumable watch over a key prefix. It keeps its own resume point, the revision of the
// last event it delivered: the etcd3 client resumes a dropped stream from the header revision of
// the last response it saw, which during a catch-up (or right after creation) lies ahead of the
// events actually delivered, and that would lose events across a reconnect. A watch that etcd
// cancels (its start revision was compacted) continues with a fresh list (`resync`).

import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import { createLogger } from '@tabby/log';
import type { ListResult, Watch, WatchEvent } from '../datastore.js';
import { ConnectionError, InvalidArgumentError } from '../errors.js';
import { Pause } from '../pause.js';

const log = createLogger('datastore');

export interface WatchSource<R> {
  client: Etcd3;
  prefix: string;
  /** Watch exactly `prefix` as a key rather than as a prefix. */
  exact: boolean;
  list(): Promise<ListResult<R>>;
  /** The resource at a key, or undefined when the key is not of this kind or not decodable. */
  decode(kv: IKeyValue): R | undefined;
  /** The identity-only resource for a key whose last value is unknown or unreadable. */
  stub(key: string, revision: string): R | undefined;
  /** Turns a client failure into the datastore's error. */
  fail(e: unknown): Error;
  endpoints: string;
  timeoutMs: number;
}


export class PrefixWatch<R> implements Watch {
  private revision = 0n;
  private watcher: Watcher | undefined;
  private closed = false;
  /** Set while the stream is down, so an outage is reported once. */
  private down = false;
  private recovering = false;
  private abortAttach: (() => void) | undefined;
  private readonly pause = new Pause();

  constructor(private readonly src: WatchSource<R>, private readonly onEvent: (ev: WatchEvent<R>) => void) {}

  /** Lists first (without a revision) or resumes after `revision`; fails fast when etcd is unreachable. */
  async open(revision?: string): Promise<void> {
    try {
      if (revision === undefined) await this.relist();
      else {
        if (!/^\d+$/.test(revision)) throw new InvalidArgumentError(`watch: revision "${revision}" is not a number`);
        this.revision = BigInt(revision);
      }
      if ((await this.attach()) === 'connected') return;
      // The start revision was compacted: start over from a list.
      await this.relist();
      if ((await this.attach()) !== 'connected') {
        throw new ConnectionError(`etcd at ${this.src.endpoints} cancelled the watch on ${this.src.prefix}`);
      }
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abortAttach?.();
    this.pause.end();
    const w = this.watcher;
    this.watcher = undefined;
    if (w) {
      // A server that stopped answering must not hold close() up for long.
      const bounded = new Pause();
      await Promise.race([w.cancel().catch(() => undefined).finally(() => bounded.end()), bounded.wait(2000)]);
    }
  }

  private emit(ev: WatchEvent<R>): void {
    if (!this.closed) this.onEvent(ev);
  }

  private async relist(): Promise<void> {
    const res = await this.src.list();
    this.revision = BigInt(res.revision);
    this.emit({ type: 'resync', items: res.items, revision: res.revision });
  }

  /** Starts an etcd watcher after `revision`; settles once etcd accepted or cancelled it. */
  private attach(): Promise<'connected' | 'cancelled'> {
    const b = this.src.client.watch().withPreviousKV().startRevision(String(this.revision + 1n));
    const w = (this.src.exact ? b.key(this.src.prefix) : b.prefix(this.src.prefix)).watcher();
    this.watcher = w;
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (how: () => void) => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        this.abortAttach = undefined;
        how();
        return true;
      };
      const giveUp = (err: Error) => settle(() => {
        if (this.watcher === w) this.watcher = undefined;
        void w.cancel().catch(() => undefined);
        reject(err);
      });
      const timer = setTimeout(() => giveUp(new ConnectionError(`cannot reach etcd at ${this.src.endpoints}: no answer within ${this.src.timeoutMs / 1000} s (watch)`)), this.src.timeoutMs);
      this.abortAttach = () => settle(() => resolve('cancelled'));

      // Only the current watcher speaks; one given up on may still report its fate.
      const current = () => this.watcher === w && !this.closed;
      w.on('connected', () => {
        if (!current()) return;
        this.resumeAfterDelivered(w);
        if (this.down) {
          this.down = false;
          log.info('etcd watch reconnected', { prefix: this.src.prefix, revision: String(this.revision) });
        }
        settle(() => resolve('connected'));
      });
      w.on('put', (kv, prev) => { if (current()) this.onPut(kv, prev); });
      w.on('delete', (kv, prev) => { if (current()) this.onDelete(kv, prev); });
      w.on('data', (res: IWatchResponse) => {
        if (!current()) return;
        // An empty response is a progress notification, which etcd sends only to watchers that
        // have caught up: everything up to its revision has been delivered.
        if (res.events.length === 0 && BigInt(res.header.revision) > this.revision) this.revision = BigInt(res.header.revision);
        this.resumeAfterDelivered(w);
      });
      w.on('disconnected', (err: unknown) => {
        if (!current() || giveUp(this.src.fail(err)) || this.down) return;
        this.down = true;
        const error = this.src.fail(err);
        log.warn('etcd watch disconnected; reconnecting', { prefix: this.src.prefix, error: error.message });
        this.emit({ type: 'error', error });
      });
      w.on('error', (err: Error) => {
        // etcd cancelled the watch, in practice because the start revision was compacted
        // (etcd 3.4 gives no reason). The client has already dropped this watcher.
        if (!current()) return;
        this.watcher = undefined;
        if (settle(() => resolve('cancelled'))) return;
        log.warn('etcd cancelled the watch; re-listing', { prefix: this.src.prefix, error: err.message });
        void this.recover();
      });
    });
  }

  /** Points the client's reconnect at the event after the last one delivered. */
  private resumeAfterDelivered(w: Watcher): void {
    w.request.start_revision = String(this.revision + 1n);
  }

  private async recover(): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    try {
      for (let delay = 200; !this.closed; delay = Math.min(delay * 2, 5000)) {
        try {
          await this.relist();
          if (this.closed || (await this.attach()) === 'connected') return;
        } catch (e) {
          this.emit({ type: 'error', error: e as Error });
        }
        await this.pause.wait(delay);
      }
    } finally {
      this.recovering = false;
    }
  }

  private onPut(kv: IKeyValue, prev: IKeyValue | undefined): void {
    this.revision = BigInt(kv.mod_revision);
    const now = this.src.decode(kv);
    const before = prev ? this.src.decode(prev) : undefined;
    if (now && before) this.emit({ type: 'modified', resource: now, previous: before });
    else if (now) this.emit({ type: 'added', resource: now });
    else {
      // Unreadable now: to watchers it is gone (they may hold an older, readable version).
      const gone = before ?? this.src.stub(kv.key.toString(), kv.mod_revision);
      if (gone) this.emit({ type: 'deleted', resource: gone, revision: kv.mod_revision });
    }
  }

  private onDelete(kv: IKeyValue, prev: IKeyValue | undefined): void {
    this.revision = BigInt(kv.mod_revision);
    const gone = (prev ? this.src.decode(prev) : undefined) ?? this.src.stub(kv.key.toString(), kv.mod_revision);
    if (gone) this.emit({ type: 'deleted', resource: gone, revision: kv.mod_revision });
  }
}

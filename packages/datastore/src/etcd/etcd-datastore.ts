// The etcd v3 backend. Every write that could race is a transaction comparing the key's
// version (create) or mod revision (update/delete), as libcalico-go's etcdv3 backend does.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Etcd3, type IKeyValue, type Watcher } from 'etcd3';
import { KINDS, type AnyResource, type KindMap, type KindName } from '@tabby/api';
import { createLogger } from '@tabby/log';
import type { Datastore, DeleteOptions, ListOptions, ListResult, Watch, WatchEvent, WatchOptions } from '../datastore.js';
import { AlreadyExistsError, ConflictError, ConnectionError, DatastoreError, DecodeError, NotFoundError } from '../errors.js';
import { decodeKV, encodeValue, keyMatchesKind, keyOf, keyOfResource, listPrefixOf } from './keys.js';

const log = createLogger('datastore');

export interface EtcdOptions {
  endpoints: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  /** Per-operation limit before a ConnectionError (default 5000 ms). */
  timeoutMs?: number;
}

export class EtcdDatastore implements Datastore {
  private readonly client: Etcd3;
  private readonly timeoutMs: number;
  private readonly watches = new Set<Watch>();

  constructor(private readonly opts: EtcdOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    const read = (f: string, what: string) => {
      try {
        return readFileSync(f);
      } catch (e) {
        throw new ConnectionError(`cannot read etcd ${what} file ${f}: ${(e as Error).message}`);
      }
    };
    const credentials = opts.caFile
      ? {
          rootCertificate: read(opts.caFile, 'CA certificate'),
          ...(opts.certFile ? { certChain: read(opts.certFile, 'client certificate') } : {}),
          ...(opts.keyFile ? { privateKey: read(opts.keyFile, 'client key') } : {}),
        }
      : undefined;
    this.client = new Etcd3({
      hosts: opts.endpoints,
      dialTimeout: this.timeoutMs,
      ...(credentials ? { credentials } : {}),
      ...(opts.username ? { auth: { username: opts.username, password: opts.password ?? '' } } : {}),
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + this.timeoutMs }),
    });
  }

  /** Runs one etcd call, turning transport failures and timeouts into a ConnectionError. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectionError(`cannot reach etcd at ${this.opts.endpoints.join(',')}: no answer within ${this.timeoutMs / 1000} s (${what})`)), this.timeoutMs + 500);
    });
    try {
      return await Promise.race([fn(), timeout]);
    } catch (e) {
      if (e instanceof DatastoreError) throw e;
      throw new ConnectionError(`cannot reach etcd at ${this.opts.endpoints.join(',')}: ${describeEtcdError(e)}`, e);
    } finally {
      clearTimeout(timer);
    }
  }

  private async keyFor(kind: KindName, name: string, namespace?: string): Promise<string | undefined> {
    const key = keyOf(kind, name, namespace);
    if (key || kind !== 'BlockAffinity') return key;
    // IPv6 affinity names do not split unambiguously: find the stored key with that name.
    const { items } = await this.list('BlockAffinity');
    const hit = items.find((a) => a.metadata.name === name);
    return hit ? keyOfResource(hit) : undefined;
  }

  private ref(kind: KindName, name: string, namespace?: string) {
    return { kind, name, ...(KINDS[kind].namespaced && namespace ? { namespace } : {}) };
  }

  async get<K extends KindName>(kind: K, name: string, namespace?: string): Promise<KindMap[K]> {
    const key = await this.keyFor(kind, name, namespace);
    if (!key) throw new NotFoundError(this.ref(kind, name, namespace));
    const res = await this.call('get', () => this.client.get(key).exec());
    const kv = res.kvs[0];
    if (!kv) throw new NotFoundError(this.ref(kind, name, namespace));
    return decodeKV(kind, key, kv.value.toString(), kv.mod_revision) as KindMap[K];
  }

  async list<K extends KindName>(kind: K, opts: ListOptions = {}): Promise<ListResult<KindMap[K]>> {
    const prefix = listPrefixOf(kind, opts.namespace);
    const res = await this.call('list', () =>
      KINDS[kind].storage === 'ipam-config' ? this.client.get(prefix).exec() : this.client.getAll().prefix(prefix).exec());
    const items: KindMap[K][] = [];
    for (const kv of res.kvs) {
      const r = this.decodeOrSkip(kind, kv);
      if (r) items.push(r as KindMap[K]);
    }
    return { items, revision: res.header.revision };
  }

  /** A list must not fail because one stored value is corrupt: skip it and say so. */
  private decodeOrSkip(kind: KindName, kv: IKeyValue): AnyResource | undefined {
    const key = kv.key.toString();
    if (!keyMatchesKind(kind, key)) return undefined;
    try {
      return decodeKV(kind, key, kv.value.toString(), kv.mod_revision);
    } catch (e) {
      log.warn('skipping undecodable value', { key, error: (e as Error).message });
      return undefined;
    }
  }

  async create<R extends AnyResource>(resource: R): Promise<R> {
    const r = structuredClone(resource);
    delete r.metadata.resourceVersion;
    if (KINDS[r.kind].storage === 'v3') {
      r.metadata.uid ??= randomUUID();
      r.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    const key = keyOfResource(r);
    const res = await this.call('create', () =>
      this.client.if(key, 'Version', '==', 0).then(this.client.put(key).value(encodeValue(r))).commit());
    if (!res.succeeded) throw new AlreadyExistsError(this.ref(r.kind, r.metadata.name, r.metadata.namespace));
    return { ...r, metadata: { ...r.metadata, resourceVersion: res.header.revision } };
  }

  async update<R extends AnyResource>(resource: R): Promise<R> {
    const r = structuredClone(resource);
    const key = keyOfResource(r);
    const ref = this.ref(r.kind, r.metadata.name, r.metadata.namespace);
    const rv = r.metadata.resourceVersion;
    const existing = await this.call('get', () => this.client.get(key).exec());
    const cur = existing.kvs[0];
    if (!cur) throw new NotFoundError(ref);
    if (rv && rv !== cur.mod_revision) throw new ConflictError(ref, rv, cur.mod_revision);
    // Identity fields are owned by the store, not by the writer.
    if (KINDS[r.kind].storage === 'v3') {
      try {
        const stored = decodeKV(r.kind, key, cur.value.toString(), cur.mod_revision);
        r.metadata.uid = stored.metadata.uid ?? r.metadata.uid;
        r.metadata.creationTimestamp = stored.metadata.creationTimestamp ?? r.metadata.creationTimestamp;
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }
    const expected = rv ?? cur.mod_revision;
    const res = await this.call('update', () =>
      this.client.if(key, 'Mod', '==', expected).then(this.client.put(key).value(encodeValue(r))).else(this.client.get(key)).commit());
    if (!res.succeeded) {
      const now = res.responses[0]?.response_range?.kvs?.[0];
      if (!now) throw new NotFoundError(ref);
      throw new ConflictError(ref, expected, now.mod_revision);
    }
    return { ...r, metadata: { ...r.metadata, resourceVersion: res.header.revision } };
  }

  async delete<K extends KindName>(kind: K, name: string, namespace?: string, opts: DeleteOptions = {}): Promise<KindMap[K]> {
    const ref = this.ref(kind, name, namespace);
    const key = await this.keyFor(kind, name, namespace);
    if (!key) throw new NotFoundError(ref);
    const existing = await this.call('get', () => this.client.get(key).exec());
    const cur = existing.kvs[0];
    if (!cur) throw new NotFoundError(ref);
    if (opts.resourceVersion && opts.resourceVersion !== cur.mod_revision) throw new ConflictError(ref, opts.resourceVersion, cur.mod_revision);
    const expected = opts.resourceVersion ?? cur.mod_revision;
    const res = await this.call('delete', () =>
      this.client.if(key, 'Mod', '==', expected).then(this.client.delete().key(key)).else(this.client.get(key)).commit());
    if (!res.succeeded) {
      const now = res.responses[0]?.response_range?.kvs?.[0];
      if (!now) throw new NotFoundError(ref);
      throw new ConflictError(ref, expected, now.mod_revision);
    }
    return decodeKV(kind, key, cur.value.toString(), cur.mod_revision) as KindMap[K];
  }

  async watch<K extends KindName>(kind: K, opts: WatchOptions, onEvent: (ev: WatchEvent<KindMap[K]>) => void): Promise<Watch> {
    const prefix = listPrefixOf(kind, opts.namespace);
    const exact = KINDS[kind].storage === 'ipam-config';
    let closed = false;
    let watcher: Watcher | undefined;
    // The last revision delivered; the watch continues strictly after it.
    let revision = 0n;

    const relist = async () => {
      const res = await this.list(kind, opts.namespace !== undefined ? { namespace: opts.namespace } : {});
      revision = BigInt(res.revision);
      if (!closed) onEvent({ type: 'resync', items: res.items, revision: res.revision });
    };
    const decode = (kv: IKeyValue): KindMap[K] | undefined => this.decodeOrSkip(kind, kv) as KindMap[K] | undefined;

    const start = async (): Promise<void> => {
      const builder = this.client.watch().withPreviousKV().startRevision(String(revision + 1n));
      const w = await this.call('watch', () => (exact ? builder.key(prefix) : builder.prefix(prefix)).create());
      if (closed) {
        await w.cancel();
        return;
      }
      watcher = w;
      w.on('put', (kv, prev) => {
        revision = BigInt(kv.mod_revision);
        const r = decode(kv);
        if (!r) return;
        const previous = prev ? decode(prev) : undefined;
        onEvent(kv.version === '1' || !previous ? { type: 'added', resource: r } : { type: 'modified', resource: r, previous });
      });
      w.on('delete', (kv, prev) => {
        revision = BigInt(kv.mod_revision);
        const r = prev ? decode(prev) : undefined;
        if (r) onEvent({ type: 'deleted', resource: r, revision: kv.mod_revision });
      });
      w.on('error', (err) => {
        if (closed) return;
        // The server cancelled the watch. The usual cause is a compacted start revision (etcd
        // 3.4 gives no reason text), so re-list: a resync is always a safe way to continue.
        log.warn('etcd watch cancelled; re-listing', { prefix, error: String(err?.message) });
        watcher = undefined;
        void (async () => {
          for (let delay = 100; !closed; delay = Math.min(delay * 2, 5000)) {
            try {
              await relist();
              await start();
              return;
            } catch (e) {
              onEvent({ type: 'error', error: e as Error });
              await new Promise((res) => setTimeout(res, delay));
            }
          }
        })();
      });
    };

    if (opts.revision === undefined) await relist();
    else revision = BigInt(opts.revision);
    await start();

    const handle: Watch = {
      close: async () => {
        closed = true;
        this.watches.delete(handle);
        await watcher?.cancel().catch(() => undefined);
      },
    };
    this.watches.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    await Promise.all([...this.watches].map((w) => w.close()));
    this.client.close();
  }
}

function describeEtcdError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/ECONNREFUSED|connection refused/i.test(msg)) return 'connection refused';
  if (/deadline|timed? ?out/i.test(msg)) return 'timed out';
  if (/certificate|SSL|TLS|handshake/i.test(msg)) return `TLS failure: ${msg}`;
  return msg.split('\n')[0]!;
}

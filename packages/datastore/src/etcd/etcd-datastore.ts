// The etcd v3 backend. Writes that could race are transactions comparing the key's version
// (create) or mod revision (update/delete), as libcalico-go's etcdv3 backend does, and
// resourceVersion is the key's mod revision.
//
// Every call has a time budget (default 5 s) and fails with a ConnectionError naming the
// endpoints and the cause; the client only re-sends a request that certainly never reached the
// server, so a write is never applied twice. There is no circuit breaker: with one endpoint it
// would only replace the real cause by "circuit open".

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConstantBackoff, ExponentialBackoff, halfJitterGenerator, handleWhen, noop, retry, type IBackoff } from 'cockatiel';
import { Etcd3, type IKeyValue, type IOptions } from 'etcd3';
import { KINDS, type AnyResource, type KindMap, type KindName } from '@tabby/api';
import { createLogger } from '@tabby/log';
import type { Datastore, DeleteOptions, ListOptions, ListResult, Watch, WatchEvent, WatchOptions } from '../datastore.js';
import {
  AlreadyExistsError, ConfigError, ConflictError, ConnectionError, DatastoreError, DecodeError, NotFoundError, type ResourceRef,
} from '../errors.js';
import { describeFailure, neverSent } from './failure.js';
import { candidateKeys, decodeKV, encodeValue, keyMatchesKind, keyOfResource, listPrefixOf, stubOf } from './keys.js';
import { PrefixWatch } from './watch.js';

const log = createLogger('datastore');

export interface EtcdOptions {
  /** Client URLs, all http:// or all https://. */
  endpoints: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** PEM text instead of files (CalicoAPIConfig's etcdCACert / etcdCert / etcdKey). */
  caCert?: string;
  cert?: string;
  key?: string;
  username?: string;
  password?: string;
  /** Time budget of one operation before it fails with a ConnectionError (default 5000 ms). */
  timeoutMs?: number;
  /** Delay before a dropped watch stream reconnects (default 200 ms, doubling up to 5 s; each delay jittered down by up to half). */
  watchRetryMs?: number;
}

/** How many times a write is tried again when its transaction lost a race it did not ask for. */
const UNCONDITIONAL_RETRIES = 5;

export class EtcdDatastore implements Datastore {
  private readonly client: Etcd3;
  private readonly timeoutMs: number;
  private readonly where: string;
  private readonly watches = new Set<Watch>();

  constructor(opts: EtcdOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.where = opts.endpoints.join(',');
    this.client = new Etcd3(clientOptions(opts, this.timeoutMs));
  }

  async get<K extends KindName>(kind: K, name: string, namespace?: string): Promise<KindMap[K]> {
    const hit = await this.read(kind, name, namespace);
    return decodeKV(kind, hit.key, hit.kv.value.toString(), hit.kv.mod_revision) as KindMap[K];
  }

  async list<K extends KindName>(kind: K, opts: ListOptions = {}): Promise<ListResult<KindMap[K]>> {
    const prefix = listPrefixOf(kind, opts.namespace);
    const res = await this.call(() =>
      KINDS[kind].storage === 'ipam-config' ? this.client.get(prefix).exec() : this.client.getAll().prefix(prefix).exec());
    const items: KindMap[K][] = [];
    for (const kv of res.kvs) {
      const r = this.decodeOrSkip(kind, kv);
      if (r) items.push(r as KindMap[K]);
    }
    return { items, revision: res.header.revision };
  }

  async create<R extends AnyResource>(resource: R): Promise<R> {
    const r = structuredClone(resource);
    delete r.metadata.resourceVersion;
    if (KINDS[r.kind].storage === 'v3') {
      r.metadata.uid ??= randomUUID();
      r.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    const key = keyOfResource(r);
    const value = encodeValue(r);
    const res = await this.call(() => this.client.if(key, 'Version', '==', 0).then(this.client.put(key).value(value)).commit());
    if (!res.succeeded) throw new AlreadyExistsError(ref(r));
    return decodeKV(r.kind, key, value, res.header.revision) as R;
  }

  async update<R extends AnyResource>(resource: R): Promise<R> {
    const r = structuredClone(resource);
    const key = keyOfResource(r);
    const wanted = r.metadata.resourceVersion;
    delete r.metadata.resourceVersion;
    const v3 = KINDS[r.kind].storage === 'v3';
    for (let attempt = 0; ; attempt++) {
      // Without a resourceVersion, or to carry over uid/creationTimestamp, read the current value.
      let expected = wanted;
      if (!wanted || v3) {
        const cur = (await this.call(() => this.client.get(key).exec())).kvs[0];
        if (!cur) throw new NotFoundError(ref(r));
        if (wanted && wanted !== cur.mod_revision) throw new ConflictError(ref(r), wanted, cur.mod_revision);
        expected = cur.mod_revision;
        if (v3) keepIdentity(r, key, cur);
      }
      const value = encodeValue(r);
      const res = await this.call(() =>
        this.client.if(key, 'Mod', '==', expected!).then(this.client.put(key).value(value)).else(this.client.get(key)).commit());
      if (res.succeeded) return decodeKV(r.kind, key, value, res.header.revision) as R;
      const now = res.responses[0]?.response_range?.kvs?.[0];
      if (!now) throw new NotFoundError(ref(r));
      if (wanted || attempt >= UNCONDITIONAL_RETRIES) throw new ConflictError(ref(r), expected, now.mod_revision);
    }
  }

  async delete<K extends KindName>(kind: K, name: string, namespace?: string, opts: DeleteOptions = {}): Promise<KindMap[K]> {
    const rf = refOf(kind, name, namespace);
    for (let attempt = 0; ; attempt++) {
      // Read first: the deleted object is returned, and the delete is a CAS on what was read.
      const { key, kv } = await this.read(kind, name, namespace);
      const wanted = opts.resourceVersion;
      if (wanted && wanted !== kv.mod_revision) throw new ConflictError(rf, wanted, kv.mod_revision);
      const res = await this.call(() =>
        this.client.if(key, 'Mod', '==', kv.mod_revision).then(this.client.delete().key(key)).else(this.client.get(key)).commit());
      if (res.succeeded) {
        try {
          return decodeKV(kind, key, kv.value.toString(), kv.mod_revision) as KindMap[K];
        } catch (e) {
          // Deleting an unreadable value is how one repairs it; report what is known.
          if (!(e instanceof DecodeError)) throw e;
          return stubOf(kind, key, kv.mod_revision) as KindMap[K];
        }
      }
      const now = res.responses[0]?.response_range?.kvs?.[0];
      if (!now) throw new NotFoundError(rf);
      if (wanted || attempt >= UNCONDITIONAL_RETRIES) throw new ConflictError(rf, wanted ?? kv.mod_revision, now.mod_revision);
    }
  }

  async watch<K extends KindName>(kind: K, opts: WatchOptions, onEvent: (ev: WatchEvent<KindMap[K]>) => void): Promise<Watch> {
    const w = new PrefixWatch<KindMap[K]>({
      client: this.client,
      prefix: listPrefixOf(kind, opts.namespace),
      exact: KINDS[kind].storage === 'ipam-config',
      list: () => this.list(kind, opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
      decode: (kv) => this.decodeOrSkip(kind, kv) as KindMap[K] | undefined,
      stub: (key, rev) => stubOf(kind, key, rev) as KindMap[K] | undefined,
      fail: (e) => this.failure(e),
      endpoints: this.where,
      timeoutMs: this.timeoutMs,
    }, onEvent);
    await w.open(opts.revision);
    const handle: Watch = {
      close: async () => {
        this.watches.delete(handle);
        await w.close();
      },
    };
    this.watches.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    await Promise.all([...this.watches].map((w) => w.close()));
    this.client.close();
  }

  /** The stored key/value a name denotes (several candidate keys only for IPv6 BlockAffinity names). */
  private async read(kind: KindName, name: string, namespace?: string): Promise<{ key: string; kv: IKeyValue }> {
    const keys = candidateKeys(kind, name, namespace);
    const found = await this.call(() => Promise.all(keys.map((k) => this.client.get(k).exec())));
    const i = found.findIndex((res) => res.kvs.length > 0);
    if (i < 0) throw new NotFoundError(refOf(kind, name, namespace));
    return { key: keys[i]!, kv: found[i]!.kvs[0]! };
  }

  /** A list or watch must not fail because one stored value is corrupt: skip it and say so. */
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

  /** Runs one etcd request within the time budget, mapping client failures to datastore errors. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectionError(`cannot reach etcd at ${this.where}: no answer within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
    });
    try {
      return await Promise.race([fn(), timeout]);
    } catch (e) {
      throw this.failure(e);
    } finally {
      clearTimeout(timer);
    }
  }

  private failure(e: unknown): Error {
    if (e instanceof DatastoreError) return e;
    const f = describeFailure(e, this.timeoutMs);
    switch (f.kind) {
      case 'transport': return new ConnectionError(`cannot reach etcd at ${this.where}: ${f.cause}`, e);
      case 'auth': return new ConnectionError(`etcd at ${this.where} refused the request: ${f.cause}`, e);
      case 'other': return new DatastoreError(`etcd at ${this.where}: ${f.cause}`);
    }
  }
}

function refOf(kind: KindName, name: string, namespace?: string): ResourceRef {
  return { kind, name, ...(KINDS[kind].namespaced && namespace ? { namespace } : {}) };
}

function ref(r: AnyResource): ResourceRef {
  return refOf(r.kind, r.metadata.name, r.metadata.namespace);
}

/** uid and creationTimestamp belong to the stored object, not to whoever writes it next. */
function keepIdentity(r: AnyResource, key: string, cur: IKeyValue): void {
  try {
    const stored = decodeKV(r.kind, key, cur.value.toString(), cur.mod_revision);
    if (stored.metadata.uid) r.metadata.uid = stored.metadata.uid;
    if (stored.metadata.creationTimestamp) r.metadata.creationTimestamp = stored.metadata.creationTimestamp;
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e; // an unreadable value is simply replaced
  }
}

const URL_RE = /^(https?):\/\/[^/\s]+\/?$/;

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ConfigError(`cannot read the etcd ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** etcd3 client options: TLS by the endpoints' scheme, per-attempt deadlines, safe retries only. */
function clientOptions(opts: EtcdOptions, timeoutMs: number): IOptions {
  if (!opts.endpoints.length) throw new ConfigError('no etcd endpoints given');
  const schemes = new Set(opts.endpoints.map((e) => {
    const m = URL_RE.exec(e);
    if (!m) throw new ConfigError(`"${e}" is not an etcd endpoint URL (expected http(s)://host:port)`);
    return m[1];
  }));
  if (schemes.size > 1) throw new ConfigError(`etcd endpoints ${opts.endpoints.join(',')} mix http:// and https://`);
  const tls = schemes.has('https');
  const hasCert = !!(opts.certFile || opts.cert);
  const hasKey = !!(opts.keyFile || opts.key);
  if (hasCert !== hasKey) throw new ConfigError('an etcd client certificate and its key must be given together');
  if (!tls && (opts.caFile || opts.caCert || hasCert)) {
    log.warn('etcd TLS settings are ignored for http:// endpoints', { endpoints: opts.endpoints });
  }
  if (!!opts.username !== !!opts.password) throw new ConfigError('the etcd username and password must be given together');

  const n = opts.endpoints.length;
  // Each attempt gets a share of the budget so that one silent endpoint leaves time for another.
  const perAttempt = n > 1 ? Math.max(1000, Math.floor(timeoutMs / n)) : timeoutMs;
  const deadline = () => ({ deadline: Date.now() + perAttempt });
  const pem = (text: string | undefined, file: string | undefined, what: string) =>
    text !== undefined ? Buffer.from(text) : file ? readPem(file, what) : undefined;
  const ca = pem(opts.caCert, opts.caFile, 'CA certificate');
  const cert = pem(opts.cert, opts.certFile, 'client certificate');
  const key = pem(opts.key, opts.keyFile, 'client key');
  return {
    hosts: opts.endpoints,
    dialTimeout: timeoutMs,
    // Without a CA the system's trusted roots apply (grpc's default for a missing root).
    ...(tls ? { credentials: { rootCertificate: ca as Buffer, ...(key ? { privateKey: key } : {}), ...(cert ? { certChain: cert } : {}) } } : {}),
    ...(opts.username ? { auth: { username: opts.username, password: opts.password!, callOptions: deadline } } : {}),
    // Keepalives notice a server that vanished without closing the connection (as Calico: 30 s / 10 s).
    grpcOptions: { 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000 },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : deadline()),
    faultHandling: {
      host: () => noop,
      global: retry(handleWhen(neverSent), { maxAttempts: 2 * n, backoff: new ConstantBackoff(50) }),
      // Jittered so that many nodes do not reconnect in step after an etcd restart. etcd3 calls
      // next() on this before reading a duration, as a backoff factory (its own default) offers;
      // its typing asks for an instance.
      watchBackoff: new ExponentialBackoff({ generator: halfJitterGenerator, initialDelay: opts.watchRetryMs ?? 200, maxDelay: 5000 }) as unknown as IBackoff<unknown>,
    },
  };
}

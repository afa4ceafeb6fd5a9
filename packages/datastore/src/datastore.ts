// The storage contract every backend (etcd now, Kubernetes later) implements. Resources are
// addressed by (kind, namespace, name); resourceVersion is the backend's revision of the object
// and every update/delete that carries one is a compare-and-swap on it.

import type { AnyResource, KindMap, KindName } from '@tabby/api';

export interface ListOptions {
  /** For namespaced kinds: only this namespace. Omit for all namespaces. */
  namespace?: string;
}

export interface ListResult<R> {
  items: R[];
  /** The store revision the list reflects; pass it to watch() to continue from here. */
  revision: string;
}

export interface DeleteOptions {
  /** Delete only if the stored resourceVersion still equals this (compare-and-swap). */
  resourceVersion?: string;
}

/**
 * What a watch reports, in store order, each change exactly once. A stored value that cannot be
 * decoded is not a resource: a change to one is reported as `deleted` (with the last readable
 * state, or just the identity) and a later readable value as `added`.
 */
export type WatchEvent<R = AnyResource> =
  | { type: 'added'; resource: R }
  | { type: 'modified'; resource: R; previous?: R }
  /** `resource` is the last state before the deletion; `revision` that of the deletion. */
  | { type: 'deleted'; resource: R; revision: string }
  /**
   * A full list (at the start of a watch without a revision, or when the history needed to
   * continue was compacted): `items` replaces whatever the watcher held.
   */
  | { type: 'resync'; items: R[]; revision: string }
  /** Transient trouble (e.g. the store is unreachable); the watch keeps trying and resumes without loss. */
  | { type: 'error'; error: Error };

export interface WatchOptions extends ListOptions {
  /** Resume after this revision. Omit to list first and then watch (a `resync` event comes first). */
  revision?: string;
}

export interface Watch {
  /** Stops the watch; no events are delivered after the returned promise settles. */
  close(): Promise<void>;
}

/**
 * Errors (see errors.ts): NotFoundError, AlreadyExistsError, ConflictError as documented per
 * method; ConnectionError when the store cannot be reached or refuses us (within a bounded time,
 * never a hang); InvalidArgumentError for names that cannot be stored; DecodeError when a stored
 * value is corrupt (get names the key; list and watch skip such values and log them, so one bad
 * entry cannot take a whole listing down).
 */
export interface Datastore {
  get<K extends KindName>(kind: K, name: string, namespace?: string): Promise<KindMap[K]>;
  list<K extends KindName>(kind: K, opts?: ListOptions): Promise<ListResult<KindMap[K]>>;
  /** Fails with AlreadyExistsError if present. Returns the stored object with resourceVersion (and uid, creationTimestamp) set. */
  create<R extends AnyResource>(resource: R): Promise<R>;
  /**
   * Replaces an existing resource. With metadata.resourceVersion set this is a compare-and-swap
   * (ConflictError on mismatch); without it the object must merely exist (NotFoundError otherwise).
   */
  update<R extends AnyResource>(resource: R): Promise<R>;
  /**
   * Returns the deleted object (only its identity if the stored value was unreadable).
   * NotFoundError if absent, ConflictError on a resourceVersion mismatch.
   */
  delete<K extends KindName>(kind: K, name: string, namespace?: string, opts?: DeleteOptions): Promise<KindMap[K]>;
  /** Resolves once the watch is established (after the first `resync` when no revision is given). */
  watch<K extends KindName>(kind: K, opts: WatchOptions, onEvent: (ev: WatchEvent<KindMap[K]>) => void): Promise<Watch>;
  close(): Promise<void>;
}

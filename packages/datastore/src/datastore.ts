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

export type WatchEvent<R = AnyResource> =
  | { type: 'added'; resource: R }
  | { type: 'modified'; resource: R; previous?: R }
  | { type: 'deleted'; resource: R; revision: string }
  /** A full re-list happened (start of watch or after compaction): `items` is the whole state. */
  | { type: 'resync'; items: R[]; revision: string }
  | { type: 'error'; error: Error };

export interface WatchOptions extends ListOptions {
  /** Resume after this revision. Omit to list first and then watch (a `resync` event comes first). */
  revision?: string;
}

export interface Watch {
  /** Stops the watch; no events are delivered after the returned promise settles. */
  close(): Promise<void>;
}

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
  /** Returns the deleted object. NotFoundError if absent, ConflictError on a resourceVersion mismatch. */
  delete<K extends KindName>(kind: K, name: string, namespace?: string, opts?: DeleteOptions): Promise<KindMap[K]>;
  watch<K extends KindName>(kind: K, opts: WatchOptions, onEvent: (ev: WatchEvent<KindMap[K]>) => void): Promise<Watch>;
  close(): Promise<void>;
}

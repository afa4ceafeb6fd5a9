// Typed datastore errors. Messages follow calicoctl's wording so the CLI can print them as-is.

import type { KindName } from '@tabby/api';

export interface ResourceRef {
  kind: KindName;
  name: string;
  namespace?: string;
}

function describe(ref: ResourceRef): string {
  return `${ref.kind}(${ref.namespace ? ref.namespace + '/' : ''}${ref.name})`;
}

export class DatastoreError extends Error {
  override name = 'DatastoreError';
}

/** calicoctl: "resource does not exist: IPPool(pool1) with error: ..." */
export class NotFoundError extends DatastoreError {
  override name = 'NotFoundError';
  constructor(readonly ref: ResourceRef) {
    super(`resource does not exist: ${describe(ref)}`);
  }
}

export class AlreadyExistsError extends DatastoreError {
  override name = 'AlreadyExistsError';
  constructor(readonly ref: ResourceRef) {
    super(`resource already exists: ${describe(ref)}`);
  }
}

/** Compare-and-swap failure: the stored resourceVersion differs from the one supplied. */
export class ConflictError extends DatastoreError {
  override name = 'ConflictError';
  constructor(readonly ref: ResourceRef, readonly expected: string | undefined, readonly actual: string | undefined) {
    super(`update conflict: ${describe(ref)}: resourceVersion ${expected ?? '<none>'} does not match the stored ${actual ?? '<none>'}`);
  }
}

/** The datastore could not be reached (or timed out). */
export class ConnectionError extends DatastoreError {
  override name = 'ConnectionError';
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
  }
}

/** The request itself cannot be served: a name that cannot form a key, a missing namespace, ... */
export class InvalidArgumentError extends DatastoreError {
  override name = 'InvalidArgumentError';
}

/** The client configuration (file, environment or options) is unusable; the message names the file or field. */
export class ConfigError extends DatastoreError {
  override name = 'ConfigError';
}

/** The stored value could not be decoded (corrupt or foreign data under our keys). */
export class DecodeError extends DatastoreError {
  override name = 'DecodeError';
  constructor(readonly key: string, message: string) {
    super(`cannot decode ${key}: ${message}`);
  }
}

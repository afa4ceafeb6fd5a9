// Per-invocation state: global options, the lazily opened datastore, and output streams.

import { createDatastore, loadClientConfig, type Datastore } from '@tabby/datastore';
import { resolveKind, type AnyResource, type KindDef } from '@tabby/api';
import { CtlError } from './errors.js';

export interface GlobalOptions {
  config?: string;
  logLevel?: string;
  allowVersionMismatch?: boolean;
}

export interface Output {
  out(s: string): void;
  err(s: string): void;
}

export class Session {
  private store: Datastore | undefined;

  constructor(readonly globals: GlobalOptions, readonly io: Output) {}

  async datastore(): Promise<Datastore> {
    if (!this.store) {
      const cfg = await loadClientConfig(this.globals.config !== undefined ? { configFile: this.globals.config } : {});
      this.store = await createDatastore(cfg);
    }
    return this.store;
  }

  async close(): Promise<void> {
    const s = this.store;
    this.store = undefined;
    await s?.close();
  }
}

export function kindOrThrow(arg: string, verb: string): KindDef<AnyResource> {
  const def = resolveKind(arg);
  if (!def) throw new CtlError(`Failed to ${verb} resources: resource type '${arg}' is not supported`);
  return def;
}

/** `Kind(ns/name)` as calicoctl identifies resources in messages. */
export function ident(kind: string, name: string, namespace?: string): string {
  return `${kind}(${namespace ? namespace + '/' : ''}${name})`;
}

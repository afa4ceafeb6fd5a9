// Shared by the datastore tests: resource builders, a watch-event recorder, rejection checks.
import { expect } from 'chai';
import type { WatchEvent } from '@tabby/datastore';
import type { AnyResource } from '@tabby/api';

export const pool = (name: string, cidr: string, extra: object = {}): AnyResource =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, ...extra } }) as unknown as AnyResource;

export const wep = (ns: string, name: string): AnyResource =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name, namespace: ns }, spec: { interfaceName: 'cali1', node: 'n1' } }) as unknown as AnyResource;

export const specOf = (r: AnyResource) => r.spec as unknown as Record<string, unknown>;

/** Records watch events and lets a test wait until a condition holds. */
export class Events<R = AnyResource> {
  readonly list: WatchEvent<R>[] = [];
  push = (e: WatchEvent<R>) => { this.list.push(e); };
  /** The events as short strings, e.g. `added(p1)`, `resync(p1,p2)`. */
  shown(): string[] {
    return this.list.map(show);
  }
  /** Events other than transient errors (which a reconnecting watch may report). */
  changes(): string[] {
    return this.list.filter((e) => e.type !== 'error').map(show);
  }
  async until(pred: (l: WatchEvent<R>[]) => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred(this.list)) {
      if (Date.now() > end) throw new Error(`timed out; events: ${JSON.stringify(this.shown())}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export function show(e: WatchEvent<unknown>): string {
  if (e.type === 'resync') return `resync(${(e.items as AnyResource[]).map((i) => i.metadata.name).join(',')})`;
  if (e.type === 'error') return `error(${e.error.message})`;
  return `${e.type}(${(e.resource as AnyResource).metadata.name})`;
}

export async function rejection(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e, 'expected a rejection').to.be.instanceOf(Error);
  return e as Error;
}

export async function expectReject(p: Promise<unknown>, cls: new (...a: never[]) => Error, message?: string | RegExp): Promise<Error> {
  const e = await rejection(p);
  expect(e, `expected ${cls.name}, got ${e.name}: ${e.message}`).to.be.instanceOf(cls);
  if (typeof message === 'string') expect(e.message).to.equal(message);
  else if (message) expect(e.message).to.match(message);
  return e;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// Attribute sets are shared: thousands of prefixes from one peer usually carry identical
// attributes, so each distinct set (with its next hops) is stored once and paths point at it,
// as BIRD does. Interning happens once per UPDATE message, not once per prefix.

import type { PathAttributes } from '../wire/attributes.js';

export interface InternedAttributes {
  readonly id: number;
  readonly key: string;
  readonly attrs: Readonly<PathAttributes>;
  /** Next hops as learned (IPv4 NEXT_HOP or the MP_REACH next hops). */
  readonly nextHops: readonly string[];
  refs: number;
}

/** A stable text form of an attribute set (byte arrays as hex), usable as a map key. */
export function attributesKey(a: PathAttributes): string {
  return JSON.stringify(a, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
}

export class AttributeTable {
  private readonly byKey = new Map<string, InternedAttributes>();
  private nextId = 1;

  /** Returns the shared set for `a` with these next hops, taking a reference. */
  intern(a: PathAttributes, nextHops: readonly string[] = a.nextHop ? [a.nextHop] : []): InternedAttributes {
    const key = `${attributesKey(a)}|${nextHops.join(',')}`;
    let e = this.byKey.get(key);
    if (!e) {
      e = { id: this.nextId++, key, attrs: Object.freeze({ ...a }), nextHops: Object.freeze([...nextHops]), refs: 0 };
      this.byKey.set(key, e);
    }
    e.refs++;
    return e;
  }

  release(e: InternedAttributes): void {
    if (--e.refs <= 0) this.byKey.delete(e.key);
  }

  get size(): number {
    return this.byKey.size;
  }
}

// Attribute sets are shared: thousands of prefixes from one peer usually carry identical
// attributes, so each distinct set is stored once and paths point at it (as BIRD does).

import type { PathAttributes } from '../wire/attributes.js';

export interface InternedAttributes {
  readonly id: number;
  readonly key: string;
  readonly attrs: Readonly<PathAttributes>;
  refs: number;
}

function canonical(a: PathAttributes): string {
  return JSON.stringify(a, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
}

export class AttributeTable {
  private readonly byKey = new Map<string, InternedAttributes>();
  private nextId = 1;

  /** Returns the shared set for `a`, taking a reference. */
  intern(a: PathAttributes): InternedAttributes {
    const key = canonical(a);
    let e = this.byKey.get(key);
    if (!e) {
      e = { id: this.nextId++, key, attrs: Object.freeze({ ...a }), refs: 0 };
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

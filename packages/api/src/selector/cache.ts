// Parsing is pure, so a parsed selector can be shared by everyone who uses the same text.
// Felix and confd see the same few selectors over and over; this bounded cache (least recently
// used out first) saves re-parsing them. Failures are not cached.

import { parseSelector, type Selector } from './selector.js';

export class SelectorCache {
  readonly #entries = new Map<string, Selector>();

  constructor(readonly maxEntries = 4096) {}

  get size(): number {
    return this.#entries.size;
  }

  /** `parseSelector(s)`, reusing an earlier result for the same text. Throws `SelectorError`. */
  parse(s: string): Selector {
    let sel = this.#entries.get(s);
    if (sel !== undefined) {
      this.#entries.delete(s);
    } else {
      sel = parseSelector(s);
      if (this.#entries.size >= this.maxEntries) {
        const oldest = this.#entries.keys().next();
        if (!oldest.done) this.#entries.delete(oldest.value);
      }
    }
    this.#entries.set(s, sel);
    return sel;
  }

  clear(): void {
    this.#entries.clear();
  }
}

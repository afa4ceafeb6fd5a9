// A map keyed by prefix that stays small at a million entries. IPv4 prefixes, by far the most
// numerous, are never stored as text: each prefix length has its own Map keyed by the address
// as a signed 32-bit integer, which V8 keeps unboxed (a small integer), so an entry costs only
// the Map's own slots. IPv6 prefixes are keyed by their canonical text.
//
// Keys given as text are parsed on every call; IPv4 host bits are cleared, so "10.0.0.1/24" and
// "10.0.0.0/24" are the same key. IPv6 text must already be canonical (the wire decoder and the
// config loader produce canonical text).

let parsedLength = 0;

/** Parses dotted-quad "a.b.c.d/len" into a signed 32-bit integer (host bits cleared); sets parsedLength. NaN when it is not IPv4. */
function parse4(s: string): number {
  let addr = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return NaN;
    } else if (c === 46) {
      if (!digits || ++dots > 3) return NaN;
      addr = addr * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c === 47) {
      break;
    } else {
      return NaN;
    }
  }
  if (dots !== 3 || !digits || i >= s.length - 1) return NaN;
  addr = addr * 256 + octet;
  let len = 0;
  for (i++; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return NaN;
    len = len * 10 + (c - 48);
    if (len > 32) return NaN;
  }
  parsedLength = len;
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) | 0;
  return (addr | 0) & mask;
}

function format4(addr: number, len: number): string {
  return `${(addr >>> 24) & 255}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}/${len}`;
}

export class PrefixMap<V> {
  private readonly v4: (Map<number, V> | undefined)[] = new Array<Map<number, V> | undefined>(33).fill(undefined);
  private readonly v6 = new Map<string, V>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(prefix: string): V | undefined {
    const a = parse4(prefix);
    if (a === a) return this.v4[parsedLength]?.get(a);
    return this.v6.get(prefix);
  }

  has(prefix: string): boolean {
    const a = parse4(prefix);
    if (a === a) return this.v4[parsedLength]?.has(a) ?? false;
    return this.v6.has(prefix);
  }

  set(prefix: string, value: V): this {
    const a = parse4(prefix);
    let m: Map<number, V> | Map<string, V>;
    let key: number | string;
    if (a === a) {
      let m4 = this.v4[parsedLength];
      if (!m4) this.v4[parsedLength] = m4 = new Map();
      m = m4;
      key = a;
    } else {
      m = this.v6;
      key = prefix;
    }
    const before = m.size;
    (m as Map<number | string, V>).set(key, value);
    this.count += m.size - before;
    return this;
  }

  delete(prefix: string): boolean {
    const a = parse4(prefix);
    const ok = a === a ? (this.v4[parsedLength]?.delete(a) ?? false) : this.v6.delete(prefix);
    if (ok) this.count--;
    return ok;
  }

  clear(): void {
    this.v4.fill(undefined);
    this.v6.clear();
    this.count = 0;
  }

  /**
   * Entries as [prefix text, value]. Like a Map's iterator it tolerates changes while it runs:
   * deleted entries that were not reached yet are skipped, added ones may or may not be seen.
   */
  *entries(): IterableIterator<[string, V]> {
    for (let len = 0; len <= 32; len++) {
      const m = this.v4[len];
      if (m) for (const [a, v] of m) yield [format4(a, len), v];
    }
    yield* this.v6;
  }

  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }
}

/** A set of prefixes with the same compact layout. */
export class PrefixSet {
  private readonly m = new PrefixMap<true>();
  get size(): number {
    return this.m.size;
  }
  add(prefix: string): this {
    this.m.set(prefix, true);
    return this;
  }
  has(prefix: string): boolean {
    return this.m.has(prefix);
  }
  delete(prefix: string): boolean {
    return this.m.delete(prefix);
  }
  clear(): void {
    this.m.clear();
  }
  keys(): IterableIterator<string> {
    return this.m.keys();
  }
  [Symbol.iterator](): IterableIterator<string> {
    return this.m.keys();
  }

}

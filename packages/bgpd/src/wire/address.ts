// Addresses as text (what the rest of bgpd uses) and as bytes (what the wire carries).
// Formatting reads a buffer that decoding has already bounds-checked; parsing is for the
// encoder and throws a plain Error on bad text, which is a caller bug, not a peer's.

export type Afi4or6 = 1 | 2;

export function formatIPv4(b: Uint8Array, at = 0): string {
  return `${b[at] ?? 0}.${b[at + 1] ?? 0}.${b[at + 2] ?? 0}.${b[at + 3] ?? 0}`;
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups as "::". */
export function formatIPv6(b: Uint8Array, at = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((b[at + i] ?? 0) << 8) | (b[at + i + 1] ?? 0));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function formatAddress(afi: Afi4or6, bytes: Uint8Array): string {
  return afi === 1 ? formatIPv4(bytes) : formatIPv6(bytes);
}

export function parseIPv4(s: string): Uint8Array {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new Error(`not an IPv4 address: ${s}`);
  return Uint8Array.from(parts, Number);
}

export function parseIPv6(s: string): Uint8Array {
  const bad = () => new Error(`not an IPv6 address: ${s}`);
  let text = s;
  const out = new Uint8Array(16);
  // A trailing dotted quad (::ffff:10.0.0.1) fills the last 32 bits.
  const lastColon = text.lastIndexOf(':');
  let v4: Uint8Array | undefined;
  if (text.slice(lastColon + 1).includes('.')) {
    v4 = parseIPv4(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) throw bad();
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - left.length - right.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) throw bad();
  const all = [...left, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...right];
  all.forEach((g, i) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  if (v4) out.set(v4, 12);
  return out;
}

export function parseAddress(afi: Afi4or6, s: string): Uint8Array {
  return afi === 1 ? parseIPv4(s) : parseIPv6(s);
}

/** A BGP identifier (RFC 6286: any non-zero 32-bit value) as dotted quad. */
export function idToString(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

export function idFromString(s: string): number {
  const b = parseIPv4(s);
  return ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
}

// Test helper: bytes from commented hex, independent of the encoder under test.
export function hex(s: string): Uint8Array {
  const clean = s.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (clean.length % 2) throw new Error('odd hex');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}
export const MARKER = 'ffffffffffffffffffffffffffffffff';
export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

// PLACEHOLDER until the selector parser lands: accepts everything.
export class SelectorError extends Error {}
export function parseSelector(s: string): { source: string } {
  return { source: s };
}

// A small declarative schema for the structural half of validation: field types, enums,
// unknown fields (rejected, with a did-you-mean). Semantic rules live next to each kind.

import { Issues, joinPath } from './issues.js';

export type Check = (value: unknown, path: string, issues: Issues) => void;

export type Schema =
  | { t: 'string'; check?: Check }
  | { t: 'bool' }
  | { t: 'int'; min?: number; max?: number }
  | { t: 'number' }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'array'; of: Schema; max?: number }
  | { t: 'map'; of: Schema }
  | { t: 'object'; fields: Record<string, Schema>; required?: readonly string[] }
  /** Any value; the custom check does all the work (int-or-string ports, ASNs, ...). */
  | { t: 'custom'; check: Check }
  | { t: 'any' };

export const str = (check?: Check): Schema => (check ? { t: 'string', check } : { t: 'string' });
export const bool: Schema = { t: 'bool' };
export const num: Schema = { t: 'number' };
export const int = (min?: number, max?: number): Schema => ({ t: 'int', ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) });
export const oneOf = (...values: string[]): Schema => ({ t: 'enum', values });
export const arr = (of: Schema, max?: number): Schema => (max !== undefined ? { t: 'array', of, max } : { t: 'array', of });
export const map = (of: Schema): Schema => ({ t: 'map', of });
export const obj = (fields: Record<string, Schema>, required: readonly string[] = []): Schema => ({ t: 'object', fields, required });
export const custom = (check: Check): Schema => ({ t: 'custom', check });
export const any: Schema = { t: 'any' };

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Levenshtein distance, for did-you-mean suggestions. */
export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, c);
    if (d < bestD) { best = c; bestD = d; }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Structural check of `value` against `schema`; issues are added, nothing is thrown. */
export function checkSchema(value: unknown, schema: Schema, path: string, issues: Issues): void {
  switch (schema.t) {
    case 'any':
      return;
    case 'custom':
      schema.check(value, path, issues);
      return;
    case 'string':
      if (typeof value !== 'string') { issues.add(path, value, `must be a string, not ${typeName(value)}`); return; }
      schema.check?.(value, path, issues);
      return;
    case 'bool':
      if (typeof value !== 'boolean') issues.add(path, value, `must be true or false, not ${typeName(value)}`);
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) issues.add(path, value, `must be a number, not ${typeName(value)}`);
      return;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) { issues.add(path, value, `must be an integer, not ${typeName(value)}`); return; }
      if (schema.min !== undefined && value < schema.min) issues.add(path, value, `must be at least ${schema.min}`);
      if (schema.max !== undefined && value > schema.max) issues.add(path, value, `must be at most ${schema.max}`);
      return;
    case 'enum':
      if (typeof value !== 'string' || !schema.values.includes(value)) {
        issues.add(path, value, `must be one of ${schema.values.join(', ')}`);
      }
      return;
    case 'array':
      if (!Array.isArray(value)) { issues.add(path, value, `must be a list, not ${typeName(value)}`); return; }
      if (schema.max !== undefined && value.length > schema.max) issues.add(path, value.length, `must have at most ${schema.max} entries`);
      value.forEach((v, i) => checkSchema(v, schema.of, joinPath(path, i), issues));
      return;
    case 'map':
      if (!isPlainObject(value)) { issues.add(path, value, `must be a map, not ${typeName(value)}`); return; }
      for (const [k, v] of Object.entries(value)) checkSchema(v, schema.of, joinPath(path, k), issues);
      return;
    case 'object': {
      if (!isPlainObject(value)) { issues.add(path, value, `must be an object, not ${typeName(value)}`); return; }
      for (const [k, v] of Object.entries(value)) {
        const fs = schema.fields[k];
        if (!fs) {
          const hint = suggest(k, Object.keys(schema.fields));
          issues.add(joinPath(path, k), v, `unknown field${hint ? ` (did you mean "${hint}"?)` : ''}`);
          continue;
        }
        if (v === null || v === undefined) continue; // explicit null means "unset", as in Go's JSON decoding
        checkSchema(v, fs, joinPath(path, k), issues);
      }
      for (const r of schema.required ?? []) {
        const v = value[r];
        if (v === undefined || v === null || v === '') issues.add(joinPath(path, r), v, 'is required');
      }
      return;
    }
    default: {
      const never: never = schema;
      throw new Error(`unhandled schema ${JSON.stringify(never)}`);
    }
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

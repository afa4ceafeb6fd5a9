// Validation results: every problem names the field path, the offending value and the reason.

export interface FieldIssue {
  /** Dotted path with array indices, e.g. `spec.ingress[0].destination.ports[1]`. */
  path: string;
  value: unknown;
  reason: string;
}

/** Collects issues while validators walk a resource. */
export class Issues {
  readonly list: FieldIssue[] = [];

  add(path: string, value: unknown, reason: string): void {
    this.list.push({ path, value, reason });
  }

  get ok(): boolean {
    return this.list.length === 0;
  }
}

export function describeValue(v: unknown): string {
  if (v === undefined) return '<missing>';
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    const s = JSON.stringify(v);
    return s.length > 80 ? s.slice(0, 77) + '...' : s;
  } catch {
    return String(v);
  }
}

export function formatIssue(i: FieldIssue): string {
  return `${i.path}: ${i.reason} (value: ${describeValue(i.value)})`;
}

/** Thrown by helpers that validate-or-throw; carries every issue found. */
export class ValidationError extends Error {
  constructor(readonly issues: FieldIssue[], context?: string) {
    super((context ? context + ': ' : '') + issues.map(formatIssue).join('; '));
    this.name = 'ValidationError';
  }
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

// The per-peer `bfd` setting: `bfd: { enabled: true, minInterval: 300, multiplier: 3 }`, or just
// `bfd: true` for the defaults.

export interface BfdConfig {
  enabled: boolean;
  /** Milliseconds: the TX interval we want and the RX interval we can take. */
  minInterval: number;
  /** Detect multiplier: missed packets before the peer is declared down. */
  multiplier: number;
}

export const BFD_DEFAULTS: BfdConfig = { enabled: false, minInterval: 300, multiplier: 3 };

/** Below this a Node event loop cannot keep the promise; above it BFD is no faster than BGP keepalives. */
export const BFD_MIN_INTERVAL_MS = 10;
export const BFD_MAX_INTERVAL_MS = 60_000;

type Fail = (field: string, value: unknown, reason: string) => never;

function int(v: unknown, path: string, min: number, max: number, dflt: number, fail: Fail): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(path, v, `must be an integer from ${min} to ${max}`);
  return v as number;
}

/** Validates a peer's `bfd` value; `fail` throws the caller's error type naming the field. */
export function parseBfdConfig(v: unknown, path: string, fail: Fail): BfdConfig {
  if (v === undefined || v === false) return { ...BFD_DEFAULTS };
  if (v === true) return { ...BFD_DEFAULTS, enabled: true };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, v, 'must be a mapping {enabled, minInterval, multiplier} (or true/false)');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['enabled', 'minInterval', 'multiplier'].includes(k)) fail(`${path}.${k}`, o[k], 'unknown field; expected one of enabled, minInterval, multiplier');
  }
  const enabled = o['enabled'] ?? true;
  if (typeof enabled !== 'boolean') fail(`${path}.enabled`, enabled, 'must be true or false');
  return {
    enabled: enabled as boolean,
    minInterval: int(o['minInterval'], `${path}.minInterval`, BFD_MIN_INTERVAL_MS, BFD_MAX_INTERVAL_MS, BFD_DEFAULTS.minInterval, fail),
    multiplier: int(o['multiplier'], `${path}.multiplier`, 1, 255, BFD_DEFAULTS.multiplier, fail),
  };
}

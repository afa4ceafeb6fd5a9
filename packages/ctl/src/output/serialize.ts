// YAML and JSON renderings of resources. calicoctl's YAML goes JSON -> map -> YAML, so keys come
// out sorted at every level; its JSON keeps the struct order (apiVersion, kind, metadata, spec).

import YAML from 'yaml';

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

export function toYaml(v: unknown): string {
  // YAML 1.1 rules (as Go's yaml.v2) quote strings such as timestamps; sequences are not indented.
  return YAML.stringify(sortKeys(v), { lineWidth: 0, version: '1.1', indentSeq: false });
}

export function toJson(v: unknown): string {
  return JSON.stringify(v, null, 2) + '\n';
}

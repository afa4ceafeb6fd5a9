// Pure patch application: JSON merge patch (RFC 7386) and JSON patch (RFC 6902).
// calicoctl's default "strategic" merge behaves like a merge patch for Calico's types, whose
// lists carry no merge keys, so both map to mergePatch here.

import { CtlError } from './errors.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObj(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

interface Op {
  op: string;
  path: string;
  value?: Json;
  from?: string;
}

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new CtlError(`invalid JSON pointer "${p}": must start with "/"`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, tokens: string[], path: string): { parent: Json; key: string } {
  let cur: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)] as Json;
    else if (isObj(cur)) cur = cur[t] as Json;
    else cur = undefined as unknown as Json;
    if (cur === undefined) throw new CtlError(`JSON patch path "${path}" does not exist`);
  }
  return { parent: cur, key: tokens[tokens.length - 1]! };
}

function getAt(doc: Json, path: string): Json {
  const tokens = parsePointer(path);
  if (!tokens.length) return doc;
  const { parent, key } = parentOf(doc, tokens, path);
  const v = Array.isArray(parent) ? parent[Number(key)] : isObj(parent) ? parent[key] : undefined;
  if (v === undefined) throw new CtlError(`JSON patch path "${path}" does not exist`);
  return v;
}

function removeAt(doc: Json, path: string): Json {
  const tokens = parsePointer(path);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw new CtlError(`JSON patch path "${path}" does not exist`);
    return parent.splice(i, 1)[0]!;
  }
  if (!isObj(parent) || !(key in parent)) throw new CtlError(`JSON patch path "${path}" does not exist`);
  const v = parent[key]!;
  delete parent[key];
  return v;
}

function addAt(doc: Json, path: string, value: Json, replace: boolean): Json {
  const tokens = parsePointer(path);
  if (!tokens.length) return structuredClone(value);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(i) || i < 0 || i > parent.length || (replace && i >= parent.length)) throw new CtlError(`JSON patch index "${key}" is out of range at "${path}"`);
    if (replace) parent[i] = structuredClone(value);
    else parent.splice(i, 0, structuredClone(value));
  } else if (isObj(parent)) {
    if (replace && !(key in parent)) throw new CtlError(`JSON patch path "${path}" does not exist`);
    parent[key] = structuredClone(value);
  } else {
    throw new CtlError(`JSON patch path "${path}" does not exist`);
  }
  return doc;
}

export function jsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw new CtlError('a JSON patch must be a list of operations');
  let doc = structuredClone(target);
  ops.forEach((raw, i) => {
    if (!isObj(raw) || typeof raw['op'] !== 'string' || typeof raw['path'] !== 'string') {
      throw new CtlError(`JSON patch operation ${i}: needs "op" and "path"`);
    }
    const op = raw as unknown as Op;
    switch (op.op) {
      case 'add': doc = addAt(doc, op.path, op.value ?? null, false); break;
      case 'replace': doc = addAt(doc, op.path, op.value ?? null, true); break;
      case 'remove': removeAt(doc, op.path); break;
      case 'move': { const v = removeAt(doc, op.from ?? ''); doc = addAt(doc, op.path, v, false); break; }
      case 'copy': doc = addAt(doc, op.path, getAt(doc, op.from ?? ''), false); break;
      case 'test':
        if (JSON.stringify(getAt(doc, op.path)) !== JSON.stringify(op.value)) throw new CtlError(`JSON patch test failed at "${op.path}"`);
        break;
      default: throw new CtlError(`JSON patch operation ${i}: unknown op "${op.op}"`);
    }
  });
  return doc;
}

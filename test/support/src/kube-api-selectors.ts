// The pure pieces of the Kubernetes API test server: Status errors, label and field selectors,
// and the merge / JSON patch algorithms. Test code, not a Kubernetes implementation.

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A failed request, answered as a Kubernetes Status object. */
export class StatusError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: Obj) {
    super(message);
  }
  status(): Obj {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, ...(this.details ? { details: this.details } : {}), code: this.code };
  }
}

// ---- label and field selectors ----------------------------------------------------------------

export type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

/** Parses the label selector forms kubectl and clients use: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`. */
export function parseLabelSelector(text: string): Requirement[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur);
  return parts.map((p) => p.trim()).filter(Boolean).map((p): Requirement => {
    let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p);
    if (m) return { op: m[2] as 'in' | 'notin', key: m[1]!, values: m[3]!.split(',').map((s) => s.trim()).filter(Boolean) };
    m = /^([^!=\s]+)\s*(!=|==|=)\s*(\S*)$/.exec(p);
    if (m) return { op: m[2] === '!=' ? 'neq' : 'eq', key: m[1]!, value: m[3]! };
    m = /^!\s*(\S+)$/.exec(p);
    if (m) return { op: 'notexists', key: m[1]! };
    if (/^[^\s!=()]+$/.test(p)) return { op: 'exists', key: p };
    throw new StatusError(400, 'BadRequest', `unable to parse requirement: ${JSON.stringify(p)}`);
  });
}

export function labelsMatch(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'eq': return has && l[r.key] === r.value;
      case 'neq': return !has || l[r.key] !== r.value;
      case 'in': return has && r.values.includes(l[r.key]!);
      case 'notin': return !has || !r.values.includes(l[r.key]!);
      case 'exists': return has;
      case 'notexists': return !has;
    }
  });
}

export function parseFieldSelector(text: string): [string, string, boolean][] {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((p) => {
    const m = /^([\w.]+)\s*(!=|==|=)\s*(.*)$/.exec(p);
    if (!m) throw new StatusError(400, 'BadRequest', `invalid field selector: ${JSON.stringify(p)}`);
    return [m[1]!, m[3]!, m[2] !== '!='];
  });
}

export function fieldsMatch(sel: [string, string, boolean][], obj: Obj): boolean {
  return sel.every(([path, value, eq]) => {
    let v: unknown = obj;
    for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Obj)[k] : undefined;
    return (String(v ?? '') === value) === eq;
  });
}

// ---- patches ----------------------------------------------------------------------------------

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Obj = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Obj) } : {};
  for (const [k, v] of Object.entries(patch as Obj)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function jsonPointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new StatusError(422, 'Invalid', `JSON patch path ${JSON.stringify(path)} must start with "/"`);
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function jsonPatch(doc: Obj, ops: unknown): Obj {
  if (!Array.isArray(ops)) throw new StatusError(400, 'BadRequest', 'a JSON patch must be an array of operations');
  const out = structuredClone(doc);
  for (const op of ops as Obj[]) {
    const keys = jsonPointer(String(op['path'] ?? ''));
    const last = keys.pop();
    let parent: any = out; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const k of keys) {
      if (parent === null || typeof parent !== 'object' || !(k in parent)) throw new StatusError(422, 'Invalid', `JSON patch: path ${op['path']} does not exist`);
      parent = parent[k];
    }
    if (last === undefined) throw new StatusError(422, 'Invalid', 'JSON patch: the whole document cannot be replaced');
    const idx = Array.isArray(parent) ? (last === '-' ? parent.length : Number(last)) : undefined;
    switch (op['op']) {
      case 'add':
        if (idx !== undefined) (parent as unknown[]).splice(idx, 0, op['value']);
        else parent[last] = op['value'];
        break;
      case 'replace':
        if (!(last in parent)) throw new StatusError(422, 'Invalid', `JSON patch: path ${op['path']} does not exist`);
        parent[last] = op['value'];
        break;
      case 'remove':
        if (!(last in parent)) throw new StatusError(422, 'Invalid', `JSON patch: path ${op['path']} does not exist`);
        if (idx !== undefined) (parent as unknown[]).splice(idx, 1);
        else delete parent[last];
        break;
      case 'test':
        if (JSON.stringify(parent[last]) !== JSON.stringify(op['value'])) throw new StatusError(422, 'Invalid', `JSON patch: test of ${op['path']} failed`);
        break;
      default:
        throw new StatusError(400, 'BadRequest', `JSON patch: unsupported op ${JSON.stringify(op['op'])}`);
    }
  }
  return out;
}

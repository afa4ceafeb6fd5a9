// Helpers for the deploy/ structure tests: the manifests as objects, the Dockerfile as
// instructions, and the environment variables the code reads, found by scanning its source.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEPLOY = join(ROOT, 'deploy');

// ---- manifests -------------------------------------------------------------------------------

export type Obj = Record<string, any>;

export interface Manifest {
  file: string;
  docs: Obj[];
}

/** Every YAML file in deploy/, each parsed as a stream of documents (empty documents dropped). */
export function loadManifests(): Manifest[] {
  return readdirSync(DEPLOY).filter((f) => /\.ya?ml$/.test(f)).sort().map((file) => loadManifest(file));
}

export function loadManifest(file: string, text = readFileSync(join(DEPLOY, file), 'utf8')): Manifest {
  const docs: Obj[] = [];
  for (const d of YAML.parseAllDocuments(text)) {
    if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    const js = d.toJS();
    if (js !== null && js !== undefined) docs.push(js as Obj);
  }
  return { file, docs };
}

export const ofKind = (m: Manifest, kind: string) => m.docs.filter((d) => d['kind'] === kind);
export const named = (m: Manifest, kind: string, name: string) => ofKind(m, kind).find((d) => d['metadata']?.['name'] === name);
export const where = (m: Manifest, d: Obj) => `${m.file}: ${d['kind']} ${d['metadata']?.['name'] ?? '(no name)'}`;

/** A container's env as name -> literal value, or undefined for valueFrom entries. */
export function envOf(c: Obj): Map<string, string | undefined> {
  return new Map(((c['env'] ?? []) as Obj[]).map((e) => [e['name'] as string, e['value'] as string | undefined]));
}

/**
 * A container's env resolved as the kubelet would: literal values, ConfigMap keys of the same
 * manifest, and fieldRef spec.nodeName as `nodeName`. Throws naming an unresolvable reference.
 */
export function resolveEnv(m: Manifest, c: Obj, nodeName: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of (c['env'] ?? []) as Obj[]) {
    const name = e['name'] as string;
    if (e['value'] !== undefined) { out[name] = String(e['value']); continue; }
    const cm = e['valueFrom']?.['configMapKeyRef'];
    if (cm) {
      const map = named(m, 'ConfigMap', cm['name']);
      if (!map) throw new Error(`${m.file}: env ${name}: ConfigMap ${cm['name']} is not in the manifest`);
      const v = map['data']?.[cm['key']];
      if (v === undefined) throw new Error(`${m.file}: env ${name}: ConfigMap ${cm['name']} has no key ${cm['key']}`);
      out[name] = String(v);
      continue;
    }
    const field = e['valueFrom']?.['fieldRef']?.['fieldPath'];
    if (field === 'spec.nodeName') { out[name] = nodeName; continue; }
    throw new Error(`${m.file}: env ${name}: cannot resolve ${JSON.stringify(e['valueFrom'])}`);
  }
  return out;
}

// ---- environment variables the code reads ----------------------------------------------------

function walk(dir: string, keep: (f: string) => boolean, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (e === 'node_modules' || e === 'dist' || e === 'test') continue;
    if (statSync(p).isDirectory()) walk(p, keep, out);
    else if (keep(p)) out.push(p);
  }
  return out;
}

/** The TypeScript sources of the packages that run in the tabby-node container. */
export function packageSources(): string[] {
  return walk(join(ROOT, 'packages'), (f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
}

/**
 * Names of environment variables the given TypeScript sources read. A name counts when it is a
 * string literal of upper-case letters, digits and "_" (how every env lookup here is written),
 * plus the names built by the two templates in the code:
 *  - felix's `FELIX_${field.toUpperCase()}` over the fields of its settings table;
 *  - the node agent's `${p}SUFFIX` with p = `CALICO_IPV4POOL_` / `CALICO_IPV6POOL_`;
 *  - the datastore's `CALICO_${name}` variants of its environment names.
 * If the code stops using one of these templates, the derived names disappear and the test that
 * uses this list fails, which is the point.
 */
export function envNamesReadBy(files: string[]): Set<string> {
  const names = new Set<string>();
  for (const f of files) {
    const src = readFileSync(f, 'utf8');
    const literals = [...src.matchAll(/['"]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{2,})['"]/g)].map((m) => m[1]!);
    literals.forEach((n) => names.add(n));
    if (src.includes('`FELIX_${k.toUpperCase()}`')) {
      const table = /const FIELDS[^{]*\{([\s\S]*?)\n\};/.exec(src);
      if (table) for (const m of table[1]!.matchAll(/^\s+(\w+): \(s, v/gm)) names.add(`FELIX_${m[1]!.toUpperCase()}`);
    }
    if (src.includes('`CALICO_IPV${family}POOL_`')) {
      for (const m of src.matchAll(/`\$\{p\}([A-Z_]+)`/g)) for (const fam of [4, 6]) names.add(`CALICO_IPV${fam}POOL_${m[1]}`);
    }
    if (src.includes('`CALICO_${name}`')) literals.forEach((n) => names.add(`CALICO_${n}`));
  }
  return names;
}

/** Variables a shell script reads: $NAME and ${NAME...}. */
export function envNamesReadByScript(file: string): Set<string> {
  const src = readFileSync(file, 'utf8');
  return new Set([...src.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));
}

// ---- Dockerfile ------------------------------------------------------------------------------

export interface Instruction {
  op: string;
  args: string;
  line: number;
  stage: number;
}

/** Instructions with continuation lines joined and comments dropped; stage counts FROM lines. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  let stage = -1;
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i]!;
    if (/^\s*(#|$)/.test(l)) continue;
    const start = i;
    while (l.endsWith('\\') && i + 1 < lines.length) l = l.slice(0, -1) + ' ' + lines[++i]!.trim();
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(l);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: not an instruction: ${l}`);
    const op = m[1]!.toUpperCase();
    if (op === 'FROM') stage++;
    out.push({ op, args: m[2]!.trim(), line: start + 1, stage });
  }
  return out;
}

/** COPY's options, sources and destination (shell form). */
export function copyParts(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const w = words.shift()!;
    if (w.startsWith('--from=')) from = w.slice(7);
  }
  const dest = words.pop()!;
  return { ...(from ? { from } : {}), sources: words, dest };
}

/** Whether pattern segments match path segments ("**" any number of segments, "*" within one). */
function globMatch(pat: string[], path: string[]): boolean {
  if (!pat.length) return !path.length;
  if (pat[0] === '**') return globMatch(pat.slice(1), path) || (path.length > 0 && globMatch(pat, path.slice(1)));
  if (!path.length) return false;
  const re = new RegExp('^' + pat[0]!.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*') + '$');
  return re.test(path[0]!) && globMatch(pat.slice(1), path.slice(1));
}

/** The .dockerignore pattern that excludes `path` (or a directory above it), if any. */
export function dockerIgnored(path: string): string | undefined {
  const segs = path.replace(/\/$/, '').split('/');
  for (const raw of readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')) {
    const p = raw.trim();
    if (!p || p.startsWith('#')) continue;
    const pat = p.split('/');
    for (let n = 1; n <= segs.length; n++) if (globMatch(pat, segs.slice(0, n))) return p;
  }
  return undefined;
}

export const exists = (rel: string) => existsSync(join(ROOT, rel));
export const rel = (abs: string) => relative(ROOT, abs);

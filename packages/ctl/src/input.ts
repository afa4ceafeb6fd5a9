// Reading `-f FILE|DIR|-`: multi-document YAML/JSON, `*List` kinds and top-level sequences,
// each document remembered with its file and index so errors can point at it. Validation of
// every document happens before anything is written.

import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { formatIssue, isPlainObject, validateResource, type AnyResource } from '@tabby/api';
import { CtlError } from './errors.js';

export interface SourceDoc {
  /** File name as the user gave it (or "stdin"). */
  source: string;
  /** 1-based document index within the file. */
  index: number;
  /** 1-based position inside a List document or top-level sequence. */
  item?: number;
  value: unknown;
}

export function where(d: SourceDoc): string {
  return `${d.source}: document ${d.index}${d.item !== undefined ? `, item ${d.item}` : ''}`;
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

async function expandPath(path: string, recursive: boolean): Promise<string[]> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new CtlError(`Failed to execute command: cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) {
      if (recursive) out.push(...(await expandPath(p, true)));
    } else if (MANIFEST_EXT.test(entry.name)) {
      out.push(p);
    }
  }
  return out;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Splits one file's text into documents, expanding lists. Throws on YAML syntax errors. */
export function parseDocuments(source: string, textIn: string): SourceDoc[] {
  const docs = YAML.parseAllDocuments(textIn, { prettyErrors: true, uniqueKeys: true });
  const out: SourceDoc[] = [];
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const index = i + 1;
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      const pos = e.linePos?.[0];
      const at = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
      throw new CtlError(`Failed to execute command: ${source}: document ${index}: YAML syntax error${at}: ${e.message.split('\n')[0]}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return; // empty document, e.g. a trailing ---
    const items = listItems(value);
    if (items) items.forEach((v, j) => out.push({ source, index, item: j + 1, value: v }));
    else out.push({ source, index, value });
  });
  return out;
}

/** The members of a `<Kind>List` / `List` document or a top-level sequence, else undefined. */
function listItems(v: unknown): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (isPlainObject(v) && typeof v['kind'] === 'string' && v['kind'].endsWith('List') && 'items' in v) {
    return Array.isArray(v['items']) ? v['items'] : [];
  }
  return undefined;
}

export async function readSources(paths: readonly string[], recursive = false): Promise<SourceDoc[]> {
  const out: SourceDoc[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push(...parseDocuments('stdin', await readStdin()));
      continue;
    }
    for (const file of await expandPath(p, recursive)) {
      const body = await readFile(file, 'utf8').catch((e: Error) => {
        throw new CtlError(`Failed to execute command: cannot read ${file}: ${e.message}`);
      });
      out.push(...parseDocuments(file, body));
    }
  }
  return out;
}

export interface LoadedResource {
  doc: SourceDoc;
  resource: AnyResource;
}

/**
 * Validates every document; if any is invalid, throws one error listing all problems so that
 * nothing is written.
 */
export function validateAll(docs: readonly SourceDoc[], opts: { defaultNamespace: string; applyDefaults?: boolean }): LoadedResource[] {
  const ok: LoadedResource[] = [];
  const problems: string[] = [];
  let invalid = 0;
  for (const doc of docs) {
    const res = validateResource(doc.value, { defaultNamespace: opts.defaultNamespace, applyDefaults: opts.applyDefaults ?? true });
    if (res.resource) {
      ok.push({ doc, resource: res.resource });
      continue;
    }
    const v = isPlainObject(doc.value) ? doc.value : {};
    const meta = isPlainObject(v['metadata']) ? v['metadata'] : {};
    const label = typeof v['kind'] === 'string' ? ` (${v['kind']}${typeof meta['name'] === 'string' ? ` "${meta['name']}"` : ''})` : '';
    invalid++;
    for (const issue of res.issues) problems.push(`${where(doc)}${label}: ${formatIssue(issue)}`);
  }
  if (problems.length) {
    throw new CtlError(
      `Failed to execute command: ${invalid === 1 ? '1 resource is' : `${invalid} resources are`} invalid; nothing was written:\n` +
        problems.map((p) => `  ${p}`).join('\n'),
    );
  }
  return ok;
}

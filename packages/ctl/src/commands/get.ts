// get: list or fetch resources and print them as calicoctl does (ps / wide / custom-columns
// tables, yaml, json).

import { API_VERSION, type AnyResource, type KindDef } from '@tabby/api';
import { NotFoundError } from '@tabby/datastore';
import { readSources, validateAll } from '../input.js';
import { TABLES, pick, text, type CellContext } from '../kinds/columns.js';
import { renderColumns } from '../output/table.js';
import { toJson, toYaml } from '../output/serialize.js';
import { CtlError } from '../errors.js';
import { kindOrThrow, type Session } from '../session.js';
import { isConnectionProblem } from './write.js';

export const OUTPUT_FORMATS = ['ps', 'wide', 'yaml', 'json'] as const;

export interface GetOptions {
  output?: string;
  namespace?: string;
  allNamespaces?: boolean;
  filename?: string[];
  recursive?: boolean;
  export?: boolean;
}

type Printable = { list: true; def: KindDef<AnyResource>; items: AnyResource[]; revision: string } | { list: false; def: KindDef<AnyResource>; item: AnyResource };

function parseOutput(o: string | undefined): { format: 'ps' | 'wide' | 'yaml' | 'json' } | { format: 'custom'; columns: string[] } {
  const v = o ?? 'ps';
  if (v.startsWith('custom-columns=')) {
    const columns = v.slice('custom-columns='.length).split(',').map((c) => c.trim().toUpperCase()).filter(Boolean);
    if (!columns.length) throw new CtlError('Failed to get resources: custom-columns needs at least one column name');
    return { format: 'custom', columns };
  }
  if ((OUTPUT_FORMATS as readonly string[]).includes(v)) return { format: v as 'ps' };
  throw new CtlError(`Failed to get resources: unrecognized output format '${v}'; use one of ps, wide, yaml, json, custom-columns=A,B`);
}

function exportView(r: AnyResource, strip: boolean): AnyResource {
  if (!strip) return r;
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, ...meta } = r.metadata;
  return { ...r, metadata: meta } as AnyResource;
}

export async function runGet(session: Session, opts: GetOptions, kindArg: string | undefined, names: readonly string[]): Promise<void> {
  const output = parseOutput(opts.output);
  if (opts.namespace !== undefined && opts.allNamespaces) {
    throw new CtlError('Failed to get resources: --namespace and --all-namespaces cannot be used together');
  }

  // What to fetch: (kind, name?, namespace?) tuples.
  const targets: { def: KindDef<AnyResource>; name?: string; namespace?: string }[] = [];
  if (opts.filename?.length) {
    const docs = await readSources(opts.filename, opts.recursive);
    for (const { resource } of validateAll(docs, { defaultNamespace: opts.namespace ?? 'default', applyDefaults: false })) {
      targets.push({ def: kindOrThrow(resource.kind, 'get'), name: resource.metadata.name, ...(resource.metadata.namespace ? { namespace: resource.metadata.namespace } : {}) });
    }
  } else {
    if (!kindArg) throw new CtlError('Failed to get resources: specify a resource KIND (and optionally NAMEs) or -f FILE');
    const def = kindOrThrow(kindArg, 'get');
    const namespace = def.namespaced ? (opts.allNamespaces ? undefined : opts.namespace ?? 'default') : undefined;
    if (names.length && def.namespaced && opts.allNamespaces) {
      throw new CtlError('Failed to get resources: cannot use --all-namespaces when getting a single resource');
    }
    if (names.length) for (const name of names) targets.push({ def, name, ...(namespace ? { namespace } : {}) });
    else targets.push({ def, ...(namespace ? { namespace } : {}) });
  }

  const ds = await session.datastore();
  const printables: Printable[] = [];
  const errors: string[] = [];
  for (const t of targets) {
    try {
      if (t.name === undefined) {
        const res = await ds.list(t.def.kind, t.namespace !== undefined ? { namespace: t.namespace } : {});
        const items = [...res.items].sort(compareResources);
        printables.push({ list: true, def: t.def, items, revision: res.revision });
      } else {
        printables.push({ list: false, def: t.def, item: await ds.get(t.def.kind, t.name, t.namespace) });
      }
    } catch (e) {
      if (isConnectionProblem(e) || !(e instanceof NotFoundError)) throw e;
      errors.push(e.message);
    }
  }

  if (output.format === 'yaml' || output.format === 'json') {
    const objects = printables.map((p) => p.list
      ? { apiVersion: API_VERSION, kind: `${p.def.kind}List`, items: p.items.map((i) => exportView(i, !!opts.export)), metadata: { resourceVersion: p.revision } }
      : exportView(p.item, !!opts.export));
    if (objects.length) {
      const v = objects.length === 1 ? objects[0] : objects;
      session.io.out(output.format === 'yaml' ? toYaml(v) : toJson(v));
    }
  } else {
    const printNamespace = opts.allNamespaces === true || opts.namespace !== undefined;
    let globalAsn: Promise<string> | undefined;
    const ctx: CellContext = {
      globalAsn: () => (globalAsn ??= defaultAsn(session)),
    };
    for (const p of printables) {
      const table = TABLES[p.def.kind];
      let headings = output.format === 'custom' ? output.columns : output.format === 'wide' ? [...table.wide] : [...table.ps];
      const unknown = headings.find((h) => !table.cells[h]);
      if (unknown) {
        throw new CtlError(`Failed to get resources: Unknown heading ${unknown}, valid values are: ${Object.keys(table.cells).join(', ')}`);
      }
      if (printNamespace && p.def.namespaced && table.cells['NAMESPACE']) headings = ['NAMESPACE', ...headings];
      const items = p.list ? p.items : [p.item];
      const rows: string[][] = [];
      for (const r of items) rows.push(await Promise.all(headings.map(async (h) => await table.cells[h]!(r, ctx))));
      session.io.out(renderColumns(headings, rows) + '\n');
    }
  }
  if (errors.length) throw new CtlError(`Failed to get resources: ${errors.join('; ')}`);
}

function compareResources(a: AnyResource, b: AnyResource): number {
  const an = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
  const bn = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/** The cluster-wide AS number shown in parentheses for nodes without their own. */
async function defaultAsn(session: Session): Promise<string> {
  try {
    const cfg = await (await session.datastore()).get('BGPConfiguration', 'default');
    const asn = pick(cfg, 'spec.asNumber');
    return asn === undefined || asn === null ? '64512' : text(asn);
  } catch (e) {
    return e instanceof NotFoundError ? '64512' : 'unknown';
  }
}

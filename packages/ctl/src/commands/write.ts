// create / apply / replace / delete: the calicoctl "config commands". Every document is parsed
// and validated first; then resources are written one by one, continuing past failures (the
// kubectl convention calicoctl follows) and summarising like calicoctl does.

import { AlreadyExistsError, ConflictError, NotFoundError, type Datastore } from '@tabby/datastore';
import type { AnyResource } from '@tabby/api';
import { readSources, validateAll } from '../input.js';
import { checkPoolWrite, checkWritable } from '../checks.js';
import { CtlError } from '../errors.js';
import { ident, kindOrThrow, type Session } from '../session.js';

export type ConfigAction = 'create' | 'apply' | 'replace' | 'delete';

const PAST: Record<ConfigAction, string> = { create: 'created', apply: 'applied', replace: 'replaced', delete: 'deleted' };

export interface WriteOptions {
  filename?: string[];
  recursive?: boolean;
  namespace?: string;
  skipExists?: boolean;
  skipNotExists?: boolean;
}

interface Outcome {
  kinds: Set<string>;
  total: number;
  handled: number;
  errors: string[];
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Update with calicoctl's semantics: with a resourceVersion, a compare-and-swap; without, get-then-update retried on conflict. */
export async function replaceResource(ds: Datastore, r: AnyResource): Promise<AnyResource> {
  const rv = r.metadata.resourceVersion;
  const { kind } = r;
  const { name, namespace } = r.metadata;
  if (rv) {
    const current = await ds.get(kind, name, namespace);
    if (current.metadata.resourceVersion !== rv) {
      throw new CtlError(`update conflict: ${ident(kind, name, namespace)}: Resource version '${rv}' is out of date (latest: ${current.metadata.resourceVersion}). Update the resource YAML/JSON in order to make changes.`);
    }
    await checkPoolWrite(ds, r, current);
    try {
      return await ds.update(r);
    } catch (e) {
      if (e instanceof ConflictError) {
        throw new CtlError(`update conflict: ${ident(kind, name, namespace)}: Resource version '${rv}' is out of date. Update the resource YAML/JSON in order to make changes.`);
      }
      throw e;
    }
  }
  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await ds.get(kind, name, namespace);
    await checkPoolWrite(ds, r, current);
    try {
      return await ds.update({ ...r, metadata: { ...r.metadata, resourceVersion: current.metadata.resourceVersion } } as AnyResource);
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
      lastErr = e;
    }
  }
  throw lastErr;
}

async function writeOne(action: ConfigAction, ds: Datastore, r: AnyResource, opts: WriteOptions): Promise<void> {
  const { kind } = r;
  const { name, namespace } = r.metadata;
  checkWritable(kind, action);
  switch (action) {
    case 'create':
      try {
        await checkPoolWrite(ds, r, undefined);
        await ds.create(stripForCreate(r));
      } catch (e) {
        if (e instanceof AlreadyExistsError && opts.skipExists) return;
        throw e;
      }
      return;
    case 'apply':
      try {
        await checkPoolWrite(ds, r, await ds.get(kind, name, namespace).catch(() => undefined));
        await ds.create(stripForCreate(r));
      } catch (e) {
        if (!(e instanceof AlreadyExistsError)) throw e;
        await replaceResource(ds, r);
      }
      return;
    case 'replace':
      await replaceResource(ds, r);
      return;
    case 'delete':
      try {
        await ds.delete(kind, name, namespace, r.metadata.resourceVersion ? { resourceVersion: r.metadata.resourceVersion } : {});
      } catch (e) {
        if (e instanceof NotFoundError && opts.skipNotExists) return;
        throw e;
      }
      return;
    default: {
      const never: never = action;
      throw new Error(`unknown action ${String(never)}`);
    }
  }
}

/** Only name, namespace, labels and annotations of user metadata survive a create (as calicoctl does). */
function stripForCreate(r: AnyResource): AnyResource {
  const m = r.metadata;
  return {
    ...r,
    metadata: {
      name: m.name,
      ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
      ...(m.labels !== undefined ? { labels: m.labels } : {}),
      ...(m.annotations !== undefined ? { annotations: m.annotations } : {}),
    },
  } as AnyResource;
}

function summarise(action: ConfigAction, o: Outcome, session: Session): void {
  const single = o.kinds.size === 1 ? [...o.kinds][0] : undefined;
  const errList = `[${o.errors.join(', ')}]`;
  if (o.total === 0) throw new CtlError('No resources specified in file');
  if (o.errors.length === 0) {
    session.io.out(single
      ? `Successfully ${PAST[action]} ${o.handled} '${single}' resource(s)\n`
      : `Successfully ${PAST[action]} ${o.handled} resource(s)\n`);
    return;
  }
  if (o.handled === 0) {
    if (o.total === 1) throw new CtlError(`Failed to ${action} '${single}' resource: ${errList}`);
    throw new CtlError(single ? `Failed to ${action} any '${single}' resources: ${errList}` : `Failed to ${action} any resources: ${errList}`);
  }
  session.io.out(`Partial success: ${PAST[action]} ${o.handled} out of ${o.total} ${single ? `'${single}' ` : ''}resources:\n`);
  throw new CtlError(`Hit error: ${errList}`);
}

/** Resources named on the command line (`delete KIND NAME...`) as minimal objects. */
function fromArgs(kindArg: string, names: readonly string[], namespace: string | undefined): AnyResource[] {
  const def = kindOrThrow(kindArg, 'delete');
  return names.map((name) => ({
    apiVersion: 'projectcalico.org/v3',
    kind: def.kind,
    metadata: { name, ...(def.namespaced ? { namespace: namespace ?? 'default' } : {}) },
    spec: {},
  }) as AnyResource);
}

export async function runConfigCommand(action: ConfigAction, session: Session, opts: WriteOptions, args: readonly string[] = []): Promise<void> {
  let resources: AnyResource[];
  if (opts.filename?.length) {
    if (args.length) throw new CtlError(`Failed to execute command: give either -f or KIND NAME, not both`);
    const docs = await readSources(opts.filename, opts.recursive);
    // A delete only needs identities, so it skips defaulting; everything else is fully validated.
    resources = validateAll(docs, { defaultNamespace: opts.namespace ?? 'default', applyDefaults: action !== 'delete' }).map((l) => l.resource);
  } else if (action === 'delete' && args.length >= 2) {
    resources = fromArgs(args[0]!, args.slice(1), opts.namespace);
  } else {
    throw new CtlError(action === 'delete'
      ? 'Failed to execute command: specify resources with -f FILE or as KIND NAME...'
      : 'Failed to execute command: specify the resources with -f FILE|DIR|-');
  }

  const outcome: Outcome = { kinds: new Set(resources.map((r) => r.kind)), total: resources.length, handled: 0, errors: [] };
  if (resources.length) {
    const ds = await session.datastore();
    for (const r of resources) {
      try {
        await writeOne(action, ds, r, opts);
        outcome.handled++;
      } catch (e) {
        if (isConnectionProblem(e)) throw e;
        outcome.errors.push(describe(e));
      }
    }
  }
  summarise(action, outcome, session);
}

/** Connection failures abort the whole command rather than being reported per resource. */
export function isConnectionProblem(e: unknown): boolean {
  return e instanceof Error && e.name === 'ConnectionError';
}

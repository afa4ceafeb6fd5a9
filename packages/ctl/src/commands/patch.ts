// patch KIND NAME -p PATCH [-t strategic|merge|json]

import { validateResource, formatIssue, type AnyResource } from '@tabby/api';
import { ConflictError } from '@tabby/datastore';
import { jsonPatch, mergePatch } from '../patch.js';
import { checkWritable, checkPoolWrite } from '../checks.js';
import { CtlError } from '../errors.js';
import { ident, kindOrThrow, type Session } from '../session.js';

export interface PatchOptions {
  patch: string;
  type?: string;
  namespace?: string;
}

export async function runPatch(session: Session, kindArg: string, name: string, opts: PatchOptions): Promise<void> {
  const def = kindOrThrow(kindArg, 'patch');
  checkWritable(def.kind, 'patch');
  const type = opts.type ?? 'strategic';
  if (!['strategic', 'merge', 'json'].includes(type)) throw new CtlError(`Failed to patch resource: unknown patch type '${type}' (use strategic, merge or json)`);
  let patch: unknown;
  try {
    patch = JSON.parse(opts.patch);
  } catch (e) {
    // calicoctl also accepts YAML-ish input via its decoder; JSON is what its docs show.
    throw new CtlError(`Failed to patch resource: the patch is not valid JSON: ${(e as Error).message}`);
  }
  const namespace = def.namespaced ? opts.namespace ?? 'default' : undefined;
  const ds = await session.datastore();
  for (let attempt = 0; ; attempt++) {
    const current = await ds.get(def.kind, name, namespace);
    const patched = (type === 'json' ? jsonPatch(current as never, patch) : mergePatch(current as never, patch as never)) as unknown as AnyResource;
    if (patched === null || typeof patched !== 'object') throw new CtlError('Failed to patch resource: the patch removed the whole resource');
    // Identity and bookkeeping come from the stored object, never from the patch.
    const merged = { ...patched, kind: current.kind, metadata: { ...patched.metadata, name, ...(namespace ? { namespace } : {}), resourceVersion: current.metadata.resourceVersion, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp } };
    const res = validateResource(merged, namespace ? { defaultNamespace: namespace } : {});
    if (!res.resource) {
      throw new CtlError(`Failed to patch resource: ${ident(def.kind, name, namespace)} would be invalid:\n` + res.issues.map((i) => `  ${formatIssue(i)}`).join('\n'));
    }
    await checkPoolWrite(ds, res.resource, current);
    try {
      await ds.update(res.resource);
      break;
    } catch (e) {
      if (e instanceof ConflictError && attempt < 4) continue;
      throw e;
    }
  }
  session.io.out(`Successfully patched 1 '${def.kind}' resource\n`);
}

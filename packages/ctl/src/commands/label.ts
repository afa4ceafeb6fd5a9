// label KIND NAME key=value [--overwrite] | label KIND NAME key --remove

import { isLabelKey, isLabelValue } from '@tabby/api';
import { ConflictError } from '@tabby/datastore';
import { checkWritable } from '../checks.js';
import { CtlError } from '../errors.js';
import { kindOrThrow, type Session } from '../session.js';

export interface LabelOptions {
  overwrite?: boolean;
  remove?: boolean;
  namespace?: string;
}

export async function runLabel(session: Session, kindArg: string, name: string, labelArg: string, opts: LabelOptions): Promise<void> {
  const def = kindOrThrow(kindArg, 'label');
  checkWritable(def.kind, 'label');
  let key = labelArg;
  let value: string | undefined;
  if (!opts.remove) {
    const eq = labelArg.indexOf('=');
    if (eq < 0) throw new CtlError(`Failed to set label: "${labelArg}" is not of the form key=value (use --remove to delete a label)`);
    key = labelArg.slice(0, eq);
    value = labelArg.slice(eq + 1);
    if (!isLabelValue(value)) throw new CtlError(`Failed to set label: invalid label value "${value}"`);
  } else if (labelArg.includes('=')) {
    throw new CtlError(`Failed to remove label: give only the key with --remove, not "${labelArg}"`);
  }
  if (!isLabelKey(key)) throw new CtlError(`Failed to ${opts.remove ? 'remove' : 'set'} label: invalid label key "${key}"`);

  const namespace = def.namespaced ? opts.namespace ?? 'default' : undefined;
  const ds = await session.datastore();
  let verb = 'set';
  for (let attempt = 0; ; attempt++) {
    const r = await ds.get(def.kind, name, namespace);
    const labels = { ...(r.metadata.labels ?? {}) };
    if (opts.remove) {
      if (!(key in labels)) throw new CtlError(`Failed to remove label: label ${key} is not present on ${kindArg} ${name}`);
      delete labels[key];
      verb = 'removed';
    } else if (key in labels) {
      if (labels[key] === value) { verb = 'set'; break; }
      if (!opts.overwrite) throw new CtlError(`Failed to set label: label ${key} is already present on ${kindArg} ${name} with value ${labels[key]}; use --overwrite to change it`);
      labels[key] = value!;
      verb = 'updated';
    } else {
      labels[key] = value!;
    }
    try {
      await ds.update({ ...r, metadata: { ...r.metadata, labels } });
      break;
    } catch (e) {
      if (e instanceof ConflictError && attempt < 4) continue;
      throw e;
    }
  }
  session.io.out(verb === 'removed'
    ? `Successfully removed label ${key} from ${kindArg} ${name}\n`
    : `Successfully ${verb} label ${key} on ${kindArg} ${name}\n`);
}

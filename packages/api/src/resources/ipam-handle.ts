// IPAMHandle: which blocks hold addresses for one allocation handle (e.g. one pod).

import type { ResourceOf } from '../meta.js';
import type { Issues } from '../validate/issues.js';
import { bool, int, map, obj, str, type Check, type Schema } from '../validate/schema.js';

export interface IPAMHandleSpec {
  handleID: string;
  /** Block CIDR -> number of addresses this handle holds in it. */
  block: Record<string, number>;
  deleted?: boolean;
}
export type IPAMHandle = ResourceOf<'IPAMHandle', IPAMHandleSpec>;

export const ipamHandleSpecSchema: Schema = obj({ handleID: str(), block: map(int(0)), deleted: bool }, ['handleID']);

export const checkHandleName: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !/^[A-Za-z0-9._-]{1,253}$/.test(v)) issues.add(path, v, 'must be a handle ID of letters, digits, ".", "_" and "-"');
};

export function defaultIPAMHandle(r: IPAMHandle): IPAMHandle {
  return { ...r, spec: { ...r.spec, block: r.spec.block ?? {} } };
}

export function validateIPAMHandle(r: IPAMHandle, issues: Issues): void {
  if (r.spec.handleID !== r.metadata.name) issues.add('spec.handleID', r.spec.handleID, `must equal metadata.name ("${r.metadata.name}")`);
}

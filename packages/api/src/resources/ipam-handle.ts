// IPAMHandle: how many addresses one allocation handle (one pod, one tunnel) holds in each block,
// so that everything allocated under the handle can be released together.

import type { ResourceOf } from '../meta.js';
import { joinPath, type Issues } from '../validate/issues.js';
import { bool, int, map, obj, str, type Check, type Schema } from '../validate/schema.js';
import { isMasked, parseCidr } from '../net.js';

export interface IPAMHandleSpec {
  handleID: string;
  /** Block CIDR -> number of addresses this handle holds in it. */
  block: Record<string, number>;
  /** Internal: set while IPAM deletes the handle. */
  deleted?: boolean;
}
export type IPAMHandle = ResourceOf<'IPAMHandle', IPAMHandleSpec>;

export const ipamHandleSpecSchema: Schema = obj({ handleID: str(), block: map(int(0)), deleted: bool }, ['handleID']);

/** Handle IDs become etcd key segments (and, lower-cased, Kubernetes names). */
const HANDLE_ID = /^[A-Za-z0-9._-]{1,253}$/;

export const checkHandleName: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !HANDLE_ID.test(v)) issues.add(path, v, 'must be a handle ID of 1-253 letters, digits, ".", "_" and "-"');
};

export function defaultIPAMHandle(r: IPAMHandle): IPAMHandle {
  return { ...r, spec: { ...r.spec, block: r.spec.block ?? {} } };
}

export function validateIPAMHandle(r: IPAMHandle, issues: Issues): void {
  const { handleID } = r.spec;
  // Calico's Kubernetes backend stores handles under the lower-cased ID; both names are accepted.
  if (handleID !== r.metadata.name && handleID.toLowerCase() !== r.metadata.name) {
    issues.add('spec.handleID', handleID, `must equal metadata.name ("${r.metadata.name}")`);
  }
  for (const cidr of Object.keys(r.spec.block ?? {})) {
    const c = parseCidr(cidr);
    if (!c || !isMasked(c)) issues.add(joinPath('spec.block', cidr), cidr, 'keys must be block CIDRs such as 10.244.1.0/26');
  }
}

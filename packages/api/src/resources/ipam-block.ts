// IPAMBlock: one block of a pool, its affinity and per-address allocations (Calico's model).

import type { ResourceOf } from '../meta.js';
import type { Issues } from '../validate/issues.js';
import { arr, bool, custom, int, map, obj, str, any, type Check, type Schema } from '../validate/schema.js';
import { checkMaskedCidr } from '../validate/common.js';
import { cidrSize, parseCidr } from '../net.js';
import { blockNameFromCidr, cidrFromBlockName } from '../ipam-names.js';

export interface AllocationAttribute {
  handle_id?: string;
  secondary?: Record<string, string>;
}

export interface IPAMBlockSpec {
  cidr: string;
  /** `host:<node>` or `virtual:<name>`; null when unclaimed. */
  affinity?: string | null;
  affinityClaimTime?: string;
  strictAffinity?: boolean;
  /** One entry per address: null = free, else an index into attributes. */
  allocations: (number | null)[];
  /** Free ordinals in allocation order. */
  unallocated: number[];
  attributes: AllocationAttribute[];
  sequenceNumber?: number;
  sequenceNumberForAllocation?: Record<string, number>;
  deleted?: boolean;
}
export type IPAMBlock = ResourceOf<'IPAMBlock', IPAMBlockSpec>;

const nullableInt: Check = (v, path, issues) => {
  if (v !== null && !(typeof v === 'number' && Number.isInteger(v) && v >= 0)) issues.add(path, v, 'must be null or a non-negative integer');
};
const checkAffinity: Check = (v, path, issues) => {
  if (v !== null && (typeof v !== 'string' || !/^(host|virtual):.+$/.test(v))) issues.add(path, v, 'must be "host:<node>", "virtual:<name>" or null');
};

export const ipamBlockSpecSchema: Schema = obj({
  cidr: str(checkMaskedCidr),
  affinity: custom(checkAffinity),
  affinityClaimTime: str(),
  strictAffinity: bool,
  allocations: arr(custom(nullableInt)),
  unallocated: arr(int(0)),
  attributes: arr(obj({ handle_id: str(), secondary: map(str()) })),
  sequenceNumber: int(0),
  sequenceNumberForAllocation: map(int(0)),
  deleted: bool,
  hostAffinity: any,
}, ['cidr']);

export function defaultIPAMBlock(r: IPAMBlock): IPAMBlock {
  return r;
}

export const checkBlockName: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !cidrFromBlockName(v)) issues.add(path, v, 'must be a block name such as 10-244-1-0-26 (the CIDR with "." ":" "/" replaced by "-")');
};

export function validateIPAMBlock(r: IPAMBlock, issues: Issues): void {
  const s = r.spec;
  const cidr = parseCidr(s.cidr);
  if (!cidr) return;
  if (blockNameFromCidr(s.cidr) !== r.metadata.name) issues.add('metadata.name', r.metadata.name, `must be ${blockNameFromCidr(s.cidr)} for block ${s.cidr}`);
  const size = Number(cidrSize(cidr));
  const allocations = s.allocations ?? [];
  if (allocations.length !== size) issues.add('spec.allocations', allocations.length, `must have one entry per address of the block (${size})`);
  const attrs = s.attributes ?? [];
  allocations.forEach((a, i) => {
    if (typeof a === 'number' && a >= attrs.length) issues.add(`spec.allocations[${i}]`, a, `refers to attribute ${a} but there are only ${attrs.length}`);
  });
  (s.unallocated ?? []).forEach((o, i) => {
    if (o >= size) issues.add(`spec.unallocated[${i}]`, o, `is outside the block (0-${size - 1})`);
    else if (allocations[o] !== null && allocations[o] !== undefined) issues.add(`spec.unallocated[${i}]`, o, 'is listed as free but is allocated');
  });
}

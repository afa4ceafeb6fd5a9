// IPAMBlock: one block of a pool — which node it is affine to and, per address, which
// allocation (attribute entry) holds it. The fields are libcalico-go's AllocationBlock.

import type { ResourceOf } from '../meta.js';
import { joinPath, type Issues } from '../validate/issues.js';
import { arr, bool, custom, int, map, obj, str, type Check, type Schema } from '../validate/schema.js';
import { checkMaskedCidr } from '../validate/common.js';
import { cidrSize, parseCidr } from '../net.js';
import { blockNameFromCidr, cidrFromBlockName, parseBlockAffinityValue } from '../ipam-names.js';

export interface AllocationAttribute {
  /** The handle (e.g. `k8s-pod-network.<containerID>`) the addresses were allocated under. */
  handle_id?: string;
  /** Who holds the addresses: namespace, pod, node, timestamp, type, ... */
  secondary?: Record<string, string>;
  /** The other owner during a live migration. */
  alternateOwnerAttrs?: Record<string, string>;
  /** Set while a released address cools down before reuse. */
  releasedAt?: string;
}

export interface IPAMBlockSpec {
  cidr: string;
  /** `host:<node>` or `virtual:<name>`; null when no node holds the block. */
  affinity?: string | null;
  affinityClaimTime?: string;
  /** Deprecated and unused (IPAMConfig holds strictAffinity); kept for round trips. */
  strictAffinity?: boolean;
  /** One entry per address of the block: null = free, else an index into attributes. */
  allocations: (number | null)[];
  /** Free ordinals, in the order they will be handed out. */
  unallocated: number[];
  attributes: AllocationAttribute[];
  /** Bumped on every write; releases may name the sequence number they expect. */
  sequenceNumber?: number;
  /** Ordinal (as a string) -> the block's sequence number when that address was allocated. */
  sequenceNumberForAllocation?: Record<string, number>;
  deleted?: boolean;
}
export type IPAMBlock = ResourceOf<'IPAMBlock', IPAMBlockSpec>;

const checkOrdinalOrNull: Check = (v, path, issues) => {
  if (v !== null && !(typeof v === 'number' && Number.isInteger(v) && v >= 0)) issues.add(path, v, 'must be null (free) or the index of an attributes entry');
};

const checkAffinity: Check = (v, path, issues) => {
  if (v !== null && (typeof v !== 'string' || !parseBlockAffinityValue(v))) {
    issues.add(path, v, 'must be "host:<node>", "virtual:<name>" or null');
  }
};

export const ipamBlockSpecSchema: Schema = obj({
  cidr: str(checkMaskedCidr),
  affinity: custom(checkAffinity),
  affinityClaimTime: str(),
  strictAffinity: bool,
  allocations: arr(custom(checkOrdinalOrNull)),
  unallocated: arr(int(0)),
  attributes: arr(obj({ handle_id: str(), secondary: map(str()), alternateOwnerAttrs: map(str()), releasedAt: str() })),
  sequenceNumber: int(0),
  sequenceNumberForAllocation: map(int(0)),
  deleted: bool,
}, ['cidr', 'allocations']);

export const checkBlockName: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !cidrFromBlockName(v)) {
    issues.add(path, v, 'must be a block name such as 10-244-1-0-26: the block CIDR with ".", ":" and "/" replaced by "-"');
  }
};

export function defaultIPAMBlock(r: IPAMBlock): IPAMBlock {
  return {
    ...r,
    spec: { ...r.spec, unallocated: r.spec.unallocated ?? [], attributes: r.spec.attributes ?? [], sequenceNumber: r.spec.sequenceNumber ?? 0 },
  };
}

export function validateIPAMBlock(r: IPAMBlock, issues: Issues): void {
  const s = r.spec;
  const attributes = s.attributes ?? [];
  const unallocated = s.unallocated ?? [];
  const cidr = parseCidr(s.cidr);
  if (!cidr) return;
  const name = blockNameFromCidr(s.cidr);
  if (name !== r.metadata.name) issues.add('metadata.name', r.metadata.name, `must be ${name} for block ${s.cidr}`);
  const size = cidrSize(cidr);
  if (BigInt(s.allocations.length) !== size) {
    issues.add('spec.allocations', s.allocations.length, `must have one entry per address of the block (${size})`);
    return;
  }
  s.allocations.forEach((a, i) => {
    if (typeof a === 'number' && a >= attributes.length) {
      issues.add(joinPath('spec.allocations', i), a, `refers to attribute ${a} but there are only ${attributes.length}`);
    }
  });
  const free = new Set<number>();
  unallocated.forEach((o, i) => {
    const path = joinPath('spec.unallocated', i);
    if (o >= s.allocations.length) issues.add(path, o, `is outside the block (0-${s.allocations.length - 1})`);
    else if (s.allocations[o] !== null) issues.add(path, o, 'is listed as free but is allocated');
    else if (free.has(o)) issues.add(path, o, 'is listed more than once');
    free.add(o);
  });
  const lost = s.allocations.findIndex((a, i) => a === null && !free.has(i));
  if (lost >= 0) issues.add('spec.unallocated', unallocated, `must list every free ordinal: ${lost} is neither allocated nor free`);
  for (const k of Object.keys(s.sequenceNumberForAllocation ?? {})) {
    if (!/^\d+$/.test(k) || Number(k) >= s.allocations.length) {
      issues.add(joinPath('spec.sequenceNumberForAllocation', k), k, 'keys must be ordinals of the block');
    }
  }
}

// BlockAffinity: a node's claim on an IPAM block. A claim is `pending` while the node writes
// the block, `confirmed` once the block names the node, `pendingDeletion` while it is released.

import type { ResourceOf } from '../meta.js';
import type { Issues } from '../validate/issues.js';
import { bool, obj, oneOf, str, type Schema } from '../validate/schema.js';
import { checkMaskedCidr } from '../validate/common.js';
import { blockAffinityName } from '../ipam-names.js';

export type BlockAffinityState = 'pending' | 'confirmed' | 'pendingDeletion';

export interface BlockAffinitySpec {
  state: BlockAffinityState;
  node: string;
  cidr: string;
  /** `host` for a node's pod blocks, `virtual` for LoadBalancer blocks. */
  type?: 'host' | 'virtual';
  /** Internal: set by IPAM while it removes the affinity; never by users. */
  deleted?: boolean;
}
export type BlockAffinity = ResourceOf<'BlockAffinity', BlockAffinitySpec>;

export const blockAffinitySpecSchema: Schema = obj({
  state: oneOf('pending', 'confirmed', 'pendingDeletion'),
  node: str(),
  cidr: str(checkMaskedCidr),
  type: oneOf('host', 'virtual'),
  deleted: bool,
}, ['state', 'node', 'cidr']);

export function defaultBlockAffinity(r: BlockAffinity): BlockAffinity {
  return { ...r, spec: { ...r.spec, deleted: r.spec.deleted ?? false } };
}

export function validateBlockAffinity(r: BlockAffinity, issues: Issues): void {
  const s = r.spec;
  if (s.node.includes('/')) {
    issues.add('spec.node', s.node, 'must not contain "/"');
    return;
  }
  const expected = blockAffinityName(s.node, s.cidr);
  if (r.metadata.name !== expected) issues.add('metadata.name', r.metadata.name, `must be ${expected} (<node>-<block name>)`);
  if (s.deleted === true) issues.add('spec.deleted', true, 'cannot be set to true: it is internal to IPAM');
}

// BlockAffinity: a node's claim on an IPAM block (pending while being claimed).

import type { ResourceOf } from '../meta.js';
import type { Issues } from '../validate/issues.js';
import { bool, obj, oneOf, str, type Schema } from '../validate/schema.js';
import { checkMaskedCidr } from '../validate/common.js';
import { blockAffinityName } from '../ipam-names.js';

export interface BlockAffinitySpec {
  state: 'pending' | 'confirmed' | 'pendingDeletion';
  node: string;
  cidr: string;
  type?: 'host' | 'virtual';
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
  return r;
}

export function validateBlockAffinity(r: BlockAffinity, issues: Issues): void {
  const expected = blockAffinityName(r.spec.node, r.spec.cidr);
  if (r.metadata.name !== expected) issues.add('metadata.name', r.metadata.name, `must be ${expected} (<node>-<block name>)`);
  if (r.spec.node.includes('/')) issues.add('spec.node', r.spec.node, 'must not contain "/"');
}

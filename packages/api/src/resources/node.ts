// PLACEHOLDER: the full Node type, schema, defaults and validation land with the api work.
import type { ResourceOf } from '../meta.js';
import { any, type Schema } from '../validate/schema.js';
import type { Issues } from '../validate/issues.js';

export interface NodeSpec {
  [field: string]: unknown;
}
export type Node = ResourceOf<'Node', NodeSpec>;

export const nodeSpecSchema: Schema = any;

export function defaultNode(r: Node): Node {
  return r;
}

export function validateNode(_r: Node, _issues: Issues): void {}

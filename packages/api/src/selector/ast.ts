// The selector syntax tree: a discriminated union of plain, immutable data.

/** Operators that compare one label's value with one string. */
export type LabelValueOp = 'eq' | 'ne' | 'contains' | 'starts-with' | 'ends-with';

/** `all()`, and the empty selector: matches everything. */
export interface AllNode { readonly kind: 'all' }
/**
 * `global()`. Calico's evaluator treats it exactly like `all()`. It is only allowed as a rule's
 * whole namespaceSelector, and the code that converts rules for Felix rewrites it to
 * `!has(projectcalico.org/namespace)` (non-namespaced endpoints and network sets).
 */
export interface GlobalNode { readonly kind: 'global' }
/** `has(label)`: the label is present, whatever its value. */
export interface HasNode { readonly kind: 'has'; readonly label: string }
/** `label == "v"`, `!=`, `contains`, `starts with`, `ends with`. */
export interface LabelValueNode { readonly kind: LabelValueOp; readonly label: string; readonly value: string }
/** `label in {...}` / `label not in {...}`; `values` are sorted (by UTF-8 bytes) and unique. */
export interface LabelSetNode { readonly kind: 'in' | 'not-in'; readonly label: string; readonly values: readonly string[] }
/** `!operand`. */
export interface NotNode { readonly kind: 'not'; readonly operand: SelectorNode }
/** Two or more operands joined by `&&` (from the parser; hand-built nodes may have one). */
export interface AndNode { readonly kind: 'and'; readonly operands: readonly SelectorNode[] }
/** Two or more operands joined by `||`. */
export interface OrNode { readonly kind: 'or'; readonly operands: readonly SelectorNode[] }

export type SelectorNode =
  | AllNode | GlobalNode | HasNode | LabelValueNode | LabelSetNode | NotNode | AndNode | OrNode;

export const ALL_NODE: AllNode = Object.freeze({ kind: 'all' });
export const GLOBAL_NODE: GlobalNode = Object.freeze({ kind: 'global' });

/**
 * Orders strings as Go compares them (by UTF-8 bytes, i.e. by code point). Plain `<` compares
 * UTF-16 code units, which puts U+10000.. before U+E000..U+FFFF; remapping the code units fixes
 * that without decoding.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

function rank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** Sorted, de-duplicated copy of a set literal's values, as Calico stores them. */
export function toSortedSet(values: Iterable<string>): string[] {
  const sorted = [...values].sort(compareCodePoints);
  return sorted.filter((v, i) => i === 0 || v !== sorted[i - 1]);
}

/** A copy of `node` with every label name passed through `rename` (Calico's PrefixVisitor). */
export function mapSelectorLabels(node: SelectorNode, rename: (label: string) => string): SelectorNode {
  switch (node.kind) {
    case 'all':
    case 'global':
      return node;
    case 'has':
      return { kind: 'has', label: rename(node.label) };
    case 'in':
    case 'not-in':
      return { kind: node.kind, label: rename(node.label), values: node.values };
    case 'not':
      return { kind: 'not', operand: mapSelectorLabels(node.operand, rename) };
    case 'and':
    case 'or':
      return { kind: node.kind, operands: node.operands.map((op) => mapSelectorLabels(op, rename)) };
    default:
      return { kind: node.kind, label: rename(node.label), value: node.value };
  }
}

/** Deep-freezes a tree so a shared (cached) selector cannot be changed by a caller. */
export function freezeNode<T extends SelectorNode>(node: T): T {
  if (Object.isFrozen(node)) return node;
  switch (node.kind) {
    case 'in':
    case 'not-in':
      Object.freeze(node.values);
      break;
    case 'not':
      freezeNode(node.operand);
      break;
    case 'and':
    case 'or':
      node.operands.forEach(freezeNode);
      Object.freeze(node.operands);
      break;
    default:
      break;
  }
  return Object.freeze(node);
}

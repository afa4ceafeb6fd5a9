// Matching a selector against labels. A tree is compiled once into nested closures so that
// evaluating a selector against many endpoints does no dispatch on node kinds.

import type { SelectorNode } from './ast.js';

/**
 * Looks up one label's value; undefined when the label is absent. A lookup lets callers match
 * against label sets they do not materialise, e.g. an endpoint's labels falling back to those
 * its profiles contribute.
 */
export type LabelLookup = (label: string) => string | undefined;

/** Labels as a plain object (own properties only) or a Map. */
export type SelectorLabels = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

export type CompiledSelector = (lookup: LabelLookup) => boolean;

export function labelLookup(labels: SelectorLabels): LabelLookup {
  if (labels instanceof Map) return (k) => labels.get(k);
  const rec = labels as Readonly<Record<string, string>>;
  // Own properties only: "constructor" or "__proto__" must not look like labels.
  return (k) => (Object.hasOwn(rec, k) ? rec[k] : undefined);
}

export function compileSelector(node: SelectorNode): CompiledSelector {
  switch (node.kind) {
    case 'all':
    case 'global':
      return () => true;
    case 'has': {
      const { label } = node;
      return (get) => get(label) !== undefined;
    }
    case 'eq': {
      const { label, value } = node;
      return (get) => get(label) === value;
    }
    case 'ne': {
      // An absent label is "not equal": `a != "x"` matches endpoints without `a`.
      const { label, value } = node;
      return (get) => get(label) !== value;
    }
    case 'contains': {
      const { label, value } = node;
      return (get) => get(label)?.includes(value) ?? false;
    }
    case 'starts-with': {
      const { label, value } = node;
      return (get) => get(label)?.startsWith(value) ?? false;
    }
    case 'ends-with': {
      const { label, value } = node;
      return (get) => get(label)?.endsWith(value) ?? false;
    }
    case 'in': {
      const { label } = node;
      const set = new Set(node.values);
      return (get) => {
        const v = get(label);
        return v !== undefined && set.has(v);
      };
    }
    case 'not-in': {
      // Like `!=`, an absent label is "not in" every set.
      const { label } = node;
      const set = new Set(node.values);
      return (get) => {
        const v = get(label);
        return v === undefined || !set.has(v);
      };
    }
    case 'not': {
      const operand = compileSelector(node.operand);
      return (get) => !operand(get);
    }
    case 'and': {
      const operands = node.operands.map(compileSelector);
      return (get) => operands.every((op) => op(get));
    }
    case 'or': {
      const operands = node.operands.map(compileSelector);
      return (get) => operands.some((op) => op(get));
    }
  }
}

/** One-off evaluation of a tree; prefer `Selector.evaluate`, which compiles once. */
export function evaluateSelectorNode(node: SelectorNode, labels: SelectorLabels | LabelLookup): boolean {
  return compileSelector(node)(typeof labels === 'function' ? labels : labelLookup(labels));
}

// The parsed-selector value object.

import { freezeNode, mapSelectorLabels, toSortedSet, type SelectorNode } from './ast.js';
import { canonicalSelectorString } from './canonical.js';
import { SelectorError } from './errors.js';
import {
  compileSelector, labelLookup, type CompiledSelector, type LabelLookup, type SelectorLabels,
} from './evaluate.js';
import { isValidSelectorLabel } from './lexer.js';
import { parseSelectorNode } from './parser.js';
import { selectorUniqueIdOfCanonical } from './unique-id.js';

/**
 * An immutable parsed selector. Two selectors are equal when their canonical strings are
 * (Calico compares them by unique ID, which is a hash of that string).
 */
export class Selector {
  readonly ast: SelectorNode;
  #canonical: string;
  #matcher: CompiledSelector | undefined;
  #uniqueId: string | undefined;

  /** Use `parseSelector` or `selectorFromAst`; the tree must already be frozen and checked. */
  private constructor(ast: SelectorNode) {
    this.ast = ast;
    this.#canonical = canonicalSelectorString(ast);
  }

  /** @internal */
  static fromCheckedAst(ast: SelectorNode): Selector {
    return new Selector(freezeNode(ast));
  }

  /** Does an entity with these labels match? */
  evaluate(labels: SelectorLabels): boolean {
    return this.evaluateLookup(labelLookup(labels));
  }

  /** As `evaluate`, with labels supplied by a function (e.g. own labels, then inherited ones). */
  evaluateLookup(lookup: LabelLookup): boolean {
    this.#matcher ??= compileSelector(this.ast);
    return this.#matcher(lookup);
  }

  /** The canonical form, exactly as Calico's `Selector.String()` renders it. */
  toString(): string {
    return this.#canonical;
  }

  toJSON(): string {
    return this.#canonical;
  }

  /** Calico's `Selector.UniqueID()`: "s:" + base64url(SHA-224("s:" + canonical)). */
  uniqueId(): string {
    this.#uniqueId ??= selectorUniqueIdOfCanonical(this.#canonical);
    return this.#uniqueId;
  }

  equals(other: Selector): boolean {
    return this.#canonical === other.#canonical;
  }

  /** A copy with every label name prefixed (as Calico does with "pcns." for namespace selectors). */
  withLabelPrefix(prefix: string): Selector {
    return selectorFromAst(mapSelectorLabels(this.ast, (l) => prefix + l));
  }
}

/** Parses selector text; the empty (or blank) selector is `all()`. Throws `SelectorError`. */
export function parseSelector(s: string): Selector {
  return Selector.fromCheckedAst(parseSelectorNode(s));
}

/**
 * Wraps a hand-built tree (e.g. converted from a Kubernetes label selector). Set values are
 * sorted and de-duplicated as the parser would; anything the canonical string could not express
 * is rejected with a `SelectorError` of code `invalid-ast`.
 */
export function selectorFromAst(ast: SelectorNode): Selector {
  return Selector.fromCheckedAst(checkAst(ast));
}

function checkAst(node: SelectorNode): SelectorNode {
  const bad = (why: string): never => {
    throw new SelectorError('invalid-ast', `invalid selector tree: ${why}`, '');
  };
  const label = (l: string): string => (isValidSelectorLabel(l) ? l : bad(`bad label name ${JSON.stringify(l)}`));
  const value = (v: string): string => (v.includes('"') && v.includes("'")
    ? bad(`value ${JSON.stringify(v)} contains both quote characters`) : v);
  switch (node.kind) {
    case 'all':
    case 'global':
      return node;
    case 'has':
      return { kind: 'has', label: label(node.label) };
    case 'in':
    case 'not-in':
      return { kind: node.kind, label: label(node.label), values: toSortedSet(node.values.map(value)) };
    case 'not':
      return { kind: 'not', operand: checkAst(node.operand) };
    case 'and':
    case 'or':
      if (node.operands.length === 0) bad(`"${node.kind}" needs at least one operand`);
      return { kind: node.kind, operands: node.operands.map(checkAst) };
    default:
      return { kind: node.kind, label: label(node.label), value: value(node.value) };
  }
}

/** Convenience: parse (throwing on a bad selector) and evaluate in one call. */
export function labelsMatch(selector: string, labels: SelectorLabels): boolean {
  return parseSelector(selector).evaluate(labels);
}

/** The unique ID Felix would give this selector (accepts text or a parsed selector). */
export function selectorUniqueId(sel: Selector | string): string {
  return (typeof sel === 'string' ? parseSelector(sel) : sel).uniqueId();
}

/**
 * Calico's `selector.Normalise`: trims surrounding whitespace and returns the canonical form,
 * or the trimmed input unchanged when it does not parse.
 */
export function normaliseSelector(s: string): string {
  const trimmed = s.trim();
  try {
    return parseSelector(trimmed).toString();
  } catch (e) {
    if (e instanceof SelectorError) return trimmed;
    throw e;
  }
}

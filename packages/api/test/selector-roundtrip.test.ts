// Randomised checks: random trees are written out with random spacing, quotes and redundant
// parentheses, parsed back, and compared with the tree and with a reference evaluator.

import { expect } from 'chai';
import { parseSelector, selectorFromAst, type SelectorNode } from '@tabby/api';

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LABELS = ['a', 'b', 'k8s-app', 'projectcalico.org/namespace', 'x_1.y', 'in', 'has', 'not'];
const VALUES = ['', 'v', 'w', 'web', `it's`, 'say "hi"', 'a b', 'é', '\u{1F600}'];

function gen(r: () => number, depth: number): SelectorNode {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const leaf = depth <= 0 || r() < 0.4;
  if (leaf) {
    switch (pick(['all', 'global', 'has', 'value', 'set'] as const)) {
      case 'all': return { kind: 'all' };
      case 'global': return { kind: 'global' };
      case 'has': return { kind: 'has', label: pick(LABELS) };
      case 'value': return { kind: pick(['eq', 'ne', 'contains', 'starts-with', 'ends-with'] as const), label: pick(LABELS), value: pick(VALUES) };
      case 'set': return { kind: pick(['in', 'not-in'] as const), label: pick(LABELS), values: Array.from({ length: Math.floor(r() * 4) }, () => pick(VALUES)) };
    }
  }
  const kind = pick(['and', 'or', 'not'] as const);
  if (kind === 'not') {
    const operand = gen(r, depth - 1);
    // "!!x" collapses when re-read, so never generate a direct double negation.
    return operand.kind === 'not' ? operand : { kind: 'not', operand };
  }
  return { kind, operands: Array.from({ length: 2 + Math.floor(r() * 3) }, () => gen(r, depth - 1)) };
}

/** Writes a tree as selector text, choosing spacing, quotes and extra parentheses at random. */
function write(node: SelectorNode, r: () => number): string {
  const sp = (): string => ['', ' ', '  ', '\t'][Math.floor(r() * 4)]!;
  const sp1 = (): string => [' ', '  ', '\t'][Math.floor(r() * 3)]!;
  const q = (v: string): string => (v.includes('"') ? `'${v}'` : v.includes("'") || r() < 0.5 ? `"${v}"` : `'${v}'`);
  const maybeParens = (s: string): string => (r() < 0.2 ? `(${sp()}${s}${sp()})` : s);
  const words: Record<string, string[]> = {
    'contains': ['contains'], 'starts-with': ['starts with', 'startswith', 'starts  with'],
    'ends-with': ['ends with', 'endswith'], 'in': ['in'], 'not-in': ['not in', 'notin', 'not \t in'],
  };
  const word = (k: string): string => { const w = words[k]!; return w[Math.floor(r() * w.length)]!; };
  const group = (op: SelectorNode): string => {
    // && / || groups under another operator keep their parentheses.
    const w = write(op, r);
    return op.kind === 'and' || op.kind === 'or' ? `(${w})` : w;
  };
  let s: string;
  switch (node.kind) {
    case 'all': s = `all(${sp()})`; break;
    case 'global': s = `global(${sp()})`; break;
    case 'has': s = `has(${sp()}${node.label}${sp()})`; break;
    case 'eq': s = `${node.label}${sp()}==${sp()}${q(node.value)}`; break;
    case 'ne': s = `${node.label}${sp()}!=${sp()}${q(node.value)}`; break;
    case 'in':
    case 'not-in': {
      const items = node.values.map((v) => `${sp()}${q(v)}${sp()}`).join(',');
      s = `${node.label}${sp1()}${word(node.kind)}${sp()}{${items}${node.values.length > 0 && r() < 0.2 ? ',' : ''}${sp()}}`;
      break;
    }
    case 'not': s = `!${sp()}${group(node.operand)}`; break;
    case 'and':
    case 'or':
      s = node.operands.map(group).join(`${sp()}${node.kind === 'and' ? '&&' : '||'}${sp()}`);
      break;
    default: s = `${node.label}${sp1()}${word(node.kind)}${sp()}${q(node.value)}`;
  }
  return maybeParens(s);
}

/** Reference semantics, written independently of the library's compiler. */
function reference(node: SelectorNode, labels: Record<string, string>): boolean {
  const has = (l: string): boolean => Object.hasOwn(labels, l);
  switch (node.kind) {
    case 'all': case 'global': return true;
    case 'has': return has(node.label);
    case 'eq': return has(node.label) && labels[node.label] === node.value;
    case 'ne': return !has(node.label) || labels[node.label] !== node.value;
    case 'contains': return has(node.label) && labels[node.label]!.indexOf(node.value) >= 0;
    case 'starts-with': return has(node.label) && labels[node.label]!.slice(0, node.value.length) === node.value;
    case 'ends-with': return has(node.label) && labels[node.label]!.length >= node.value.length
      && labels[node.label]!.slice(labels[node.label]!.length - node.value.length) === node.value;
    case 'in': return has(node.label) && node.values.includes(labels[node.label]!);
    case 'not-in': return !has(node.label) || !node.values.includes(labels[node.label]!);
    case 'not': return !reference(node.operand, labels);
    case 'and': return node.operands.every((op) => reference(op, labels));
    case 'or': return node.operands.some((op) => reference(op, labels));
  }
}

function randomLabels(r: () => number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of LABELS) {
    if (r() < 0.5) out[l] = r() < 0.7 ? VALUES[Math.floor(r() * VALUES.length)]! : `x${VALUES[Math.floor(r() * VALUES.length)]}y`;
  }
  return out;
}

describe('selector round trips (randomised)', () => {
  it('text written any way parses to the same tree and canonical string', () => {
    const r = rng(0x7abb1);
    for (let n = 0; n < 2000; n++) {
      const sel = selectorFromAst(gen(r, 4));
      const text = write(sel.ast, r);
      const parsed = parseSelector(text);
      expect(parsed.ast, text).to.deep.equal(sel.ast);
      expect(parsed.toString(), text).to.equal(sel.toString());
      expect(parseSelector(sel.toString()).toString()).to.equal(sel.toString());
      expect(parsed.uniqueId()).to.equal(sel.uniqueId());
    }
  });

  it('evaluation agrees with a reference evaluator', () => {
    const r = rng(42);
    for (let n = 0; n < 500; n++) {
      const sel = selectorFromAst(gen(r, 4));
      for (let m = 0; m < 20; m++) {
        const labels = randomLabels(r);
        expect(sel.evaluate(labels), `${sel.toString()} on ${JSON.stringify(labels)}`).to.equal(reference(sel.ast, labels));
      }
    }
  });
});

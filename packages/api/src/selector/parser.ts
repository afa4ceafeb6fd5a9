// Recursive descent over the token list. Grammar, lowest precedence first:
//   selector  := <empty> | or EOF
//   or        := and ("||" and)*
//   and       := operation ("&&" operation)*
//   operation := "!"* ( has | all | global | "(" or ")"
//                     | label ("=="|"!="|"contains"|"starts with"|"ends with") string
//                     | label ("in"|"not in") "{" [string ("," string)* [","]] "}" )
// A run of "!" collapses to one negation or none (so "!!has(a)" is just "has(a)"), and a
// single-operand && or || produces its operand, not a node: the tree mirrors Calico's, which
// its canonical string (and so every ipset name) depends on.

import {
  ALL_NODE, GLOBAL_NODE, toSortedSet, type LabelValueOp, type SelectorNode,
} from './ast.js';
import { SelectorError, describeToken, type SelectorErrorCode } from './errors.js';
import { tokenize, type Token, type TokenKind } from './lexer.js';

/** Parentheses deeper than this are rejected rather than risk exhausting the stack. */
export const MAX_SELECTOR_DEPTH = 256;

const VALUE_OPS: Partial<Record<TokenKind, LabelValueOp>> = {
  '==': 'eq', '!=': 'ne', 'contains': 'contains', 'starts with': 'starts-with', 'ends with': 'ends-with',
};

const OPERAND_HINT = 'expected a label, has(), all(), global(), "!" or "("';

export function parseSelectorNode(src: string): SelectorNode {
  return new Parser(src, tokenize(src)).parseRoot();
}

class Parser {
  #pos = 0;
  #depth = 0;

  constructor(private readonly src: string, private readonly tokens: readonly Token[]) {}

  parseRoot(): SelectorNode {
    if (this.#peek().kind === 'eof') return ALL_NODE;
    const node = this.#parseOr();
    const t = this.#peek();
    if (t.kind !== 'eof') {
      const what = t.kind === ')' ? 'unmatched ")"' : `unexpected token ${this.#show(t)}`;
      this.#fail('trailing-input', `${what} at position ${t.start}: expected "&&", "||" or end of selector`, t);
    }
    return node;
  }

  #peek(): Token {
    return this.tokens[this.#pos]!;
  }

  #next(): Token {
    const t = this.tokens[this.#pos]!;
    if (t.kind !== 'eof') this.#pos++;
    return t;
  }

  #text(t: Token): string | undefined {
    return t.kind === 'eof' ? undefined : this.src.slice(t.start, t.end);
  }

  #show(t: Token): string {
    return describeToken(this.#text(t));
  }

  #fail(code: SelectorErrorCode, message: string, t: Token): never {
    throw new SelectorError(code, message, this.src, t.start, this.#text(t));
  }

  #parseOr(): SelectorNode {
    const operands = [this.#parseAnd()];
    while (this.#peek().kind === '||') {
      this.#next();
      operands.push(this.#parseAnd());
    }
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
  }

  #parseAnd(): SelectorNode {
    const operands = [this.#parseOperation()];
    while (this.#peek().kind === '&&') {
      this.#next();
      operands.push(this.#parseOperation());
    }
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  }

  #parseOperation(): SelectorNode {
    let negated = false;
    while (this.#peek().kind === '!') {
      this.#next();
      negated = !negated;
    }
    const node = this.#parseUnnegated();
    return negated ? { kind: 'not', operand: node } : node;
  }

  #parseUnnegated(): SelectorNode {
    const t = this.#next();
    switch (t.kind) {
      case 'has':
        return { kind: 'has', label: t.value };
      case 'all':
        return ALL_NODE;
      case 'global':
        return GLOBAL_NODE;
      case 'label':
        return this.#parseComparison(t);
      case '(':
        return this.#parseParenthesised(t);
      case 'eof':
        return this.#fail('unexpected-token', `unexpected end of selector at position ${t.start}: ${OPERAND_HINT}`, t);
      default:
        return this.#fail('unexpected-token', `unexpected token ${this.#show(t)} at position ${t.start}: ${OPERAND_HINT}`, t);
    }
  }

  #parseParenthesised(open: Token): SelectorNode {
    if (++this.#depth > MAX_SELECTOR_DEPTH) {
      this.#fail('too-deep', `parentheses nested more than ${MAX_SELECTOR_DEPTH} deep at position ${open.start}`, open);
    }
    const node = this.#parseOr();
    const close = this.#next();
    if (close.kind !== ')') {
      this.#fail('expected-rparen',
        `expected ")" to close the "(" at position ${open.start}, found ${this.#show(close)} at position ${close.start}`, close);
    }
    this.#depth--;
    return node;
  }

  #parseComparison(label: Token): SelectorNode {
    const op = this.#next();
    const valueOp = VALUE_OPS[op.kind];
    if (valueOp !== undefined) {
      const value = this.#next();
      if (value.kind !== 'string') {
        this.#fail('expected-string',
          `expected a quoted string after ${this.#show(op)}, found ${this.#show(value)} at position ${value.start}`, value);
      }
      return { kind: valueOp, label: label.value, value: value.value };
    }
    if (op.kind === 'in' || op.kind === 'not in') {
      return { kind: op.kind === 'in' ? 'in' : 'not-in', label: label.value, values: this.#parseSet(op) };
    }
    // The lexer only lets a label be followed by an operator word or punctuation, so this is
    // "(", ")", a string, "&&", end of input and the like.
    return this.#fail('expected-operator',
      `expected an operator (==, !=, in, not in, contains, starts with, ends with) after label ${JSON.stringify(label.value)}, found ${this.#show(op)} at position ${op.start}`, op);
  }

  #parseSet(op: Token): string[] {
    const open = this.#next();
    if (open.kind !== '{') {
      this.#fail('expected-set', `expected "{" after ${this.#show(op)}, found ${this.#show(open)} at position ${open.start}`, open);
    }
    const values: string[] = [];
    // Calico accepts an empty set and a trailing comma.
    for (;;) {
      const t = this.#next();
      if (t.kind === '}') break;
      if (t.kind !== 'string') {
        this.#fail('expected-set', `expected a quoted string or "}" in set, found ${this.#show(t)} at position ${t.start}`, t);
      }
      values.push(t.value);
      const sep = this.#next();
      if (sep.kind === '}') break;
      if (sep.kind !== ',') {
        this.#fail('expected-set', `expected "," or "}" in set, found ${this.#show(sep)} at position ${sep.start}`, sep);
      }
    }
    return toSortedSet(values);
  }
}

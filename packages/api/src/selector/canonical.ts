// Calico's canonical string form of a selector. Felix names selector ipsets after a hash of this
// string, so it must match Calico byte for byte:
//   - `&&` and `||` groups are always parenthesised, even at the top level: `(a == "b" && has(c))`;
//   - `!` is written directly before its operand: `!has(a)`, `!a == "b"`, `!(a == "b" || has(c))`;
//   - binary operators have one space each side; set literals are `{"a", "b"}` (sorted, unique);
//   - values are double-quoted unless they contain `"`, then single-quoted (there are no escapes);
//   - the empty selector is `all()`.

import type { SelectorNode } from './ast.js';

const INFIX: Readonly<Record<string, string>> = {
  'eq': ' == ', 'ne': ' != ', 'contains': ' contains ', 'starts-with': ' starts with ', 'ends-with': ' ends with ',
  'in': ' in {', 'not-in': ' not in {',
};

export function canonicalSelectorString(node: SelectorNode): string {
  const out: string[] = [];
  render(node, out);
  return out.join('');
}

export function quoteSelectorValue(value: string): string {
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

function render(node: SelectorNode, out: string[]): void {
  switch (node.kind) {
    case 'all':
      out.push('all()');
      return;
    case 'global':
      out.push('global()');
      return;
    case 'has':
      out.push('has(', node.label, ')');
      return;
    case 'not':
      out.push('!');
      render(node.operand, out);
      return;
    case 'and':
    case 'or': {
      const sep = node.kind === 'and' ? ' && ' : ' || ';
      out.push('(');
      node.operands.forEach((op, i) => {
        if (i > 0) out.push(sep);
        render(op, out);
      });
      out.push(')');
      return;
    }
    case 'in':
    case 'not-in':
      out.push(node.label, INFIX[node.kind]!, node.values.map(quoteSelectorValue).join(', '), '}');
      return;
    default:
      out.push(node.label, INFIX[node.kind]!, quoteSelectorValue(node.value));
  }
}

import { expect } from 'chai';
import { SelectorCache, labelsMatch, parseSelector, type LabelLookup } from '@tabby/api';

type Labels = Record<string, string>;

/** Each selector with label sets it must match and label sets it must not match. */
const EVALUATION: ReadonlyArray<[string, Labels[], Labels[]]> = [
  // ==
  ['a == "b"', [{ a: 'b' }, { a: 'b', c: 'd' }], [{}, { a: 'c' }, { c: 'b' }, { a: 'B' }, { a: 'b ' }]],
  ["a == 'b'", [{ a: 'b' }], [{}, { a: 'c' }]],
  ['a == ""', [{ a: '' }], [{}, { a: 'x' }]],
  // != matches when the label is absent
  ['a != "b"', [{}, { a: 'c' }, { a: '' }, { c: 'b' }], [{ a: 'b' }]],
  // in / not in
  ['a in {"x", "y"}', [{ a: 'x' }, { a: 'y' }], [{}, { a: 'z' }, { a: 'xy' }]],
  ['a in {}', [], [{}, { a: '' }, { a: 'x' }]],
  ['a not in {"x", "y"}', [{}, { a: 'z' }, { b: 'x' }], [{ a: 'x' }, { a: 'y' }]],
  ['a not in {}', [{}, { a: 'x' }], []],
  [`a in {"'", '"', "c"}`, [{ a: "'" }, { a: '"' }, { a: 'c' }], [{}, { a: 'e' }]],
  // has
  ['has(a)', [{ a: '' }, { a: 'x' }], [{}, { b: 'a' }]],
  ['!has(a)', [{}, { b: 'a' }], [{ a: '' }]],
  // string operators
  ['a contains "ell"', [{ a: 'hello' }, { a: 'ell' }], [{}, { a: 'hel' }, { b: 'hello' }]],
  ['a contains ""', [{ a: '' }, { a: 'x' }], [{}]],
  ['a starts with "he"', [{ a: 'hello' }, { a: 'he' }], [{}, { a: 'the' }]],
  ['a ends with "lo"', [{ a: 'hello' }, { a: 'lo' }], [{}, { a: 'low' }]],
  ['a startswith "he"', [{ a: 'hello' }], [{ a: 'x' }]],
  ['a  ends \t with "lo"', [{ a: 'hello' }], [{ a: 'x' }]],
  // all(), global() and the empty selector match everything
  ['', [{}, { a: 'b' }], []],
  ['   ', [{}], []],
  ['all()', [{}, { a: 'b' }], []],
  ['global()', [{}, { a: 'b' }, { 'projectcalico.org/namespace': 'default' }], []],
  ['!all()', [], [{}, { a: 'b' }]],
  // negation
  ['!a == "b"', [{}, { a: 'c' }], [{ a: 'b' }]],
  ['!!a == "b"', [{ a: 'b' }], [{}, { a: 'c' }]],
  ['! ! ! has(a)', [{}], [{ a: 'x' }]],
  ['!a in {"x"}', [{}, { a: 'y' }], [{ a: 'x' }]],
  ['!(has(a) || has(b))', [{}, { c: '1' }], [{ a: '1' }, { b: '1' }]],
  // && binds tighter than ||
  ['has(a) && has(b) || has(c)', [{ a: '1', b: '1' }, { c: '1' }], [{ a: '1' }, { b: '1' }, {}]],
  ['has(c) || has(a) && has(b)', [{ a: '1', b: '1' }, { c: '1' }], [{ a: '1' }, { b: '1' }, {}]],
  ['has(a) && (has(b) || has(c))', [{ a: '1', b: '1' }, { a: '1', c: '1' }], [{ c: '1' }, { a: '1' }]],
  ['(has(a) || has(b)) && !has(c)', [{ a: '1' }, { b: '1' }], [{ a: '1', c: '1' }, {}]],
  ['!has(a) && has(b)', [{ b: '1' }], [{ a: '1', b: '1' }]],
  ['((((has(a)))))', [{ a: '1' }], [{}]],
  ['a != "1" && b != "1"', [{}, { a: '2' }], [{ a: '1' }, { b: '1' }]],
  ['a != "1" || b != "1"', [{}, { a: '1' }], [{ a: '1', b: '1' }]],
  // label names with dots, slashes, dashes, underscores and digits
  ['projectcalico.org/namespace == "kube-system" && k8s-app == "kube-dns"',
    [{ 'projectcalico.org/namespace': 'kube-system', 'k8s-app': 'kube-dns' }],
    [{ 'projectcalico.org/namespace': 'default', 'k8s-app': 'kube-dns' }, { 'k8s-app': 'kube-dns' }]],
  ['has(app.kubernetes.io/name) && my_label-2 == "1"', [{ 'app.kubernetes.io/name': 'x', 'my_label-2': '1' }], [{ 'my_label-2': '1' }]],
  // keyword-like label names are just labels outside operator position
  ['in == "x" && has == "y" && all == "z" && not in {"w"}', [{ in: 'x', has: 'y', all: 'z', not: 'w' }], [{ in: 'x', has: 'y', all: 'z', not: 'v' }, { in: 'x' }]],
  // quotes of the other kind inside strings
  [`a == '"'`, [{ a: '"' }], [{ a: "'" }]],
  [`a == "'"`, [{ a: "'" }], [{ a: '"' }]],
  ['a == "x y && z"', [{ a: 'x y && z' }], [{ a: 'x' }]],
  // whitespace variants
  ['a=="b"&&c!="d"', [{ a: 'b' }], [{ a: 'b', c: 'd' }]],
  ['\t a \t== \t"b" ', [{ a: 'b' }], [{}]],
  ['has( a )&&all(  )', [{ a: 'b' }], [{}]],
  ['a in{"b","c"}', [{ a: 'c' }], [{ a: 'd' }]],
  ['a notin {"b"}', [{ a: 'c' }], [{ a: 'b' }]],
];

describe('selector evaluation', () => {
  for (const [sel, matches, nonMatches] of EVALUATION) {
    it(`${JSON.stringify(sel)}`, () => {
      const parsed = parseSelector(sel);
      const reparsed = parseSelector(parsed.toString());
      for (const labels of matches) {
        expect(parsed.evaluate(labels), `should match ${JSON.stringify(labels)}`).to.equal(true);
        expect(reparsed.evaluate(labels), `canonical form should match ${JSON.stringify(labels)}`).to.equal(true);
      }
      for (const labels of nonMatches) {
        expect(parsed.evaluate(labels), `should not match ${JSON.stringify(labels)}`).to.equal(false);
        expect(reparsed.evaluate(labels), `canonical form should not match ${JSON.stringify(labels)}`).to.equal(false);
      }
    });
  }

  it('ignores inherited object properties', () => {
    expect(parseSelector('has(constructor)').evaluate({})).to.equal(false);
    expect(parseSelector('has(toString) || has(__proto__)').evaluate({})).to.equal(false);
    expect(parseSelector('constructor != "x"').evaluate({})).to.equal(true);
  });

  it('accepts a Map', () => {
    const sel = parseSelector('a == "b" && !has(c)');
    expect(sel.evaluate(new Map([['a', 'b']]))).to.equal(true);
    expect(sel.evaluate(new Map([['a', 'b'], ['c', '']]))).to.equal(false);
  });

  it('evaluates against a lookup function (labels with parents)', () => {
    const own: Record<string, string> = { app: 'web' };
    const inherited: Record<string, string> = { app: 'ignored', 'pcns.team': 'blue' };
    const lookup: LabelLookup = (k) => (Object.hasOwn(own, k) ? own[k] : Object.hasOwn(inherited, k) ? inherited[k] : undefined);
    expect(parseSelector('app == "web" && pcns.team == "blue"').evaluateLookup(lookup)).to.equal(true);
    expect(parseSelector('app == "ignored"').evaluateLookup(lookup)).to.equal(false);
    expect(parseSelector('has(pcns.team)').evaluateLookup(lookup)).to.equal(true);
  });

  it('labelsMatch parses and evaluates in one call', () => {
    expect(labelsMatch('role == "db"', { role: 'db' })).to.equal(true);
    expect(labelsMatch('role == "db"', { role: 'web' })).to.equal(false);
    expect(labelsMatch('', {})).to.equal(true);
    expect(() => labelsMatch('role ==', {})).to.throw('expected a quoted string');
  });

  it('produces a frozen AST mirroring Calico\'s tree', () => {
    const sel = parseSelector('!!has(a) && (b in {"y", "x", "y"} || !c == "d")');
    expect(sel.ast).to.deep.equal({
      kind: 'and',
      operands: [
        { kind: 'has', label: 'a' },
        {
          kind: 'or',
          operands: [
            { kind: 'in', label: 'b', values: ['x', 'y'] },
            { kind: 'not', operand: { kind: 'eq', label: 'c', value: 'd' } },
          ],
        },
      ],
    });
    expect(Object.isFrozen(sel.ast)).to.equal(true);
    expect(parseSelector('').ast).to.deep.equal({ kind: 'all' });
    expect(parseSelector('(((global())))').ast).to.deep.equal({ kind: 'global' });
    // "!(!x)" keeps both negations: the "!"s are only collapsed within one run.
    expect(parseSelector('!(!has(a))').ast).to.deep.equal({ kind: 'not', operand: { kind: 'not', operand: { kind: 'has', label: 'a' } } });
  });
});

describe('SelectorCache', () => {
  it('returns the same Selector for the same text and evicts the least recently used', () => {
    const cache = new SelectorCache(2);
    const a = cache.parse('has(a)');
    expect(cache.parse('has(a)')).to.equal(a);
    cache.parse('has(b)');
    cache.parse('has(a)'); // a is now the most recent
    cache.parse('has(c)'); // evicts b
    expect(cache.size).to.equal(2);
    expect(cache.parse('has(a)')).to.equal(a);
    expect(() => cache.parse('has(')).to.throw();
    expect(cache.size).to.equal(2);
  });
});

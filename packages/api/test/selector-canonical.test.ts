import { createHash } from 'node:crypto';
import { expect } from 'chai';
import {
  SelectorError, calicoUniqueId, normaliseSelector, parseSelector, selectorFromAst, selectorUniqueId,
  type SelectorNode,
} from '@tabby/api';

/** Inputs and the exact string Calico's Selector.String() gives for them. */
const CANONICAL: ReadonlyArray<[string, string]> = [
  ['', 'all()'],
  ['  \t', 'all()'],
  [' all( ) ', 'all()'],
  ['((all()))', 'all()'],
  ['global( )', 'global()'],
  ["a=='b'", 'a == "b"'],
  ['a   !=   "b"', 'a != "b"'],
  [`a == '"'`, `a == '"'`],
  [`a == "'"`, `a == "'"`],
  [`a contains '"x'`, `a contains '"x'`],
  ['a startswith "x"', 'a starts with "x"'],
  ['a ends   with "x"', 'a ends with "x"'],
  ['has( a )', 'has(a)'],
  ['! has(a)', '!has(a)'],
  ['!!has(a)', 'has(a)'],
  ['!!!has(a)', '!has(a)'],
  ['!a == "b"', '!a == "b"'],
  ['!(a == "b")', '!a == "b"'],
  ['!(!a == "b")', '!!a == "b"'],
  ['a in {"d", "a", "b"}', 'a in {"a", "b", "d"}'],
  ['a in {"z", "z", "x", "y", "x", "a"}', 'a in {"a", "x", "y", "z"}'],
  ["a not in {'b','a',}", 'a not in {"a", "b"}'],
  ['a in {}', 'a in {}'],
  [`a in {'"', "'"}`, `a in {'"', "'"}`],
  ['a in {"b", "B", "a", "_"}', 'a in {"B", "_", "a", "b"}'],
  // Set members ordered by UTF-8 bytes as Go does (U+E000 before U+10000).
  ['a in {"\u{10000}", "\uE000"}', 'a in {"\uE000", "\u{10000}"}'],
  ['a == "b" && c == "d"', '(a == "b" && c == "d")'],
  ['a == "b" || c == "d"', '(a == "b" || c == "d")'],
  ['has(a) && has(b) || has(c)', '((has(a) && has(b)) || has(c))'],
  ['has(a) || has(b) && has(c)', '(has(a) || (has(b) && has(c)))'],
  ['has(a) && (has(b) && has(c))', '(has(a) && (has(b) && has(c)))'],
  ['(has(a) && has(b)) && has(c)', '((has(a) && has(b)) && has(c))'],
  ['has(a) && has(b) && has(c)', '(has(a) && has(b) && has(c))'],
  ['! (has( b)||! has(a ))', '!(has(b) || !has(a))'],
  ['! (a == "b"&&! c != "d")', '!(a == "b" && !c != "d")'],
  ["!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))", '!(!((k == "v" && has(t)) || all()) && a in {"b", "c"})'],
  ["projectcalico.org/orchestrator == 'k8s' && k8s-app in { 'kube-dns' }",
    '(projectcalico.org/orchestrator == "k8s" && k8s-app in {"kube-dns"})'],
];

describe('selector canonical form', () => {
  for (const [input, expected] of CANONICAL) {
    it(`${JSON.stringify(input)} -> ${expected}`, () => {
      const sel = parseSelector(input);
      expect(sel.toString()).to.equal(expected);
      expect(String(sel)).to.equal(expected);
      expect(JSON.stringify({ s: sel })).to.equal(JSON.stringify({ s: expected }));
      // The canonical form parses back to itself (except for "!!x", which re-collapses).
      if (!expected.includes('!!')) expect(parseSelector(expected).toString()).to.equal(expected);
    });
  }

  it('gives differently written equivalent selectors the same string and ID', () => {
    const variants = [
      `app == "web" && tier in {"b", "a"} || !has(x)`,
      `(app=='web'&&tier in{'a','b','a'})||!has( x )`,
      `((app == "web") && (tier in {"a", "b",})) || (!!!has(x))`,
    ];
    const sels = variants.map(parseSelector);
    for (const s of sels) {
      expect(s.toString()).to.equal('((app == "web" && tier in {"a", "b"}) || !has(x))');
      expect(s.uniqueId()).to.equal(sels[0]!.uniqueId());
      expect(s.equals(sels[0]!)).to.equal(true);
    }
    expect(parseSelector('has(x) || app == "web"').equals(sels[0]!)).to.equal(false);
  });

  it('normaliseSelector trims and canonicalises, leaving invalid text alone', () => {
    expect(normaliseSelector('  a=="b"\n')).to.equal('a == "b"');
    expect(normaliseSelector('')).to.equal('all()');
    expect(normaliseSelector(' a == ')).to.equal('a ==');
  });
});

describe('selector unique ID', () => {
  // Published with Calico's selector parser tests (computed by Go's crypto/sha256 + base64).
  const CALICO_VECTORS: ReadonlyArray<[string, string]> = [
    ['', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
    [' (all() )', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
    ['! (has( b)||! has(a ))', 's:Iss0uCleLYv1GSv_pNm7hAO58kE9jAx1NKyG3Q'],
    ['! (a == "b"&&! c != "d")', 's:lh3haoY1ikTRkd4UZu0nWSaIBknYLPJLX16d-w'],
  ];
  for (const [input, id] of CALICO_VECTORS) {
    it(`matches Calico for ${JSON.stringify(input)}`, () => {
      expect(parseSelector(input).uniqueId()).to.equal(id);
      expect(selectorUniqueId(input)).to.equal(id);
    });
  }

  it('matches an independent computation (openssl dgst -sha224 | base64url, no padding)', () => {
    // printf 's:has(projectcalico.org/namespace)' | openssl dgst -sha224 -binary | base64 | tr '+/' '-_' | tr -d =
    expect(selectorUniqueId('has( projectcalico.org/namespace )')).to.equal('s:2dAotJA2sZ5pOhC_BaBuAFekzFsoGV350DfHsw');
    expect(selectorUniqueId(`projectcalico.org/orchestrator == 'k8s' && app == 'web'`))
      .to.equal('s:BOVV9Up-zoM1tLpmD0f9M6Nb6fQgiNjqGsqr_g');
  });

  it('is "s:" + base64url(SHA-224("s:" + canonical)), 38 hash characters', () => {
    const sel = parseSelector('a in {"z", "a"} && !has(b)');
    const digest = createHash('sha224').update(`s:${sel.toString()}`).digest('base64url');
    expect(sel.uniqueId()).to.equal(`s:${digest}`);
    expect(sel.uniqueId()).to.match(/^s:[A-Za-z0-9_-]{38}$/);
    expect(calicoUniqueId('s', sel.toString())).to.equal(sel.uniqueId());
    expect(sel.uniqueId()).to.equal(sel.uniqueId());
    expect(selectorUniqueId(sel)).to.equal(sel.uniqueId());
  });

  it('hashes non-ASCII values as UTF-8', () => {
    const sel = parseSelector('a == "é"');
    const digest = createHash('sha224').update(Buffer.from('s:a == "é"', 'utf8')).digest('base64url');
    expect(sel.uniqueId()).to.equal(`s:${digest}`);
  });
});

describe('selectorFromAst and label prefixes', () => {
  it('renders a hand-built tree, sorting set values', () => {
    const ast: SelectorNode = {
      kind: 'and',
      operands: [
        { kind: 'eq', label: 'projectcalico.org/orchestrator', value: 'k8s' },
        { kind: 'not-in', label: 'env', values: ['prod', 'dev', 'prod'] },
        { kind: 'not', operand: { kind: 'has', label: 'x' } },
      ],
    };
    const sel = selectorFromAst(ast);
    expect(sel.toString()).to.equal('(projectcalico.org/orchestrator == "k8s" && env not in {"dev", "prod"} && !has(x))');
    expect(sel.evaluate({ 'projectcalico.org/orchestrator': 'k8s', env: 'qa' })).to.equal(true);
    expect(sel.evaluate({ 'projectcalico.org/orchestrator': 'k8s', env: 'dev' })).to.equal(false);
  });

  it('rejects trees the canonical string cannot express', () => {
    const bad: SelectorNode[] = [
      { kind: 'has', label: 'bad label' },
      { kind: 'eq', label: '', value: 'x' },
      { kind: 'eq', label: 'a', value: `'"` },
      { kind: 'or', operands: [] },
    ];
    for (const ast of bad) {
      expect(() => selectorFromAst(ast)).to.throw(SelectorError).with.property('code', 'invalid-ast');
    }
  });

  it('prefixes every label name (namespace selectors become pcns.*)', () => {
    const sel = parseSelector(`team == 'a' && has(env) || x not in {'1'} || !(y contains 'z') || all()`);
    expect(sel.withLabelPrefix('pcns.').toString())
      .to.equal('((pcns.team == "a" && has(pcns.env)) || pcns.x not in {"1"} || !pcns.y contains "z" || all())');
    expect(sel.toString()).to.equal('((team == "a" && has(env)) || x not in {"1"} || !y contains "z" || all())');
  });
});

import { expect } from 'chai';
import { MAX_SELECTOR_DEPTH, SelectorError, parseSelector, type SelectorErrorCode } from '@tabby/api';

/** Invalid selectors with the error code, message, position and offending text expected. */
const INVALID: ReadonlyArray<[string, SelectorErrorCode, string, number | undefined, string | undefined]> = [
  // unterminated strings
  ['"FOO', 'unterminated-string', 'unterminated string starting at position 0', 0, '"'],
  [`a == "FOO'`, 'unterminated-string', 'unterminated string starting at position 5', 5, '"'],
  [`a == 'FOO`, 'unterminated-string', 'unterminated string starting at position 5', 5, "'"],
  // bad characters and operators
  ['%', 'unexpected-character', 'unexpected character "%" at position 0', 0, '%'],
  ['a == "b" && %', 'unexpected-character', 'unexpected character "%" at position 12', 12, '%'],
  ['a = "b"', 'unexpected-character', 'unexpected character "=" at position 2 (did you mean "=="?)', 2, '='],
  ['a == "b" & has(c)', 'unexpected-character', 'unexpected character "&" at position 9 (did you mean "&&"?)', 9, '&'],
  ['a == "b" |', 'unexpected-character', 'unexpected character "|" at position 9 (did you mean "||"?)', 9, '|'],
  ['a == "b"\n', 'unexpected-character', 'unexpected character "\\n" at position 8 (only spaces and tabs may separate tokens)', 8, '\n'],
  ['a == "é" && ü == "x"', 'unexpected-character', 'unexpected character "ü" at position 12', 12, 'ü'],
  // a label must be followed by an operator
  ['b', 'expected-operator', 'expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "b", found end of selector at position 1', 1, undefined],
  ['a b', 'expected-operator', 'expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "a", found "b" at position 2', 2, 'b'],
  ['a inn {"x"}', 'expected-operator', 'expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "a", found "inn" at position 2', 2, 'inn'],
  ['a starts "x"', 'expected-operator', 'expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "a", found "starts" at position 2', 2, 'starts'],
  ['a && b', 'expected-operator', 'expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "a", found "&&" at position 2', 2, '&&'],
  ['a ("x")', 'expected-operator', 'expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "a", found "(" at position 2', 2, '('],
  // missing or wrong operands
  ['a ==', 'expected-string', 'expected a quoted string after "==", found end of selector at position 4', 4, undefined],
  ['b == b', 'expected-string', 'expected a quoted string after "==", found "b" at position 5', 5, 'b'],
  ['b contains b', 'expected-string', 'expected a quoted string after "contains", found "b" at position 11', 11, 'b'],
  ['foo != ||', 'expected-string', 'expected a quoted string after "!=", found "||" at position 7', 7, '||'],
  ['a starts with has(x)', 'expected-string', 'expected a quoted string after "starts with", found "has(x)" at position 14', 14, 'has(x)'],
  ['foo in ""', 'expected-set', 'expected "{" after "in", found "\\"\\"" at position 7', 7, '""'],
  ['foo not in "a"', 'expected-set', 'expected "{" after "not in", found "\\"a\\"" at position 11', 11, '"a"'],
  ['foo in {"", ||', 'expected-set', 'expected a quoted string or "}" in set, found "||" at position 12', 12, '||'],
  ['foo in {"a" "b"}', 'expected-set', 'expected "," or "}" in set, found "\\"b\\"" at position 12', 12, '"b"'],
  ['foo in {,}', 'expected-set', 'expected a quoted string or "}" in set, found "," at position 8', 8, ','],
  ['foo in {"a"', 'expected-set', 'expected "," or "}" in set, found end of selector at position 11', 11, undefined],
  // operands in the wrong place
  [`'b1' == b`, 'unexpected-token', 'unexpected token "\'b1\'" at position 0: expected a label, has(), all(), global(), "!" or "("', 0, "'b1'"],
  ['!', 'unexpected-token', 'unexpected end of selector at position 1: expected a label, has(), all(), global(), "!" or "("', 1, undefined],
  ['has(foo) &&', 'unexpected-token', 'unexpected end of selector at position 11: expected a label, has(), all(), global(), "!" or "("', 11, undefined],
  ['has(a) || && has(b)', 'unexpected-token', 'unexpected token "&&" at position 10: expected a label, has(), all(), global(), "!" or "("', 10, '&&'],
  ['has(a) && == "b"', 'unexpected-token', 'unexpected token "==" at position 10: expected a label, has(), all(), global(), "!" or "("', 10, '=='],
  ['!= "b"', 'unexpected-token', 'unexpected token "!=" at position 0: expected a label, has(), all(), global(), "!" or "("', 0, '!='],
  // parentheses
  ['(', 'unexpected-token', 'unexpected end of selector at position 1: expected a label, has(), all(), global(), "!" or "("', 1, undefined],
  ['()', 'unexpected-token', 'unexpected token ")" at position 1: expected a label, has(), all(), global(), "!" or "("', 1, ')'],
  [')', 'unexpected-token', 'unexpected token ")" at position 0: expected a label, has(), all(), global(), "!" or "("', 0, ')'],
  ['(a == "foo"', 'expected-rparen', 'expected ")" to close the "(" at position 0, found end of selector at position 11', 11, undefined],
  ['((has(a) || has(b)) && has(c)', 'expected-rparen', 'expected ")" to close the "(" at position 0, found end of selector at position 29', 29, undefined],
  ['(has(a) has(b))', 'expected-rparen', 'expected ")" to close the "(" at position 0, found "has(b)" at position 8', 8, 'has(b)'],
  ['(has(a)))', 'trailing-input', 'unmatched ")" at position 8: expected "&&", "||" or end of selector', 8, ')'],
  // trailing garbage
  ['has(a) has(b)', 'trailing-input', 'unexpected token "has(b)" at position 7: expected "&&", "||" or end of selector', 7, 'has(b)'],
  ['a == "b" "c"', 'trailing-input', 'unexpected token "\\"c\\"" at position 9: expected "&&", "||" or end of selector', 9, '"c"'],
  ['all() all()', 'trailing-input', 'unexpected token "all()" at position 6: expected "&&", "||" or end of selector', 6, 'all()'],
  ['a == "b" (', 'trailing-input', 'unexpected token "(" at position 9: expected "&&", "||" or end of selector', 9, '('],
  // functions
  ['has()', 'bad-function', 'expected a label name inside has(), found ")" at position 4', 4, ')'],
  ['has(a b)', 'bad-function', 'expected ")" to close has(, found "b" at position 6', 6, 'b'],
  ['has(a', 'bad-function', 'expected ")" to close has(, found end of selector at position 5', 5, undefined],
  ['all(x)', 'bad-function', 'expected ")" after all(, found "x" at position 4', 4, 'x'],
  ['global(', 'bad-function', 'expected ")" after global(, found end of selector at position 7', 7, undefined],
  // "has (a)" is the label "has" followed by a parenthesis
  ['has (a)', 'expected-operator', 'expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "has", found "(" at position 4', 4, '('],
];

describe('selector errors', () => {
  for (const [input, code, message, position, token] of INVALID) {
    it(`${JSON.stringify(input)}: ${code}`, () => {
      let err: unknown;
      try {
        parseSelector(input);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(SelectorError);
      const se = err as SelectorError;
      expect(se.message).to.equal(message);
      expect(se.code).to.equal(code);
      expect(se.position).to.equal(position);
      expect(se.token === undefined ? undefined : se.token.slice(0, token?.length ?? 0)).to.equal(token);
      expect(se.selector).to.equal(input);
      expect(se.name).to.equal('SelectorError');
      expect(se).to.be.instanceOf(Error);
    });
  }

  it('limits label length to 512 characters', () => {
    const ok = 'l'.repeat(512);
    expect(parseSelector(`has(${ok})`).toString()).to.equal(`has(${ok})`);
    expect(parseSelector(`${ok} == "x"`).evaluate({ [ok]: 'x' })).to.equal(true);
    expect(() => parseSelector(`${ok}l == "x"`)).to.throw(SelectorError, 'is longer than 512 characters')
      .with.property('code', 'label-too-long');
    expect(() => parseSelector(`has(${ok}l)`)).to.throw(SelectorError, 'at position 4 is longer than 512 characters');
  });

  it(`rejects parentheses nested deeper than ${MAX_SELECTOR_DEPTH}`, () => {
    const nest = (n: number): string => `${'('.repeat(n)}has(a)${')'.repeat(n)}`;
    expect(parseSelector(nest(MAX_SELECTOR_DEPTH)).toString()).to.equal('has(a)');
    expect(() => parseSelector(nest(MAX_SELECTOR_DEPTH + 1))).to.throw(SelectorError, 'nested more than')
      .with.property('code', 'too-deep');
  });

  it('long runs of "!" and operands do not recurse', () => {
    expect(parseSelector(`${'!'.repeat(10001)}has(a)`).toString()).to.equal('!has(a)');
    const wide = Array.from({ length: 5000 }, (_, i) => `l${i} == "v"`).join(' || ');
    expect(parseSelector(wide).evaluate({ l4999: 'v' })).to.equal(true);
  });
});

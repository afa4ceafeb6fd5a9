// Turns selector text into tokens. The lexer is context sensitive in the same way as Calico's:
// word operators (`in`, `not in`, `contains`, `starts with`, `ends with`) are only recognised
// directly after a label, and everywhere else a word is a label. So `in == "x"` compares the
// label "in", and `a in {"x"}` is a set test.

import { SelectorError, describeToken, type SelectorErrorCode } from './errors.js';

export type TokenKind =
  | 'label' | 'string' | 'has' | 'all' | 'global'
  | '(' | ')' | '{' | '}' | ','
  | '==' | '!=' | '!' | '&&' | '||'
  | 'in' | 'not in' | 'contains' | 'starts with' | 'ends with'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Label name (label, has) or string contents (string); empty for other kinds. */
  readonly value: string;
  /** Offsets of the token's source text: `src.slice(start, end)`. */
  readonly start: number;
  readonly end: number;
}

/** Calico rejects labels longer than this in selectors. */
export const MAX_SELECTOR_LABEL_LENGTH = 512;

const SINGLE_CHAR: Readonly<Record<string, TokenKind>> = {
  '(': '(', ')': ')', '{': '{', '}': '}', ',': ',',
};

/** Word operators tried after a label, in order; each is a sequence of words. */
const WORD_OPERATORS: ReadonlyArray<readonly [TokenKind, readonly string[]]> = [
  ['contains', ['contains']],
  ['starts with', ['starts', 'with']],
  ['ends with', ['ends', 'with']],
  ['not in', ['not', 'in']],
  ['in', ['in']],
];

const OPERATOR_LIST = '==, !=, in, not in, contains, starts with, ends with';

/** Letters, digits and `_ . / -`: the characters of a label name. */
export function isLabelChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)
    || c === 0x5f || c === 0x2e || c === 0x2f || c === 0x2d;
}

/** True if `s` is a label name a selector can mention. */
export function isValidSelectorLabel(s: string): boolean {
  return s.length > 0 && s.length <= MAX_SELECTOR_LABEL_LENGTH && labelEnd(s, 0) === s.length;
}

/** Only space and tab separate tokens (Calico does not accept newlines between tokens). */
function skipBlanks(src: string, i: number): number {
  while (i < src.length && (src.charCodeAt(i) === 0x20 || src.charCodeAt(i) === 0x09)) i++;
  return i;
}

function labelEnd(src: string, i: number): number {
  while (i < src.length && isLabelChar(src.charCodeAt(i))) i++;
  return i;
}

function atWordBoundary(src: string, i: number): boolean {
  return i >= src.length || !isLabelChar(src.charCodeAt(i));
}

/** Matches words separated by blanks at `i`; returns the end offset or -1. */
function matchWords(src: string, i: number, words: readonly string[]): number {
  let end = i;
  for (const [n, w] of words.entries()) {
    const at = n === 0 ? i : skipBlanks(src, end);
    if (!src.startsWith(w, at)) return -1;
    end = at + w.length;
  }
  // Blanks between the words are optional ("startswith" is accepted, as in Calico), but the
  // operator must not run on into a label. (Calico skips blanks before this check for the
  // two-word operators; that only changes which error "a starts with x" reports.)
  return atWordBoundary(src, end) ? end : -1;
}

/** Source text shown as "found ..." when something unexpected starts at `i`. */
function foundAt(src: string, i: number): string | undefined {
  if (i >= src.length) return undefined;
  const end = labelEnd(src, i);
  return end > i ? src.slice(i, end) : String.fromCodePoint(src.codePointAt(i)!);
}

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const push = (kind: TokenKind, start: number, end: number, value = ''): number => {
    tokens.push({ kind, value, start, end });
    return end;
  };
  const fail: Fail = (code, message, at) => {
    throw new SelectorError(code, message, src, at, foundAt(src, at));
  };

  let i = 0;
  for (;;) {
    i = skipBlanks(src, i);
    if (i >= src.length) {
      push('eof', i, i);
      return tokens;
    }
    const ch = src[i]!;
    const single = SINGLE_CHAR[ch];
    if (single !== undefined) {
      i = push(single, i, i + 1);
      continue;
    }
    switch (ch) {
      case '"':
      case "'": {
        // No escapes: a string runs to the next quote of the same kind.
        const close = src.indexOf(ch, i + 1);
        if (close < 0) fail('unterminated-string', `unterminated string starting at position ${i}`, i);
        i = push('string', i, close + 1, src.slice(i + 1, close));
        continue;
      }
      case '=':
        if (src.startsWith('==', i)) i = push('==', i, i + 2);
        else fail('unexpected-character', `unexpected character "=" at position ${i} (did you mean "=="?)`, i);
        continue;
      case '!':
        i = src.startsWith('!=', i) ? push('!=', i, i + 2) : push('!', i, i + 1);
        continue;
      case '&':
      case '|':
        if (src.startsWith(ch + ch, i)) i = push(ch === '&' ? '&&' : '||', i, i + 2);
        else fail('unexpected-character', `unexpected character "${ch}" at position ${i} (did you mean "${ch}${ch}"?)`, i);
        continue;
    }
    i = tokens.at(-1)?.kind === 'label' ? lexOperator(src, i, push, fail, tokens.at(-1)!) : lexWord(src, i, push, fail);
  }
}

type Push = (kind: TokenKind, start: number, end: number, value?: string) => number;
type LexErrorCode = Extract<SelectorErrorCode,
  'unexpected-character' | 'unterminated-string' | 'expected-operator' | 'bad-function' | 'label-too-long'>;
type Fail = (code: LexErrorCode, message: string, at: number) => never;

function lexOperator(src: string, i: number, push: Push, fail: Fail, label: Token): number {
  for (const [kind, words] of WORD_OPERATORS) {
    const end = matchWords(src, i, words);
    if (end >= 0) return push(kind, i, end);
  }
  return fail('expected-operator',
    `expected an operator (${OPERATOR_LIST}) after label ${JSON.stringify(label.value)}, found ${describeToken(foundAt(src, i))} at position ${i}`, i);
}

function lexWord(src: string, i: number, push: Push, fail: Fail): number {
  if (src.startsWith('has(', i)) {
    const nameStart = skipBlanks(src, i + 4);
    const nameEnd = labelEnd(src, nameStart);
    if (nameEnd === nameStart) {
      fail('bad-function', `expected a label name inside has(), found ${describeToken(foundAt(src, nameStart))} at position ${nameStart}`, nameStart);
    }
    checkLength(src, nameStart, nameEnd, fail);
    const close = skipBlanks(src, nameEnd);
    if (src[close] !== ')') fail('bad-function', `expected ")" to close has(, found ${describeToken(foundAt(src, close))} at position ${close}`, close);
    return push('has', i, close + 1, src.slice(nameStart, nameEnd));
  }
  for (const fn of ['all', 'global'] as const) {
    if (src.startsWith(`${fn}(`, i)) {
      const close = skipBlanks(src, i + fn.length + 1);
      if (src[close] !== ')') fail('bad-function', `expected ")" after ${fn}(, found ${describeToken(foundAt(src, close))} at position ${close}`, close);
      return push(fn, i, close + 1);
    }
  }
  const end = labelEnd(src, i);
  if (end === i) {
    const c = String.fromCodePoint(src.codePointAt(i)!);
    const hint = c === '\n' || c === '\r' ? ' (only spaces and tabs may separate tokens)' : '';
    fail('unexpected-character', `unexpected character ${JSON.stringify(c)} at position ${i}${hint}`, i);
  }
  checkLength(src, i, end, fail);
  return push('label', i, end, src.slice(i, end));
}

function checkLength(src: string, start: number, end: number, fail: Fail): void {
  if (end - start > MAX_SELECTOR_LABEL_LENGTH) {
    fail('label-too-long', `label ${JSON.stringify(src.slice(start, start + 20) + '...')} at position ${start} is longer than ${MAX_SELECTOR_LABEL_LENGTH} characters`, start);
  }
}

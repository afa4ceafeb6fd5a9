// The one error type the selector language throws.

/** What went wrong, for callers that want to branch without parsing the message. */
export type SelectorErrorCode =
  | 'unterminated-string'
  | 'unexpected-character'
  | 'expected-operator'
  | 'bad-function'
  | 'label-too-long'
  | 'unexpected-token'
  | 'expected-string'
  | 'expected-set'
  | 'expected-rparen'
  | 'trailing-input'
  | 'too-deep'
  | 'invalid-ast';

/**
 * A selector failed to parse (or a hand-built AST cannot be rendered). `position` is the 0-based
 * offset into `selector`, counted in UTF-16 code units as `String.prototype.slice` does, where
 * the problem was found; `token` is the source text found there, or undefined at the end of the
 * input. Both are undefined for `invalid-ast`.
 */
export class SelectorError extends Error {
  override readonly name = 'SelectorError';
  constructor(
    readonly code: SelectorErrorCode,
    message: string,
    readonly selector: string,
    readonly position?: number,
    readonly token?: string,
  ) {
    super(message);
  }
}

/** How a token or character is shown inside an error message. */
export function describeToken(text: string | undefined): string {
  return text === undefined ? 'end of selector' : JSON.stringify(text);
}

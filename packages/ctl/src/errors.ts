/** A failure to report to the user as-is (no stack): printed on stderr, exit code 1. */
export class CtlError extends Error {
  override name = 'CtlError';
}

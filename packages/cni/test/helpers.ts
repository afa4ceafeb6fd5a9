// Shared test helpers for the CNI package.
import { expect } from 'chai';
import { CniError } from '@tabby/cni';

/** The CniError `fn` throws (fails the test if it throws something else or nothing). */
export function cniError(fn: () => unknown): CniError {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(CniError);
    return e as CniError;
  }
  expect.fail('expected a CniError');
}

export async function cniRejection(p: Promise<unknown>): Promise<CniError> {
  try {
    await p;
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(CniError);
    return e as CniError;
  }
  expect.fail('expected a CniError');
}

// ORIGIN (RFC 4271 §5.1.1): one byte, IGP, EGP or INCOMPLETE.

import { UpdateSubcode } from '../errors.js';
import type { Writer } from '../writer.js';
import { expectLength, problem } from './common.js';
import type { OriginValue } from './types.js';

export function decodeOrigin(value: Uint8Array): OriginValue {
  expectLength('ORIGIN', value, 1);
  if (value[0]! > 2) throw problem(UpdateSubcode.INVALID_ORIGIN, `ORIGIN ${value[0]}`);
  return value[0] as OriginValue;
}

export function encodeOrigin(w: Writer, origin: OriginValue): void {
  w.u8(origin);
}

// ATOMIC_AGGREGATE (RFC 4271 §5.1.6), AGGREGATOR (§5.1.7) in its 2- or 4-octet AS form, and
// AS4_AGGREGATOR (RFC 6793) which carries the real AS past a 2-octet speaker.

import { formatIPv4, parseIPv4 } from '../address.js';
import { twoOctetAs } from '../asn.js';
import type { Writer } from '../writer.js';
import { expectLength, u32At } from './common.js';
import type { Aggregator } from './types.js';

export function decodeAtomicAggregate(value: Uint8Array): true {
  expectLength('ATOMIC_AGGREGATE', value, 0);
  return true;
}

export function decodeAggregator(value: Uint8Array, asnSize: 2 | 4): Aggregator {
  expectLength('AGGREGATOR', value, asnSize + 4);
  const asn = asnSize === 4 ? u32At(value, 0) : (value[0]! << 8) | value[1]!;
  return { asn, address: formatIPv4(value, asnSize) };
}

export function decodeAs4Aggregator(value: Uint8Array): Aggregator {
  expectLength('AS4_AGGREGATOR', value, 8);
  return { asn: u32At(value, 0), address: formatIPv4(value, 4) };
}

/** With 2-octet AS numbers, an AS that does not fit is written as AS_TRANS. */
export function encodeAggregator(w: Writer, a: Aggregator, asnSize: 2 | 4): void {
  if (asnSize === 4) w.u32(a.asn);
  else w.u16(twoOctetAs(a.asn));
  w.bytes(parseIPv4(a.address));
}

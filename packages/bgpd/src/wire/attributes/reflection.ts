// ORIGINATOR_ID and CLUSTER_LIST (RFC 4456 §8): route reflection's loop guards.

import { formatIPv4, parseIPv4 } from '../address.js';
import type { Writer } from '../writer.js';
import { expectLength, expectMultiple } from './common.js';

export function decodeOriginatorId(value: Uint8Array): string {
  expectLength('ORIGINATOR_ID', value, 4);
  return formatIPv4(value);
}

export function encodeOriginatorId(w: Writer, id: string): void {
  w.bytes(parseIPv4(id));
}

export function decodeClusterList(value: Uint8Array): string[] {
  expectMultiple('CLUSTER_LIST', value, 4);
  const out: string[] = [];
  for (let at = 0; at < value.length; at += 4) out.push(formatIPv4(value, at));
  return out;
}

export function encodeClusterList(w: Writer, list: readonly string[]): void {
  for (const id of list) w.bytes(parseIPv4(id));
}

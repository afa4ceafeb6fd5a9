// OPEN (RFC 4271 §4.2): version, 2-octet My AS, hold time, BGP identifier and optional
// parameters carrying capabilities (RFC 5492), with the extended optional parameters length
// of RFC 9072 understood on decode and used on encode when capabilities exceed 255 bytes.
// Checks here are those the message alone can answer; peer AS and identifier clashes are the
// session's business.

import { ErrorCode, OpenSubcode, WireError } from './errors.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { decodeCapability, encodeCapability, type Capability } from './capabilities.js';
import { HEADER_LENGTH, MessageType, finishHeader, writeHeader } from './header.js';
import { idFromString, idToString } from './address.js';
import { AS_TRANS, twoOctetAs } from './asn.js';

export { idFromString, idToString };

export const BGP_VERSION = 4;
export { AS_TRANS };

export const OptionalParameter = {
  CAPABILITIES: 2,
  /** RFC 9072: marks the extended length format (in the place of the first parameter type). */
  EXTENDED_LENGTH: 255,
} as const;

export interface OpenMessage {
  type: 'open';
  version: number;
  /** The 2-octet My AS field (AS_TRANS when the real AS needs 4 octets). */
  myAs: number;
  holdTime: number;
  /** BGP identifier as a dotted quad. */
  bgpId: string;
  /** Every capability of every capabilities parameter, in order. */
  capabilities: Capability[];
}

const malformedOpen = () => new WireError(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSPECIFIC, undefined, 'malformed optional parameters');

/** Decodes an OPEN frame (header included). Throws WireError with the NOTIFICATION to send. */
export function decodeOpen(frame: Uint8Array): OpenMessage {
  const r = new Reader(frame, HEADER_LENGTH, frame.length, malformedOpen);
  const version = r.u8();
  if (version !== BGP_VERSION) {
    // RFC 4271 §6.2: the data is the version we do support, as 2 octets.
    throw new WireError(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSUPPORTED_VERSION, Uint8Array.of(0, BGP_VERSION), `version ${version}`);
  }
  const myAs = r.u16();
  const holdTime = r.u16();
  if (holdTime === 1 || holdTime === 2) {
    throw new WireError(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNACCEPTABLE_HOLD_TIME, undefined, `hold time ${holdTime}`);
  }
  const id = r.u32();
  if (id === 0) throw new WireError(ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_BGP_ID, undefined, 'BGP identifier 0.0.0.0');
  let paramsLength = r.u8();
  // RFC 9072 §2: a first parameter type of 255 announces 2-octet lengths from here on.
  const extended = paramsLength > 0 && r.remaining > 0 && r.peek() === OptionalParameter.EXTENDED_LENGTH;
  if (extended) {
    r.u8();
    paramsLength = r.u16();
  }
  if (paramsLength !== r.remaining) throw malformedOpen();
  const capabilities: Capability[] = [];
  while (r.remaining) {
    const type = r.u8();
    const value = r.sub(extended ? r.u16() : r.u8());
    if (type !== OptionalParameter.CAPABILITIES) {
      throw new WireError(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, undefined, `optional parameter type ${type}`);
    }
    while (value.remaining) {
      const code = value.u8();
      capabilities.push(decodeCapability(code, value.bytes(value.u8())));
    }
  }
  return { type: 'open', version, myAs, holdTime, bgpId: idToString(id), capabilities };
}

export type OpenFields = Omit<OpenMessage, 'type' | 'version'> & { version?: number };

export function encodeOpen(m: OpenFields): Uint8Array {
  const w = new Writer(128);
  writeHeader(w, MessageType.OPEN);
  // A 4-octet AS goes in the 2-octet field as AS_TRANS; the real one is in its capability.
  w.u8(m.version ?? BGP_VERSION).u16(twoOctetAs(m.myAs)).u16(m.holdTime).u32(idFromString(m.bgpId));
  const caps = new Writer(64);
  for (const c of m.capabilities) encodeCapability(caps, c);
  const body = caps.finish();
  if (body.length === 0) {
    w.u8(0);
  } else if (body.length + 2 <= 255) {
    w.u8(body.length + 2).u8(OptionalParameter.CAPABILITIES).u8(body.length).bytes(body);
  } else {
    // RFC 9072: length 255, type 255, the 2-octet total, then parameters with 2-octet lengths.
    w.u8(255).u8(OptionalParameter.EXTENDED_LENGTH).u16(body.length + 3);
    w.u8(OptionalParameter.CAPABILITIES).u16(body.length).bytes(body);
  }
  if (w.length > 4096) throw new Error(`OPEN too long (${w.length} bytes)`);
  return finishHeader(w);
}

// OPEN (RFC 4271 §4.2) with capabilities in optional parameters, including the RFC 9072
// extended optional-parameters length.

import { ErrorCode, OpenSubcode, WireError } from './errors.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { decodeCapability, encodeCapability, type Capability } from './capabilities.js';
import { HEADER_LENGTH, MessageType } from './framer.js';
import { writeHeader, finishHeader } from './header.js';

export const BGP_VERSION = 4;
export const AS_TRANS = 23456;

export interface OpenMessage {
  type: 'open';
  version: number;
  /** The 2-octet "My AS" field (AS_TRANS when the real AS needs 4 octets). */
  myAs: number;
  holdTime: number;
  /** Dotted-quad BGP identifier. */
  bgpId: string;
  capabilities: Capability[];
}

const malformedOpen = () => new WireError(ErrorCode.OPEN_MESSAGE, 0, undefined, 'malformed OPEN');

export function idToString(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

export function idFromString(s: string): number {
  return s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

/** Decodes an OPEN body (the frame including its header). Checks RFC 4271 §6.2 rules the codec can. */
export function decodeOpen(frame: Uint8Array): OpenMessage {
  const r = new Reader(frame, HEADER_LENGTH, frame.length, malformedOpen);
  const version = r.u8();
  if (version !== BGP_VERSION) {
    throw new WireError(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSUPPORTED_VERSION, new Uint8Array([0, BGP_VERSION]), `version ${version}`);
  }
  const myAs = r.u16();
  const holdTime = r.u16();
  if (holdTime === 1 || holdTime === 2) {
    throw new WireError(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNACCEPTABLE_HOLD_TIME, undefined, `hold time ${holdTime}`);
  }
  const id = r.u32();
  if (id === 0) throw new WireError(ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_BGP_ID, undefined, 'BGP identifier 0.0.0.0');
  let optLen = r.u8();
  let extended = false;
  if (optLen === 255 && r.remaining >= 3 && frame[r.offset] === 255) {
    r.u8(); // the 255 marker type
    optLen = r.u16();
    extended = true;
  }
  if (optLen !== r.remaining) throw malformedOpen();
  const capabilities: Capability[] = [];
  const params = r.sub(optLen);
  while (params.remaining) {
    const ptype = params.u8();
    const plen = extended ? params.u16() : params.u8();
    const pval = params.sub(plen);
    if (ptype !== 2) {
      throw new WireError(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, undefined, `optional parameter type ${ptype}`);
    }
    while (pval.remaining) {
      const code = pval.u8();
      const len = pval.u8();
      capabilities.push(decodeCapability(code, pval.bytes(len)));
    }
  }
  return { type: 'open', version, myAs, holdTime, bgpId: idToString(id), capabilities };
}

export function encodeOpen(m: Omit<OpenMessage, 'type' | 'version'> & { version?: number }): Uint8Array {
  const w = new Writer(128);
  writeHeader(w, MessageType.OPEN);
  w.u8(m.version ?? BGP_VERSION).u16(m.myAs).u16(m.holdTime).u32(idFromString(m.bgpId));
  const caps = new Writer(64);
  for (const c of m.capabilities) encodeCapability(caps, c);
  const body = caps.finish();
  if (body.length + 2 <= 255) {
    w.u8(body.length ? body.length + 2 : 0);
    if (body.length) w.u8(2).u8(body.length).bytes(body);
  } else {
    // RFC 9072: non-extended length 255, then type 255 and a 2-octet length.
    w.u8(255).u8(255).u16(body.length + 3).u8(2).u16(body.length).bytes(body);
  }
  return finishHeader(w);
}

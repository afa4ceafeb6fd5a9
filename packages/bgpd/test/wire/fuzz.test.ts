// Decoding hostile bytes may fail only with WireError (which becomes a NOTIFICATION), never
// with a TypeError, RangeError or anything else that would take the daemon down. One entry
// point per decoder, fed random and mutated inputs from a fixed seed, so a failure replays.
import { expect } from 'chai';
import {
  Framer, MAX_EXTENDED_LENGTH, WireError, decodeAttributeList, decodeCapability, decodeMessage, validateUpdate, type DecodeContext,
} from '@tabby/bgpd';
import { MARKER, hex, random, toHex } from './hex.js';
import { ALL_VECTORS } from './vectors.js';
import { captures } from './captures.js';

const CONTEXTS: DecodeContext[] = [
  { fourOctetAs: true },
  { fourOctetAs: false },
  { fourOctetAs: true, addPath: { 1: true, 2: true } },
  { fourOctetAs: false, addPath: { 1: true }, extendedMessage: true },
];

/** Runs f on input; anything thrown must be a WireError. */
function survives(input: Uint8Array, f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof WireError)) expect.fail(`${String(e)} for input ${toHex(input)}`);
  }
}

/** A frame through every layer: decode, then validate an UPDATE both ways. */
function decodeFully(frame: Uint8Array, ctx: DecodeContext): void {
  const m = decodeMessage(frame, ctx);
  if (m.type === 'update') {
    validateUpdate(m, { ibgp: true });
    validateUpdate(m, { ibgp: false });
  }
}

/** Fixes the header's length field to the buffer's size, so mutations reach the body decoders. */
function withLength(b: Uint8Array): Uint8Array {
  if (b.length >= 18) {
    b[16] = (b.length >> 8) & 0xff;
    b[17] = b.length & 0xff;
  }
  return b;
}

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  let b = src.slice();
  switch (rnd() % 4) {
    case 0: // flip some body bytes
      for (let k = 1 + (rnd() % 4); k > 0; k--) if (b.length > 19) b[19 + (rnd() % (b.length - 19))] = rnd() & 0xff;
      break;
    case 1: // cut short
      b = b.slice(0, 19 + (rnd() % Math.max(1, b.length - 18)));
      break;
    case 2: { // insert junk in the body
      const at = 19 + (rnd() % Math.max(1, b.length - 18));
      const junk = Uint8Array.from({ length: 1 + (rnd() % 8) }, () => rnd() & 0xff);
      b = Uint8Array.from([...b.slice(0, at), ...junk, ...b.slice(at)]);
      break;
    }
    default: // set a length or count byte to an extreme
      if (b.length > 19) b[19 + (rnd() % (b.length - 19))] = [0, 1, 0x7f, 0x80, 0xfe, 0xff][rnd() % 6]!;
  }
  return withLength(b);
}

describe('wire: fuzzing the decoders', function () {
  this.timeout(30_000);
  // Seeds: the hand-written vectors and everything real speakers sent.
  const vectors = [...Object.values(ALL_VECTORS), ...captures.flatMap((c) => c.messages)];

  it('20 000 mutated vectors through decodeMessage and validateUpdate', () => {
    const rnd = random(1);
    for (let i = 0; i < 20_000; i++) {
      const input = mutate(vectors[i % vectors.length]!, rnd);
      survives(input, () => decodeFully(input, CONTEXTS[i % CONTEXTS.length]!));
    }
  });

  it('10 000 random bodies of every type', () => {
    const rnd = random(2);
    for (let i = 0; i < 10_000; i++) {
      const body = Uint8Array.from({ length: rnd() % 120 }, () => (rnd() % 3 === 0 ? 0xff : rnd() & 0xff));
      const input = withLength(Uint8Array.from([...hex(MARKER), 0, 0, 1 + (i % 5), ...body]));
      survives(input, () => decodeFully(input, CONTEXTS[i % CONTEXTS.length]!));
    }
  });

  it('a random byte stream, randomly chunked, through the framer', () => {
    const rnd = random(3);
    for (let run = 0; run < 500; run++) {
      const framer = new Framer();
      if (run % 2) framer.maxLength = MAX_EXTENDED_LENGTH;
      // Mostly valid messages with damage here and there, so the framer gets past headers.
      const parts = Array.from({ length: 6 }, () => (rnd() % 4 === 0 ? Uint8Array.from({ length: rnd() % 40 }, () => rnd() & 0xff) : mutate(vectors[rnd() % vectors.length]!, rnd)));
      const stream = Uint8Array.from(parts.flatMap((p) => [...p]));
      survives(stream, () => {
        for (let at = 0; at < stream.length; ) {
          const n = 1 + (rnd() % 64);
          for (const f of framer.push(stream.subarray(at, at + n))) decodeFully(f.bytes, CONTEXTS[run % CONTEXTS.length]!);
          at += n;
        }
      });
    }
  });

  it('capabilities and attribute lists on their own, from raw random bytes', () => {
    const rnd = random(4);
    for (let i = 0; i < 20_000; i++) {
      const value = Uint8Array.from({ length: rnd() % 24 }, () => rnd() & 0xff);
      survives(value, () => decodeCapability([1, 2, 6, 64, 65, 69, 70, 73, 128, rnd() & 0xff][i % 10]!, value));
      const list = Uint8Array.from({ length: rnd() % 64 }, (_, k) => (k % 7 === 0 ? [0x40, 0x80, 0xc0, 0x90, 0x50][rnd() % 5]! : k % 7 === 1 ? rnd() % 33 : rnd() & 0xff));
      // The attribute list decoder reports problems instead of throwing at all.
      try {
        decodeAttributeList(list, 0, list.length, CONTEXTS[i % CONTEXTS.length]!);
      } catch (e) {
        expect.fail(`${String(e)} for attribute list ${toHex(list)}`);
      }
    }
  });
});

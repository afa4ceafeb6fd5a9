// Loads the messages captured from real speakers (test/vectors/*/*.hex, see its README).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DecodeContext } from '@tabby/bgpd';
import { hex } from './hex.js';

const VECTORS = fileURLToPath(new URL('../../vectors/', import.meta.url));

export interface Capture {
  name: string;
  context: DecodeContext;
  /** What the peer sent, in order. */
  messages: Uint8Array[];
}

function load(peer: string, file: string): Capture {
  const lines = readFileSync(`${VECTORS}/${peer}/${file}`, 'utf8').split('\n');
  const context = JSON.parse(lines.find((l) => l.startsWith('# context '))!.slice('# context '.length)) as DecodeContext;
  const messages: Uint8Array[] = [];
  let skipNext = false;
  for (const l of lines) {
    if (l.startsWith('# sent')) skipNext = true; // our own OPEN, kept for reference only
    if (!l || l.startsWith('#')) continue;
    if (!skipNext) messages.push(hex(l));
    skipNext = false;
  }
  return { name: `${peer}/${file}`, context, messages };
}

export const captures: Capture[] = readdirSync(VECTORS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(`${VECTORS}/${d.name}`).filter((f) => f.endsWith('.hex')).map((f) => load(d.name, f)));


// Records what a real BGP speaker sends (run inside a network namespace by capture.ts): listens
// on port 179, answers each OPEN with ours and KEEPALIVEs, and after a while writes every
// received message as hex, one file per connection.
//   node recorder.js '{"as":65002,"id":"10.210.0.2","out":"/tmp/x","seconds":6}'

import { createServer, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { Framer, MAX_EXTENDED_LENGTH, MESSAGE_TYPE_NAMES, decodeOpen, encodeKeepalive, encodeOpen, type Capability, type DecodeContext } from '@tabby/bgpd';

const opts = JSON.parse(process.argv[2] ?? '{}') as { as: number; id: string; out: string; seconds: number };

const OUR_CAPABILITIES: Capability[] = [
  { type: 'multiprotocol', afi: 1, safi: 1 },
  { type: 'multiprotocol', afi: 2, safi: 1 },
  { type: 'route-refresh' },
  { type: 'extended-message' },
  { type: 'graceful-restart', restarting: false, notification: false, time: 120, families: [{ afi: 1, safi: 1, forwarding: false }, { afi: 2, safi: 1, forwarding: false }] },
  { type: 'four-octet-as', asn: opts.as },
  { type: 'add-path', families: [{ afi: 1, safi: 1, send: false, receive: true }, { afi: 2, safi: 1, send: false, receive: true }] },
];
const ourOpen = encodeOpen({ myAs: opts.as, holdTime: 90, bgpId: opts.id, capabilities: OUR_CAPABILITIES });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** What the session negotiated, from the peer's OPEN (ours offers everything above). */
function contextFrom(open: Uint8Array): DecodeContext {
  const caps = decodeOpen(open).capabilities;
  const addPath: { 1?: boolean; 2?: boolean } = {};
  for (const c of caps) if (c.type === 'add-path') for (const f of c.families) if (f.send && f.safi === 1 && (f.afi === 1 || f.afi === 2)) addPath[f.afi] = true;
  return {
    fourOctetAs: caps.some((c) => c.type === 'four-octet-as'),
    ...(Object.keys(addPath).length ? { addPath } : {}),
    extendedMessage: caps.some((c) => c.type === 'extended-message'),
  };
}

const sessions: { peer: string; lines: string[] }[] = [];

function record(s: Socket): void {
  const session = { peer: (s.remoteAddress ?? '?').replace(/^::ffff:/, ''), lines: [] as string[] };
  sessions.push(session);
  const framer = new Framer();
  let keepalives = 0;
  s.on('data', (chunk: Buffer) => {
    for (const f of framer.push(chunk)) {
      if (f.type === 1) {
        framer.maxLength = MAX_EXTENDED_LENGTH;
        session.lines.push(`# context ${JSON.stringify(contextFrom(f.bytes))}`, `# sent OPEN (ours, for reference)`, hex(ourOpen));
        s.write(ourOpen);
        s.write(encodeKeepalive());
      }
      if (f.type === 4 && keepalives++ > 0) continue; // one KEEPALIVE is enough
      session.lines.push(`# ${MESSAGE_TYPE_NAMES[f.type]}`, hex(f.bytes));
    }
  });
  s.on('error', () => undefined);
  const timer = setInterval(() => s.write(encodeKeepalive()), 2000);
  s.on('close', () => clearInterval(timer));
}

const server = createServer(record);
server.listen({ host: '::', port: 179 });
setTimeout(() => {
  sessions.forEach((s, i) => writeFileSync(`${opts.out}.${i}.${s.peer}`, s.lines.join('\n') + '\n'));
  process.exit(0);
}, opts.seconds * 1000);

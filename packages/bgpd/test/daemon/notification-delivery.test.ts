// The NOTIFICATION bgpd sends on an error must reach the peer even when the peer has already
// sent far more than bgpd read (closing a socket with unread input makes the kernel send a RST,
// which could throw away a NOTIFICATION still in the send queue). A 52 KB message of a bad type
// over extended messages, then a ROUTE-REFRESH and 64 KB more every millisecond: NOTIFICATION
// 1/3 every time. (bgpd used to destroy the socket right after its FIN: 1 round in 30 failed.)
import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { eventually } from '@tabby/test-support';
import { Framer, decodeNotification, encodeKeepalive, encodeOpen, encodeRouteRefresh } from '@tabby/bgpd';
import { startLoopbackBgpd, type LoopbackBgpd } from './loopback-bgpd.js';

const PEER = '127.0.0.7';

describe('bgpd: NOTIFICATION delivered although the peer sent more (loopback)', function () {
  this.timeout(60_000);
  let bgpd: LoopbackBgpd | undefined;
  let port: number, daemon: ChildProcess;
  const logs = () => bgpd?.logs().slice(-20_000) ?? '';

  before(async () => {
    bgpd = await startLoopbackBgpd('notify', `peers:
  - { address: ${PEER}, asNumber: 65007, passive: true }
kernel: { enabled: false }
`, { ready: (peers) => peers.length === 1 });
    ({ port, process: daemon } = bgpd);
  });

  after(async () => { await bgpd?.stop(); });

  for (let round = 1; round <= 30; round++) {
    it(`a 52 KB message of a bad type, then a stream of more: NOTIFICATION 1/3 arrives (round ${round})`, async () => {
      const frames: { type: number; bytes: Uint8Array }[] = [];
      const framer = new Framer();
      let closed = false, reset = false;
      const s: Socket = await eventually(async () => {
        const c = connect({ host: '127.0.0.1', port, localAddress: PEER });
        await new Promise<void>((res, rej) => { c.once('connect', res); c.once('error', rej); });
        return c;
      }, 15_000, 'connection');
      s.on('data', (d) => { for (const f of framer.push(d)) frames.push({ type: f.type, bytes: f.bytes.slice() }); });
      s.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'ECONNRESET') reset = true; });
      s.on('close', () => { closed = true; });
      try {
        await eventually(() => frames.some((f) => f.type === 1), 5000, "bgpd's OPEN");
        s.write(encodeOpen({ myAs: 65007, holdTime: 90, bgpId: '10.7.7.7', capabilities: [{ type: 'multiprotocol', afi: 1, safi: 1 }, { type: 'four-octet-as', asn: 65007 }, { type: 'extended-message' }] }));
        s.write(encodeKeepalive());
        await eventually(() => frames.some((f) => f.type === 4), 5000, "bgpd's KEEPALIVE");
        // Header with type 15, then far more than bgpd reads before it gives up.
        const bad = Buffer.concat([Buffer.alloc(16, 0xff), Buffer.from([0xce, 0x66, 0x0f]), Buffer.alloc(0xce66 - 19)]);
        s.write(bad);
        s.write(encodeRouteRefresh(1, 1));
        // Keep the input coming while bgpd closes.
        const more = Buffer.alloc(64 * 1024);
        const pump = setInterval(() => { if (!s.destroyed) s.write(more); }, 1);
        s.once('close', () => clearInterval(pump));
        await eventually(() => closed, 10_000, 'connection closed');
        const n = frames.filter((f) => f.type === 3).map((f) => decodeNotification(f.bytes)).map((x) => [x.code, x.subcode]);
        expect(n, `NOTIFICATIONs received (connection reset: ${reset})`).to.deep.equal([[1, 3]]);
      } finally {
        s.destroy();
      }
      expect(daemon.exitCode, logs()).to.equal(null);
    });
  }
});

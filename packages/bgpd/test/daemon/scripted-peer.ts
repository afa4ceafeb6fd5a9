// A scripted BGP peer over TCP for the daemon tests: bytes out, framed messages back.
import { connect, type Socket } from 'node:net';
import { eventually } from '@tabby/test-support';
import { Framer, encodeKeepalive, encodeOpen } from '@tabby/bgpd';

export class ScriptedPeer {
  private readonly framer = new Framer();
  readonly frames: { type: number; bytes: Uint8Array }[] = [];
  closed = false;

  constructor(readonly sock: Socket) {
    sock.on('data', (d) => { for (const f of this.framer.push(d)) this.frames.push({ type: f.type, bytes: f.bytes.slice() }); });
    sock.on('close', () => { this.closed = true; });
    sock.on('error', () => undefined);
  }

  /** Connects from `from` to bgpd on 127.0.0.1:`port`. */
  static async open(from: string, port: number): Promise<ScriptedPeer> {
    const s = connect({ host: '127.0.0.1', port, localAddress: from });
    await new Promise<void>((res, rej) => { s.once('connect', res); s.once('error', rej); });
    return new ScriptedPeer(s);
  }

  send(b: Uint8Array): void {
    this.sock.write(b);
  }

  /** The next message of `type` received (taken out of `frames`). */
  async next(type: number, ms = 5000): Promise<Uint8Array> {
    const f = await eventually(() => { const i = this.frames.findIndex((x) => x.type === type); return i >= 0 ? this.frames.splice(i, 1)[0] : undefined; }, ms, `message type ${type}`);
    return f!.bytes;
  }

  /** Our OPEN: IPv4 unicast and four-octet AS. */
  sendOpen(as: number, id: string): void {
    this.send(encodeOpen({ myAs: as, holdTime: 90, bgpId: id, capabilities: [{ type: 'multiprotocol', afi: 1, safi: 1 }, { type: 'four-octet-as', asn: as }] }));
  }

  /** Completes the OPEN/KEEPALIVE exchange so the session is Established. */
  async establish(as: number, id: string): Promise<void> {
    await this.next(1);
    this.sendOpen(as, id);
    this.send(encodeKeepalive());
    await this.next(4);
  }

  close(): void {
    this.sock.destroy();
  }
}

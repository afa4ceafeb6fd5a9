// Connection collision (RFC 4271 §6.8) against a running bgpd over loopback: a scripted peer
// lets bgpd connect out, connects in at the same time, and checks that the connection opened
// by the higher BGP identifier survives while the other is closed with Cease/7.
import { expect } from 'chai';
import { connect, createServer, type Server } from 'node:net';
import { freePort, eventually } from '@tabby/test-support';
import { decodeNotification, decodeOpen, encodeKeepalive, request, type PeerStatus } from '@tabby/bgpd';
import { startLoopbackBgpd, type LoopbackBgpd } from './loopback-bgpd.js';
import { ScriptedPeer } from './scripted-peer.js';
const OPEN = 1, NOTIFICATION = 3, KEEPALIVE = 4;


describe('bgpd: connection collision', function () {
  this.timeout(60_000);
  let bgpd: LoopbackBgpd | undefined;
  let sock: string;
  const servers: Server[] = [];
  const conns: ScriptedPeer[] = [];
  const accepted = new Map<string, ScriptedPeer>();
  const logs = () => bgpd?.logs().slice(-30_000) ?? '';
  const status = async () => (await request(sock, { cmd: 'status' })) as PeerStatus[];

  before(async () => {
    const ports: number[] = [];
    for (const addr of ['127.0.0.2', '127.0.0.3']) {
      const p = await freePort();
      ports.push(p);
      const srv = createServer((s) => { const c = new ScriptedPeer(s); conns.push(c); accepted.set(addr, c); });
      await new Promise<void>((res) => srv.listen(p, addr, res));
      servers.push(srv);
    }
    bgpd = await startLoopbackBgpd('collision', `peers:
  - { address: 127.0.0.2, asNumber: 65001, port: ${ports[0]}, connectRetryTime: 1 }
  - { address: 127.0.0.3, asNumber: 65001, port: ${ports[1]}, connectRetryTime: 1 }
kernel: { enabled: false }
`, { args: ['--log-level', 'debug'] });
    sock = bgpd.sock;
  });

  after(async () => {
    for (const c of conns) c.sock.destroy();
    for (const s of servers) s.close();
    await bgpd?.stop();
  });

  /** bgpd's outgoing connection to `addr` (it sent its OPEN), then our own connection in, with our OPEN. */
  async function collide(addr: string, peerId: string): Promise<{ out: ScriptedPeer; inc: ScriptedPeer }> {
    const out = (await eventually(() => accepted.get(addr), 10_000, `bgpd to connect to ${addr}; ${logs()}`))!;
    expect(decodeOpen(await out.next(OPEN)).bgpId).to.equal('10.9.9.9');
    const s = connect({ host: '127.0.0.1', port: bgpd!.port, localAddress: addr });
    await new Promise<void>((res, rej) => { s.once('connect', res); s.once('error', rej); });
    const inc = new ScriptedPeer(s);
    conns.push(inc);
    expect(decodeOpen(await inc.next(OPEN)).bgpId, 'bgpd answers the colliding connection with its OPEN').to.equal('10.9.9.9');
    inc.sendOpen(65001, peerId);
    return { out, inc };
  }

  it('a peer with the higher identifier keeps its connection: bgpd closes its own with Cease/7', async () => {
    const { out, inc } = await collide('127.0.0.2', '10.200.0.1');
    const n = decodeNotification(await out.next(NOTIFICATION));
    expect([n.code, n.subcode]).to.deep.equal([6, 7]);
    await eventually(() => out.closed, 5000, 'outgoing closed');
    await inc.next(KEEPALIVE);
    inc.sock.write(encodeKeepalive());
    await eventually(async () => (await status()).find((p) => p.address === '127.0.0.2')?.state === 'up', 5000, `session up on the incoming connection; ${logs()}`);
    expect(inc.closed).to.equal(false);
  });

  it('a peer with the lower identifier loses its connection: bgpd closes that one with Cease/7', async () => {
    const { out, inc } = await collide('127.0.0.3', '1.1.1.1');
    const n = decodeNotification(await inc.next(NOTIFICATION));
    expect([n.code, n.subcode]).to.deep.equal([6, 7]);
    await eventually(() => inc.closed, 5000, 'incoming closed');
    out.sendOpen(65001, '1.1.1.1');
    await out.next(KEEPALIVE);
    out.sock.write(encodeKeepalive());
    await eventually(async () => (await status()).find((p) => p.address === '127.0.0.3')?.state === 'up', 5000, `session up on the outgoing connection; ${logs()}`);
    expect(out.closed).to.equal(false);
  });

  it('the first session stayed up throughout', async () => {
    expect((await status()).find((p) => p.address === '127.0.0.2')!.state).to.equal('up');
    expect(bgpd!.process.exitCode).to.equal(null);
  });
});

// The TCP MD5 / GTSM bridge on real sockets over loopback: a signed SYN is answered only by a
// listener holding the same key; the struct handed to the kernel has the Linux layout.
import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { connect } from 'node:net';
import { ListenerOptions, SockoptError, ipv6Bytes, md5sigStruct, preparedSocket, savedSynTtl, setMd5Key, socketFd } from '@tabby/bgpd';

async function listen(host: string): Promise<{ server: Server; port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const server = createServer((s) => { accepted.push(s); s.end('hello'); });
  await new Promise<void>((res) => server.listen({ host, port: 0 }, () => res()));
  return { server, port: (server.address() as { port: number }).port, accepted };
}

/** Connects with `password` and resolves to what the server sent, or 'timeout' after `ms`. */
function tryConnect(host: string, port: number, password: string | undefined, ms = 1500, ttlSecurity?: number): Promise<string> {
  return new Promise((resolve) => {
    const s = preparedSocket(host, { password, ttlSecurity });
    let got = '';
    const t = setTimeout(() => { s.destroy(); resolve('timeout'); }, ms);
    s.on('data', (d: Buffer) => { got += d.toString(); });
    s.on('error', (e) => { clearTimeout(t); resolve(`error ${(e as NodeJS.ErrnoException).code}`); });
    s.on('close', () => { clearTimeout(t); resolve(got); });
    s.connect({ host, port });
  });
}

describe('TCP MD5 / GTSM socket options (loopback)', function () {
  this.timeout(10_000);

  it('builds struct tcp_md5sig with the Linux layout', () => {
    const b = md5sigStruct('10.1.2.3', 4, 'key');
    expect(b.length).to.equal(216);
    expect(b.readUInt16LE(0)).to.equal(2); // AF_INET
    expect([...b.subarray(4, 8)]).to.deep.equal([10, 1, 2, 3]);
    expect(b.readUInt16LE(130)).to.equal(3); // tcpm_keylen
    expect(b.subarray(136, 139).toString()).to.equal('key');
    const m = md5sigStruct('10.1.2.3', 6, 'key'); // v4-mapped on an IPv6 socket
    expect(m.readUInt16LE(0)).to.equal(10);
    expect(m.subarray(8, 24).toString('hex')).to.equal('00000000000000000000ffff0a010203');
    expect(ipv6Bytes('fd00:1::2').toString('hex')).to.equal('fd000001000000000000000000000002');
    expect(ipv6Bytes('::').toString('hex')).to.equal('0'.repeat(32));
    expect(() => md5sigStruct('fd00::1', 4, 'k')).to.throw(/IPv4 socket/);
    expect(() => md5sigStruct('10.0.0.1', 4, 'k'.repeat(81))).to.throw(/at most 80 bytes/);
  });

  for (const host of ['127.0.0.1', '::1']) {
    it(`${host}: the matching key connects, a wrong or missing key never does`, async () => {
      const { server, port, accepted } = await listen(host);
      try {
        new ListenerOptions(server).apply(new Map([[host, 'right']]), true);
        expect(await tryConnect(host, port, 'wrong')).to.equal('timeout');
        expect(await tryConnect(host, port, undefined)).to.equal('timeout');
        expect(accepted).to.have.length(0);
        expect(await tryConnect(host, port, 'right')).to.equal('hello');
        expect(accepted).to.have.length(1);
      } finally {
        server.close();
      }
    });
  }

  it('a key removed from the listener lets unsigned connections in again', async () => {
    const { server, port } = await listen('127.0.0.1');
    try {
      const lo = new ListenerOptions(server);
      lo.apply(new Map([['127.0.0.1', 'k']]), false);
      expect(await tryConnect('127.0.0.1', port, undefined, 800)).to.equal('timeout');
      lo.apply(new Map(), false);
      expect(await tryConnect('127.0.0.1', port, undefined)).to.equal('hello');
      // Removing a key that is not there is not an error.
      setMd5Key(socketFd(server), 4, '127.0.0.9', undefined);
    } finally {
      server.close();
    }
  });

  it('an IPv4 peer is keyed v4-mapped on a dual-stack listener', async () => {
    const { server, port } = await listen('::');
    try {
      new ListenerOptions(server).apply(new Map([['127.0.0.1', 'k']]), false);
      expect(await tryConnect('127.0.0.1', port, 'x', 800)).to.equal('timeout');
      expect(await tryConnect('127.0.0.1', port, 'k')).to.equal('hello');
    } finally {
      server.close();
    }
  });

  for (const host of ['127.0.0.1', '::1']) {
    it(`${host}: GTSM: a client with ttlSecurity drops a SYN-ACK sent with an ordinary TTL, takes one sent with 255`, async () => {
      const { server, port } = await listen(host);
      try {
        expect(await tryConnect(host, port, undefined, 800)).to.equal('hello');
        expect(await tryConnect(host, port, undefined, 800, 1)).to.equal('timeout'); // loopback TTL / hop limit is 64
        new ListenerOptions(server).apply(new Map(), true);
        expect(await tryConnect(host, port, undefined, 1500, 1)).to.equal('hello');
      } finally {
        server.close();
      }
    });
  }

  it('a GTSM listener keeps each SYN, so the TTL it arrived with can be checked per peer', async () => {
    for (const [host, family] of [['127.0.0.1', 4], ['::1', 6]] as const) {
      const ttls: (number | undefined)[] = [];
      const server = createServer((s) => { ttls.push(savedSynTtl(socketFd(s))); s.end(); });
      await new Promise<void>((res) => server.listen({ host, port: 0 }, () => res()));
      const port = (server.address() as { port: number }).port;
      const once = (c: Socket) => new Promise<void>((res) => { c.on('close', () => res()); c.on('error', () => res()); c.resume(); });
      try {
        await once(connect({ host, port })); // listener without GTSM: nothing saved
        new ListenerOptions(server).apply(new Map(), true);
        await once(connect({ host, port })); // ordinary TTL/hop limit (64)
        const g = preparedSocket(host, { ttlSecurity: 1 });
        g.connect({ host, port });
        await once(g); // GTSM sender: 255
        expect(ttls, `IPv${family}`).to.deep.equal([undefined, 64, 255]);
      } finally {
        server.close();
      }
    }
  });

  it('errors name the peer and the errno', () => {
    // A listener's fd cannot take an IPv6 key (EINVAL from the kernel: family mismatch).
    const server = createServer();
    return new Promise<void>((res) => server.listen({ host: '127.0.0.1', port: 0 }, () => res())).then(() => {
      try {
        const bad = md5sigStruct('127.0.0.1', 6, 'k'); // AF_INET6 address on an AF_INET socket
        expect(bad.readUInt16LE(0)).to.equal(10);
        expect(() => setMd5Key(socketFd(server), 6, '127.0.0.1', 'k')).to.throw(SockoptError, /peer 127\.0\.0\.1.*E[A-Z]+/);
      } finally {
        server.close();
      }
    });
  });
});

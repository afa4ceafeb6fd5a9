// Connecting to etcd: unreachable and silent servers, several endpoints, TLS and passwords.
import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { startEtcd, type EtcdServer } from '@tabby/test-support';
import { ConfigError, ConnectionError, EtcdDatastore, type Datastore } from '@tabby/datastore';
import { expectReject, pool, wep } from './helpers.js';

/** Runs `fn` against a fresh datastore and closes it afterwards. */
async function using<T>(ds: EtcdDatastore, fn: (ds: EtcdDatastore) => Promise<T>): Promise<T> {
  try {
    return await fn(ds);
  } finally {
    await ds.close();
  }
}

/** Every kind of operation, for checking that each one fails the same way. */
const operations = (ds: Datastore): [string, () => Promise<unknown>][] => [
  ['get', () => ds.get('IPPool', 'p')],
  ['list', () => ds.list('WorkloadEndpoint', { namespace: 'ns' })],
  ['create', () => ds.create(pool('p', '10.0.0.0/8'))],
  ['update', () => ds.update(wep('ns', 'w'))],
  ['delete', () => ds.delete('IPPool', 'p')],
  ['watch', () => ds.watch('IPPool', {}, () => undefined)],
  ['watch from a revision', () => ds.watch('IPPool', { revision: '5' }, () => undefined)],
];

describe('etcd datastore: connecting', function () {
  this.timeout(25_000);

  it('an unreachable endpoint: every operation fails fast with a ConnectionError naming it and the cause', async () => {
    await using(new EtcdDatastore({ endpoints: ['http://127.0.0.1:1'] }), async (ds) => {
      for (const [what, op] of operations(ds)) {
        const t0 = Date.now();
        await expectReject(op(), ConnectionError, 'cannot reach etcd at http://127.0.0.1:1: connection refused');
        expect(Date.now() - t0, what).to.be.lessThan(8000);
      }
    });
  });

  describe('a server that accepts connections and never answers', () => {
    let silent: Server;
    const held = new Set<Socket>();
    before(async () => {
      silent = createServer((s) => { held.add(s); });
      await new Promise<void>((res) => silent.listen(0, '127.0.0.1', () => res()));
    });
    after(async () => {
      for (const s of held) s.destroy();
      await new Promise<void>((res) => silent.close(() => res()));
    });
    const url = () => `http://127.0.0.1:${(silent.address() as { port: number }).port}`;

    it('fails within the default budget of 5 s', async () => {
      await using(new EtcdDatastore({ endpoints: [url()] }), async (ds) => {
        const t0 = Date.now();
        await expectReject(ds.list('IPPool'), ConnectionError, `cannot reach etcd at ${url()}: no answer within 5 s`);
        expect(Date.now() - t0).to.be.within(4500, 6000);
      });
    });

    it('every operation honours a shorter budget', async () => {
      await using(new EtcdDatastore({ endpoints: [url()], timeoutMs: 500 }), async (ds) => {
        for (const [what, op] of operations(ds)) {
          const t0 = Date.now();
          const e = await expectReject(op(), ConnectionError);
          expect(e.message, what).to.match(new RegExp(`^cannot reach etcd at ${url()}: no answer within 0.5 s`));
          expect(Date.now() - t0, what).to.be.lessThan(1500);
        }
      });
    });
  });

  describe('a running etcd', () => {
    let etcd: EtcdServer;
    before(async () => { etcd = await startEtcd(); });
    after(async () => { await etcd?.stop(); });

    it('is used through any live endpoint of several', async () => {
      await using(new EtcdDatastore({ endpoints: ['http://127.0.0.1:1', etcd.endpoint] }), async (ds) => {
        for (let i = 0; i < 6; i++) await ds.list('IPPool');
        await ds.create(pool('multi', '10.0.0.0/8'));
        expect((await ds.get('IPPool', 'multi')).metadata.name).to.equal('multi');
      });
    });

    it('with password authentication: the right password works, a wrong or missing one is a clear error', async () => {
      etcd.etcdctl('user', 'add', 'root:secret', '--interactive=false');
      etcd.etcdctl('user', 'grant-role', 'root', 'root');
      etcd.etcdctl('auth', 'enable');
      await using(new EtcdDatastore({ endpoints: [etcd.endpoint], username: 'root', password: 'secret' }), async (ds) => {
        await ds.create(pool('authed', '10.0.0.0/8'));
        expect((await ds.list('IPPool')).items.map((i) => i.metadata.name)).to.include('authed');
      });
      await using(new EtcdDatastore({ endpoints: [etcd.endpoint], username: 'root', password: 'wrong' }), async (ds) => {
        await expectReject(ds.get('IPPool', 'authed'), ConnectionError,
          `etcd at ${etcd.endpoint} refused the request: authentication failed: invalid etcd username or password`);
      });
      await using(new EtcdDatastore({ endpoints: [etcd.endpoint] }), async (ds) => {
        await expectReject(ds.get('IPPool', 'authed'), ConnectionError, /refused the request: authentication required/);
      });
    });
  });

  describe('TLS with client certificates', () => {
    let etcd: EtcdServer;
    before(async () => { etcd = await startEtcd({ tls: true }); });
    after(async () => { await etcd?.stop(); });

    it('connects with the CA and a client certificate (files or inline PEM)', async () => {
      const tls = etcd.tls!;
      await using(new EtcdDatastore({ endpoints: [etcd.endpoint], caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile }), async (ds) => {
        await ds.create(pool('tls', '10.8.0.0/16'));
        const seen: string[] = [];
        const w = await ds.watch('IPPool', {}, (e) => seen.push(e.type));
        await w.close();
        expect(seen).to.deep.equal(['resync']);
      });
      const { readFileSync } = await import('node:fs');
      const pem = (f: string) => readFileSync(f, 'utf8');
      await using(new EtcdDatastore({ endpoints: [etcd.endpoint], caCert: pem(tls.caFile), cert: pem(tls.certFile), key: pem(tls.keyFile) }), async (ds) => {
        expect((await ds.get('IPPool', 'tls')).metadata.name).to.equal('tls');
      });
    });

    it('without a client certificate the server refuses, and the error says so', async () => {
      await using(new EtcdDatastore({ endpoints: [etcd.endpoint], caFile: etcd.tls!.caFile }), async (ds) => {
        await expectReject(ds.get('IPPool', 'tls'), ConnectionError,
          `cannot reach etcd at ${etcd.endpoint}: TLS handshake failed: the server did not accept our client certificate (none given, or not signed by a CA it trusts)`);
      });
    });

    it('without the CA the server is not trusted; over http:// the error hints at https', async () => {
      const { certFile, keyFile } = etcd.tls!;
      await using(new EtcdDatastore({ endpoints: [etcd.endpoint], certFile, keyFile }), async (ds) => {
        await expectReject(ds.get('IPPool', 'tls'), ConnectionError, /TLS: the server's certificate is not trusted .*check the CA certificate/);
      });
      const http = etcd.endpoint.replace('https:', 'http:');
      await using(new EtcdDatastore({ endpoints: [http] }), async (ds) => {
        await expectReject(ds.get('IPPool', 'tls'), ConnectionError, /the endpoint must start with https:\/\//);
      });
    });
  });

  it('refuses unusable options with a ConfigError', () => {
    expect(() => new EtcdDatastore({ endpoints: [] })).to.throw(ConfigError, 'no etcd endpoints given');
    expect(() => new EtcdDatastore({ endpoints: ['127.0.0.1:2379'] })).to.throw(ConfigError, /"127.0.0.1:2379" is not an etcd endpoint URL/);
    expect(() => new EtcdDatastore({ endpoints: ['http://a:1', 'https://b:1'] })).to.throw(ConfigError, /mix http:\/\/ and https:\/\//);
    expect(() => new EtcdDatastore({ endpoints: ['https://a:1'], certFile: '/x' })).to.throw(ConfigError, /certificate and its key must be given together/);
    expect(() => new EtcdDatastore({ endpoints: ['https://a:1'], caFile: '/nonexistent/ca.pem' })).to.throw(ConfigError, 'cannot read the etcd CA certificate file /nonexistent/ca.pem: ENOENT');
    expect(() => new EtcdDatastore({ endpoints: ['http://a:1'], username: 'u' })).to.throw(ConfigError, /username and password must be given together/);
  });
});

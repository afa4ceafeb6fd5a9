// test/support's etcd harness: it must clean up after itself, whatever happens.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startEtcd } from '@tabby/test-support';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('test/support: startEtcd', function () {
  this.timeout(20_000);

  it('runs on free loopback ports with a temp dir, keeps data across a restart, and stop() removes everything', async () => {
    const etcd = await startEtcd();
    try {
      expect(etcd.endpoint).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(etcd.clientUrls).to.deep.equal([etcd.endpoint]);
      expect(existsSync(etcd.dataDir)).to.equal(true);
      expect(alive(etcd.pid)).to.equal(true);
      etcd.etcdctl('put', '/k', 'v');
      const first = etcd.pid;
      await etcd.restart();
      expect(etcd.pid).to.not.equal(first);
      expect(alive(first)).to.equal(false);
      expect(etcd.etcdctl('get', '/k', '--print-value-only').trim()).to.equal('v');
    } finally {
      await etcd.stop();
    }
    expect(alive(etcd.pid)).to.equal(false);
    expect(existsSync(etcd.dataDir)).to.equal(false);
    await etcd.stop(); // a second stop is harmless
  });

  it('with TLS hands out client certificate files and requires them', async () => {
    const etcd = await startEtcd({ tls: true });
    try {
      expect(etcd.endpoint).to.match(/^https:\/\//);
      for (const f of Object.values(etcd.tls!)) expect(existsSync(f)).to.equal(true);
      etcd.etcdctl('put', '/k', 'v'); // with the client certificate
      const bare = spawnSync('etcdctl', ['--endpoints', etcd.endpoint, '--cacert', etcd.tls!.caFile, '--dial-timeout=1s', '--command-timeout=1s', 'get', '/k'], { env: { ...process.env, ETCDCTL_API: '3' } });
      expect(bare.status, 'without a client certificate').to.not.equal(0);
    } finally {
      await etcd.stop();
    }
    expect(existsSync(etcd.dataDir)).to.equal(false);
  });
});

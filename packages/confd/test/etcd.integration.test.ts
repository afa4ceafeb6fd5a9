// confd against a real etcd: --once, the daemon (in-process and as a subprocess), change
// detection, the reload hook, unrelated changes, and an etcd outage.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseConfig } from '@tabby/bgpd';
import { EtcdDatastore, type Datastore } from '@tabby/datastore';
import { createLogger } from '@tabby/log';
import { eventually, startEtcd, startTcpProxy, tmpDir, type EtcdServer } from '@tabby/test-support';
import { Confd } from '@tabby/confd';
import { affinity, bgpConfig, node, peer, pool } from './fixtures.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/confd.js');
const log = createLogger('confd-test', { level: 'error' });

function readCfg(file: string) {
  return parseConfig(parse(readFileSync(file, 'utf8')));
}
const count = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);

describe('confd with etcd', function () {
  this.timeout(60_000);
  let etcd: EtcdServer;
  let ds: Datastore;
  let dir: string;
  let hook: string;
  let hups: string;

  before(async () => {
    etcd = await startEtcd();
    ds = new EtcdDatastore({ endpoints: [etcd.endpoint] });
    for (const n of [node('a', '10.0.0.1/24', { labels: { rack: 'r1' } }), node('b', '10.0.0.2/24'), node('c', '10.0.0.3/24', { as: 65003 })]) await ds.create(n);
    await ds.create(pool('pods', { cidr: '10.244.0.0/16', ipipMode: 'Always' }));
    await ds.create(affinity('a', '10.244.1.0/26'));
    await ds.create(affinity('b', '10.244.2.0/26'));
    await ds.create(peer('tor', { peerIP: '10.0.0.254', asNumber: 65000 }));
  });
  after(async () => {
    await ds?.close();
    await etcd?.stop();
  });
  beforeEach(() => {
    dir = tmpDir('tabby-confd-it-');
    hook = join(dir, 'hook.sh');
    hups = join(dir, 'reloads');
    writeFileSync(hook, `echo reload >> "${hups}"\n`);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const env = () => ({ ...process.env, NODENAME: 'a', DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd.endpoint, TABBY_LOG_LEVEL: 'error' });

  it('--once renders this node\'s config, reloads, and leaves an unchanged file and bgpd alone on a second run', () => {
    const out = join(dir, 'bgpd.yaml');
    const args = [BIN, '--once', '--config-out', out, '--reload-cmd', `/bin/sh ${hook}`];
    const r1 = spawnSync(process.execPath, args, { env: env(), encoding: 'utf8' });
    expect(r1.status, r1.stderr).to.equal(0);
    const cfg = readCfg(out);
    expect(cfg.routerId).to.equal('10.0.0.1');
    expect(cfg.peers.map((p) => [p.address, p.asNumber, p.type, p.passive])).to.deep.equal([
      ['10.0.0.2', 64512, 'mesh', true], ['10.0.0.3', 65003, 'mesh', true], ['10.0.0.254', 65000, 'global', false],
    ]);
    expect(cfg.originate).to.deep.equal([{ prefix: '10.244.1.0/26', blackhole: true }]);
    expect(cfg.kernel.routes).to.deep.equal([{ prefix: '10.244.0.0/16', install: true, device: 'tunl0', onlink: true }]);
    expect(count(hups)).to.equal(1);
    const r2 = spawnSync(process.execPath, args, { env: env(), encoding: 'utf8' });
    expect(r2.status, r2.stderr).to.equal(0);
    expect(count(hups)).to.equal(1);
  });

  it('--once --target bird writes a config bird -p accepts', () => {
    const out = join(dir, 'bird.cfg');
    const r = spawnSync(process.execPath, [BIN, '--once', '--target', 'bird', '--config-out', out], { env: env(), encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(readFileSync(out, 'utf8')).to.match(/protocol bgp Mesh_10_0_0_2 /);
    const p = spawnSync('bird', ['-p', '-c', out], { encoding: 'utf8' });
    expect(p.status, p.stderr).to.equal(0);
  });

  it('--once fails (and writes nothing) when etcd cannot be reached', () => {
    const out = join(dir, 'bgpd.yaml');
    const r = spawnSync(process.execPath, [BIN, '--once', '--config-out', out], { env: { ...env(), ETCD_ENDPOINTS: 'http://127.0.0.1:1' }, encoding: 'utf8' });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/etcd/);
    expect(existsSync(out)).to.equal(false);
  });

  it('daemon: a BGPPeer change rewrites the file and reloads exactly once; unrelated changes do neither', async () => {
    const out = join(dir, 'bgpd.yaml');
    const confd = new Confd({ nodeName: 'a', datastore: ds, out, target: 'bgpd', reload: { kind: 'command', argv: ['/bin/sh', hook] }, log, debounceMs: 50 });
    // Start from nothing: earlier tests leave the output file and reload marks behind.
    rmSync(out, { force: true });
    rmSync(hups, { force: true });
    try {
      confd.start();
      await eventually(() => existsSync(out) && count(hups) === 1 && confd.stats.writes === 1, 20_000, 'the first render');
      const first = readFileSync(out, 'utf8');
      const writesBefore = confd.stats.writes;

      // Change a peer: one rewrite, one reload.
      const tor = await ds.get('BGPPeer', 'tor');
      await ds.update({ ...tor, spec: { ...tor.spec, asNumber: 65100 } });
      await eventually(() => readCfg(out).peers.some((p) => p.address === '10.0.0.254' && p.asNumber === 65100), 20_000, 'the peer change');
      await eventually(() => count(hups) === 2, 20_000, 'the reload');
      // The counter moves just after the hook ran; wait for it rather than race it.
      await eventually(() => confd.stats.writes === writesBefore + 1, 5_000, 'one write counted');
      expect(confd.stats.writes).to.equal(writesBefore + 1);

      // Unrelated: a label nothing selects, another node's BGPConfiguration, a WorkloadEndpoint-free no-op.
      const writes = confd.stats.writes;
      let renders = confd.stats.renders;
      const c = await ds.get('Node', 'c');
      await ds.update({ ...c, metadata: { ...c.metadata, labels: { unrelated: 'yes' } } });
      await eventually(() => confd.stats.renders > renders, 20_000, 'a render after the label change');
      renders = confd.stats.renders;
      await ds.create(bgpConfig('node.b', { listenPort: 1790 }));
      await eventually(() => confd.stats.renders > renders, 20_000, 'a render after node.b config');
      expect(confd.stats.writes).to.equal(writes);
      expect(count(hups)).to.equal(2);
      expect(readFileSync(out, 'utf8')).to.not.equal(first);

      // A node-scoped peer for our rack label, then the block affinity going away.
      await ds.create(peer('rack1', { nodeSelector: "rack == 'r1'", peerIP: '10.0.0.253', asNumber: 65000 }));
      await eventually(() => readCfg(out).peers.some((p) => p.address === '10.0.0.253' && p.type === 'node'), 20_000, 'the node peer');
      await ds.delete('BlockAffinity', 'a-10-244-1-0-26');
      await eventually(() => readCfg(out).originate.length === 0, 20_000, 'the block withdrawn');
      expect(count(hups)).to.equal(4);
    } finally {
      await confd.close();
      await ds.delete('BGPPeer', 'rack1').catch(() => undefined);
      await ds.delete('BGPConfiguration', 'node.b').catch(() => undefined);
      await ds.create(affinity('a', '10.244.1.0/26')).catch(() => undefined);
      const tor = await ds.get('BGPPeer', 'tor');
      await ds.update({ ...tor, spec: { ...tor.spec, asNumber: 65000 } });
    }
  });

  it('daemon: keeps the file through an etcd outage and catches up afterwards', async () => {
    const out = join(dir, 'bgpd.yaml');
    const proxy = await startTcpProxy(Number(new URL(etcd.endpoint).port));
    const viaProxy = new EtcdDatastore({ endpoints: [proxy.url()], timeoutMs: 1000, watchRetryMs: 100 });
    const confd = new Confd({ nodeName: 'a', datastore: viaProxy, out, target: 'bgpd', reload: { kind: 'command', argv: ['/bin/sh', hook] }, log, debounceMs: 50, retryMs: 200 });
    try {
      confd.start();
      await eventually(() => existsSync(out) && count(hups) === 1, 20_000, 'the first render');
      const before = readFileSync(out, 'utf8');
      proxy.cut();
      await ds.create(peer('late', { peerIP: '10.0.0.252', asNumber: 65000 }));
      expect(readFileSync(out, 'utf8')).to.equal(before);
      proxy.restore();
      await eventually(() => readCfg(out).peers.some((p) => p.address === '10.0.0.252'), 30_000, 'the change made during the outage');
      expect(count(hups)).to.equal(2);
    } finally {
      await confd.close();
      await viaProxy.close();
      await proxy.close();
      await ds.delete('BGPPeer', 'late').catch(() => undefined);
    }
  });

  it('the daemon binary runs until SIGTERM, and rewrites + reloads via a pid file on change', async () => {
    const out = join(dir, 'bgpd.yaml');
    const marker = join(dir, 'hups');
    const target: ChildProcess = spawn(process.execPath, ['-e', `let n = 0; process.on('SIGHUP', () => require('fs').writeFileSync(${JSON.stringify(marker)}, String(++n))); console.log('ready'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let confd: ChildProcess | undefined;
    try {
      await new Promise<void>((res) => target.stdout!.once('data', () => res()));
      writeFileSync(join(dir, 'bgpd.pid'), String(target.pid));
      confd = spawn(process.execPath, [BIN, '--config-out', out, '--reload-pid-file', join(dir, 'bgpd.pid'), '--debounce-ms', '50'], { env: env(), stdio: ['ignore', 'ignore', 'inherit'] });
      const hupCount = () => (existsSync(marker) ? Number(readFileSync(marker, 'utf8')) : 0);
      await eventually(() => existsSync(out) && hupCount() === 1, 20_000, 'the first render');
      await ds.create(peer('extra', { peerIP: '10.0.0.251', asNumber: 65000 }));
      await eventually(() => readCfg(out).peers.some((p) => p.address === '10.0.0.251') && hupCount() === 2, 20_000, 'the change and its reload');
      const exited = new Promise<number | null>((res) => confd!.once('exit', (code) => res(code)));
      confd.kill('SIGTERM');
      expect(await exited).to.equal(0);
    } finally {
      if (confd && confd.exitCode === null && confd.signalCode === null) confd.kill('SIGKILL');
      if (target.exitCode === null && target.signalCode === null) target.kill('SIGKILL');
      await ds.delete('BGPPeer', 'extra').catch(() => undefined);
    }
  });
});

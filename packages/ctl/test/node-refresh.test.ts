// `ctl node refresh in|out [peer]` against two real bgpd daemons peering in namespaces.
import { expect } from 'chai';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linkedNetns, tmpDir, startInNetns, eventually, type Netns, type Daemon } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';
import { ctl } from './helpers.js';

const BGPD = fileURLToPath(new URL('../../../bgpd/bin/bgpd.js', import.meta.url));

describe('ctl node refresh (live bgpd)', function () {
  this.timeout(40_000);
  let a: Netns, b: Netns, dir: string, da: Daemon, db: Daemon;

  const write = (name: string, body: string) => { const p = join(dir, name); writeFileSync(p, body); return p; };
  const count = (d: Daemon, text: string) => d.output().split(text).length - 1;

  before(async () => {
    dir = tmpDir('tabby-noderefresh-');
    [a, b] = linkedNetns({ tag: 'nra', dev: 'nr-a', addr: '10.203.0.1/24' }, { tag: 'nrb', dev: 'nr-b', addr: '10.203.0.2/24' });
    const ca = write('a.yaml', 'routerId: 10.203.0.1\nasNumber: 65001\nlisten: { address: 0.0.0.0, port: 179 }\npeers:\n' +
      '  - { address: 10.203.0.2, asNumber: 65002, connectRetryTime: 1 }\noriginate:\n  - { prefix: 10.244.0.0/26 }\nkernel: { enabled: false }\n');
    const cb = write('b.yaml', 'routerId: 10.203.0.2\nasNumber: 65002\nlisten: { address: 0.0.0.0, port: 179 }\npeers:\n' +
      '  - { address: 10.203.0.1, asNumber: 65001, connectRetryTime: 1 }\noriginate:\n  - { prefix: 10.244.1.0/26 }\nkernel: { enabled: false }\n');
    da = startInNetns(a, [process.execPath, BGPD, '--config', ca, '--socket', join(dir, 'a.ctl')]);
    db = startInNetns(b, [process.execPath, BGPD, '--config', cb, '--socket', join(dir, 'b.ctl')]);
    await eventually(async () => ((await request(join(dir, 'a.ctl'), { cmd: 'status' })) as PeerStatus[])[0]?.state === 'up', 20_000, 'session up');
  });

  after(async () => {
    await da?.stop();
    await db?.stop();
    a?.delete();
    b?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('in: the peer is asked for its routes (and answers with BoRR ... EoRR), the session stays', async () => {
    const since = ((await request(join(dir, 'a.ctl'), { cmd: 'status' })) as PeerStatus[])[0]!.since;
    const asked = count(db, 'peer asked for a route refresh');
    const r = ctl(['node', 'refresh', 'in', '--socket', join(dir, 'a.ctl')]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('Asked for a route refresh from: 10.203.0.2\n');
    await eventually(() => count(db, 'peer asked for a route refresh') > asked, 10_000, `B got the request: ${db.output()}`);
    await eventually(() => da.output().includes('peer ended a route refresh (EoRR)'), 10_000, `A saw B's EoRR: ${da.output()}`);
    const routes = (await request(join(dir, 'a.ctl'), { cmd: 'routes' })) as { prefix: string }[];
    expect(routes.map((x) => x.prefix), `A: ${da.output()}\nB: ${db.output()}`).to.include('10.244.1.0/26');
    expect(((await request(join(dir, 'a.ctl'), { cmd: 'status' })) as PeerStatus[])[0]!.since).to.equal(since);
  });

  it('out: our routes go to the named peer again, framed by BoRR/EoRR', async () => {
    const seen = count(db, 'peer ended a route refresh (EoRR)');
    const r = ctl(['node', 'refresh', 'out', '10.203.0.2', '--socket', join(dir, 'a.ctl')]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('Sent our routes again to: 10.203.0.2\n');
    await eventually(() => count(db, 'peer ended a route refresh (EoRR)') > seen, 10_000, `B saw A's EoRR: ${db.output()}`);
  });

  it('refuses a bad direction, an unknown peer and a missing daemon with a clear message', () => {
    const bad = ctl(['node', 'refresh', 'sideways', '--socket', join(dir, 'a.ctl')]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include('direction must be in or out');
    const unknown = ctl(['node', 'refresh', 'in', '10.9.9.9', '--socket', join(dir, 'a.ctl')]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.include('no peer 10.9.9.9');
    const gone = ctl(['node', 'refresh', 'in', '--socket', join(dir, 'nope.ctl')]);
    expect(gone.code).to.equal(1);
    expect(gone.stderr).to.include('Tabby process is not running');
  });
});

// Graceful restart (RFC 4724) against BIRD 2 in namespaces, both roles: BIRD restarting (we keep
// its routes, stale, until its End-of-RIB or its restart time) and bgpd restarting (BIRD keeps
// ours, our kernel keeps BIRD's). The kernel is sampled every 100 ms while the restarts happen,
// so a route that disappears even briefly fails the test.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linkedNetns, tmpDir, startInNetns, startBird, eventually, type Netns, type Daemon, type Bird } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));

const birdConfig = (routes: string[]) => `router id 10.204.0.1;
protocol device {}
protocol static srcs { ipv4; ${routes.map((r) => `route ${r} blackhole;`).join(' ')} }
protocol bgp t {
  local 10.204.0.1 as 65001; neighbor 10.204.0.2 as 65002;
  hold time 9; connect retry time 1; error wait time 1, 5;
  graceful restart on; graceful restart time 6;
  ipv4 { import all; export where proto = "srcs"; };
}
`;

describe('bgpd: graceful restart with BIRD 2 (netns)', function () {
  this.timeout(90_000);
  let b: Netns, t: Netns, dir: string, bird: Bird | undefined, bgpd: Daemon | undefined, sock: string;
  let birdDir = '';
  const ours = () => new Set((JSON.parse(t.run('ip', ['-j', 'route', 'show', 'proto', '201'])) as { dst: string }[]).map((r) => r.dst));
  const status = async () => ((await request(sock, { cmd: 'status' })) as PeerStatus[])[0];
  const startOurs = () => startInNetns(t, [process.execPath, BGPD, '--config', join(dir, 'bgpd.yaml'), '--socket', sock]);
  /** BIRD; with `recovering`, started with -R (graceful restart recovery: R and F bits set). */
  const startTheirs = (routes: string[], recovering = false): Bird => {
    birdDir = join(dir, `bird-${Date.now()}`);
    mkdirSync(birdDir);
    if (!recovering) return startBird(b, birdDir, birdConfig(routes));
    const conf = join(birdDir, 'bird.conf');
    const socket = join(birdDir, 'bird.ctl');
    writeFileSync(conf, birdConfig(routes));
    const d = startInNetns(b, ['bird', '-R', '-f', '-c', conf, '-s', socket]);
    const birdc = (...args: string[]) => { const r = spawnSync('birdc', ['-s', socket, ...args], { encoding: 'utf8' }); return r.stdout + r.stderr; };
    return { ...d, socket, birdc, reconfigure: () => undefined };
  };

  /** Samples our kernel every 100 ms while `during` runs; returns the samples. */
  async function sampling<T>(during: () => Promise<T>): Promise<{ result: T; samples: Set<string>[] }> {
    const samples: Set<string>[] = [];
    const timer = setInterval(() => samples.push(ours()), 100);
    try {
      return { result: await during(), samples };
    } finally {
      clearInterval(timer);
    }
  }

  before(async () => {
    dir = tmpDir('tabby-gr-');
    [b, t] = linkedNetns({ tag: 'grb', dev: 'gr-b', addr: '10.204.0.1/24' }, { tag: 'grt', dev: 'gr-t', addr: '10.204.0.2/24' });
    writeFileSync(join(dir, 'bgpd.yaml'), `routerId: 10.204.0.2
asNumber: 65002
listen: { address: 10.204.0.2, port: 179 }
peers:
  - { address: 10.204.0.1, asNumber: 65001, holdTime: 9, connectRetryTime: 1, gracefulRestart: { enabled: true, restartTime: 20 } }
originate:
  - { prefix: 10.92.0.0/26, blackhole: true }
`);
    sock = join(dir, 'bgpd.ctl');
    bird = startTheirs(['10.91.1.0/24', '10.91.2.0/24']);
    bgpd = startOurs();
    try {
      await eventually(async () => (await status())?.state === 'up', 30_000, 'session up');
      await eventually(() => ours().has('10.91.1.0/24') && ours().has('10.91.2.0/24'), 10_000, "BIRD's routes in our kernel");
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- bgpd (exited: ${bgpd?.exited()}):\n${bgpd?.output()}\n--- bird:\n${bird?.output()}`);
    }
  });

  after(async () => {
    await bgpd?.stop();
    await bird?.stop();
    b?.delete();
    t?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("keeps a restarting BIRD's routes while it is down; when it returns without forwarding state they go and what it resends comes back", async () => {
    const { samples } = await sampling(async () => {
      bird!.signal('SIGKILL');
      await eventually(async () => (await status())?.state !== 'up', 10_000, 'session down');
      await new Promise((r) => setTimeout(r, 2000));
    });
    // BIRD comes back without 10.91.2.0/24.
    await bird!.stop();
    bird = startTheirs(['10.91.1.0/24']);
    await eventually(async () => (await status())?.state === 'up', 30_000, 'session back');
    expect(samples.length, 'sampled while BIRD was down').to.be.greaterThan(3);
    expect(samples.filter((s) => !s.has('10.91.1.0/24') || !s.has('10.91.2.0/24')).length, 'both kept while BIRD was down').to.equal(0);
    // BIRD restarted without keeping forwarding state (no F bit): RFC 4724 says drop the stale
    // routes now; what it resends comes back, what it does not stays gone.
    await eventually(() => ours().has('10.91.1.0/24') && !ours().has('10.91.2.0/24'), 10_000, 'resent route back, the other gone');
    expect(bgpd!.output()).to.include('forwarding state not kept');
  });

  it("flushes a restarting BIRD's routes when its restart time passes without it coming back", async () => {
    bird!.signal('SIGKILL');
    await eventually(async () => (await status())?.state !== 'up', 10_000, 'session down');
    const down = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    expect(ours().has('10.91.1.0/24'), 'kept (stale) at first').to.equal(true);
    await eventually(() => !ours().has('10.91.1.0/24'), 20_000, 'flushed after the restart time (6 s)');
    expect(Date.now() - down, 'not before the restart time').to.be.greaterThan(5000);
    await bird!.stop();
    bird = startTheirs(['10.91.1.0/24']);
    await eventually(() => ours().has('10.91.1.0/24'), 30_000, 'back after BIRD restarts');
  });

  it('restarting bgpd: BIRD keeps our route and our kernel keeps BIRD\'s, with no gap', async () => {
    await eventually(() => /10\.92\.0\.0\/26/.test(bird!.birdc('show', 'route', 'protocol', 't')), 10_000, 'BIRD has our route');
    const birdSeen: boolean[] = [];
    const { samples } = await sampling(async () => {
      const watch = setInterval(() => birdSeen.push(/10\.92\.0\.0\/26/.test(spawnSync('birdc', ['-s', bird!.socket, 'show', 'route', '10.92.0.0/26'], { encoding: 'utf8' }).stdout)), 200);
      try {
        await bgpd!.stop(); // SIGTERM: a graceful stop
        expect(ours().has('10.91.1.0/24'), 'kernel routes kept while bgpd is down').to.equal(true);
        expect(ours().has('10.92.0.0/26'), 'our blackhole kept too').to.equal(true);
        await new Promise((r) => setTimeout(r, 1500));
        bgpd = startOurs();
        await eventually(async () => (await status().catch(() => undefined))?.state === 'up', 30_000, `session back; bgpd: ${bgpd?.output()}`);
        await new Promise((r) => setTimeout(r, 1000));
      } finally {
        clearInterval(watch);
      }
    });
    expect(samples.filter((s) => !s.has('10.91.1.0/24') || !s.has('10.92.0.0/26')), 'our kernel never lost a route').to.deep.equal([]);
    expect(birdSeen.length).to.be.greaterThan(5);
    expect(birdSeen.every(Boolean), 'BIRD kept our route throughout').to.equal(true);
    expect(bgpd!.output()).to.include('graceful restart complete');
  });
});

describe('bgpd: graceful restart between two bgpd daemons (netns)', function () {
  this.timeout(90_000);
  let a: Netns, b: Netns, dir: string, da: Daemon | undefined, db: Daemon | undefined;
  const on = (ns: Netns) => new Set((JSON.parse(ns.run('ip', ['-j', 'route', 'show', 'proto', '201'])) as { dst: string }[]).map((r) => r.dst));
  const configB = (prefixes: string[]) => `routerId: 10.205.0.2\nasNumber: 65002\nlisten: { address: 10.205.0.2, port: 179 }\npeers:\n` +
    `  - { address: 10.205.0.1, asNumber: 65001, holdTime: 9, connectRetryTime: 1, gracefulRestart: { enabled: true, restartTime: 30 } }\n` +
    `originate:\n${prefixes.map((p) => `  - { prefix: ${p}, blackhole: true }`).join('\n')}\n`;
  const startB = () => startInNetns(b, [process.execPath, BGPD, '--config', join(dir, 'b.yaml'), '--socket', join(dir, 'b.ctl')]);
  const upOnA = async () => ((await request(join(dir, 'a.ctl'), { cmd: 'status' })) as PeerStatus[])[0]?.state === 'up';

  before(async () => {
    dir = tmpDir('tabby-gr2-');
    [a, b] = linkedNetns({ tag: 'gra', dev: 'g2-a', addr: '10.205.0.1/24' }, { tag: 'grb2', dev: 'g2-b', addr: '10.205.0.2/24' });
    writeFileSync(join(dir, 'a.yaml'), `routerId: 10.205.0.1\nasNumber: 65001\nlisten: { address: 10.205.0.1, port: 179 }\npeers:\n  - { address: 10.205.0.2, asNumber: 65002, holdTime: 9, connectRetryTime: 1, gracefulRestart: { enabled: true, restartTime: 30 } }\n`);
    writeFileSync(join(dir, 'b.yaml'), configB(['10.93.1.0/26', '10.93.2.0/26']));
    da = startInNetns(a, [process.execPath, BGPD, '--config', join(dir, 'a.yaml'), '--socket', join(dir, 'a.ctl'), '--log-level', 'info']);
    db = startB();
    await eventually(() => on(a).has('10.93.1.0/26') && on(a).has('10.93.2.0/26'), 30_000, "B's blocks on A");
  });

  after(async () => {
    await da?.stop();
    await db?.stop();
    a?.delete();
    b?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a restarting bgpd that kept forwarding state: its routes stay through the restart and what it no longer originates goes at End-of-RIB', async () => {
    const samples: Set<string>[] = [];
    const timer = setInterval(() => samples.push(on(a)), 100);
    try {
      await db!.stop(); // graceful: no NOTIFICATION, kernel routes kept
      expect(on(b).has('10.93.2.0/26'), "B's blackholes stay in B's kernel").to.equal(true);
      await eventually(async () => !(await upOnA()), 10_000, 'A sees the session down');
      writeFileSync(join(dir, 'b.yaml'), configB(['10.93.1.0/26']));
      db = startB();
      await eventually(async () => await upOnA(), 30_000, 'session back');
      await eventually(() => !on(a).has('10.93.2.0/26'), 15_000, 'the block B dropped is withdrawn at its End-of-RIB');
    } finally {
      clearInterval(timer);
    }
    expect(samples.length).to.be.greaterThan(3);
    expect(samples.filter((s) => !s.has('10.93.1.0/26')), 'the block B still originates never left A').to.deep.equal([]);
    expect(da!.output()).to.match(/stale routes flushed.*End-of-RIB/);
    await eventually(() => !on(b).has('10.93.2.0/26') && on(b).has('10.93.1.0/26'), 15_000, "B's kernel synced after its restart");
  });
});

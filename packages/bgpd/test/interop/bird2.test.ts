// bgpd against a real BIRD 2 over a veth between two network namespaces: what the interop
// matrix (matrix.test.ts: sessions, routes both ways, withdraws, peer kill/freeze, bgpd restart
// for every peer) does not cover: blackhole origination, BIRD's own kernel export, reload
// semantics and the Cease text BIRD reports.
import { expect } from 'chai';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linkedNetns, tmpDir, startBird, startInNetns, eventually, type Netns, type Bird, type Daemon } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));

const birdConfig = (route: string) => `
router id 10.200.0.1;
protocol device {}
protocol static static1 { ipv4; route ${route} blackhole; }
protocol kernel { ipv4 { import none; export where proto = "tabby"; }; }
protocol bgp tabby {
  local 10.200.0.1 as 65001;
  neighbor 10.200.0.2 as 65002;
  hold time 3;
  error wait time 1, 5;
  connect retry time 1;
  ipv4 { import all; export where proto = "static1"; };
}
`;

const bgpdConfig = (originate: string[]) => [
  'routerId: 10.200.0.2',
  'asNumber: 65002',
  'listen: { address: 10.200.0.2, port: 179 }',
  'peers:',
  '  - { address: 10.200.0.1, asNumber: 65001, holdTime: 3, type: global }',
  'originate:',
  ...originate.map((p) => `  - { prefix: ${p}, blackhole: true }`),
  'kernel: { enabled: true, protocol: 201 }',
].join('\n') + '\n';

describe('bgpd <-> BIRD 2: blackholes, reload, Cease (netns)', function () {
  this.timeout(60_000);
  let r1: Netns, r2: Netns, dir: string, bird: Bird, bgpd: Daemon, cfgFile: string, sock: string;

  const status = async () => (await request(sock, { cmd: 'status' })) as PeerStatus[];
  const birdRoute = (p: string) => bird.birdc('show', 'route', p, 'all');

  before(async () => {
    dir = tmpDir('tabby-bird2-');
    [r1, r2] = linkedNetns({ tag: 'bird', dev: 'tb-v1', addr: '10.200.0.1/24' }, { tag: 'bgpd', dev: 'tb-v2', addr: '10.200.0.2/24' });
    bird = startBird(r1, dir, birdConfig('10.77.0.0/24'));
    cfgFile = join(dir, 'bgpd.yaml');
    sock = join(dir, 'bgpd.ctl');
    writeFileSync(cfgFile, bgpdConfig(['10.244.1.0/26']));
    bgpd = startInNetns(r2, [process.execPath, BGPD, '--config', cfgFile, '--socket', sock]);
    await eventually(async () => (await status())[0]?.state === 'up', 15_000, `session up; bgpd said: ${bgpd.output()}`);
  });

  after(async () => {
    await bgpd?.stop();
    await bird?.stop();
    r1?.delete();
    r2?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a blackhole-originated prefix is a blackhole in our kernel and a route via us in BIRD\'s', async () => {
    await eventually(() => /^blackhole 10\.244\.1\.0\/26 proto 201/.test(r2.run('ip', ['route', 'show', '10.244.1.0/26'])), 5000, 'blackhole in our kernel');
    await eventually(() => birdRoute('10.244.1.0/26').includes('BGP.as_path: 65002'), 10_000, 'prefix in BIRD');
    await eventually(() => /10\.244\.1\.0\/26 via 10\.200\.0\.2/.test(r1.run('ip', ['route', 'show', '10.244.1.0/26'])), 10_000, "route in BIRD's kernel");
  });

  it('SIGHUP reload changes what we originate without resetting the session', async () => {
    const before = (await status())[0]!;
    writeFileSync(cfgFile, bgpdConfig(['10.244.1.0/26', '10.244.2.0/26']));
    bgpd.signal('SIGHUP');
    await eventually(() => birdRoute('10.244.2.0/26').includes('AS65002'), 10_000, 'new prefix in BIRD');
    await eventually(() => /^blackhole 10\.244\.2\.0\/26 proto 201/.test(r2.run('ip', ['route', 'show', '10.244.2.0/26'])), 5000, 'new blackhole in our kernel');
    const after = (await status())[0]!;
    expect(after.state).to.equal('up');
    expect(after.since).to.equal(before.since);
  });

  it('a bad config on reload is refused and the running one stays', async () => {
    writeFileSync(cfgFile, 'routerId: not-an-ip\nasNumber: 65002\n');
    bgpd.signal('SIGHUP');
    await eventually(() => bgpd.output().includes('reload rejected'), 5000, 'reload rejection logged');
    expect(bgpd.output()).to.include('routerId');
    expect((await status())[0]!.state).to.equal('up');
    writeFileSync(cfgFile, bgpdConfig(['10.244.1.0/26', '10.244.2.0/26']));
  });

  it('on SIGTERM bgpd says Cease to BIRD and removes its blackholes too', async () => {
    await bgpd.stop();
    expect(r2.run('ip', ['route', 'show', 'proto', '201'])).to.equal('');
    await eventually(() => /Administrative shutdown/i.test(bird.birdc('show', 'protocols', 'tabby')), 5000, 'BIRD saw the Cease');
  });
});

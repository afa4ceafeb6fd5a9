// bgpd against BIRD 1.6 (the BIRD Calico ships) over a veth between two namespaces.
import { expect } from 'chai';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bird16Paths, createNetns, vethPair, tmpDir, startBird, startInNetns, eventually, type Netns, type Bird, type Daemon } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

const birdConfig = (route: string) => `
router id 10.203.0.1;
protocol device {}
protocol static static1 { route ${route} blackhole; }
protocol kernel { export where proto = "tabby"; }
protocol bgp tabby {
  local 10.203.0.1 as 64512;
  neighbor 10.203.0.2 as 64512;
  hold time 9;
  error wait time 1, 5;
  connect retry time 1;
  import all;
  export where proto = "static1";
}
`;

describe('bgpd <-> BIRD 1.6, iBGP (netns)', function () {
  this.timeout(60_000);
  let r1: Netns, r2: Netns, dir: string, bird: Bird, bgpd: Daemon, sock: string;
  const status = async () => (await request(sock, { cmd: 'status' })) as PeerStatus[];

  before(() => {
    dir = tmpDir('tabby-bird16-');
    r1 = createNetns('bird16');
    r2 = createNetns('bgpd');
    vethPair(r1, 't16-1', r2, 't16-2');
    r1.run('ip', ['addr', 'add', '10.203.0.1/24', 'dev', 't16-1']);
    r2.run('ip', ['addr', 'add', '10.203.0.2/24', 'dev', 't16-2']);
    bird = startBird(r1, dir, birdConfig('10.79.0.0/24'), bird16Paths(ROOT));
    sock = join(dir, 'bgpd.ctl');
    writeFileSync(join(dir, 'bgpd.yaml'), 'routerId: 10.203.0.2\nasNumber: 64512\nlisten: { address: 10.203.0.2, port: 179 }\npeers:\n  - { address: 10.203.0.1, asNumber: 64512, holdTime: 9, type: mesh }\noriginate:\n  - { prefix: 10.244.3.0/26, blackhole: true }\n');
    bgpd = startInNetns(r2, [process.execPath, BGPD, '--config', join(dir, 'bgpd.yaml'), '--socket', sock]);
  });

  after(async () => {
    await bgpd?.stop();
    await bird?.stop();
    r1?.delete();
    r2?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('establishes an iBGP session with BIRD 1.6', async () => {
    await eventually(async () => (await status())[0]?.state === 'up', 20_000, `session up; bgpd: ${bgpd.output()} bird: ${bird.output()}`);
    expect(bird.birdc('show', 'protocols', 'tabby')).to.match(/tabby\s+BGP\s+master\s+up\s+\S+\s+Established/);
  });

  it('routes flow both ways with iBGP attributes (LOCAL_PREF, empty AS_PATH)', async () => {
    await eventually(() => r2.run('ip', ['route', 'show', 'proto', '201']).includes('10.79.0.0/24 via 10.203.0.1'), 10_000, 'BIRD route in our kernel');
    const out = await eventually(() => { const o = bird.birdc('show', 'route', '10.244.3.0/26', 'all'); return o.includes('BGP.local_pref') ? o : ''; }, 10_000, 'our route in BIRD');
    expect(out).to.match(/BGP\.local_pref: 100/);
    expect(out).to.match(/BGP\.as_path:\s*\n/);
    expect(out).to.match(/BGP\.next_hop: 10\.203\.0\.2/);
  });

  it('a withdraw in BIRD leaves our kernel', async () => {
    bird.reconfigure(birdConfig('10.80.0.0/24'));
    await eventually(() => { const o = r2.run('ip', ['route', 'show', 'proto', '201']); return o.includes('10.80.0.0/24') && !o.includes('10.79.0.0/24'); }, 10_000, 'replacement');
  });
});

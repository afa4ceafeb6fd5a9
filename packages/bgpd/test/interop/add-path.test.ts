// ADD-PATH (RFC 7911) against a real BIRD 2 (`add paths on`, as Calico's BIRD config has it):
// bgpd receives two paths for one prefix from one BIRD session and installs both next hops
// (ECMP), and sends both paths, each with its own path identifier, to a second BIRD.
import { expect } from 'chai';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, vethPair, tmpDir, startBird, startInNetns, eventually, type Netns, type Bird, type Daemon } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));

const upstreamConfig = (addPaths: boolean) => `
router id 10.202.0.1;
protocol device {}
protocol static s1 { ipv4; route 10.77.0.0/24 via 10.202.0.11; }
protocol static s2 { ipv4; route 10.77.0.0/24 via 10.202.0.12; }
protocol static s3 { ipv4; route 10.79.0.0/24 via 10.202.0.11; route 10.80.0.0/24 via 10.202.0.11; }
protocol bgp upstream {
  local 10.202.0.1 as 65001;
  neighbor 10.202.0.2 as 65002;
  hold time 6; error wait time 1, 5; connect retry time 1;
  ipv4 { import none; ${addPaths ? 'add paths on;' : ''}
    export filter { if net = 10.79.0.0/24 then bgp_community.add((65535, 65281)); if proto ~ "s*" then accept; reject; };
  };
}
`;

const downstreamConfig = (addPaths: boolean) => `
router id 10.203.0.3;
protocol device {}
ipv4 table t2;
protocol bgp downstream {
  local 10.203.0.3 as 65003;
  neighbor 10.203.0.2 as 65002;
  hold time 6; error wait time 1, 5; connect retry time 1;
  ipv4 { table t2; import all; export none; ${addPaths ? 'add paths on;' : ''} };
}
`;

const bgpdConfig = (addPaths: boolean) => [
  'routerId: 10.202.0.2',
  'asNumber: 65002',
  'listen: { address: 0.0.0.0, port: 179 }',
  'peers:',
  `  - { address: 10.202.0.1, asNumber: 65001, holdTime: 6, type: global${addPaths ? ', addPaths: true' : ''} }`,
  `  - { address: 10.203.0.3, asNumber: 65003, holdTime: 6, type: global${addPaths ? ', addPaths: true' : ''} }`,
  'kernel: { enabled: true, protocol: 201 }',
].join('\n') + '\n';

describe('bgpd <-> BIRD 2: ADD-PATH (netns)', function () {
  this.timeout(90_000);
  let r1: Netns, r2: Netns, r3: Netns, dir: string, bird: Bird | undefined, sink: Bird | undefined, bgpd: Daemon | undefined, cfgFile: string, sock: string;

  const status = async () => (await request(sock, { cmd: 'status' })) as PeerStatus[];
  const ourRoute = async () => ((await request(sock, { cmd: 'routes' })) as { prefix: string; nextHops: string[] }[]).find((r) => r.prefix === '10.77.0.0/24');
  const sinkRoutes = () => (sink!.birdc('show', 'route', 'table', 't2', '10.77.0.0/24', 'all').match(/\[downstream /g) ?? []).length;

  const start = async (addPaths: boolean) => {
    bird = startBird(r1, join(dir, 'up'), upstreamConfig(addPaths));
    sink = startBird(r3, join(dir, 'down'), downstreamConfig(addPaths));
    writeFileSync(cfgFile, bgpdConfig(addPaths));
    bgpd = startInNetns(r2, [process.execPath, BGPD, '--config', cfgFile, '--socket', sock]);
    await eventually(async () => (await status()).every((p) => p.state === 'up'), 20_000, `sessions up; bgpd said: ${bgpd.output()}`);
  };
  const stop = async () => {
    await bgpd?.stop();
    await bird?.stop();
    await sink?.stop();
    bgpd = undefined;
    bird = undefined;
    sink = undefined;
  };

  before(() => {
    dir = tmpDir('tabby-addpath-');
    mkdirSync(join(dir, 'up'));
    mkdirSync(join(dir, 'down'));
    r1 = createNetns('apup');
    r2 = createNetns('apbgpd');
    r3 = createNetns('apdown');
    vethPair(r1, 'tap1', r2, 'tap2');
    vethPair(r3, 'tap3', r2, 'tap4');
    r1.run('ip', ['addr', 'add', '10.202.0.1/24', 'dev', 'tap1']);
    r2.run('ip', ['addr', 'add', '10.202.0.2/24', 'dev', 'tap2']);
    r3.run('ip', ['addr', 'add', '10.203.0.3/24', 'dev', 'tap3']);
    r2.run('ip', ['addr', 'add', '10.203.0.2/24', 'dev', 'tap4']);
    cfgFile = join(dir, 'bgpd.yaml');
    sock = join(dir, 'bgpd.ctl');
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(`bgpd output:\n${bgpd?.output()}\nBIRD output:\n${bird?.output()}\n${sink?.output()}\n${sink?.birdc('show', 'protocols', 'all', 'downstream')}\n${r2.tryRun('ss', ['-tanp']).stdout}`);
    await stop();
  });

  after(() => {
    r1?.delete();
    r2?.delete();
    r3?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('without ADD-PATH: one path received (one next hop) and one sent', async () => {
    await start(false);
    await eventually(async () => (await ourRoute())?.nextHops.length === 1, 10_000, 'the route from BIRD');
    await eventually(() => sinkRoutes() === 1, 10_000, 'the route at the sink');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await ourRoute())!.nextHops).to.have.length(1);
    expect(sinkRoutes()).to.equal(1);
  });

  it('a learned route with NO_EXPORT is not passed on to an eBGP peer (RFC 1997); the others are', async () => {
    await start(false);
    const sinkHas = (p: string) => sink!.birdc('show', 'route', 'table', 't2', p).includes('[downstream ');
    await eventually(() => sinkHas('10.80.0.0/24'), 10_000, '10.80.0.0/24 at the sink');
    const ours = (await request(sock, { cmd: 'routes' })) as { prefix: string }[];
    expect(ours.map((r) => r.prefix)).to.include('10.79.0.0/24');
    expect(sinkHas('10.79.0.0/24')).to.equal(false);
  });

  it('with ADD-PATH: both paths received and installed as ECMP, both sent on with their own path identifiers', async () => {
    await start(true);
    await eventually(async () => (await ourRoute())?.nextHops.length === 2, 10_000, `both paths from BIRD; bgpd said: ${bgpd!.output()}`);
    expect([...(await ourRoute())!.nextHops].sort()).to.deep.equal(['10.202.0.11', '10.202.0.12']);
    await eventually(() => /nexthop via 10\.202\.0\.11[\s\S]*nexthop via 10\.202\.0\.12/.test(r2.run('ip', ['route', 'show', '10.77.0.0/24'])), 10_000, 'ECMP route in our kernel');
    await eventually(() => sinkRoutes() === 2, 10_000, `both paths at the sink: ${bird!.birdc('show', 'route', 'table', 't2', 'all')}`);

    // One path withdrawn at the source: withdrawn by path identifier at the sink, the other stays.
    bird!.birdc('disable', 's2');
    await eventually(async () => (await ourRoute())?.nextHops.length === 1, 10_000, 'one path left');
    await eventually(() => sinkRoutes() === 1, 10_000, 'one path left at the sink');
    expect((await ourRoute())!.nextHops).to.deep.equal(['10.202.0.11']);
  });
});

// bgpd against a real BIRD 2 over a veth between two network namespaces: route refresh both ways
// (RFC 2918, enhanced per RFC 7313), communities and large communities on originated prefixes,
// and per-peer import/export filters changed by SIGHUP without resetting the session.
import { expect } from 'chai';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linkedNetns, tmpDir, startBird, startInNetns, eventually, type Netns, type Bird, type Daemon } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));

const birdConfig = `
router id 10.201.0.1;
protocol device {}
protocol static static1 { ipv4; route 10.77.0.0/24 blackhole; route 10.78.0.0/24 blackhole; }
protocol bgp tabby {
  local 10.201.0.1 as 65001;
  neighbor 10.201.0.2 as 65002;
  hold time 6;
  error wait time 1, 5;
  connect retry time 1;
  ipv4 { import all; export where proto = "static1"; };
}
`;

interface Opts {
  exportReject?: string[];
  importReject?: string[];
}

const bgpdConfig = (o: Opts) => [
  'routerId: 10.201.0.2',
  'asNumber: 65002',
  'listen: { address: 10.201.0.2, port: 179 }',
  'filters:',
  '  f:',
  `    exportV4: [${(o.exportReject ?? []).map((c) => `{ action: Reject, cidr: "${c}", matchOperator: Equal }`).join(', ')}]`,
  `    importV4: [${(o.importReject ?? []).map((c) => `{ action: Reject, cidr: "${c}", matchOperator: Equal }`).join(', ')}]`,
  'peers:',
  '  - { address: 10.201.0.1, asNumber: 65001, holdTime: 6, type: global, filters: [f] }',
  'originate:',
  '  - { prefix: 10.244.1.0/26, communities: ["65000:100", no-export, "65000:1:2"] }',
  '  - { prefix: 10.244.2.0/26 }',
  '  - { prefix: 10.244.3.0/26 }',
  'kernel: { enabled: false }',
].join('\n') + '\n';

describe('bgpd <-> BIRD 2: route refresh, communities, filters (netns)', function () {
  this.timeout(90_000);
  let r1: Netns, r2: Netns, dir: string, bird: Bird, bgpd: Daemon, cfgFile: string, sock: string;

  const status = async () => (await request(sock, { cmd: 'status' })) as PeerStatus[];
  const ourRoutes = async () => ((await request(sock, { cmd: 'routes' })) as { prefix: string; from: string }[]).filter((r) => r.from !== 'local').map((r) => r.prefix).sort();
  const birdRoute = (p: string) => bird.birdc('show', 'route', p, 'all');
  const birdHas = (p: string) => birdRoute(p).includes('BGP.as_path: 65002');
  /** BIRD's counters for the session: [import updates received, export updates accepted]. */
  const birdStats = () => {
    const out = bird.birdc('show', 'protocols', 'all', 'tabby');
    const imp = /Import updates:\s+(\d+)/.exec(out);
    const exp = /Export updates:\s+\d+\s+\d+\s+\d+\s+\S+\s+(\d+)/.exec(out);
    if (!imp || !exp) throw new Error(`no update counters in: ${out}`);
    return { imported: Number(imp[1]), exported: Number(exp[1]) };
  };
  const reload = (o: Opts) => {
    writeFileSync(cfgFile, bgpdConfig(o));
    bgpd.signal('SIGHUP');
  };

  before(async () => {
    dir = tmpDir('tabby-policy-');
    [r1, r2] = linkedNetns({ tag: 'polbird', dev: 'tpol1', addr: '10.201.0.1/24' }, { tag: 'polbgpd', dev: 'tpol2', addr: '10.201.0.2/24' });
    bird = startBird(r1, dir, birdConfig);
    cfgFile = join(dir, 'bgpd.yaml');
    sock = join(dir, 'bgpd.ctl');
    writeFileSync(cfgFile, bgpdConfig({ exportReject: ['10.244.3.0/26'] }));
    bgpd = startInNetns(r2, [process.execPath, BGPD, '--config', cfgFile, '--socket', sock]);
    await eventually(async () => (await status())[0]?.state === 'up', 20_000, `session up; bgpd said: ${bgpd.output()}`);
    await eventually(async () => (await ourRoutes()).length === 2, 10_000, 'routes from BIRD');
  });

  after(async () => {
    await bgpd?.stop();
    await bird?.stop();
    r1?.delete();
    r2?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends the configured communities and large communities with an originated prefix', async () => {
    await eventually(() => birdHas('10.244.1.0/26'), 10_000, 'prefix in BIRD');
    const out = birdRoute('10.244.1.0/26');
    expect(out).to.match(/BGP\.community: .*\(65000,100\)/);
    expect(out).to.match(/BGP\.community: .*\(65535,65281\)/); // no-export
    expect(out).to.match(/BGP\.large_community: .*\(65000, 1, 2\)/);
    expect(birdRoute('10.244.2.0/26')).to.not.include('BGP.community');
  });

  it('an export filter keeps a prefix from the peer while the others are sent', async () => {
    await eventually(() => birdHas('10.244.2.0/26'), 10_000, '10.244.2.0/26 in BIRD');
    expect(birdHas('10.244.3.0/26')).to.equal(false);
  });

  it('answers BIRD\'s route refresh request (birdc reload in) by sending its routes again', async () => {
    const before = birdStats();
    const since = (await status())[0]!.since;
    bird.birdc('reload', 'in', 'tabby');
    await eventually(() => birdStats().imported >= before.imported + 2, 10_000, `BIRD received our routes again (before: ${JSON.stringify(before)})`);
    await eventually(() => bgpd.output().includes('peer asked for a route refresh'), 5000, 'refresh logged');
    expect((await status())[0]!.since).to.equal(since);
    expect(birdHas('10.244.1.0/26') && birdHas('10.244.2.0/26')).to.equal(true);
    expect(birdHas('10.244.3.0/26')).to.equal(false);
  });

  it('takes BIRD\'s enhanced refresh (birdc reload out: BoRR, routes, EoRR) without losing routes', async () => {
    bird.birdc('reload', 'out', 'tabby');
    await eventually(() => bgpd.output().includes('peer ended a route refresh (EoRR)'), 10_000, `EoRR seen; bgpd said: ${bgpd.output()}`);
    expect(bgpd.output()).to.include('peer begins a route refresh (BoRR)');
    expect(await ourRoutes()).to.deep.equal(['10.77.0.0/24', '10.78.0.0/24']);
  });

  it('a new import filter applies without a session reset (we ask BIRD for a refresh), and so does removing it', async () => {
    const since = (await status())[0]!.since;
    reload({ exportReject: ['10.244.3.0/26'], importReject: ['10.78.0.0/24'] });
    await eventually(async () => JSON.stringify(await ourRoutes()) === JSON.stringify(['10.77.0.0/24']), 10_000, '10.78.0.0/24 filtered out');
    // Only a refresh brings the route back: BIRD does not resend unchanged routes by itself.
    reload({ exportReject: ['10.244.3.0/26'] });
    await eventually(async () => (await ourRoutes()).length === 2, 10_000, `10.78.0.0/24 back; bgpd said: ${bgpd.output()}`);
    expect(bgpd.output()).to.include('route refresh requested');
    expect((await status())[0]!.since).to.equal(since);
  });

  it('a changed export filter applies without a session reset', async () => {
    const since = (await status())[0]!.since;
    reload({ exportReject: ['10.244.2.0/26'] });
    await eventually(() => birdHas('10.244.3.0/26') && !birdHas('10.244.2.0/26'), 10_000, 'export filter change in BIRD');
    expect((await status())[0]!.since).to.equal(since);
  });

  it('control socket refresh: out resends our routes, in makes BIRD resend its routes', async () => {
    const before = birdStats();
    const out = (await request(sock, { cmd: 'refresh', direction: 'out' })) as { peers: string[] };
    expect(out.peers).to.deep.equal(['10.201.0.1']);
    await eventually(() => birdStats().imported >= before.imported + 2, 10_000, 'BIRD received our routes again');
    const before2 = birdStats();
    const inn = (await request(sock, { cmd: 'refresh', direction: 'in', peer: '10.201.0.1' })) as { peers: string[] };
    expect(inn.peers).to.deep.equal(['10.201.0.1']);
    await eventually(() => birdStats().exported >= before2.exported + 2, 10_000, `BIRD sent its routes again (before: ${JSON.stringify(before2)})`);
    let err = '';
    await request(sock, { cmd: 'refresh', direction: 'in', peer: '10.9.9.9' }).catch((e: Error) => (err = e.message));
    expect(err).to.match(/no peer 10\.9\.9\.9/);
  });
});

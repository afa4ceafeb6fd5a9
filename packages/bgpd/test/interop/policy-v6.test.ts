// IPv6 filters, communities and route refresh against BIRD 2 over an IPv6 session (the IPv4
// side is in policy.test.ts): exportV6/importV6 rules, communities on an originated IPv6
// prefix, and an importV6 change applied through a route refresh for IPv6 unicast.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startInNetns, eventually, type Daemon } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';
import { BGPD, OUR_AS, createLab, type Lab } from './harness/lab.js';
import type { PeerDaemon } from './harness/peer.js';
import { bird2 } from './harness/bird.js';

const PEER_AS = 65001;

const bgpdConfig = (lab: Lab, importReject: string[]) => [
  `routerId: ${lab.routerId.ours}`,
  `asNumber: ${OUR_AS}`,
  'listen: { address: "::", port: 179 }',
  'filters:',
  '  v6:',
  '    exportV6: [{ action: Reject, cidr: "fd00:244:3::/64", matchOperator: Equal }]',
  `    importV6: [${importReject.map((c) => `{ action: Reject, cidr: "${c}", matchOperator: In, prefixLength: { min: 64, max: 64 } }`).join(', ')}]`,
  'peers:',
  `  - { address: "${lab.addr.ipv6.peer}", asNumber: ${PEER_AS}, holdTime: 6, connectRetryTime: 1, type: global, filters: [v6] }`,
  'originate:',
  '  - { prefix: "fd00:244:1::/64", communities: ["65000:600", "65000:6:6"] }',
  '  - { prefix: "fd00:244:2::/64" }',
  '  - { prefix: "fd00:244:3::/64" }',
  'kernel: { enabled: false }',
].join('\n') + '\n';

describe('bgpd <-> BIRD 2 over IPv6: filters, communities, route refresh (netns)', function () {
  this.timeout(90_000);
  let lab: Lab, peer: PeerDaemon | undefined, bgpd: Daemon | undefined, cfgFile: string, sock: string, birdc: (...a: string[]) => string;

  const status = async () => ((await request(sock, { cmd: 'status' })) as PeerStatus[])[0];
  const learned = async () => ((await request(sock, { cmd: 'routes' })) as { prefix: string; from: string }[]).filter((r) => r.from !== 'local').map((r) => r.prefix).sort();
  const birdHas = (p: string) => birdc('show', 'route', p, 'all').includes('BGP.as_path: 65002');

  before(async () => {
    lab = await createLab('pv6', 239);
    cfgFile = join(lab.dir, 'bgpd.yaml');
    sock = join(lab.dir, 'bgpd.ctl');
    peer = await bird2.start(lab, { type: 'ebgp', peerAs: PEER_AS, ourAs: OUR_AS, routes: { ipv4: [], ipv6: ['fd00:77::/64', 'fd00:78::/64'] } });
    const bird = peer.processes()[0] as unknown as { birdc: (...a: string[]) => string };
    birdc = (...a) => bird.birdc(...a);
    writeFileSync(cfgFile, bgpdConfig(lab, []));
    bgpd = startInNetns(lab.ourNs, [process.execPath, BGPD, '--config', cfgFile, '--socket', sock]);
    await eventually(async () => (await status())?.state === 'up', 30_000, 'IPv6 session up');
    await eventually(async () => (await learned()).length === 2, 15_000, 'IPv6 routes from BIRD');
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`bgpd output:\n${bgpd?.output()}\nBIRD:\n${peer?.output()}`);
  });

  after(async () => {
    await bgpd?.stop();
    await peer?.stop();
    lab?.destroy();
  });

  it('exports the IPv6 prefixes with their communities, except the one exportV6 rejects', async () => {
    await eventually(() => birdHas('fd00:244:1::/64') && birdHas('fd00:244:2::/64'), 15_000, 'IPv6 prefixes at BIRD');
    const out = birdc('show', 'route', 'fd00:244:1::/64', 'all');
    expect(out).to.match(/BGP\.community: .*\(65000,600\)/);
    expect(out).to.match(/BGP\.large_community: .*\(65000, 6, 6\)/);
    expect(birdHas('fd00:244:3::/64')).to.equal(false);
  });

  it('an importV6 rule added and removed by SIGHUP applies through an IPv6 route refresh, without a session reset', async () => {
    const since = (await status())!.since;
    writeFileSync(cfgFile, bgpdConfig(lab, ['fd00:78::/48']));
    bgpd!.signal('SIGHUP');
    await eventually(async () => JSON.stringify(await learned()) === JSON.stringify(['fd00:77::/64']), 10_000, 'fd00:78::/64 filtered out');
    writeFileSync(cfgFile, bgpdConfig(lab, []));
    bgpd!.signal('SIGHUP');
    await eventually(async () => (await learned()).length === 2, 10_000, 'fd00:78::/64 back');
    expect(bgpd!.output()).to.match(/route refresh requested.*"2\/1"/);
    expect((await status())!.since).to.equal(since);
  });
});

// An IPv6 route whose only next hop is link-local (GoBGP over iBGP, `nexthop fe80::...`) must
// be installed via the interface of the session it came over; the kernel refuses it otherwise.
import { expect } from 'chai';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, vethPair, tmpDir, startInNetns, eventually, type Netns, type Daemon } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));

describe('bgpd: link-local IPv6 next hops (GoBGP, netns)', function () {
  this.timeout(60_000);
  let g: Netns, t: Netns, dir: string, gobgpd: Daemon | undefined, bgpd: Daemon | undefined, sock: string;
  const gobgp = (...args: string[]) => g.run('gobgp', ['-u', '127.0.0.1', '-p', '50061', ...args]);
  const routes = () => JSON.parse(t.run('ip', ['-6', '-j', 'route', 'show', 'proto', '201'])) as { dst: string; gateway?: string; dev?: string }[];

  before(() => {
    dir = tmpDir('tabby-ll-');
    g = createNetns('llg');
    t = createNetns('llt');
    vethPair(g, 'll-g', t, 'll-t');
    g.run('ip', ['-6', 'addr', 'add', 'fd00:203::1/64', 'dev', 'll-g', 'nodad']);
    t.run('ip', ['-6', 'addr', 'add', 'fd00:203::2/64', 'dev', 'll-t', 'nodad']);
    writeFileSync(join(dir, 'gobgpd.toml'), `[global.config]
  as = 65002
  router-id = "10.203.0.1"
  port = 179
  local-address-list = ["fd00:203::1"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "fd00:203::2"
    peer-as = 65002
  [neighbors.timers.config]
    hold-time = 9
    keepalive-interval = 3
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
`);
    writeFileSync(join(dir, 'bgpd.yaml'), 'routerId: 10.203.0.2\nasNumber: 65002\nlisten: { address: "::", port: 179 }\npeers:\n  - { address: "fd00:203::1", asNumber: 65002, holdTime: 9 }\n');
    sock = join(dir, 'bgpd.ctl');
    gobgpd = startInNetns(g, ['gobgpd', '-f', join(dir, 'gobgpd.toml'), '--api-hosts', '127.0.0.1:50061', '-l', 'warn']);
    bgpd = startInNetns(t, [process.execPath, BGPD, '--config', join(dir, 'bgpd.yaml'), '--socket', sock]);
  });

  after(async () => {
    await bgpd?.stop();
    await gobgpd?.stop();
    g?.delete();
    t?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs the route via the peer\'s link-local address on the session\'s interface, and removes it on withdraw', async () => {
    try {
      await eventually(async () => ((await request(sock, { cmd: 'status' })) as PeerStatus[])[0]?.state === 'up', 30_000, 'session up');
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- bgpd:\n${bgpd?.output()}\n--- gobgpd:\n${gobgpd?.output()}\n--- status: ${JSON.stringify(await request(sock, { cmd: 'status' }).catch((x: Error) => x.message))}`);
    }
    // (ip's JSON leaves an empty object for each address the scope filter drops)
    const ll = await eventually(() => (JSON.parse(g.run('ip', ['-6', '-j', 'addr', 'show', 'dev', 'll-g'])) as { addr_info: { local?: string }[] }[])[0]?.addr_info.find((a) => a.local?.startsWith('fe80:'))?.local, 10_000, 'link-local address on the peer side');
    expect(ll).to.match(/^fe80:/);
    gobgp('global', 'rib', 'add', '-a', 'ipv6', 'fd00:99::/64', 'nexthop', ll!);
    const r = await eventually(() => routes().find((x) => x.dst === 'fd00:99::/64'), 15_000, `route in our kernel; bgpd: ${bgpd?.output().slice(-2000)}`);
    expect(r!.gateway).to.equal(ll);
    expect(r!.dev).to.equal('ll-t');
    gobgp('global', 'rib', 'del', '-a', 'ipv6', 'fd00:99::/64');
    await eventually(() => routes().every((x) => x.dst !== 'fd00:99::/64'), 15_000, 'route withdrawn from our kernel');
  });
});

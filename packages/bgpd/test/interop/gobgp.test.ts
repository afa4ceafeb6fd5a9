// bgpd against a real GoBGP (gobgpd) over IPv4 and IPv6 sessions between two namespaces.
import { expect } from 'chai';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, vethPair, tmpDir, startInNetns, eventually, type Netns, type Daemon } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));

const GOBGP_CONFIG = `
[global.config]
  as = 65003
  router-id = "10.202.0.1"
  port = 179
  local-address-list = ["10.202.0.1", "fd00:202::1"]
${[['10.202.0.2', 'ipv4-unicast'], ['fd00:202::2', 'ipv6-unicast']].map(([addr, fam]) => `
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${addr}"
    peer-as = 65002
  [neighbors.timers.config]
    hold-time = 9
    keepalive-interval = 3
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "${fam}"
`).join('')}`;

const BGPD_CONFIG = `routerId: 10.202.0.2
asNumber: 65002
listen: { address: "::", port: 179 }
peers:
  - { address: 10.202.0.1, asNumber: 65003, holdTime: 9 }
  - { address: "fd00:202::1", asNumber: 65003, holdTime: 9 }
originate:
  - { prefix: 10.244.5.0/26 }
  - { prefix: "fd00:244:5::/64" }
`;

describe('bgpd <-> GoBGP, IPv4 and IPv6 (netns)', function () {
  this.timeout(60_000);
  let g: Netns, t: Netns, dir: string, gobgpd: Daemon, bgpd: Daemon, sock: string;
  const gobgp = (...args: string[]) => g.run('gobgp', ['-u', '127.0.0.1', '-p', '50051', ...args]);
  const status = async () => (await request(sock, { cmd: 'status' })) as PeerStatus[];

  before(() => {
    dir = tmpDir('tabby-gobgp-');
    g = createNetns('gobgp');
    t = createNetns('bgpd');
    vethPair(g, 'tg-g', t, 'tg-t');
    g.run('ip', ['addr', 'add', '10.202.0.1/24', 'dev', 'tg-g']);
    t.run('ip', ['addr', 'add', '10.202.0.2/24', 'dev', 'tg-t']);
    g.run('ip', ['-6', 'addr', 'add', 'fd00:202::1/64', 'dev', 'tg-g', 'nodad']);
    t.run('ip', ['-6', 'addr', 'add', 'fd00:202::2/64', 'dev', 'tg-t', 'nodad']);
    writeFileSync(join(dir, 'gobgpd.toml'), GOBGP_CONFIG);
    writeFileSync(join(dir, 'bgpd.yaml'), BGPD_CONFIG);
    sock = join(dir, 'bgpd.ctl');
    gobgpd = startInNetns(g, ['gobgpd', '-f', join(dir, 'gobgpd.toml'), '--api-hosts', '127.0.0.1:50051', '-l', 'warn']);
    bgpd = startInNetns(t, [process.execPath, BGPD, '--config', join(dir, 'bgpd.yaml'), '--socket', sock]);
  });

  after(async () => {
    await bgpd?.stop();
    await gobgpd?.stop();
    g?.delete();
    t?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('establishes both sessions', async () => {
    await eventually(async () => (await status()).every((p) => p.state === 'up'), 30_000, `sessions up; bgpd: ${bgpd.output()} gobgpd: ${gobgpd.output()}`);
    expect(gobgp('neighbor')).to.match(/10\.202\.0\.2\s+65002\s+\S+\s+Establ/);
    expect(gobgp('neighbor')).to.match(/fd00:202::2\s+65002\s+\S+\s+Establ/);
  });

  it('GoBGP receives our IPv4 and IPv6 prefixes with our AS and next hop', async () => {
    const v4 = await eventually(() => { const o = gobgp('global', 'rib', '-a', 'ipv4'); return o.includes('10.244.5.0/26') ? o : ''; }, 10_000, 'v4 prefix');
    expect(v4).to.match(/10\.244\.5\.0\/26\s+10\.202\.0\.2\s+65002/);
    const v6 = await eventually(() => { const o = gobgp('global', 'rib', '-a', 'ipv6'); return o.includes('fd00:244:5::/64') ? o : ''; }, 10_000, 'v6 prefix');
    expect(v6).to.match(/fd00:244:5::\/64\s+fd00:202::2\s+65002/);
  });

  it("GoBGP's routes reach our kernel for both families, and leave on withdraw", async () => {
    gobgp('global', 'rib', 'add', '10.88.0.0/24', '-a', 'ipv4');
    gobgp('global', 'rib', 'add', 'fd00:88::/64', '-a', 'ipv6');
    await eventually(() => t.run('ip', ['-4', 'route', 'show', 'proto', '201']).includes('10.88.0.0/24 via 10.202.0.1'), 10_000, 'v4 route');
    await eventually(() => t.run('ip', ['-6', 'route', 'show', 'proto', '201']).includes('fd00:88::/64 via fd00:202::1'), 10_000, 'v6 route');
    gobgp('global', 'rib', 'del', '10.88.0.0/24', '-a', 'ipv4');
    gobgp('global', 'rib', 'del', 'fd00:88::/64', '-a', 'ipv6');
    await eventually(() => t.run('ip', ['route', 'show', 'proto', '201']) === '' && t.run('ip', ['-6', 'route', 'show', 'proto', '201']) === '', 10_000, 'routes withdrawn');
  });

  it('a GoBGP restart drops its routes and the sessions come back', async () => {
    gobgp('global', 'rib', 'add', '10.89.0.0/24', '-a', 'ipv4');
    await eventually(() => t.run('ip', ['route', 'show', 'proto', '201']).includes('10.89.0.0/24'), 10_000, 'route before restart');
    await gobgpd.stop();
    await eventually(() => !t.run('ip', ['route', 'show', 'proto', '201']).includes('10.89.0.0/24'), 15_000, 'route gone after peer loss');
    gobgpd = startInNetns(g, ['gobgpd', '-f', join(dir, 'gobgpd.toml'), '--api-hosts', '127.0.0.1:50051', '-l', 'warn']);
    await eventually(async () => (await status()).every((p) => p.state === 'up'), 30_000, 'sessions back');
    await eventually(() => gobgp('global', 'rib', '-a', 'ipv4').includes('10.244.5.0/26'), 10_000, 'our prefix re-advertised');
  });
});

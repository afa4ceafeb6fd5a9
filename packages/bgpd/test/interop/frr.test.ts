// bgpd against FRR's bgpd (run standalone, without zebra) between two namespaces.
import { expect } from 'chai';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, vethPair, tmpDir, startInNetns, eventually, type Netns, type Daemon } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));

const FRR_CONF = `frr defaults traditional
hostname tabby-frr
router bgp 65004
 bgp router-id 10.204.0.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 10.204.0.2 remote-as 65002
 neighbor 10.204.0.2 timers 3 9
 neighbor 10.204.0.2 timers connect 1
 address-family ipv4 unicast
  network 10.81.0.0/24
 exit-address-family
`;

describe('bgpd <-> FRR bgpd, eBGP (netns)', function () {
  this.timeout(60_000);
  let f: Netns, t: Netns, dir: string, frr: Daemon, bgpd: Daemon, sock: string;
  const vtysh = (cmd: string) => spawnSync('vtysh', ['--vty_socket', dir, '-c', cmd], { encoding: 'utf8' }).stdout;
  const status = async () => (await request(sock, { cmd: 'status' })) as PeerStatus[];

  before(() => {
    dir = tmpDir('tabby-frr-');
    chmodSync(dir, 0o755);
    f = createNetns('frr');
    t = createNetns('bgpd');
    vethPair(f, 'tf-f', t, 'tf-t');
    f.run('ip', ['addr', 'add', '10.204.0.1/24', 'dev', 'tf-f']);
    t.run('ip', ['addr', 'add', '10.204.0.2/24', 'dev', 'tf-t']);
    writeFileSync(join(dir, 'frr.conf'), FRR_CONF);
    frr = startInNetns(f, ['/usr/lib/frr/bgpd', '-f', join(dir, 'frr.conf'), '-i', join(dir, 'bgpd.pid'), '--vty_socket', dir, '-Z', '-S', '-n']);
    sock = join(dir, 'bgpd.ctl');
    writeFileSync(join(dir, 'bgpd.yaml'), 'routerId: 10.204.0.2\nasNumber: 65002\nlisten: { address: 10.204.0.2, port: 179 }\npeers:\n  - { address: 10.204.0.1, asNumber: 65004, holdTime: 9 }\noriginate:\n  - { prefix: 10.244.4.0/26, blackhole: true }\n');
    bgpd = startInNetns(t, [process.execPath, BGPD, '--config', join(dir, 'bgpd.yaml'), '--socket', sock]);
  });

  after(async () => {
    await bgpd?.stop();
    await frr?.stop();
    f?.delete();
    t?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('establishes the session', async () => {
    await eventually(async () => (await status())[0]?.state === 'up', 20_000, `session up; bgpd: ${bgpd.output()} frr: ${frr.output()}`);
    const summary = JSON.parse(vtysh('show bgp summary json'));
    expect(summary.ipv4Unicast.peers['10.204.0.2'].state).to.equal('Established');
  });

  it("FRR's network reaches our kernel and our prefix reaches FRR with AS 65002", async () => {
    await eventually(() => t.run('ip', ['route', 'show', 'proto', '201']).includes('10.81.0.0/24 via 10.204.0.1'), 10_000, 'FRR route in our kernel');
    const route = await eventually(() => { const o = vtysh('show bgp ipv4 unicast 10.244.4.0/26 json'); return o.includes('"paths"') ? JSON.parse(o) : undefined; }, 10_000, 'our prefix in FRR');
    expect(route.paths[0].aspath.string).to.equal('65002');
    expect(route.paths[0].nexthops[0].ip).to.equal('10.204.0.2');
  });
});

// TCP MD5 (RFC 2385) against BIRD 1.6, the BIRD Calico ships: a matching key establishes and
// BIRD's route arrives; BIRD reconfigured with a wrong key never reaches Established (neither
// side) and comes back once the keys match again. The other daemons are in hardening.test.ts.
import { expect } from 'chai';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, vethPair, tmpDir, startBird, startInNetns, eventually, type Netns, type Bird, type Daemon } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const PEER = '10.215.1.1';
const OURS = '10.215.1.2';
const KEY = 'bird16-secret';

const birdConfig = (password: string) => `router id ${PEER};
protocol device {}
protocol static originated { route 10.215.100.0/24 blackhole; }
protocol bgp tabby {
  local ${PEER} as 65101; neighbor ${OURS} as 65002;
  hold time 3; keepalive time 1; connect delay time 1; connect retry time 1; error wait time 1, 5;
  password "${password}";
  import all; export where proto = "originated";
}
`;

describe('bgpd TCP MD5 with BIRD 1.6 (netns)', function () {
  this.timeout(60_000);
  let dir: string, peerNs: Netns, ourNs: Netns, bird: Bird | undefined, bgpd: Daemon | undefined, sock: string;
  const status = async () => ((await request(sock, { cmd: 'status' })) as PeerStatus[]).find((p) => p.address === PEER);
  const weUp = async () => (await status())?.state === 'up';
  const birdUp = () => /\bEstablished\b/.test(bird!.birdc('show', 'protocols', 'tabby'));
  const routes = async () => (await request(sock, { cmd: 'routes' })) as { prefix: string; from: string }[];
  const diag = () => `\n--- bgpd:\n${bgpd?.output().slice(-3000)}\n--- BIRD 1.6:\n${bird?.output().slice(-2000)}\n${bird?.birdc('show', 'protocols', 'all', 'tabby')}`;

  before(async () => {
    dir = tmpDir('tabby-bird16-md5-');
    chmodSync(dir, 0o755);
    sock = join(dir, 'bgpd.ctl');
    peerNs = createNetns('m16p');
    ourNs = createNetns('m16o');
    vethPair(peerNs, 'm16p', ourNs, 'm16o');
    peerNs.run('ip', ['addr', 'add', `${PEER}/24`, 'dev', 'm16p']);
    ourNs.run('ip', ['addr', 'add', `${OURS}/24`, 'dev', 'm16o']);
    writeFileSync(join(dir, 'bgpd.yaml'), `routerId: ${OURS}
asNumber: 65002
peers:
  - { address: ${PEER}, asNumber: 65101, holdTime: 3, connectRetryTime: 1, password: "${KEY}" }
kernel: { enabled: false }
`);
    const sbin = join(REPO_ROOT, '.tabby-run/bird16/usr/sbin');
    bird = startBird(peerNs, dir, birdConfig(KEY), { bird: join(sbin, 'bird'), birdc: join(sbin, 'birdc') });
    bgpd = startInNetns(ourNs, [process.execPath, BGPD, '--config', join(dir, 'bgpd.yaml'), '--socket', sock]);
  });

  after(async () => {
    await bird?.stop();
    await bgpd?.stop();
    peerNs?.delete();
    ourNs?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('matching keys establish and BIRD 1.6 route arrives', async () => {
    try {
      await eventually(async () => (await weUp()) && birdUp() && (await routes()).some((r) => r.prefix === '10.215.100.0/24'), 20_000, 'MD5 session up with the route');
    } catch (e) {
      throw new Error(`${(e as Error).message}${diag()}`);
    }
  });

  it('a wrong key at BIRD 1.6 never establishes; the right key again does', async () => {
    bird!.reconfigure(birdConfig('not-the-key'));
    // BIRD restarts the session for the new password; wait until both sides saw it go.
    await eventually(async () => !(await weUp()) && !birdUp(), 15_000, 'session down after the key change');
    const end = Date.now() + 8000;
    while (Date.now() < end) {
      expect(await weUp(), `bgpd established with a wrong key${diag()}`).to.equal(false);
      expect(birdUp(), 'BIRD 1.6 says Established with a wrong key').to.equal(false);
      await new Promise((r) => setTimeout(r, 250));
    }
    bird!.reconfigure(birdConfig(KEY));
    await eventually(async () => (await weUp()) && birdUp(), 20_000, 'session back with the right key');
  });
});

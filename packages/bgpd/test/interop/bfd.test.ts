// BFD (RFC 5880/5881 single hop) against BIRD 2 and FRR (bfdd) in network namespaces: BFD comes
// Up on both sides, a frozen peer (SIGSTOP) is detected in about minInterval × multiplier and
// its routes leave our kernel long before the BGP hold time, both come back after SIGCONT, and
// malformed UDP packets to port 3784 neither crash the daemon nor disturb the session.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, vethPair, tmpDir, startInNetns, startBird, eventually, type Netns, type Daemon } from '@tabby/test-support';
import { request, type BfdSessionStatus, type PeerStatus } from '@tabby/bgpd';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));
const HOLD = 30;
const MIN_INTERVAL = 300;
const MULTIPLIER = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PeerUnderTest {
  /** The peer reports its BFD session to us Up. */
  bfdUp(): boolean;
  /** The processes to freeze (the ones that run BFD and BGP). */
  freeze: Daemon[];
  all: Daemon[];
  output(): string;
}

interface Setup {
  name: string;
  tag: string;
  net: number;
  start(ns: Netns, dir: string, addr: { peer: string; ours: string }, route: string): PeerUnderTest;
}

const bird2: Setup = {
  name: 'BIRD 2',
  tag: 'bfb',
  net: 232,
  start: (ns, dir, addr, route) => {
    const d = join(dir, 'bird');
    mkdirSync(d);
    const bird = startBird(ns, d, `router id ${addr.peer};
protocol device {}
protocol static originated { ipv4; route ${route} blackhole; }
protocol bfd { interface "*" { interval ${MIN_INTERVAL} ms; multiplier ${MULTIPLIER}; }; }
protocol bgp tabby {
  local ${addr.peer} as 65001; neighbor ${addr.ours} as 65002;
  hold time ${HOLD}; keepalive time 10; connect retry time 1; error wait time 1, 5;
  bfd on;
  ipv4 { import all; export where proto = "originated"; };
}
`);
    return {
      bfdUp: () => new RegExp(`${addr.ours.replace(/\./g, '\\.')}\\s+\\S+\\s+Up\\b`).test(bird.birdc('show', 'bfd', 'sessions')),
      freeze: [bird],
      all: [bird],
      output: () => `${bird.output()}\n${bird.birdc('show', 'bfd', 'sessions')}\n${bird.birdc('show', 'protocols', 'all', 'tabby')}`,
    };
  },
};

/** FRR: zebra (bgpd reaches bfdd through it), bfdd and bgpd, all with sockets in our dir. */
const frr: Setup = {
  name: 'FRR',
  tag: 'bff',
  net: 233,
  start: (ns, dir, addr, route) => {
    const d = join(dir, 'frr');
    mkdirSync(d);
    chmodSync(dir, 0o755);
    chmodSync(d, 0o777);
    const zserv = join(d, 'zserv.api');
    writeFileSync(join(d, 'zebra.conf'), 'hostname tabby-zebra\n');
    writeFileSync(join(d, 'bfdd.conf'), `hostname tabby-bfdd
bfd
 peer ${addr.ours}
  receive-interval ${MIN_INTERVAL}
  transmit-interval ${MIN_INTERVAL}
  detect-multiplier ${MULTIPLIER}
 !
!
`);
    writeFileSync(join(d, 'bgpd.conf'), `frr defaults traditional
hostname tabby-frr
ip route ${route} blackhole
router bgp 65001
 bgp router-id ${addr.peer}
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor ${addr.ours} remote-as 65002
 neighbor ${addr.ours} timers 10 ${HOLD}
 neighbor ${addr.ours} timers connect 1
 neighbor ${addr.ours} bfd
 address-family ipv4 unicast
  network ${route}
 exit-address-family
`);
    const common = (name: string) => ['-f', join(d, `${name}.conf`), '-i', join(d, `${name}.pid`), '--vty_socket', d, '-z', zserv];
    const zebra = startInNetns(ns, ['/usr/lib/frr/zebra', ...common('zebra')]);
    const vtysh = (...cmds: string[]) => spawnSync('vtysh', ['--vty_socket', d, ...cmds.flatMap((c) => ['-c', c])], { encoding: 'utf8' }).stdout ?? '';
    // bfdd and bgpd connect to zebra's socket; give it a moment to exist.
    spawnSync('sh', ['-c', `for i in $(seq 50); do [ -S ${zserv} ] && exit 0; sleep 0.1; done; exit 1`]);
    const bfdd = startInNetns(ns, ['/usr/lib/frr/bfdd', ...common('bfdd'), '--bfdctl', join(d, 'bfdd.sock')]);
    const bgpd = startInNetns(ns, ['/usr/lib/frr/bgpd', ...common('bgpd'), '-S']);
    return {
      bfdUp: () => {
        const peers = JSON.parse(vtysh('show bfd peers json') || '[]') as { peer?: string; status?: string }[];
        return peers.some((p) => p.peer === addr.ours && p.status === 'up');
      },
      freeze: [bfdd, bgpd],
      all: [bgpd, bfdd, zebra],
      output: () => `--- zebra\n${zebra.output()}\n--- bfdd\n${bfdd.output()}\n--- bgpd\n${bgpd.output()}\n${vtysh('show bfd peers')}\n${vtysh(`show bgp neighbors ${addr.ours}`)}`,
    };
  },
};

for (const setup of [bird2, frr]) {
  describe(`bgpd: BFD with ${setup.name} (netns)`, function () {
    this.timeout(60_000);
    const addr = { peer: `10.${setup.net}.0.1`, ours: `10.${setup.net}.0.2` };
    const route = `10.${setup.net}.100.0/24`;
    let peerNs: Netns, ourNs: Netns, dir: string, sock: string, bgpd: Daemon | undefined, peer: PeerUnderTest | undefined;

    const status = async (): Promise<PeerStatus | undefined> => ((await request(sock, { cmd: 'status' })) as PeerStatus[]).find((p) => p.address === addr.peer);
    const kernelHas = () => ourNs.run('ip', ['-j', 'route', 'show', 'proto', '201']).includes(`"${route.split('/')[0]}/24"`);
    const allUp = async () => (await status())?.state === 'up' && (await status())?.bfd === 'Up' && peer!.bfdUp() && kernelHas();
    const writeConfig = (bfd: string | undefined) => writeFileSync(join(dir, 'bgpd.yaml'), `routerId: ${addr.ours}
asNumber: 65002
listen: { address: ${addr.ours}, port: 179 }
peers:
  - { address: ${addr.peer}, asNumber: 65001, holdTime: ${HOLD}, connectRetryTime: 1${bfd ? `, bfd: ${bfd}` : ''} }
originate:
  - { prefix: 10.${setup.net}.200.0/24 }
`);
    const bfdSessions = async () => ((await request(sock, { cmd: 'bfd' })) as { sessions: BfdSessionStatus[] }).sessions;
    const diag = () => `\n--- bgpd (exited: ${bgpd?.exited()}):\n${bgpd?.output()}\n--- ${setup.name}:\n${peer?.output()}`;

    before(async () => {
      dir = tmpDir(`tabby-bfd-${setup.tag}-`);
      sock = join(dir, 'bgpd.ctl');
      peerNs = createNetns(`${setup.tag}p`);
      ourNs = createNetns(`${setup.tag}o`);
      vethPair(peerNs, `${setup.tag}p`, ourNs, `${setup.tag}o`);
      peerNs.run('ip', ['addr', 'add', `${addr.peer}/24`, 'dev', `${setup.tag}p`]);
      ourNs.run('ip', ['addr', 'add', `${addr.ours}/24`, 'dev', `${setup.tag}o`]);
      writeConfig(`{ enabled: true, minInterval: ${MIN_INTERVAL}, multiplier: ${MULTIPLIER} }`);
      peer = setup.start(peerNs, dir, addr, route);
      bgpd = startInNetns(ourNs, [process.execPath, BGPD, '--config', join(dir, 'bgpd.yaml'), '--socket', sock, '--log-level', 'debug']);
      try {
        await eventually(allUp, 30_000, 'BGP Established, BFD Up on both sides, the peer route in our kernel');
      } catch (e) {
        throw new Error(`${(e as Error).message}${diag()}`);
      }
    });

    after(async () => {
      for (const d of peer?.all ?? []) await d.stop();
      await bgpd?.stop();
      peerNs?.delete();
      ourNs?.delete();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('detects a frozen peer in about minInterval × multiplier, drops its routes, and recovers after SIGCONT', async () => {
      const t0 = Date.now();
      for (const d of peer!.freeze) d.signal('SIGSTOP');
      let downAt = 0;
      let goneAt = 0;
      try {
        while (Date.now() - t0 < 10_000 && !(downAt && goneAt)) {
          if (!downAt && (await status())?.state !== 'up') downAt = Date.now();
          if (!goneAt && !kernelHas()) goneAt = Date.now();
          await sleep(20);
        }
        const s = await status();
        console.log(`      ${setup.name}: BGP down ${downAt - t0} ms, route gone from the kernel ${goneAt - t0} ms after SIGSTOP (BFD ${MIN_INTERVAL} ms × ${MULTIPLIER}, hold time ${HOLD} s)`);
        expect(downAt, 'BGP session torn down').to.be.greaterThan(0);
        expect(goneAt, "peer's route gone from our kernel").to.be.greaterThan(0);
        // Well before the hold time (30 s): the teardown came from BFD.
        expect(downAt - t0).to.be.lessThan(5000);
        expect(s?.info).to.match(/BFD down/);
        expect(s?.bfd).to.equal('Down');
        // Held down while BFD is down (RFC 5882), even past the idle-hold backoff.
        await sleep(2000);
        expect((await status())?.state).to.not.equal('up');
        expect(kernelHas()).to.equal(false);
      } finally {
        for (const d of peer!.freeze) d.signal('SIGCONT');
      }
      try {
        await eventually(allUp, 30_000, 'BFD and BGP back up, the route back in our kernel');
      } catch (e) {
        throw new Error(`${(e as Error).message}${diag()}`);
      }
      expect(bgpd!.output()).to.include('BFD down');
    });

    it('survives malformed packets to UDP 3784 and the session stays Up', async () => {
      const before = await status();
      const good = '20c00318 11223344 55667788 000493e0 000493e0 00000000';
      const packets = [
        '', '00', 'ff'.repeat(23), // short
        good.replace(/^20/, '40'), // version 2
        good.replace(/^20c00318/, '20c00314'), // length 20
        good.replace(/^20c00318/, '20c000ff'), // length beyond, detect mult 0
        good.replace(/^20c00318/, '20c10318'), // multipoint
        good.replace(/^20c00318 11223344/, '20c00318 00000000'), // my discriminator 0
        good, // your discriminator unknown
        good.replace(/55667788/, '00000000'), // Up with your discriminator 0
        '20c4031c 11223344 55667788 000493e0 000493e0 00000000 01040161', // authentication
        'de'.repeat(1400), // large garbage
      ].map((h) => h.replace(/\s+/g, ''));
      const script = `const d=require('dgram').createSocket('udp4');const p=${JSON.stringify(packets)};let n=0;` +
        `(function send(){if(n===p.length*20)return d.close();d.send(Buffer.from(p[n%p.length],'hex'),3784,${JSON.stringify(addr.ours)},()=>{n++;send();});})();`;
      // Sent from inside the peer's namespace, from the peer's address, 20 rounds.
      const r = spawnSync('ip', ['netns', 'exec', peerNs.name, process.execPath, '-e', script], { encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
      await sleep(1500);
      expect(bgpd!.exited(), 'bgpd still running').to.equal(false);
      const after = await status();
      expect(after?.state).to.equal('up');
      expect(after?.bfd).to.equal('Up');
      expect(after?.since, 'the BGP session did not flap').to.equal(before?.since);
      expect(peer!.bfdUp()).to.equal(true);
      const { drops } = (await request(sock, { cmd: 'bfd' })) as { drops: Record<string, number> };
      for (const reason of ['too-short', 'bad-version', 'bad-length', 'multipoint', 'zero-my-discriminator', 'unknown-discriminator', 'zero-your-discriminator', 'authentication']) {
        expect(drops[reason] ?? 0, `drops counted as ${reason}`).to.be.at.least(20);
      }
    });

    if (setup === bird2) {
      it('follows config reloads: new timers are polled in without a BGP flap, removal stops BFD, adding it back brings it Up', async () => {
        const since = (await status())?.since;
        writeConfig('{ enabled: true, minInterval: 500, multiplier: 3 }');
        bgpd!.signal('SIGHUP');
        // BIRD asks for 300 ms: we now send every 500 ms and it detects after 3 × 500 ms.
        await eventually(async () => (await bfdSessions())[0]?.txIntervalMs === 500, 10_000, 'our TX interval 500 ms');
        await eventually(async () => (await bfdSessions())[0]?.detectionTimeMs === 1500, 10_000, 'detection time 3 × 500 ms');
        expect((await bfdSessions())[0]?.state).to.equal('Up');
        expect((await status())?.since, 'BGP session kept').to.equal(since);
        writeConfig(undefined);
        bgpd!.signal('SIGHUP');
        await eventually(async () => (await bfdSessions()).length === 0, 10_000, 'BFD session removed');
        expect((await status())?.bfd).to.equal(undefined);
        await sleep(1500);
        expect((await status())?.state, 'BGP kept: AdminDown is no failure').to.equal('up');
        writeConfig(`{ enabled: true, minInterval: ${MIN_INTERVAL}, multiplier: ${MULTIPLIER} }`);
        bgpd!.signal('SIGHUP');
        await eventually(allUp, 20_000, 'BFD Up again after it was added back');
      });
    }
  });
}

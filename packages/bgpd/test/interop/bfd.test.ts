// BFD (RFC 5880/5881 single hop) against BIRD 2, BIRD 1.6 (bird + bird6) and FRR (bfdd) in network namespaces, over an
// IPv4 and an IPv6 BGP session to the same peer: BFD comes Up on both sides, a frozen peer
// (SIGSTOP) is detected in about minInterval × multiplier and its routes leave our kernel long
// before the BGP hold time, all comes back after SIGCONT, and malformed UDP packets to port 3784
// neither crash the daemon nor disturb the sessions.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, vethPair, tmpDir, startInNetns, startBird, eventually, linkLocalReady, type Netns, type Daemon } from '@tabby/test-support';
import { request, type BfdSessionStatus, type PeerStatus } from '@tabby/bgpd';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const HOLD = 30;
const MIN_INTERVAL = 300;
const MULTIPLIER = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Af = 'v4' | 'v6';
const AFS: Af[] = ['v4', 'v6'];

/** Addresses and the route the peer originates, per family. */
interface Plan {
  net: number;
  peerIf: string;
  addr: Record<Af, { peer: string; ours: string }>;
  route: Record<Af, string>;
}

interface PeerUnderTest {
  /** The peer reports its BFD session to `ours` Up. */
  bfdUp(ours: string): boolean;
  /** The processes to freeze (the ones that run BFD and BGP). */
  freeze: Daemon[];
  all: Daemon[];
  output(): string;
  /** Reconfigures the peer without BFD (BIRD only). */
  disableBfd?(): void;
}

interface Setup {
  name: string;
  tag: string;
  net: number;
  start(ns: Netns, dir: string, plan: Plan): PeerUnderTest;
}

const bird2: Setup = {
  name: 'BIRD 2',
  tag: 'bfb',
  net: 232,
  start: (ns, dir, { addr, route }) => {
    const d = join(dir, 'bird');
    mkdirSync(d);
    const proto = (af: Af, bfd = true) => `
protocol static originated_${af} { ip${af}; route ${route[af]} blackhole; }
protocol bgp tabby_${af} {
  local ${addr[af].peer} as 65001; neighbor ${addr[af].ours} as 65002;
  hold time ${HOLD}; keepalive time 10; connect retry time 1; error wait time 1, 5;
  bfd ${bfd ? 'on' : 'off'};
  ip${af} { import all; export where proto = "originated_${af}"; };
}`;
    const config = (bfd: boolean) => `router id ${addr.v4.peer};
log stderr all;
debug protocols { states, events };
protocol device {}
${bfd ? `protocol bfd { interface "*" { interval ${MIN_INTERVAL} ms; multiplier ${MULTIPLIER}; }; }` : ''}
${AFS.map((af) => proto(af, bfd)).join('\n')}
`;
    const bird = startBird(ns, d, config(true));
    return {
      bfdUp: (ours) => bird.birdc('show', 'bfd', 'sessions').split('\n').some((l) => l.startsWith(`${ours} `) && /\bUp\b/.test(l)),
      freeze: [bird],
      all: [bird],
      output: () => `${bird.output()}\n${bird.birdc('show', 'bfd', 'sessions')}\n${bird.birdc('show', 'protocols', 'all')}`,
      disableBfd: () => bird.reconfigure(config(false)),
    };
  },
};

/** BIRD 1.6 (Calico's BIRD): `bird` for the IPv4 session and `bird6` for the IPv6 one, each with its own BFD protocol. */
const bird16: Setup = {
  name: 'BIRD 1.6',
  tag: 'bfo',
  net: 234,
  start: (ns, dir, { addr, route }) => {
    const sbin = join(REPO_ROOT, '.tabby-run/bird16/usr/sbin');
    const daemons = AFS.map((af) => {
      const d = join(dir, `bird16-${af}`);
      mkdirSync(d);
      const bin = af === 'v4' ? { bird: join(sbin, 'bird'), birdc: join(sbin, 'birdc') } : { bird: join(sbin, 'bird6'), birdc: join(sbin, 'birdc6') };
      return startBird(ns, d, `router id ${addr.v4.peer};
log stderr all;
debug protocols { states, events };
protocol device {}
protocol bfd { interface "*" { interval ${MIN_INTERVAL} ms; multiplier ${MULTIPLIER}; }; }
protocol static originated { route ${route[af]} blackhole; }
protocol bgp tabby {
  local ${addr[af].peer} as 65001; neighbor ${addr[af].ours} as 65002;
  hold time ${HOLD}; keepalive time 10; connect retry time 1; error wait time 1, 5;
  bfd on;
  import all; export where proto = "originated";
}
`, bin);
    });
    return {
      bfdUp: (ours) => daemons.some((b) => b.birdc('show', 'bfd', 'sessions').split('\n').some((l) => l.startsWith(`${ours} `) && /\bUp\b/.test(l))),
      freeze: daemons,
      all: daemons,
      output: () => daemons.map((b) => `${b.output()}\n${b.birdc('show', 'bfd', 'sessions')}\n${b.birdc('show', 'protocols', 'all')}`).join('\n'),
    };
  },
};

/** FRR: zebra (bgpd reaches bfdd through it), bfdd and bgpd, all with sockets in our dir. */
const frr: Setup = {
  name: 'FRR',
  tag: 'bff',
  net: 233,
  start: (ns, dir, { addr, route }) => {
    const d = join(dir, 'frr');
    mkdirSync(d);
    chmodSync(dir, 0o755);
    chmodSync(d, 0o777); // the daemons run as the frr user and create their sockets here
    const zserv = join(d, 'zserv.api');
    writeFileSync(join(d, 'zebra.conf'), 'hostname tabby-zebra\n');
    writeFileSync(join(d, 'bfdd.conf'), `hostname tabby-bfdd
bfd
${AFS.map((af) => ` peer ${addr[af].ours}
  receive-interval ${MIN_INTERVAL}
  transmit-interval ${MIN_INTERVAL}
  detect-multiplier ${MULTIPLIER}
 !
`).join('')}!
`);
    writeFileSync(join(d, 'bgpd.conf'), `frr defaults traditional
hostname tabby-frr
router bgp 65001
 bgp router-id ${addr.v4.peer}
 no bgp ebgp-requires-policy
 no bgp network import-check
 no bgp default ipv4-unicast
${AFS.map((af) => ` neighbor ${addr[af].ours} remote-as 65002
 neighbor ${addr[af].ours} timers 10 ${HOLD}
 neighbor ${addr[af].ours} timers connect 1
 neighbor ${addr[af].ours} bfd
`).join('')}${AFS.map((af) => ` address-family ip${af === 'v4' ? 'v4' : 'v6'} unicast
  neighbor ${addr[af].ours} activate
  network ${route[af]}
 exit-address-family
`).join('')}`);
    const common = (name: string) => ['-f', join(d, `${name}.conf`), '-i', join(d, `${name}.pid`), '--vty_socket', d, '-z', zserv];
    const zebra = startInNetns(ns, ['/usr/lib/frr/zebra', ...common('zebra')]);
    const vtysh = (...cmds: string[]) => spawnSync('vtysh', ['--vty_socket', d, ...cmds.flatMap((c) => ['-c', c])], { encoding: 'utf8' }).stdout ?? '';
    // bfdd and bgpd connect to zebra's socket; give it a moment to exist.
    spawnSync('sh', ['-c', `for i in $(seq 50); do [ -S ${zserv} ] && exit 0; sleep 0.1; done; exit 1`]);
    const bfdd = startInNetns(ns, ['/usr/lib/frr/bfdd', ...common('bfdd'), '--bfdctl', join(d, 'bfdd.sock')]);
    const bgpd = startInNetns(ns, ['/usr/lib/frr/bgpd', ...common('bgpd'), '-S']);
    return {
      bfdUp: (ours) => {
        const peers = JSON.parse(vtysh('show bfd peers json') || '[]') as { peer?: string; status?: string }[];
        return peers.some((p) => p.peer === ours && p.status === 'up');
      },
      freeze: [bfdd, bgpd],
      all: [bgpd, bfdd, zebra],
      output: () => `--- zebra\n${zebra.output()}\n--- bfdd\n${bfdd.output()}\n--- bgpd\n${bgpd.output()}\n${vtysh('show bfd peers')}\n${vtysh('show bgp summary')}`,
    };
  },
};

for (const setup of [bird2, bird16, frr]) {
  describe(`bgpd: BFD with ${setup.name}, IPv4 and IPv6 sessions (netns)`, function () {
    this.timeout(60_000);
    const n = setup.net;
    const plan: Plan = {
      net: n,
      peerIf: `${setup.tag}p`,
      addr: { v4: { peer: `10.${n}.0.1`, ours: `10.${n}.0.2` }, v6: { peer: `fd00:${n}::1`, ours: `fd00:${n}::2` } },
      route: { v4: `10.${n}.100.0/24`, v6: `fd00:${n}:100::/48` },
    };
    const { addr, route } = plan;
    let peerNs: Netns, ourNs: Netns, dir: string, sock: string, bgpd: Daemon | undefined, peer: PeerUnderTest | undefined;

    const statuses = async () => (await request(sock, { cmd: 'status' })) as PeerStatus[];
    const status = async (af: Af): Promise<PeerStatus | undefined> => (await statuses()).find((p) => p.address === addr[af].peer);
    const bfdSession = async (af: Af) => ((await request(sock, { cmd: 'bfd' })) as { sessions: BfdSessionStatus[] }).sessions.find((s) => s.address === addr[af].peer);
    const kernelHas = (af: Af) => ourNs.run('ip', ['-j', af === 'v4' ? '-4' : '-6', 'route', 'show', 'proto', '201']).includes(`"${route[af]}"`);
    const sessionUp = async (af: Af) => {
      const s = await status(af);
      return s?.state === 'up' && s.bfd === 'Up' && peer!.bfdUp(addr[af].ours) && kernelHas(af);
    };
    const allUp = async () => (await sessionUp('v4')) && (await sessionUp('v6'));
    const writeConfig = (bfd: string | undefined, hold = HOLD) => writeFileSync(join(dir, 'bgpd.yaml'), `routerId: ${addr.v4.ours}
asNumber: 65002
listen: { address: "::", port: 179 }
peers:
${AFS.map((af) => `  - { address: "${addr[af].peer}", asNumber: 65001, holdTime: ${hold}, connectRetryTime: 1${bfd ? `, bfd: ${bfd}` : ''} }`).join('\n')}
originate:
  - { prefix: 10.${n}.200.0/24 }
`);
    /** bgpd's log lines stamped at or after `iso` (the daemon's output buffer is bounded, so string offsets into it drift). */
    const logSince = (iso: string) => (bgpd?.output() ?? '').split('\n').filter((l) => /^\d{4}-\d\d-\d\dT/.test(l) && l.slice(0, 24) >= iso).join('\n');
    /** Runs a test body; a failure carries both daemons' logs. */
    const withDiag = async (body: () => Promise<void>) => {
      try {
        await body();
      } catch (e) {
        throw Object.assign(e as Error, { message: `${(e as Error).message}${diag()}` });
      }
    };
    const diag = () => `\n--- bgpd (exited: ${bgpd?.exited()}):\n${bgpd?.output()}\n--- ${setup.name}:\n${peer?.output()}`;

    before(async () => {
      dir = tmpDir(`tabby-bfd-${setup.tag}-`);
      sock = join(dir, 'bgpd.ctl');
      peerNs = createNetns(`${setup.tag}p`);
      ourNs = createNetns(`${setup.tag}o`);
      vethPair(peerNs, `${setup.tag}p`, ourNs, `${setup.tag}o`);
      for (const [ns, dev, side] of [[peerNs, `${setup.tag}p`, 'peer'], [ourNs, `${setup.tag}o`, 'ours']] as const) {
        ns.run('ip', ['addr', 'add', `${addr.v4[side]}/24`, 'dev', dev]);
        ns.run('ip', ['-6', 'addr', 'add', `${addr.v6[side]}/64`, 'dev', dev, 'nodad']);
      }
      // Start the daemons only once the link-local addresses exist: one arriving later made BIRD 1.6
      // drop its IPv6 session ("Neighbor lost") right after it came up, seen in CI as a flap.
      for (const [ns, dev] of [[peerNs, `${setup.tag}p`], [ourNs, `${setup.tag}o`]] as const) {
        await eventually(() => linkLocalReady(ns, dev), 10_000, `link-local address on ${dev} out of DAD`);
      }
      writeConfig(`{ enabled: true, minInterval: ${MIN_INTERVAL}, multiplier: ${MULTIPLIER} }`);
      peer = setup.start(peerNs, dir, plan);
      bgpd = startInNetns(ourNs, [process.execPath, BGPD, '--config', join(dir, 'bgpd.yaml'), '--socket', sock, '--log-level', 'debug']);
      try {
        await eventually(allUp, 30_000, 'both BGP sessions Established, BFD Up on both sides, the peer routes in our kernel');
      } catch (e) {
        throw new Error(`${(e as Error).message}${diag()}`);
      }
    });

    after(async () => {
      if (process.env.TABBY_BFD_DUMP) writeFileSync(`${process.env.TABBY_BFD_DUMP}.${setup.tag}`, diag());
      for (const d of peer?.all ?? []) await d.stop();
      await bgpd?.stop();
      peerNs?.delete();
      ourNs?.delete();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('detects a frozen peer in about minInterval × multiplier, drops its routes, and recovers after SIGCONT', () => withDiag(async () => {
      const t0 = Date.now();
      for (const d of peer!.freeze) d.signal('SIGSTOP');
      const downAt: Record<Af, number> = { v4: 0, v6: 0 };
      const goneAt: Record<Af, number> = { v4: 0, v6: 0 };
      try {
        while (Date.now() - t0 < 10_000 && AFS.some((af) => !downAt[af] || !goneAt[af])) {
          const st = await statuses();
          for (const af of AFS) {
            if (!downAt[af] && st.find((p) => p.address === addr[af].peer)?.state !== 'up') downAt[af] = Date.now();
            if (!goneAt[af] && !kernelHas(af)) goneAt[af] = Date.now();
          }
          await sleep(20);
        }
        console.log(`      ${setup.name} (BFD ${MIN_INTERVAL} ms × ${MULTIPLIER}, hold time ${HOLD} s), after SIGSTOP: ` +
          AFS.map((af) => `${af}: BGP down ${downAt[af] - t0} ms, route gone ${goneAt[af] - t0} ms`).join('; '));
        for (const af of AFS) {
          expect(downAt[af], `${af} BGP session torn down`).to.be.greaterThan(0);
          expect(goneAt[af], `${af} peer route gone from our kernel`).to.be.greaterThan(0);
          // Well before the hold time (30 s): the teardown came from BFD.
          expect(downAt[af] - t0, `${af} teardown time`).to.be.lessThan(5000);
          const s = await status(af);
          expect(s?.info).to.match(/BFD down/);
          expect(s?.bfd).to.equal('Down');
        }
        // Held down while BFD is down (RFC 5882), even past the idle-hold backoff.
        await sleep(2000);
        // (Without the hold the session would be connecting again: the frozen peer's kernel
        // still completes TCP handshakes.)
        for (const af of AFS) {
          const s = await status(af);
          expect(s?.fsmState, `${af} held in Idle`).to.equal('Idle');
          expect(s?.state, `${af} held (no automatic start)`).to.equal('down');
          expect(kernelHas(af)).to.equal(false);
        }
      } finally {
        for (const d of peer!.freeze) d.signal('SIGCONT');
      }
      try {
        await eventually(allUp, 30_000, 'BFD and BGP back up, the routes back in our kernel');
      } catch (e) {
        throw new Error(`${(e as Error).message}${diag()}`);
      }
      expect(bgpd!.output()).to.include('BFD down');
    }));

    it('survives malformed packets to UDP 3784 (IPv4 and IPv6) and the sessions stay Up', () => withDiag(async () => {
      await eventually(allUp, 30_000, 'both sessions Up before the malformed packets');
      const before = await statuses();
      const good = '20c00318 11223344 55667788 000493e0 000493e0 00000000';
      const packets = [
        '', '00', 'ff'.repeat(23), // short
        good.replace(/^20/, '40'), // version 2
        good.replace(/^20c00318/, '20c00314'), // length 20
        good.replace(/^20c00318/, '20c000ff'), // length beyond the datagram, detect mult 0
        good.replace(/^20c00318/, '20c10318'), // multipoint
        good.replace(/^20c00318 11223344/, '20c00318 00000000'), // my discriminator 0
        good, // your discriminator unknown
        good.replace(/55667788/, '00000000'), // Up with your discriminator 0
        '20c4031c 11223344 55667788 000493e0 000493e0 00000000 01040161', // authentication
        'de'.repeat(1400), // large garbage
      ].map((h) => h.replace(/\s+/g, ''));
      // Sent from inside the peer's namespace, from the peer's addresses, 20 rounds per family.
      for (const af of AFS) {
        const script = `const d=require('dgram').createSocket('udp${af === 'v4' ? 4 : 6}');const p=${JSON.stringify(packets)};let n=0;` +
          `(function send(){if(n===p.length*20)return d.close();d.send(Buffer.from(p[n%p.length],'hex'),3784,${JSON.stringify(addr[af].ours)},()=>{n++;send();});})();`;
        const r = spawnSync('ip', ['netns', 'exec', peerNs.name, process.execPath, '-e', script], { encoding: 'utf8' });
        expect(r.status, r.stderr).to.equal(0);
      }
      await sleep(1500);
      expect(bgpd!.exited(), 'bgpd still running').to.equal(false);
      const after = await statuses();
      for (const af of AFS) {
        const a = after.find((p) => p.address === addr[af].peer);
        expect(a?.state, `${af} BGP`).to.equal('up');
        expect(a?.bfd, `${af} BFD`).to.equal('Up');
        expect(a?.since, `${af} BGP session did not flap`).to.equal(before.find((p) => p.address === addr[af].peer)?.since);
        expect(peer!.bfdUp(addr[af].ours), `${af} BFD Up at the peer`).to.equal(true);
      }
      const { drops } = (await request(sock, { cmd: 'bfd' })) as { drops: Record<string, number> };
      for (const reason of ['too-short', 'bad-version', 'bad-length', 'multipoint', 'zero-my-discriminator', 'unknown-discriminator', 'zero-your-discriminator', 'authentication']) {
        expect(drops[reason] ?? 0, `drops counted as ${reason}`).to.be.at.least(40);
      }
    }));

    if (setup === bird2) {
      it('follows config reloads: new timers are polled in without a BGP flap, removal stops BFD, adding it back brings it Up', async () => {
        try {
          await reloads();
        } catch (e) {
          throw new Error(`${(e as Error).message}${diag()}`);
        }
      });
      const reloads = async () => {
        const since = (await status('v4'))?.since;
        writeConfig('{ enabled: true, minInterval: 500, multiplier: 3 }');
        bgpd!.signal('SIGHUP');
        // BIRD asks for 300 ms: we now send every 500 ms (once BIRD answered our Poll with a
        // Final) and it detects after 3 × 500 ms.
        await eventually(async () => (await bfdSession('v4'))?.txIntervalMs === 500, 10_000, 'our TX interval 500 ms');
        await eventually(async () => (await bfdSession('v4'))?.detectionTimeMs === 1500, 10_000, 'detection time 3 × 500 ms');
        expect((await bfdSession('v4'))?.state).to.equal('Up');
        expect((await status('v4'))?.since, 'BGP session kept').to.equal(since);
        // Removal: AdminDown to the peer. We keep BGP up; BIRD 2.0 however ends its BGP session
        // when its BFD session goes down, even by AdminDown, so BGP may restart once (its doing).
        const mark = new Date().toISOString();
        writeConfig(undefined);
        bgpd!.signal('SIGHUP');
        await eventually(async () => !(await bfdSession('v4')) && !(await bfdSession('v6')), 10_000, 'BFD sessions removed');
        expect((await status('v4'))?.bfd).to.equal(undefined);
        await sleep(1500);
        await eventually(async () => (await status('v4'))?.state === 'up' && (await status('v6'))?.state === 'up', 20_000, 'BGP up without BFD');
        expect(logSince(mark), 'we did not end BGP for BFD').to.not.include('BFD down: ending the session');
        writeConfig(`{ enabled: true, minInterval: ${MIN_INTERVAL}, multiplier: ${MULTIPLIER} }`);
        bgpd!.signal('SIGHUP');
        await eventually(allUp, 20_000, 'BFD Up again after it was added back');
      };

      it('a peer that stops running BFD silently: BGP ends and is held, but only for the hold time, then runs without BFD', async () => {
        // A short BGP hold time (6 s) for this case; the reload re-creates the BGP sessions.
        writeConfig(`{ enabled: true, minInterval: ${MIN_INTERVAL}, multiplier: ${MULTIPLIER} }`, 6);
        bgpd!.signal('SIGHUP');
        try {
          await sleep(500);
          await eventually(allUp, 20_000, 'BGP back with hold time 6 s, BFD Up');
          const mark = new Date().toISOString();
          // BIRD drops its BFD protocol without a word: to us that is a dead path.
          peer!.disableBfd!();
          await eventually(async () => (await bfdSession('v4'))?.state === 'Down' && (await bfdSession('v6'))?.state === 'Down', 10_000, 'our BFD sessions Down');
          await eventually(async () => (await status('v4'))?.state === 'up' && (await status('v6'))?.state === 'up', 25_000, 'BGP up again after the hold, without BFD at the peer');
          const log = logSince(mark);
          expect(log).to.include('BFD down: ending the session');
          expect(log).to.include('BFD still down after the hold time');
          const since = (await status('v4'))?.since;
          await sleep(3000);
          expect((await status('v4'))?.state).to.equal('up');
          expect((await status('v4'))?.since, 'no flap').to.equal(since);
          expect((await status('v4'))?.bfd).to.equal('Down');
          expect(kernelHas('v4') && kernelHas('v6'), 'routes back').to.equal(true);
        } catch (e) {
          throw new Error(`${(e as Error).message}${diag()}`);
        }
      });
    }
  });
}

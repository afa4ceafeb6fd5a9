// Graceful restart (RFC 4724) across daemons, our bgpd as the restarting speaker: with a
// continuous ping (every 50 ms) running over the BGP-learned routes, our bgpd is SIGKILLed (no
// NOTIFICATION, no clean-up) and started again. Checked per peer daemon (BIRD 2, BIRD 1.6, FRR,
// GoBGP, each with graceful restart on; an IPv4 and an IPv6 session side by side, BIRD 1.6's
// bird6 left out):
//  - no ping is lost while bgpd is dead and while it comes back (our kernel keeps the routes it
//    learned; for the BIRDs, whose kernel protocol installs our route, the reply path also
//    depends on the peer keeping our route);
//  - while we are down the peer keeps our routes and marks them stale (as its CLI reports it);
//  - after the restarted bgpd's End-of-RIB the mark is gone, and the prefix the restarted bgpd
//    no longer originates has been flushed by the peer.
// FRR (run without zebra) and GoBGP (no FIB) install nothing in their kernel, so with them the
// ping's source is our veth address and only the forward path depends on BGP.
import { expect } from 'chai';
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { bird16Paths, eventually, startBird, startInNetns, type Bird, type Daemon } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';
import { BGPD, REPO_ROOT, createLab, kernelRoutes, type Afi, type Lab } from './harness/lab.js';

const OUR_AS = 65002;
const PEER_AS = 65001;

interface GrPeer {
  established(afi: Afi): boolean;
  /** Our route for `prefix` as the peer holds it: stale or not, or absent. */
  route(afi: Afi, prefix: string): 'stale' | 'fresh' | undefined;
  /** The peer installs our routes in its kernel (so the ping's reply also rides on BGP). */
  readonly fib: boolean;
  stop(): Promise<void>;
  output(): string;
}

interface Kind {
  name: string;
  tag: string;
  net: number;
  families: readonly Afi[];
  /** Starts the peer originating `originate[afi]` for each of its families. */
  start(lab: Lab, originate: Record<Afi, string>): Promise<GrPeer>;
}

const session = (lab: Lab, afi: Afi) => `
  local ${lab.addr[afi].peer} as ${PEER_AS}; neighbor ${lab.addr[afi].ours} as ${OUR_AS};
  hold time 9; keepalive time 1; connect delay time 1; connect retry time 1; error wait time 1, 5;
  graceful restart on; graceful restart time 30;`;

const birdConf = (lab: Lab, originate: Record<Afi, string>, v2: boolean) => v2 ? `
router id ${lab.routerId.peer};
protocol device {}
protocol direct { ipv4; ipv6; interface "${lab.peerIf}"; }
${(['ipv4', 'ipv6'] as Afi[]).map((afi) => `
protocol kernel k_${afi} { ${afi} { export where proto = "tabby_${afi}"; }; graceful restart on; }
protocol static s_${afi} { ${afi}; route ${originate[afi]} blackhole; }
protocol bgp tabby_${afi} {${session(lab, afi)}
  ${afi} { import all; export where proto = "s_${afi}"; };
}`).join('\n')}
` : `
router id ${lab.routerId.peer};
protocol device {}
protocol direct { interface "${lab.peerIf}"; }
protocol kernel { export where proto = "tabby_ipv4"; graceful restart on; }
protocol static srcs { route ${originate.ipv4} blackhole; }
protocol bgp tabby_ipv4 {${session(lab, 'ipv4')}
  import all; export where proto = "srcs";
}
`;

class BirdGr implements GrPeer {
  readonly fib = true;
  constructor(private readonly bird: Bird) {}
  established(afi: Afi) {
    return /\bEstablished\b/.test(this.bird.birdc('show', 'protocols', `tabby_${afi}`));
  }
  route(afi: Afi, prefix: string) {
    const out = this.bird.birdc('show', 'route', prefix, 'all');
    if (!out.includes(`[tabby_${afi} `)) return undefined;
    // BIRD does not flag single routes; its protocol says when it holds the neighbor's routes
    // stale ("Neighbor graceful restart active" until our End-of-RIB).
    return /Neighbor graceful restart active/.test(this.bird.birdc('show', 'protocols', 'all', `tabby_${afi}`)) ? 'stale' : 'fresh';
  }
  stop() { return this.bird.stop(); }
  output() { return this.bird.output(); }
}

const birdKind = (name: string, tag: string, net: number, v2: boolean): Kind => ({
  name, tag, net, families: v2 ? ['ipv4', 'ipv6'] : ['ipv4'],
  start: async (lab, originate) => {
    const dir = join(lab.dir, 'bird');
    mkdirSync(dir, { recursive: true });
    return new BirdGr(startBird(lab.peerNs, dir, birdConf(lab, originate, v2), v2 ? undefined : bird16Paths(REPO_ROOT)));
  },
});

class FrrGr implements GrPeer {
  readonly fib = false;
  constructor(private readonly lab: Lab, private readonly dir: string, private readonly d: Daemon) {}
  vtysh(cmd: string): string {
    const r = spawnSync('vtysh', ['--vty_socket', this.dir, '-c', cmd], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`vtysh ${cmd}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  }
  established(afi: Afi) {
    const addr = this.lab.addr[afi].ours;
    return (JSON.parse(this.vtysh(`show bgp neighbors ${addr} json`)) as Record<string, { bgpState?: string }>)[addr]?.bgpState === 'Established';
  }
  route(afi: Afi, prefix: string) {
    const r = JSON.parse(this.vtysh(`show bgp ${afi} unicast ${prefix} json`) || '{}') as { paths?: { stale?: boolean; peer?: { peerId?: string } }[] };
    const p = r.paths?.find((x) => x.peer?.peerId === this.lab.addr[afi].ours);
    return p ? (p.stale ? 'stale' : 'fresh') : undefined;
  }
  stop() { return this.d.stop(); }
  output() { return this.d.output(); }
}

const frrKind: Kind = {
  name: 'FRR', tag: 'grf', net: 236, families: ['ipv4', 'ipv6'],
  start: async (lab, originate) => {
    const dir = join(lab.dir, 'frr');
    mkdirSync(dir, { recursive: true });
    chmodSync(lab.dir, 0o755);
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'frr.conf'), `frr defaults traditional
hostname tabby-frr
router bgp ${PEER_AS}
 bgp router-id ${lab.routerId.peer}
 no bgp ebgp-requires-policy
 no bgp network import-check
 no bgp default ipv4-unicast
 bgp graceful-restart
 bgp graceful-restart restart-time 30
${(['ipv4', 'ipv6'] as Afi[]).map((afi) => ` neighbor ${lab.addr[afi].ours} remote-as ${OUR_AS}
 neighbor ${lab.addr[afi].ours} timers 1 9
 neighbor ${lab.addr[afi].ours} timers connect 1
`).join('')}${(['ipv4', 'ipv6'] as Afi[]).map((afi) => ` address-family ${afi} unicast
  neighbor ${lab.addr[afi].ours} activate
  network ${originate[afi]}
 exit-address-family
`).join('')}`);
    const d = startInNetns(lab.peerNs, ['/usr/lib/frr/bgpd', '-f', join(dir, 'frr.conf'), '-i', join(dir, 'bgpd.pid'), '--vty_socket', dir, '-Z', '-S', '-n']);
    return new FrrGr(lab, dir, d);
  },
};

const GOBGP_API = ['-u', '127.0.0.1', '-p', '50051'];
class GobgpGr implements GrPeer {
  readonly fib = false;
  constructor(private readonly lab: Lab, private readonly d: Daemon) {}
  established(afi: Afi) {
    const n = JSON.parse(this.lab.peerNs.run('gobgp', [...GOBGP_API, '-j', 'neighbor', this.lab.addr[afi].ours])) as { state?: { session_state?: number } };
    return n.state?.session_state === 6;
  }
  route(afi: Afi, prefix: string) {
    const rib = JSON.parse(this.lab.peerNs.run('gobgp', [...GOBGP_API, '-j', 'global', 'rib', '-a', afi])) as Record<string, { stale?: boolean; 'neighbor-ip'?: string }[]>;
    const p = rib[prefix]?.find((x) => x['neighbor-ip'] === this.lab.addr[afi].ours);
    return p ? (p.stale ? 'stale' : 'fresh') : undefined;
  }
  stop() { return this.d.stop(); }
  output() { return this.d.output(); }
}

const gobgpKind: Kind = {
  name: 'GoBGP', tag: 'grg', net: 237, families: ['ipv4', 'ipv6'],
  start: async (lab, originate) => {
    const cfg = join(lab.dir, 'gobgpd.toml');
    writeFileSync(cfg, `
[global.config]
  as = ${PEER_AS}
  router-id = "${lab.routerId.peer}"
  port = 179
  local-address-list = ["${lab.addr.ipv4.peer}", "${lab.addr.ipv6.peer}"]
${(['ipv4', 'ipv6'] as Afi[]).map((afi) => `
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${lab.addr[afi].ours}"
    peer-as = ${OUR_AS}
  [neighbors.timers.config]
    hold-time = 9
    keepalive-interval = 1
    connect-retry = 1
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 30
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "${afi}-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
`).join('')}`);
    const d = startInNetns(lab.peerNs, ['gobgpd', '-f', cfg, '--api-hosts', '127.0.0.1:50051', '-l', 'warn']);
    await eventually(() => lab.peerNs.tryRun('gobgp', [...GOBGP_API, 'global']).code === 0, 10_000, `GoBGP API; gobgpd: ${d.output()}`);
    for (const afi of ['ipv4', 'ipv6'] as Afi[]) lab.peerNs.run('gobgp', [...GOBGP_API, 'global', 'rib', 'add', '-a', afi, originate[afi]]);
    return new GobgpGr(lab, d);
  },
};

const KINDS: Kind[] = [birdKind('BIRD 2', 'grb2', 234, true), birdKind('BIRD 1.6', 'grb16', 235, false), frrKind, gobgpKind];

for (const kind of KINDS) {
  describe(`bgpd <-> ${kind.name}: graceful restart through a SIGKILL, with a ping across (netns)`, function () {
    this.timeout(90_000);
    const n = kind.net;
    const fams = kind.families;
    const theirs: Record<Afi, string> = { ipv4: `10.${n}.100.0/24`, ipv6: `fd00:${n}:100::/64` };
    const theirAddr: Record<Afi, string> = { ipv4: `10.${n}.100.1`, ipv6: `fd00:${n}:100::1` };
    const ours: Record<Afi, string> = { ipv4: `10.${n}.200.0/24`, ipv6: `fd00:${n}:200::/64` };
    const ourAddr: Record<Afi, string> = { ipv4: `10.${n}.200.1`, ipv6: `fd00:${n}:200::1` };
    const dropped: Record<Afi, string> = { ipv4: `10.${n}.201.0/24`, ipv6: `fd00:${n}:201::/64` };
    let lab: Lab, peer: GrPeer | undefined, bgpd: Daemon | undefined;
    const pings: Partial<Record<Afi, Daemon>> = {};
    const sock = () => join(lab.dir, 'bgpd.ctl');
    const cfg = () => join(lab.dir, 'bgpd.yaml');
    const writeConfig = (originate: string[]) => writeFileSync(cfg(), `routerId: ${lab.routerId.ours}
asNumber: ${OUR_AS}
listen: { address: "::", port: 179 }
peers:
${fams.map((afi) => `  - { address: "${lab.addr[afi].peer}", asNumber: ${PEER_AS}, holdTime: 9, connectRetryTime: 1, gracefulRestart: { enabled: true, restartTime: 30 } }`).join('\n')}
originate:
${originate.map((p) => `  - { prefix: "${p}" }`).join('\n')}
kernel: { enabled: true, protocol: 201 }
`);
    const startOurs = () => startInNetns(lab.ourNs, [process.execPath, BGPD, '--config', cfg(), '--socket', sock(), '--log-level', 'info']);
    const allUp = async () => {
      const st = (await request(sock(), { cmd: 'status' }).catch(() => [])) as PeerStatus[];
      return st.length === fams.length && st.every((p) => p.state === 'up');
    };
    const inKernel = (afi: Afi) => kernelRoutes(lab.ourNs, afi).some((r) => r.dst === theirs[afi]);
    const why = () => `\n--- bgpd:\n${bgpd?.output().slice(-3000)}\n--- ${kind.name}:\n${peer?.output().slice(-2000)}\n--- ping:\n${fams.map((a) => pings[a]?.output().slice(-500)).join('\n')}`;

    before(async () => {
      lab = await createLab(kind.tag, n);
      for (const afi of fams) {
        const len = afi === 'ipv4' ? 32 : 128;
        lab.peerNs.run('ip', [afi === 'ipv4' ? '-4' : '-6', 'addr', 'add', `${theirAddr[afi]}/${len}`, 'dev', 'lo']);
        lab.ourNs.run('ip', [afi === 'ipv4' ? '-4' : '-6', 'addr', 'add', `${ourAddr[afi]}/${len}`, 'dev', 'lo']);
      }
      try {
        peer = await kind.start(lab, theirs);
        writeConfig(fams.flatMap((a) => [ours[a], dropped[a]]));
        bgpd = startOurs();
        for (const afi of fams) {
          await eventually(() => peer!.established(afi), 30_000, `${afi} session on ${kind.name}`);
          await eventually(() => inKernel(afi), 10_000, `${theirs[afi]} in our kernel`);
          await eventually(() => peer!.route(afi, ours[afi]) === 'fresh' && peer!.route(afi, dropped[afi]) === 'fresh', 10_000, `${kind.name} has our ${afi} routes`);
        }
      } catch (e) {
        throw new Error(`${(e as Error).message}${why()}`);
      }
    });

    after(async () => {
      for (const p of Object.values(pings)) {
        p.signal('SIGKILL');
        await p.stop();
      }
      await bgpd?.stop();
      await peer?.stop();
      lab?.destroy();
    });

    it(`SIGKILL and restart of bgpd (${fams.join(' + ')}): no ping lost, our routes kept stale by the peer, refreshed and flushed after our End-of-RIB`, async () => {
      for (const afi of fams) {
        const src = peer!.fib ? ourAddr[afi] : lab.addr[afi].ours;
        pings[afi] = startInNetns(lab.ourNs, ['ping', afi === 'ipv4' ? '-4' : '-6', '-q', '-n', '-i', '0.05', '-W', '1', '-I', src, theirAddr[afi]]);
      }
      try {
        await new Promise((r) => setTimeout(r, 1000));
        bgpd!.signal('SIGKILL');
        await bgpd!.stop();
        for (const afi of fams) {
          await eventually(() => !peer!.established(afi), 15_000, `${kind.name} noticed the ${afi} session is gone`);
          await eventually(() => peer!.route(afi, ours[afi]) === 'stale', 5000, `${kind.name} marks our ${afi} route stale`);
          expect(peer!.route(afi, dropped[afi]), `${kind.name} keeps the other ${afi} route, stale, too`).to.equal('stale');
          expect(inKernel(afi), `our kernel keeps the learned ${afi} route while bgpd is dead`).to.equal(true);
        }
        await new Promise((r) => setTimeout(r, 1000));
        // Same graceful-restart config; one prefix fewer per family, to see the peer flush it at our End-of-RIB.
        writeConfig(fams.map((a) => ours[a]));
        bgpd = startOurs();
        await eventually(allUp, 30_000, 'sessions back');
        for (const afi of fams) {
          await eventually(() => peer!.route(afi, ours[afi]) === 'fresh', 15_000, `${kind.name} refreshed our ${afi} route (no longer stale)`);
          await eventually(() => peer!.route(afi, dropped[afi]) === undefined, 15_000, `${kind.name} flushed ${dropped[afi]} after our End-of-RIB`);
          expect(inKernel(afi), `our kernel still has the ${afi} route`).to.equal(true);
        }
        await new Promise((r) => setTimeout(r, 1000));
      } catch (e) {
        throw new Error(`${(e as Error).message}${why()}`);
      }
      for (const afi of fams) {
        const ping = pings[afi]!;
        ping.signal('SIGINT');
        await eventually(() => ping.exited(), 5000, 'ping summary');
        const m = /(\d+) packets transmitted, (\d+) received/.exec(ping.output());
        expect(m, `${afi} ping summary: ${ping.output().slice(-500)}`).to.not.equal(null);
        const [sent, got] = [Number(m![1]), Number(m![2])];
        expect(sent, `${afi} pings sent across the restart`).to.be.greaterThan(40);
        expect(sent - got, `${afi} pings lost (${got}/${sent} answered)${why()}`).to.equal(0);
      }
    });
  });
}

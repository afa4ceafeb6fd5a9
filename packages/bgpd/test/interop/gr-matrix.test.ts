// Graceful restart (RFC 4724) across daemons, our bgpd as the restarting speaker: with a
// continuous ping (every 50 ms) running over the BGP-learned routes, our bgpd is SIGKILLed (no
// NOTIFICATION, no clean-up) and started again. Checked per peer daemon (BIRD 2, BIRD 1.6, FRR,
// GoBGP, each with graceful restart on):
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
import { BGPD, REPO_ROOT, createLab, kernelRoutes, type Lab } from './harness/lab.js';

const OUR_AS = 65002;
const PEER_AS = 65001;

interface GrPeer {
  established(): boolean;
  /** Our route for `prefix` as the peer holds it: stale or not, or absent. */
  route(prefix: string): 'stale' | 'fresh' | undefined;
  /** The peer installs our routes in its kernel (so the ping's reply also rides on BGP). */
  readonly fib: boolean;
  stop(): Promise<void>;
  output(): string;
}

interface Kind {
  name: string;
  tag: string;
  net: number;
  start(lab: Lab, originate: string): Promise<GrPeer>;
}

const birdConf = (lab: Lab, originate: string, v2: boolean) => v2 ? `
router id ${lab.routerId.peer};
protocol device {}
protocol direct { ipv4; interface "${lab.peerIf}"; }
protocol kernel { ipv4 { export where proto = "tabby"; }; graceful restart on; }
protocol static srcs { ipv4; route ${originate} blackhole; }
protocol bgp tabby {
  local ${lab.addr.ipv4.peer} as ${PEER_AS}; neighbor ${lab.addr.ipv4.ours} as ${OUR_AS};
  hold time 9; keepalive time 1; connect delay time 1; connect retry time 1; error wait time 1, 5;
  graceful restart on; graceful restart time 30;
  ipv4 { import all; export where proto = "srcs"; };
}
` : `
router id ${lab.routerId.peer};
protocol device {}
protocol direct { interface "${lab.peerIf}"; }
protocol kernel { export where proto = "tabby"; graceful restart on; }
protocol static srcs { route ${originate} blackhole; }
protocol bgp tabby {
  local ${lab.addr.ipv4.peer} as ${PEER_AS}; neighbor ${lab.addr.ipv4.ours} as ${OUR_AS};
  hold time 9; keepalive time 1; connect delay time 1; connect retry time 1; error wait time 1, 5;
  graceful restart on; graceful restart time 30;
  import all; export where proto = "srcs";
}
`;

class BirdGr implements GrPeer {
  readonly fib = true;
  constructor(private readonly bird: Bird) {}
  established() {
    return /\bEstablished\b/.test(this.bird.birdc('show', 'protocols', 'tabby'));
  }
  route(prefix: string) {
    const out = this.bird.birdc('show', 'route', prefix, 'all');
    if (!out.includes('[tabby ')) return undefined;
    // BIRD does not flag single routes; its protocol says when it holds the neighbor's routes
    // stale ("Neighbor graceful restart active" until our End-of-RIB).
    return /Neighbor graceful restart active/.test(this.bird.birdc('show', 'protocols', 'all', 'tabby')) ? 'stale' : 'fresh';
  }
  stop() { return this.bird.stop(); }
  output() { return this.bird.output(); }
}

const birdKind = (name: string, tag: string, net: number, v2: boolean): Kind => ({
  name, tag, net,
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
  established() {
    const addr = this.lab.addr.ipv4.ours;
    return (JSON.parse(this.vtysh(`show bgp neighbors ${addr} json`)) as Record<string, { bgpState?: string }>)[addr]?.bgpState === 'Established';
  }
  route(prefix: string) {
    const r = JSON.parse(this.vtysh(`show bgp ipv4 unicast ${prefix} json`) || '{}') as { paths?: { stale?: boolean; peer?: { peerId?: string } }[] };
    const p = r.paths?.find((x) => x.peer?.peerId === this.lab.addr.ipv4.ours);
    return p ? (p.stale ? 'stale' : 'fresh') : undefined;
  }
  stop() { return this.d.stop(); }
  output() { return this.d.output(); }
}

const frrKind: Kind = {
  name: 'FRR', tag: 'grf', net: 236,
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
 neighbor ${lab.addr.ipv4.ours} remote-as ${OUR_AS}
 neighbor ${lab.addr.ipv4.ours} timers 1 9
 neighbor ${lab.addr.ipv4.ours} timers connect 1
 address-family ipv4 unicast
  neighbor ${lab.addr.ipv4.ours} activate
  network ${originate}
 exit-address-family
`);
    const d = startInNetns(lab.peerNs, ['/usr/lib/frr/bgpd', '-f', join(dir, 'frr.conf'), '-i', join(dir, 'bgpd.pid'), '--vty_socket', dir, '-Z', '-S', '-n']);
    return new FrrGr(lab, dir, d);
  },
};

const GOBGP_API = ['-u', '127.0.0.1', '-p', '50051'];
class GobgpGr implements GrPeer {
  readonly fib = false;
  constructor(private readonly lab: Lab, private readonly d: Daemon) {}
  established() {
    const n = JSON.parse(this.lab.peerNs.run('gobgp', [...GOBGP_API, '-j', 'neighbor', this.lab.addr.ipv4.ours])) as { state?: { session_state?: number } };
    return n.state?.session_state === 6;
  }
  route(prefix: string) {
    const rib = JSON.parse(this.lab.peerNs.run('gobgp', [...GOBGP_API, '-j', 'global', 'rib', '-a', 'ipv4'])) as Record<string, { stale?: boolean; 'neighbor-ip'?: string }[]>;
    const p = rib[prefix]?.find((x) => x['neighbor-ip'] === this.lab.addr.ipv4.ours);
    return p ? (p.stale ? 'stale' : 'fresh') : undefined;
  }
  stop() { return this.d.stop(); }
  output() { return this.d.output(); }
}

const gobgpKind: Kind = {
  name: 'GoBGP', tag: 'grg', net: 237,
  start: async (lab, originate) => {
    const cfg = join(lab.dir, 'gobgpd.toml');
    writeFileSync(cfg, `
[global.config]
  as = ${PEER_AS}
  router-id = "${lab.routerId.peer}"
  port = 179
  local-address-list = ["${lab.addr.ipv4.peer}"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${lab.addr.ipv4.ours}"
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
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
`);
    const d = startInNetns(lab.peerNs, ['gobgpd', '-f', cfg, '--api-hosts', '127.0.0.1:50051', '-l', 'warn']);
    await eventually(() => lab.peerNs.tryRun('gobgp', [...GOBGP_API, 'global']).code === 0, 10_000, `GoBGP API; gobgpd: ${d.output()}`);
    lab.peerNs.run('gobgp', [...GOBGP_API, 'global', 'rib', 'add', '-a', 'ipv4', originate]);
    return new GobgpGr(lab, d);
  },
};

const KINDS: Kind[] = [birdKind('BIRD 2', 'grb2', 234, true), birdKind('BIRD 1.6', 'grb16', 235, false), frrKind, gobgpKind];

for (const kind of KINDS) {
  describe(`bgpd <-> ${kind.name}: graceful restart through a SIGKILL, with a ping across (netns)`, function () {
    this.timeout(90_000);
    const n = kind.net;
    const theirs = `10.${n}.100.0/24`, theirAddr = `10.${n}.100.1`;
    const ours = `10.${n}.200.0/24`, ourAddr = `10.${n}.200.1`;
    const dropped = `10.${n}.201.0/24`;
    let lab: Lab, peer: GrPeer | undefined, bgpd: Daemon | undefined, ping: Daemon | undefined;
    const sock = () => join(lab.dir, 'bgpd.ctl');
    const cfg = () => join(lab.dir, 'bgpd.yaml');
    const writeConfig = (originate: string[]) => writeFileSync(cfg(), `routerId: ${lab.routerId.ours}
asNumber: ${OUR_AS}
listen: { address: 0.0.0.0, port: 179 }
peers:
  - { address: ${lab.addr.ipv4.peer}, asNumber: ${PEER_AS}, holdTime: 9, connectRetryTime: 1, gracefulRestart: { enabled: true, restartTime: 30 } }
originate:
${originate.map((p) => `  - { prefix: ${p} }`).join('\n')}
kernel: { enabled: true, protocol: 201 }
`);
    const startOurs = () => startInNetns(lab.ourNs, [process.execPath, BGPD, '--config', cfg(), '--socket', sock(), '--log-level', 'info']);
    const up = async () => ((await request(sock(), { cmd: 'status' }).catch(() => [])) as PeerStatus[])[0]?.state === 'up';
    const inKernel = () => kernelRoutes(lab.ourNs, 'ipv4').some((r) => r.dst === theirs);
    const why = () => `\n--- bgpd:\n${bgpd?.output().slice(-3000)}\n--- ${kind.name}:\n${peer?.output().slice(-2000)}\n--- ping:\n${ping?.output().slice(-1500)}`;

    before(async () => {
      lab = await createLab(kind.tag, n);
      lab.peerNs.run('ip', ['addr', 'add', `${theirAddr}/32`, 'dev', 'lo']);
      lab.ourNs.run('ip', ['addr', 'add', `${ourAddr}/32`, 'dev', 'lo']);
      try {
        peer = await kind.start(lab, theirs);
        writeConfig([ours, dropped]);
        bgpd = startOurs();
        await eventually(() => peer!.established(), 30_000, `session on ${kind.name}`);
        await eventually(inKernel, 10_000, `${theirs} in our kernel`);
        await eventually(() => peer!.route(ours) === 'fresh' && peer!.route(dropped) === 'fresh', 10_000, `${kind.name} has our routes`);
      } catch (e) {
        throw new Error(`${(e as Error).message}${why()}`);
      }
    });

    after(async () => {
      ping?.signal('SIGKILL');
      await ping?.stop();
      await bgpd?.stop();
      await peer?.stop();
      lab?.destroy();
    });

    it('SIGKILL and restart of bgpd: no ping lost, our routes kept stale by the peer, refreshed and flushed after our End-of-RIB', async () => {
      const src = peer!.fib ? ourAddr : lab.addr.ipv4.ours;
      ping = startInNetns(lab.ourNs, ['ping', '-q', '-n', '-i', '0.05', '-W', '1', '-I', src, theirAddr]);
      const staleSeen: string[] = [];
      try {
        await new Promise((r) => setTimeout(r, 1000));
        bgpd!.signal('SIGKILL');
        await bgpd!.stop();
        await eventually(() => !peer!.established(), 15_000, `${kind.name} noticed the session is gone`);
        await eventually(() => peer!.route(ours) === 'stale', 5000, `${kind.name} marks our route stale`);
        staleSeen.push(ours);
        expect(peer!.route(dropped), `${kind.name} keeps the other route, stale, too`).to.equal('stale');
        expect(inKernel(), 'our kernel keeps the learned route while bgpd is dead').to.equal(true);
        await new Promise((r) => setTimeout(r, 1000));
        // Same graceful-restart config; one prefix fewer, to see the peer flush it at our End-of-RIB.
        writeConfig([ours]);
        bgpd = startOurs();
        await eventually(up, 30_000, 'session back');
        await eventually(() => peer!.route(ours) === 'fresh', 15_000, `${kind.name} refreshed our route (no longer stale)`);
        await eventually(() => peer!.route(dropped) === undefined, 15_000, `${kind.name} flushed ${dropped} after our End-of-RIB`);
        expect(inKernel(), 'our kernel still has the route').to.equal(true);
        await new Promise((r) => setTimeout(r, 1000));
      } catch (e) {
        throw new Error(`${(e as Error).message}${why()}`);
      }
      ping.signal('SIGINT');
      await eventually(() => ping!.exited(), 5000, 'ping summary');
      const m = /(\d+) packets transmitted, (\d+) received/.exec(ping.output());
      expect(m, `ping summary: ${ping.output().slice(-500)}`).to.not.equal(null);
      const [sent, got] = [Number(m![1]), Number(m![2])];
      expect(sent, 'pings sent across the restart').to.be.greaterThan(40);
      expect(sent - got, `pings lost (${got}/${sent} answered)${why()}`).to.equal(0);
      expect(staleSeen).to.deep.equal([ours]);
    });
  });
}

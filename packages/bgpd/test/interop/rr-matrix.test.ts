// Route reflection (RFC 4456) across daemons, everyone in AS 65000 on one bridge:
//  1. our bgpd reflects for three clients, BIRD 2, FRR and a second bgpd; each learns the other
//     two's routes with the next hop unchanged, and BIRD and FRR show ORIGINATOR_ID (the
//     originating client) and CLUSTER_LIST (our cluster ID); the bgpd client installs them in
//     its kernel via the originating client's address;
//  2. FRR reflects for our bgpd and BIRD 2: our bgpd learns BIRD's route through FRR (kernel
//     route via BIRD's address) and BIRD learns ours with FRR's cluster ID.
import { expect } from 'chai';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createNetns, eventually, hostRun, startBird, startInNetns, tmpDir, type Bird, type Daemon, type Netns } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';
import { BGPD } from './harness/lab.js';

const AS = 65000;
const kernel = (ns: Netns) => JSON.parse(ns.run('ip', ['-j', 'route', 'show', 'proto', '201'])) as { dst: string; gateway?: string }[];

/** A bridge namespace and a helper to hang a namespace on it. */
function segment(tag: string) {
  const sw = createNetns(`${tag}sw`);
  sw.run('ip', ['link', 'add', 'br0', 'type', 'bridge']);
  sw.run('ip', ['link', 'set', 'br0', 'up']);
  const nss: Netns[] = [sw];
  return {
    nss,
    attach(nsTag: string, ifname: string, ip: string): Netns {
      const ns = createNetns(nsTag);
      nss.push(ns);
      hostRun(['ip', 'link', 'add', ifname, 'netns', ns.name, 'type', 'veth', 'peer', 'name', `s-${ifname}`, 'netns', sw.name]);
      sw.run('ip', ['link', 'set', `s-${ifname}`, 'master', 'br0', 'up']);
      ns.run('ip', ['addr', 'add', `${ip}/24`, 'dev', ifname]);
      ns.run('ip', ['link', 'set', ifname, 'up']);
      return ns;
    },
    destroy() {
      for (const ns of nss) ns.delete();
    },
  };
}

const birdClient = (id: string, rr: string, prefix: string) => `router id ${id};
protocol device {}
protocol direct { ipv4; }
protocol static srcs { ipv4; route ${prefix} blackhole; }
protocol bgp toreflector {
  local ${id} as ${AS}; neighbor ${rr} as ${AS};
  hold time 9; keepalive time 1; connect retry time 1; error wait time 1, 5;
  ipv4 { import all; export where proto = "srcs"; };
}
`;

const bgpdConfig = (id: string, peers: string[], originate: string[], rr?: { clusterId: string }) => `routerId: ${id}
asNumber: ${AS}
${rr ? `clusterId: ${rr.clusterId}\n` : ''}listen: { address: ${id}, port: 179 }
peers:
${peers.map((p) => `  - { address: ${p}, asNumber: ${AS}, holdTime: 9, connectRetryTime: 1${rr ? ', routeReflectorClient: true' : ''} }`).join('\n')}
originate:
${originate.map((p) => `  - { prefix: ${p} }`).join('\n') || '  []'}
kernel: { enabled: true, protocol: 201 }
`.replace('originate:\n  []', 'originate: []');

class Frr {
  readonly d: Daemon;
  constructor(ns: Netns, readonly dir: string, conf: string) {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'frr.conf'), conf);
    this.d = startInNetns(ns, ['/usr/lib/frr/bgpd', '-f', join(dir, 'frr.conf'), '-i', join(dir, 'bgpd.pid'), '--vty_socket', dir, '-Z', '-S', '-n']);
  }
  vtysh(cmd: string): string {
    const r = spawnSync('vtysh', ['--vty_socket', this.dir, '-c', cmd], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`vtysh ${cmd}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  }
  /** The best path FRR has for `prefix`, with the reflection attributes. */
  path(prefix: string): { nextHop?: string; originatorId?: string; clusterList?: string[]; from?: string } | undefined {
    const r = JSON.parse(this.vtysh(`show bgp ipv4 unicast ${prefix} json`) || '{}') as {
      paths?: { bestpath?: { overall?: boolean }; originatorId?: string; clusterList?: { list?: string[] }; nexthops?: { ip: string }[]; peer?: { peerId?: string } }[];
    };
    const p = r.paths?.[0];
    if (!p) return undefined;
    return { nextHop: p.nexthops?.[0]?.ip, originatorId: p.originatorId, clusterList: p.clusterList?.list, from: p.peer?.peerId };
  }
  established(addr: string): boolean {
    return (JSON.parse(this.vtysh(`show bgp neighbors ${addr} json`)) as Record<string, { bgpState?: string }>)[addr]?.bgpState === 'Established';
  }
}

const frrConf = (id: string, neighbors: { addr: string; client: boolean }[], networks: string[], clusterId?: string) => `frr defaults traditional
hostname tabby-rr-frr
router bgp ${AS}
 bgp router-id ${id}
${clusterId ? ` bgp cluster-id ${clusterId}\n` : ''} no bgp network import-check
 no bgp default ipv4-unicast
${neighbors.map((n) => ` neighbor ${n.addr} remote-as ${AS}\n neighbor ${n.addr} timers 1 9\n neighbor ${n.addr} timers connect 1\n`).join('')} address-family ipv4 unicast
${neighbors.map((n) => `  neighbor ${n.addr} activate\n${n.client ? `  neighbor ${n.addr} route-reflector-client\n` : ''}`).join('')}${networks.map((p) => `  network ${p}\n`).join('')} exit-address-family
`;

/** BIRD's route for `prefix` from its session, with the reflection attributes. */
function birdRoute(bird: Bird, prefix: string) {
  const out = bird.birdc('show', 'route', prefix, 'all');
  if (!out.includes('[toreflector ')) return undefined;
  return {
    nextHop: /BGP\.next_hop: (\S+)/.exec(out)?.[1],
    originatorId: /BGP\.originator_id: (\S+)/.exec(out)?.[1],
    clusterList: /BGP\.cluster_list: ([^\n]*)/.exec(out)?.[1]?.trim().split(/\s+/),
    out,
  };
}

describe('bgpd as route reflector for BIRD 2, FRR and bgpd clients (netns)', function () {
  this.timeout(90_000);
  const RR = '10.207.0.1', BIRD = '10.207.0.2', FRR = '10.207.0.3', CL = '10.207.0.4';
  const P = { bird: '10.95.2.0/24', frr: '10.95.3.0/24', bgpd: '10.95.4.0/24' };
  let seg: ReturnType<typeof segment>, dir: string;
  let rr: Daemon | undefined, cl: Daemon | undefined, bird: Bird | undefined, frr: Frr | undefined;
  let clNs: Netns;
  const why = () => `\n--- rr:\n${rr?.output().slice(-2000)}\n--- bgpd client:\n${cl?.output().slice(-1500)}\n--- bird:\n${bird?.output().slice(-1000)}\n--- frr:\n${frr?.d.output().slice(-1500)}`;

  before(async () => {
    dir = tmpDir('tabby-rrm-');
    chmodSync(dir, 0o755);
    seg = segment('rrm');
    const rrNs = seg.attach('rrmr', 'rrm0', RR);
    const birdNs = seg.attach('rrmb', 'rrmb0', BIRD);
    const frrNs = seg.attach('rrmf', 'rrmf0', FRR);
    clNs = seg.attach('rrmc', 'rrmc0', CL);
    writeFileSync(join(dir, 'rr.yaml'), bgpdConfig(RR, [BIRD, FRR, CL], [], { clusterId: '1.1.1.1' }));
    writeFileSync(join(dir, 'cl.yaml'), bgpdConfig(CL, [RR], [P.bgpd]));
    rr = startInNetns(rrNs, [process.execPath, BGPD, '--config', join(dir, 'rr.yaml'), '--socket', join(dir, 'rr.ctl')]);
    cl = startInNetns(clNs, [process.execPath, BGPD, '--config', join(dir, 'cl.yaml'), '--socket', join(dir, 'cl.ctl')]);
    mkdirSync(join(dir, 'bird'));
    bird = startBird(birdNs, join(dir, 'bird'), birdClient(BIRD, RR, P.bird));
    frr = new Frr(frrNs, join(dir, 'frr'), frrConf(FRR, [{ addr: RR, client: false }], [P.frr]));
    try {
      await eventually(async () => {
        const st = (await request(join(dir, 'rr.ctl'), { cmd: 'status' })) as PeerStatus[];
        return st.length === 3 && st.every((p) => p.state === 'up');
      }, 30_000, 'all three client sessions up on the reflector');
    } catch (e) {
      throw new Error(`${(e as Error).message}${why()}`);
    }
  });

  after(async () => {
    await rr?.stop();
    await cl?.stop();
    await bird?.stop();
    await frr?.d.stop();
    seg?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('BIRD 2 learns the FRR and bgpd clients\' routes with ORIGINATOR_ID and CLUSTER_LIST', async () => {
    for (const [prefix, origin] of [[P.frr, FRR], [P.bgpd, CL]] as const) {
      const r = await eventually(() => birdRoute(bird!, prefix), 20_000, `BIRD learns ${prefix}${why()}`);
      expect(r!.nextHop, `${prefix} next hop`).to.equal(origin);
      expect(r!.originatorId, `${prefix} ORIGINATOR_ID`).to.equal(origin);
      expect(r!.clusterList, `${prefix} CLUSTER_LIST`).to.deep.equal(['1.1.1.1']);
      expect(r!.out, `${prefix} usable on BIRD`).to.not.match(/unreachable/);
    }
  });

  it('FRR learns the BIRD and bgpd clients\' routes with ORIGINATOR_ID and CLUSTER_LIST', async () => {
    for (const [prefix, origin] of [[P.bird, BIRD], [P.bgpd, CL]] as const) {
      const p = await eventually(() => frr!.path(prefix), 20_000, `FRR learns ${prefix}${why()}`);
      expect(p, prefix).to.deep.equal({ nextHop: origin, originatorId: origin, clusterList: ['1.1.1.1'], from: RR });
    }
  });

  it("the bgpd client installs BIRD's and FRR's routes via their own addresses", async () => {
    for (const [prefix, origin] of [[P.bird, BIRD], [P.frr, FRR]] as const) {
      const r = await eventually(() => kernel(clNs).find((x) => x.dst === prefix), 20_000, `${prefix} in the bgpd client's kernel${why()}`);
      expect(r!.gateway, `${prefix} gateway`).to.equal(origin);
    }
    // Its own route does not come back to it.
    const routes = (await request(join(dir, 'cl.ctl'), { cmd: 'routes' })) as { prefix: string; from: string }[];
    expect(routes.filter((r) => r.prefix === P.bgpd && r.from === RR)).to.deep.equal([]);
  });
});

describe('bgpd as a client of FRR as route reflector, with a BIRD 2 client (netns)', function () {
  this.timeout(90_000);
  const RR = '10.208.0.1', OURS = '10.208.0.2', BIRD = '10.208.0.3';
  const P = { ours: '10.96.2.0/24', bird: '10.96.3.0/24' };
  let seg: ReturnType<typeof segment>, dir: string;
  let ours: Daemon | undefined, bird: Bird | undefined, frr: Frr | undefined;
  let ourNs: Netns;
  const why = () => `\n--- bgpd:\n${ours?.output().slice(-2000)}\n--- bird:\n${bird?.output().slice(-1000)}\n--- frr:\n${frr?.d.output().slice(-1500)}`;

  before(async () => {
    dir = tmpDir('tabby-rrf-');
    chmodSync(dir, 0o755);
    seg = segment('rrf');
    const frrNs = seg.attach('rrfr', 'rrf0', RR);
    ourNs = seg.attach('rrfo', 'rrfo0', OURS);
    const birdNs = seg.attach('rrfb', 'rrfb0', BIRD);
    frr = new Frr(frrNs, join(dir, 'frr'), frrConf(RR, [{ addr: OURS, client: true }, { addr: BIRD, client: true }], [], '2.2.2.2'));
    writeFileSync(join(dir, 'bgpd.yaml'), bgpdConfig(OURS, [RR], [P.ours]));
    ours = startInNetns(ourNs, [process.execPath, BGPD, '--config', join(dir, 'bgpd.yaml'), '--socket', join(dir, 'bgpd.ctl')]);
    mkdirSync(join(dir, 'bird'));
    bird = startBird(birdNs, join(dir, 'bird'), birdClient(BIRD, RR, P.bird));
    try {
      await eventually(() => frr!.established(OURS) && frr!.established(BIRD), 30_000, 'both clients up on FRR');
    } catch (e) {
      throw new Error(`${(e as Error).message}${why()}`);
    }
  });

  after(async () => {
    await ours?.stop();
    await bird?.stop();
    await frr?.d.stop();
    seg?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("our bgpd learns BIRD's route through FRR and installs it via BIRD's address", async () => {
    const r = await eventually(() => kernel(ourNs).find((x) => x.dst === P.bird), 20_000, `${P.bird} in our kernel${why()}`);
    expect(r!.gateway).to.equal(BIRD);
    const routes = (await request(join(dir, 'bgpd.ctl'), { cmd: 'routes' })) as { prefix: string; from: string; nextHops: string[] }[];
    expect(routes.find((x) => x.prefix === P.bird), JSON.stringify(routes)).to.deep.include({ from: RR, nextHops: [BIRD] });
  });

  it('BIRD learns our route through FRR with our ORIGINATOR_ID and FRR\'s CLUSTER_LIST', async () => {
    const r = await eventually(() => birdRoute(bird!, P.ours), 20_000, `BIRD learns ${P.ours}${why()}`);
    expect(r!.nextHop).to.equal(OURS);
    expect(r!.originatorId).to.equal(OURS);
    expect(r!.clusterList).to.deep.equal(['2.2.2.2']);
  });

  it('FRR reflected ours unchanged and did not send our own route back to us', async () => {
    expect(frr!.path(P.ours)).to.deep.include({ nextHop: OURS, from: OURS });
    const routes = (await request(join(dir, 'bgpd.ctl'), { cmd: 'routes' })) as { prefix: string; from: string }[];
    expect(routes.filter((x) => x.prefix === P.ours && x.from === RR)).to.deep.equal([]);
  });
});

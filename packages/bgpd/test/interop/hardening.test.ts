// bgpd's session hardening against real routers in network namespaces: TCP MD5 with BIRD 2, FRR
// and GoBGP (matching, wrong and missing keys), GTSM with BIRD 2 one and two hops away,
// maxPrefixes (Cease/1 as BIRD reports it), allowLocalAs, nextHop keep/self as FRR records it,
// and localAsNumber (FRR expects our session AS to be 64999).
//
//   BIRD b (AS 65101, MD5) ──┐            ┌── BIRD d (AS 65104, GTSM, direct)
//   FRR  f (AS 65102, MD5) ──┤── bgpd ────┤
//   GoBGP g (AS 65103, MD5) ─┘  (65002)   └── router m ── BIRD t (AS 65105, GTSM, two hops)
import { expect } from 'chai';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, vethPair, tmpDir, startBird, startInNetns, eventually, type Netns, type Bird, type Daemon } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));

/** The subnet 10.213.<n>.0/24 joins bgpd (.2) and a peer (.1). */
const net = (n: number) => ({ peer: `10.213.${n}.1`, ours: `10.213.${n}.2` });
const B = net(1), F = net(2), G = net(3), D = net(4), M = net(5);
/** BIRD t sits behind router m: 10.213.6.1 (m) - 10.213.6.2 (t). */
const T = { peer: '10.213.6.2', router: '10.213.6.1' };
const KEYS = { b: 'bird-secret', f: 'frr-secret', g: 'gobgp-secret' };
const FRR_SEES_OUR_AS = 64999;
const NOWHERE = '10.213.1.77';
/** An IPv6 session to BIRD b as well (keyed on both sockets as IPv6). */
const B6 = { peer: 'fd00:213:1::1', ours: 'fd00:213:1::2' };

interface PeerKnobs {
  password?: string;
  extra?: string;
}

const bird = (id: string, as: number, neighbor: string, body: string, statics = '') => `
router id ${id};
protocol device {}
${statics}
protocol bgp tabby {
  local as ${as};
  neighbor ${neighbor} as 65002;
  hold time 3; keepalive time 1; connect delay time 1; connect retry time 1; error wait time 1, 5;
  ${body}
}
`;

describe('bgpd hardening against BIRD 2, FRR and GoBGP (netns): MD5, GTSM, maxPrefixes, allowLocalAs, nextHop, localAsNumber', function () {
  this.timeout(60_000);
  const nss: Netns[] = [];
  const daemons: Daemon[] = [];
  let dir: string, ours: Netns, birdB: Bird, birdD: Bird, birdT: Bird, frrDir: string, cfgFile: string, sock: string, bgpd: Daemon;
  const knobs: Record<'b' | 'f' | 'g' | 'd' | 't', PeerKnobs> = {
    b: { password: KEYS.b }, f: { password: KEYS.f }, g: { password: KEYS.g }, d: { extra: 'ttlSecurity: 1' }, t: { extra: 'ttlSecurity: 1' },
  };
  const ns: Record<string, Netns> = {};

  const writeConfig = () => {
    const peer = (address: string, as: number, k: PeerKnobs, more = '') =>
      `  - { address: ${address}, asNumber: ${as}, holdTime: 3, connectRetryTime: 1${k.password ? `, password: "${k.password}"` : ''}${k.extra ? `, ${k.extra}` : ''}${more} }`;
    writeFileSync(cfgFile, [
      'routerId: 10.213.1.2',
      'asNumber: 65002',
      'listen: { address: "::", port: 179 }',
      'peers:',
      peer(B.peer, 65101, knobs.b),
      peer(B6.peer, 65101, { password: KEYS.b }),
      peer(F.peer, 65102, knobs.f, `, localAsNumber: ${FRR_SEES_OUR_AS}`),
      peer(G.peer, 65103, knobs.g),
      peer(D.peer, 65104, knobs.d),
      peer(T.peer, 65105, knobs.t),
      // A source address this host does not have.
      `  - { address: ${NOWHERE}, asNumber: 65109, connectRetryTime: 1, sourceAddress: 10.213.9.9 }`,
      'kernel: { enabled: false }',
    ].join('\n') + '\n');
  };
  const reload = () => { writeConfig(); bgpd.signal('SIGHUP'); };
  const status = async (addr: string) => ((await request(sock, { cmd: 'status' })) as PeerStatus[]).find((p) => p.address === addr);
  const up = async (addr: string) => (await status(addr))?.state === 'up';
  const routes = async () => (await request(sock, { cmd: 'routes' })) as { prefix: string; from: string }[];
  const vtysh = (...cmds: string[]) => {
    const r = spawnSync('vtysh', ['--vty_socket', frrDir, ...cmds.flatMap((c) => ['-c', c])], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`vtysh failed: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const peerUp = {
    b: () => /\bEstablished\b/.test(birdB.birdc('show', 'protocols', 'tabby')),
    d: () => /\bEstablished\b/.test(birdD.birdc('show', 'protocols', 'tabby')),
    t: () => /\bEstablished\b/.test(birdT.birdc('show', 'protocols', 'tabby')),
    f: () => (JSON.parse(vtysh(`show bgp neighbors ${F.ours} json`)) as Record<string, { bgpState?: string }>)[F.ours]?.bgpState === 'Established',
    g: () => (JSON.parse(ns['g']!.run('gobgp', ['-u', '127.0.0.1', '-p', '50051', '-j', 'neighbor', G.ours])) as { state?: { session_state?: number } }).state?.session_state === 6,
  };
  const why = () => `bgpd said:\n${bgpd.output().slice(-3000)}`;

  /** Neither side may reach Established for `ms` (polled every 250 ms). */
  async function neverUp(ms: number, pairs: [string, () => boolean][]): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      for (const [addr, peerSide] of pairs) {
        expect(await up(addr), `bgpd established with ${addr}; ${why()}`).to.equal(false);
        expect(peerSide(), `${addr} says Established`).to.equal(false);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  before(async () => {
    dir = tmpDir('tabby-hardening-');
    chmodSync(dir, 0o755);
    ours = createNetns('hd-bgpd');
    nss.push(ours);
    for (const [tag, n, addrs] of [['b', 1, B], ['f', 2, F], ['g', 3, G], ['d', 4, D], ['m', 5, M]] as const) {
      const peerNs = createNetns(`hd-${tag}`);
      nss.push(peerNs);
      ns[tag] = peerNs;
      vethPair(peerNs, `hd${tag}p`, ours, `hd${tag}o`);
      peerNs.run('ip', ['addr', 'add', `${addrs.peer}/24`, 'dev', `hd${tag}p`]);
      ours.run('ip', ['addr', 'add', `${addrs.ours}/24`, 'dev', `hd${tag}o`]);
      void n;
    }
    ns['b']!.run('ip', ['-6', 'addr', 'add', `${B6.peer}/64`, 'dev', 'hdbp', 'nodad']);
    ours.run('ip', ['-6', 'addr', 'add', `${B6.ours}/64`, 'dev', 'hdbo', 'nodad']);
    // BIRD t two hops away: bgpd -> m (forwarding) -> t.
    const t = createNetns('hd-t');
    nss.push(t);
    ns['t'] = t;
    vethPair(ns['m']!, 'hdmt', t, 'hdtp');
    ns['m']!.run('ip', ['addr', 'add', `${T.router}/24`, 'dev', 'hdmt']);
    t.run('ip', ['addr', 'add', `${T.peer}/24`, 'dev', 'hdtp']);
    ns['m']!.run('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    t.run('ip', ['route', 'add', 'default', 'via', T.router]);
    ours.run('ip', ['route', 'add', '10.213.6.0/24', 'via', M.peer]);

    const sub = (name: string) => { const d = join(dir, name); mkdirSync(d, { recursive: true }); chmodSync(d, 0o755); return d; };
    // b: four prefixes, the last with our AS already in its path (allowLocalAs).
    birdB = startBird(ns['b']!, sub('b'), bird(B.peer, 65101, B.ours, `password "${KEYS.b}";
  ipv4 { import all; export filter { if proto != "s1" then reject; if net = 10.98.4.0/24 then bgp_path.prepend(65002); accept; }; };`,
      `protocol static s1 { ipv4; route 10.98.1.0/24 blackhole; route 10.98.2.0/24 blackhole; route 10.98.3.0/24 blackhole; route 10.98.4.0/24 blackhole; }
protocol bgp tabby6 {
  local as 65101; neighbor ${B6.ours} as 65002; password "${KEYS.b}";
  hold time 3; keepalive time 1; connect delay time 1; connect retry time 1; error wait time 1, 5;
  ipv6 { import all; export none; };
}`));
    birdD = startBird(ns['d']!, sub('d'), bird(D.peer, 65104, D.ours, 'ttl security on; ipv4 { import all; export none; };'));
    birdT = startBird(t, sub('t'), bird(T.peer, 65105, M.ours, 'multihop 2; ttl security on; ipv4 { import all; export none; };'));
    frrDir = sub('frr');
    writeFileSync(join(frrDir, 'frr.conf'), `frr defaults traditional
hostname tabby-hd-frr
router bgp 65102
 bgp router-id ${F.peer}
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 no bgp network import-check
 bgp graceful-restart
 bgp graceful-restart notification
 neighbor ${F.ours} remote-as ${FRR_SEES_OUR_AS}
 neighbor ${F.ours} password ${KEYS.f}
 neighbor ${F.ours} timers 1 3
 neighbor ${F.ours} timers connect 1
 address-family ipv4 unicast
  neighbor ${F.ours} activate
  network 10.97.1.0/24
  network 10.97.2.0/24
 exit-address-family
`);
    daemons.push(startInNetns(ns['f']!, ['/usr/lib/frr/bgpd', '-f', join(frrDir, 'frr.conf'), '-i', join(frrDir, 'bgpd.pid'), '--vty_socket', frrDir, '-Z', '-S', '-n']));
    const gobgpCfg = join(sub('gobgp'), 'gobgpd.toml');
    writeFileSync(gobgpCfg, `
[global.config]
  as = 65103
  router-id = "${G.peer}"
  port = 179
  local-address-list = ["${G.peer}"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${G.ours}"
    peer-as = 65002
    auth-password = "${KEYS.g}"
  [neighbors.timers.config]
    hold-time = 3
    keepalive-interval = 1
    connect-retry = 1
`);
    daemons.push(startInNetns(ns['g']!, ['gobgpd', '-f', gobgpCfg, '--api-hosts', '127.0.0.1:50051', '-l', 'warn']));
    cfgFile = join(dir, 'bgpd.yaml');
    sock = join(dir, 'bgpd.ctl');
    writeConfig();
    bgpd = startInNetns(ours, [process.execPath, BGPD, '--config', cfgFile, '--socket', sock, ...(process.env['HD_DEBUG'] ? ['--log-level', 'debug'] : [])]);
    daemons.push(bgpd);
    await eventually(async () => { await status(B.peer); return true; }, 10_000, `bgpd control socket; ${why()}`);
  });

  after(async () => {
    if (process.env['HD_DUMP']) writeFileSync(process.env['HD_DUMP'], bgpd?.output() ?? '');
    for (const d of daemons) await d.stop();
    for (const b of [birdB, birdD, birdT]) await b?.stop();
    for (const n of nss) n.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sourceAddress not on this host: a clear reason in status, logged once however often it retries', async () => {
    await eventually(async () => /sourceAddress 10\.213\.9\.9 is not an address of this host \(EADDRNOTAVAIL\)/.test((await status(NOWHERE))?.info ?? ''), 10_000, `EADDRNOTAVAIL in status; ${why()}`);
    await new Promise((r) => setTimeout(r, 2500)); // several connect retries (every 1 s)
    expect(bgpd.output().match(/is not an address of this host/g), why()).to.have.length(1);
  });

  it('MD5: matching keys establish with BIRD 2 (IPv4 and IPv6), FRR and GoBGP (keyed kernels drop unsigned segments, so both directions were signed)', async () => {
    const b6 = () => /\bEstablished\b/.test(birdB.birdc('show', 'protocols', 'tabby6'));
    for (const [addr, side] of [[B.peer, peerUp.b], [B6.peer, b6], [F.peer, peerUp.f], [G.peer, peerUp.g]] as const) {
      await eventually(async () => (await up(addr)) && side(), 20_000, `${addr} established; ${why()}`);
    }
    // FRR only accepts us as AS 64999: the OPEN carried the peer's localAsNumber.
    expect((JSON.parse(vtysh(`show bgp neighbors ${F.ours} json`)) as Record<string, { remoteAs?: number }>)[F.ours]?.remoteAs).to.equal(FRR_SEES_OUR_AS);
  });

  it('MD5: a wrong key (BIRD 2, GoBGP) or none (FRR) never establishes; the right ones again do', async () => {
    knobs.b = { password: 'wrong-key' };
    knobs.g = { password: 'wrong-key' };
    knobs.f = {};
    reload();
    const pairs: [string, () => boolean][] = [[B.peer, peerUp.b], [F.peer, peerUp.f], [G.peer, peerUp.g]];
    await eventually(async () => !(await up(B.peer)) && !(await up(F.peer)) && !(await up(G.peer)) && !peerUp.b() && !peerUp.f() && !peerUp.g(), 10_000, 'sessions down after the key change');
    await neverUp(8_000, pairs);
    knobs.b = { password: KEYS.b };
    knobs.g = { password: KEYS.g };
    knobs.f = { password: KEYS.f };
    reload();
    for (const [addr, side] of pairs) await eventually(async () => (await up(addr)) && side(), 20_000, `${addr} back with the right key; ${why()}`);
  });

  it('GTSM: ttlSecurity 1 establishes with a directly connected BIRD, not with one two hops away; ttlSecurity 2 does', async () => {
    await eventually(async () => (await up(D.peer)) && peerUp.d(), 15_000, `direct GTSM peer established; ${why()}`);
    await neverUp(8_000, [[T.peer, peerUp.t]]);
    // BIRD's own connections were refused on their SYN's TTL (ours never got its SYN-ACK through).
    await eventually(async () => /refused a connection whose SYN arrived with TTL 254/.test(`${(await status(T.peer))?.info} ${bgpd.output()}`), 5000, `the TTL refusal in status or log; ${why()}`);
    knobs.t = { extra: 'ttlSecurity: 2' };
    reload();
    await eventually(async () => (await up(T.peer)) && peerUp.t(), 15_000, `GTSM peer two hops away with ttlSecurity 2; ${why()}`);
  });

  it('allowLocalAs: a path holding our AS is rejected by default and accepted with allowLocalAs 1', async () => {
    await eventually(async () => (await routes()).filter((r) => r.from === B.peer).length === 3, 10_000, 'the three loop-free prefixes from BIRD');
    expect((await routes()).map((r) => r.prefix)).not.to.include('10.98.4.0/24');
    knobs.b = { password: KEYS.b, extra: 'allowLocalAs: 1' };
    reload();
    await eventually(async () => (await routes()).some((r) => r.prefix === '10.98.4.0/24' && r.from === B.peer), 15_000, `10.98.4.0/24 accepted; ${why()}`);
  });

  it('nextHop: FRR records the original next hop with keep and ours with self (eBGP auto = self)', async () => {
    const frrNextHop = () => {
      const r = JSON.parse(vtysh('show bgp ipv4 unicast 10.98.1.0/24 json') || '{}') as { paths?: { nexthops?: { ip: string }[] }[] };
      return r.paths?.[0]?.nexthops?.[0]?.ip;
    };
    await eventually(() => frrNextHop() === F.ours, 15_000, `FRR has 10.98.1.0/24 via us (auto); ${why()}`);
    knobs.f = { password: KEYS.f, extra: 'nextHop: keep' };
    reload();
    await eventually(() => frrNextHop() === B.peer, 15_000, `FRR has 10.98.1.0/24 via BIRD's address (keep); ${why()}`);
    knobs.f = { password: KEYS.f, extra: 'nextHop: self' };
    reload();
    await eventually(() => frrNextHop() === F.ours, 15_000, `FRR has 10.98.1.0/24 via us (self); ${why()}`);
  });

  it('maxPrefixes: at the limit the session stays; one more gets Cease/Maximum Number of Prefixes Reached', async () => {
    knobs.b = { password: KEYS.b, extra: 'maxPrefixes: 3' }; // 3 loop-free prefixes: at the limit
    reload();
    await eventually(async () => (await up(B.peer)) && (await routes()).filter((r) => r.from === B.peer).length === 3, 15_000, `up with 3 of max 3; ${why()}`);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await up(B.peer)).to.equal(true);
    knobs.b = { password: KEYS.b, extra: 'maxPrefixes: 3, allowLocalAs: 1' }; // now 4
    reload();
    await eventually(() => /Maximum number of prefixes reached/i.test(birdB.birdc('show', 'protocols', 'all', 'tabby')), 15_000, `BIRD got Cease/1; ${why()}; BIRD: ${birdB.birdc('show', 'protocols', 'all', 'tabby')}`);
    await eventually(() => /maximum number of prefixes reached \{"peer":"10\.213\.1\.1","limit":3,"received":4\}/.test(bgpd.output()), 5000, 'our log says why');
    // It keeps trying with a growing backoff and is cut off again every time.
    await eventually(async () => !(await up(B.peer)) && /Maximum Number of Prefixes Reached/i.test((await status(B.peer))?.info ?? '') && !(await routes()).some((r) => r.from === B.peer), 10_000, 'down, with the reason in status and no routes from BIRD');
  });


  it('maxPrefixes with graceful restart and the N bit (FRR): the Cease/1 goes inside a Hard Reset, so no routes are kept stale', async () => {
    knobs.f = { password: KEYS.f, extra: 'gracefulRestart: true' };
    reload();
    await eventually(async () => (await up(F.peer)) && (await routes()).filter((r) => r.from === F.peer).length === 2, 15_000, `FRR's two prefixes; ${why()}`);
    knobs.f = { password: KEYS.f, extra: 'gracefulRestart: true, maxPrefixes: 1' };
    reload();
    await eventually(() => /sending NOTIFICATION \{"peer":"10\.213\.2\.1","notification":"Cease: Hard Reset"\}/.test(bgpd.output()), 15_000, `Hard Reset sent to FRR; ${why()}`);
    // FRR unwraps it: the reason inside, and that it came as a Hard Reset.
    await eventually(() => {
      const n = (JSON.parse(vtysh(`show bgp neighbors ${F.ours} json`)) as Record<string, { lastNotificationReason?: string; lastNotificationHardReset?: boolean }>)[F.ours];
      return n?.lastNotificationReason === 'Cease/Maximum Number of Prefixes Reached' && n.lastNotificationHardReset === true;
    }, 5000, 'FRR reports Cease/Maximum Number of Prefixes Reached as a Hard Reset');
    // Neither FRR's routes nor a stale copy of them stay with us.
    await eventually(async () => !(await routes()).some((r) => r.from.startsWith(F.peer)), 5000, 'no routes (or stale routes) from FRR');
  });
});

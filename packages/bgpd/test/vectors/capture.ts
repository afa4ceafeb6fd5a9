// Regenerates the captured vectors in this directory: runs each real BGP speaker in a network
// namespace, lets it peer with recorder.js in another, and saves what it sent. Needs root and
// the interop daemons that bootstrap installs. Not a test; run it by hand after a build:
//   node packages/bgpd/test/dist/vectors/capture.js [bird2 bird16 gobgp frr]

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bird16Paths, createNetns, eventually, startBird, startInNetns, tmpDir, vethPair, type Daemon, type Netns } from '@tabby/test-support';

const HERE = fileURLToPath(new URL('../../vectors/', import.meta.url));
const RECORDER = fileURLToPath(new URL('./recorder.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const SECONDS = 8;

interface Target {
  name: string;
  description: string;
  /** Third octet of 10.2xx.0.0/24 and fd00:2xx::/64 on the veth. */
  net: number;
  recorderAs: number;
  start(ns: Netns, dir: string, peer: { v4: string; v6: string }, self: { v4: string; v6: string }): Daemon;
}

const BIRD2 = (self: { v4: string; v6: string }, peer: { v4: string; v6: string }) => `
router id ${self.v4};
protocol device {}
protocol static s4 { ipv4; route 10.77.0.0/24 blackhole; route 10.77.1.0/24 blackhole; }
protocol static s6 { ipv6; route fd00:77::/64 blackhole; route fd00:77:1::/64 blackhole; }
filter capture_attrs { bgp_community.add((65001,100)); bgp_large_community.add((65001,1,2)); bgp_med = 50; accept; }
protocol bgp v4 {
  local ${self.v4} as 65001; neighbor ${peer.v4} as 65002; connect delay time 1;
  enable extended messages; graceful restart on;
  ipv4 { import none; export filter capture_attrs; add paths tx; };
}
protocol bgp v6 {
  local ${self.v6} as 65001; neighbor ${peer.v6} as 65002; connect delay time 1;
  ipv6 { import none; export filter capture_attrs; };
}
`;

const BIRD16 = (self: { v4: string }, peer: { v4: string }) => `
router id ${self.v4};
protocol device {}
protocol static s4 { route 10.79.0.0/24 blackhole; route 10.79.1.0/24 blackhole; }
filter capture_attrs { bgp_community.add((64512,100)); bgp_local_pref = 200; accept; }
protocol bgp mesh {
  local ${self.v4} as 64512; neighbor ${peer.v4} as 64512; connect delay time 1;
  import none; export filter capture_attrs; add paths tx; graceful restart on;
}
`;

const GOBGP = (self: { v4: string; v6: string }, peer: { v4: string; v6: string }) => `
[global.config]
  as = 65003
  router-id = "${self.v4}"
  port = -1
${[[peer.v4, 'ipv4-unicast'], [peer.v6, 'ipv6-unicast']].map(([addr, fam]) => `
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${addr}"
    peer-as = 65002
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "${fam}"
`).join('')}`;

const FRR = (self: { v4: string; v6: string }, peer: { v4: string; v6: string }) => `frr defaults traditional
hostname tabby-capture
router bgp 65004
 bgp router-id ${self.v4}
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor ${peer.v4} remote-as 65002
 neighbor ${peer.v4} timers connect 1
 neighbor ${peer.v6} remote-as 65002
 neighbor ${peer.v6} timers connect 1
 address-family ipv4 unicast
  network 10.81.0.0/24 route-map tag
  neighbor ${peer.v4} addpath-tx-all-paths
  no neighbor ${peer.v6} activate
 exit-address-family
 address-family ipv6 unicast
  network fd00:81::/64 route-map tag
  neighbor ${peer.v6} activate
 exit-address-family
route-map tag permit 10
 set community 65004:9
 set large-community 65004:1:1
 set metric 20
`;

const TARGETS: Target[] = [
  {
    name: 'bird2', net: 210, recorderAs: 65002,
    description: 'BIRD 2.0.12, eBGP AS 65001 -> 65002, IPv4 session (ADD-PATH tx, extended messages, GR) and IPv6 session',
    start: (ns, dir, self, peer) => startBird(ns, dir, BIRD2(self, peer)),
  },
  {
    name: 'bird16', net: 211, recorderAs: 64512,
    description: 'BIRD 1.6.8 (Calico\'s base), iBGP AS 64512, ADD-PATH tx, GR, LOCAL_PREF 200',
    start: (ns, dir, self, peer) => startBird(ns, dir, BIRD16(self, peer), bird16Paths(ROOT)),
  },
  {
    name: 'gobgp', net: 212, recorderAs: 65002,
    description: 'GoBGP 3.10.0, eBGP AS 65003 -> 65002, IPv4 and IPv6 sessions, routes added with the gobgp CLI',
    start: (ns, dir, self, peer) => {
      writeFileSync(join(dir, 'gobgpd.toml'), GOBGP(self, peer));
      const d = startInNetns(ns, ['gobgpd', '-f', join(dir, 'gobgpd.toml'), '--api-hosts', '127.0.0.1:50051', '-l', 'warn']);
      const gobgp = (...args: string[]) => ns.tryRun('gobgp', ['-u', '127.0.0.1', '-p', '50051', ...args]);
      void eventually(() => gobgp('global').code === 0, 10_000, 'gobgpd API').then(() => {
        gobgp('global', 'rib', '-a', 'ipv4', 'add', '10.78.0.0/24', 'community', '65003:7', 'med', '10');
        gobgp('global', 'rib', '-a', 'ipv6', 'add', 'fd00:78::/64', 'community', '65003:8');
      });
      return d;
    },
  },
  {
    name: 'frr', net: 213, recorderAs: 65002,
    description: 'FRR 8.4.4 bgpd (standalone), eBGP AS 65004 -> 65002, IPv4 session (addpath-tx-all-paths) and IPv6 session',
    start: (ns, dir, self, peer) => {
      writeFileSync(join(dir, 'frr.conf'), FRR(self, peer));
      return startInNetns(ns, ['/usr/lib/frr/bgpd', '-f', join(dir, 'frr.conf'), '-i', join(dir, 'bgpd.pid'), '--vty_socket', dir, '-Z', '-S', '-n']);
    },
  },
];

async function capture(t: Target): Promise<void> {
  const dir = tmpDir(`tabby-capture-${t.name}-`);
  const p = createNetns(`cap-${t.name}`);
  const r = createNetns('cap-rec');
  const daemons: Daemon[] = [];
  try {
    vethPair(p, `tc${t.net}p`, r, `tc${t.net}r`);
    const self = { v4: `10.${t.net}.0.1`, v6: `fd00:${t.net}::1` };
    const peer = { v4: `10.${t.net}.0.2`, v6: `fd00:${t.net}::2` };
    p.run('ip', ['addr', 'add', `${self.v4}/24`, 'dev', `tc${t.net}p`]);
    r.run('ip', ['addr', 'add', `${peer.v4}/24`, 'dev', `tc${t.net}r`]);
    p.run('ip', ['-6', 'addr', 'add', `${self.v6}/64`, 'dev', `tc${t.net}p`, 'nodad']);
    r.run('ip', ['-6', 'addr', 'add', `${peer.v6}/64`, 'dev', `tc${t.net}r`, 'nodad']);
    const out = join(dir, 'session');
    const rec = startInNetns(r, [process.execPath, RECORDER, JSON.stringify({ as: t.recorderAs, id: peer.v4, out, seconds: SECONDS })]);
    daemons.push(rec);
    await new Promise((res) => setTimeout(res, 300)); // let the recorder listen first
    daemons.push(t.start(p, dir, self, peer));
    await eventually(() => rec.exited(), (SECONDS + 5) * 1000, `${t.name} recorder`);
    if (process.env['CAPTURE_DEBUG']) console.log(rec.output(), daemons[1]!.output());
    const target = join(HERE, t.name);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    for (const f of readdirSync(dir).filter((x) => x.startsWith('session.'))) {
      const from = f.split('.').slice(2).join('.');
      const family = from.includes(':') ? 'ipv6-session' : 'ipv4-session';
      const header = [`# ${t.description}`, `# ${family} from ${from}, captured by capture.ts (recorder.ts answered as AS ${t.recorderAs})`];
      writeFileSync(join(target, `${family}.hex`), [...header, readFileSync(join(dir, f), 'utf8')].join('\n'));
      console.log(`${t.name}: ${family}.hex`);
    }
  } finally {
    for (const d of daemons.reverse()) await d.stop();
    p.delete();
    r.delete();
    rmSync(dir, { recursive: true, force: true });
  }
}

const wanted = process.argv.slice(2);
for (const t of TARGETS) if (!wanted.length || wanted.includes(t.name)) await capture(t);

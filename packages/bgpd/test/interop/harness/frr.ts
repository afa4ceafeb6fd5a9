// FRR's bgpd as a matrix peer, run standalone (no zebra: -Z, no kernel: -n). vtysh reaches it
// through the vty socket in our temp dir; route changes go through vtysh and are also written
// to the config file, so a restarted bgpd originates the same prefixes.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startInNetns, type Daemon } from '@tabby/test-support';
import { HOLD_TIME, killHard, type Afi, type Lab } from './lab.js';
import type { LearnedRoute, PeerDaemon, PeerKind, Scenario } from './peer.js';

const config = (lab: Lab, s: Scenario, afis: readonly Afi[], routes: Record<Afi, readonly string[]>) => `frr defaults traditional
hostname tabby-frr
router bgp ${s.peerAs}
 bgp router-id ${lab.routerId.peer}
 no bgp ebgp-requires-policy
 no bgp network import-check
 no bgp default ipv4-unicast
${afis.map((afi) => ` neighbor ${lab.addr[afi].ours} remote-as ${s.ourAs}
 neighbor ${lab.addr[afi].ours} timers 1 ${HOLD_TIME}
 neighbor ${lab.addr[afi].ours} timers connect 1
`).join('')}${afis.map((afi) => ` address-family ${afi} unicast
  neighbor ${lab.addr[afi].ours} activate
${routes[afi].map((p) => `  network ${p}\n`).join('')} exit-address-family
`).join('')}`;

interface FrrPath {
  valid?: boolean;
  aspath?: { segments?: { list?: number[] }[] };
  locPrf?: number;
  localpref?: number;
  nexthops?: { ip: string; accessible?: boolean }[];
  peer?: { peerId?: string };
}

class FrrPeer implements PeerDaemon {
  private daemon: Daemon;
  private readonly routes: Record<Afi, string[]>;
  private readonly dir: string;

  constructor(private readonly lab: Lab, private readonly s: Scenario, private readonly afis: readonly Afi[]) {
    this.routes = { ipv4: [...s.routes.ipv4], ipv6: [...s.routes.ipv6] };
    this.dir = join(lab.dir, 'frr');
    mkdirSync(this.dir, { recursive: true });
    chmodSync(lab.dir, 0o755);
    chmodSync(this.dir, 0o755);
    this.daemon = this.spawn();
  }

  private spawn(): Daemon {
    writeFileSync(join(this.dir, 'frr.conf'), config(this.lab, this.s, this.afis, this.routes));
    return startInNetns(this.lab.peerNs, ['/usr/lib/frr/bgpd', '-f', join(this.dir, 'frr.conf'), '-i', join(this.dir, 'bgpd.pid'), '--vty_socket', this.dir, '-Z', '-S', '-n']);
  }

  private vtysh(...cmds: string[]): string {
    const r = spawnSync('vtysh', ['--vty_socket', this.dir, ...cmds.flatMap((c) => ['-c', c])], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`vtysh ${cmds.join(' / ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  established(afi: Afi): boolean {
    const addr = this.lab.addr[afi].ours;
    const n = JSON.parse(this.vtysh(`show bgp neighbors ${addr} json`)) as Record<string, { bgpState?: string }>;
    return n[addr]?.bgpState === 'Established';
  }

  learned(afi: Afi, prefix: string): LearnedRoute | undefined {
    const out = this.vtysh(`show bgp ${afi} unicast ${prefix} json`);
    const r = JSON.parse(out || '{}') as { paths?: FrrPath[] };
    const path = r.paths?.find((p) => p.peer?.peerId === this.lab.addr[afi].ours);
    const nh = path?.nexthops?.[0];
    if (!path || !nh) return undefined;
    const localPref = path.locPrf ?? path.localpref;
    return {
      asPath: (path.aspath?.segments ?? []).flatMap((seg) => seg.list ?? []),
      nextHop: nh.ip,
      ...(localPref !== undefined ? { localPref } : {}),
      usable: path.valid === true && nh.accessible !== false,
    };
  }

  async announce(afi: Afi, prefixes: readonly string[]): Promise<void> {
    const drop = this.routes[afi].filter((x) => !prefixes.includes(x));
    const add = prefixes.filter((x) => !this.routes[afi].includes(x));
    this.routes[afi] = [...prefixes];
    writeFileSync(join(this.dir, 'frr.conf'), config(this.lab, this.s, this.afis, this.routes));
    this.vtysh('configure terminal', `router bgp ${this.s.peerAs}`, `address-family ${afi} unicast`, ...drop.map((p) => `no network ${p}`), ...add.map((p) => `network ${p}`));
  }

  processes(): Daemon[] {
    return [this.daemon];
  }

  async kill(): Promise<void> {
    await killHard(this.daemon);
  }

  async restart(): Promise<void> {
    this.daemon = this.spawn();
  }

  async stop(): Promise<void> {
    await this.daemon.stop();
  }

  output(): string {
    return this.daemon.output();
  }
}

export const frr: PeerKind = {
  name: 'FRR',
  tag: 'frr',
  net: 223,
  families: ['ipv4', 'ipv6'],
  // Without zebra FRR knows no interfaces, so it sends its global address only (test/vectors/frr).
  linkLocalNextHop: [],
  start: async (lab, s) => new FrrPeer(lab, s, ['ipv4', 'ipv6']),
};

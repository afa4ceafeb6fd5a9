// GoBGP (gobgpd + the gobgp CLI over its gRPC API on the peer namespace's loopback) as a
// matrix peer. Its originated routes live in the RIB only, so a restart re-adds them. After a
// session ends GoBGP stays Idle for a fixed 5 s (idle-hold-time-after-reset only applies to
// administrative resets), so its recovery rows take a few seconds longer than the others.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startInNetns, eventually, type Daemon } from '@tabby/test-support';
import { HOLD_TIME, killHard, type Afi, type Lab } from './lab.js';
import type { LearnedRoute, PeerDaemon, PeerKind, Scenario } from './peer.js';

const API = ['-u', '127.0.0.1', '-p', '50051'];

const config = (lab: Lab, s: Scenario, afis: readonly Afi[]) => `
[global.config]
  as = ${s.peerAs}
  router-id = "${lab.routerId.peer}"
  port = 179
  local-address-list = [${afis.map((a) => `"${lab.addr[a].peer}"`).join(', ')}]
${afis.map((afi) => `
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${lab.addr[afi].ours}"
    peer-as = ${s.ourAs}
  [neighbors.timers.config]
    hold-time = ${HOLD_TIME}
    keepalive-interval = 1
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "${afi}-unicast"
`).join('')}`;

interface GobgpPath {
  best?: boolean;
  'neighbor-ip'?: string;
  attrs: { type: number; value?: number; nexthop?: string; as_paths?: { asns?: number[] }[] }[];
}

class GobgpPeer implements PeerDaemon {
  private daemon: Daemon;
  private routes: Record<Afi, string[]>;
  private readonly cfgFile: string;

  constructor(private readonly lab: Lab, s: Scenario, private readonly afis: readonly Afi[]) {
    this.routes = { ipv4: [], ipv6: [] };
    this.cfgFile = join(lab.dir, 'gobgpd.toml');
    writeFileSync(this.cfgFile, config(lab, s, afis));
    this.daemon = this.spawn();
  }

  private spawn(): Daemon {
    return startInNetns(this.lab.peerNs, ['gobgpd', '-f', this.cfgFile, '--api-hosts', '127.0.0.1:50051', '-l', 'warn']);
  }

  private gobgp(...args: string[]): string {
    return this.lab.peerNs.run('gobgp', [...API, ...args]);
  }

  /** Waits for the API, then originates the given routes. */
  async ready(routes: Record<Afi, readonly string[]>): Promise<void> {
    await eventually(() => this.lab.peerNs.tryRun('gobgp', [...API, 'global']).code === 0, 10_000, `GoBGP API; gobgpd: ${this.daemon.output()}`);
    for (const afi of this.afis) await this.announce(afi, routes[afi]);
  }

  established(afi: Afi): boolean {
    const n = JSON.parse(this.gobgp('-j', 'neighbor', this.lab.addr[afi].ours)) as { state?: { session_state?: number } };
    return n.state?.session_state === 6; // ESTABLISHED in GoBGP's API enum
  }

  learned(afi: Afi, prefix: string): LearnedRoute | undefined {
    const rib = JSON.parse(this.gobgp('-j', 'global', 'rib', '-a', afi)) as Record<string, GobgpPath[]>;
    const path = rib[prefix]?.find((p) => p['neighbor-ip'] === this.lab.addr[afi].ours);
    if (!path) return undefined;
    const attr = (t: number) => path.attrs.find((a) => a.type === t);
    const nextHop = attr(14)?.nexthop ?? attr(3)?.nexthop;
    if (!nextHop) return undefined;
    const localPref = attr(5)?.value;
    return {
      asPath: (attr(2)?.as_paths ?? []).flatMap((seg) => seg.asns ?? []),
      nextHop,
      ...(localPref !== undefined ? { localPref } : {}),
      // GoBGP has no FIB: a route it would use is one it selected.
      usable: path.best === true,
    };
  }

  async announce(afi: Afi, prefixes: readonly string[]): Promise<void> {
    for (const p of this.routes[afi].filter((x) => !prefixes.includes(x))) this.gobgp('global', 'rib', 'del', '-a', afi, p);
    for (const p of prefixes.filter((x) => !this.routes[afi].includes(x))) this.gobgp('global', 'rib', 'add', '-a', afi, p);
    this.routes[afi] = [...prefixes];
  }

  processes(): Daemon[] {
    return [this.daemon];
  }

  async kill(): Promise<void> {
    await killHard(this.daemon);
  }

  async restart(): Promise<void> {
    this.daemon = this.spawn();
    const routes = this.routes;
    this.routes = { ipv4: [], ipv6: [] };
    await this.ready(routes);
  }

  async stop(): Promise<void> {
    await this.daemon.stop();
  }

  output(): string {
    return this.daemon.output();
  }
}

export const gobgp: PeerKind = {
  name: 'GoBGP',
  tag: 'gb',
  net: 222,
  families: ['ipv4', 'ipv6'],
  // A 16-byte global next hop only (see test/vectors/gobgp).
  linkLocalNextHop: [],
  start: async (lab, s) => {
    const peer = new GobgpPeer(lab, s, ['ipv4', 'ipv6']);
    try {
      await peer.ready(s.routes);
    } catch (e) {
      await peer.stop();
      throw e;
    }
    return peer;
  },
};

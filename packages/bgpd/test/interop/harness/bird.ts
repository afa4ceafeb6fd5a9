// BIRD 2 (one daemon, an ipv4 and an ipv6 BGP protocol) and BIRD 1.6 (Calico's base: `bird`
// for IPv4 and `bird6` for IPv6, two daemons) as matrix peers. Both run with a `direct`
// protocol as Calico's BIRD config does, so iBGP next hops resolve recursively.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bird16Paths, startBird, type Bird } from '@tabby/test-support';
import { HOLD_TIME, REPO_ROOT, killHard, type Afi, type Lab } from './lab.js';
import type { LearnedRoute, PeerDaemon, PeerKind, Scenario } from './peer.js';

interface Instance {
  afis: readonly Afi[];
  bin: { bird: string; birdc: string };
  dir: string;
  bird: Bird;
}

/** Renders the config of one BIRD instance serving `afis`. */
type Render = (lab: Lab, s: Scenario, afis: readonly Afi[], routes: Record<Afi, readonly string[]>) => string;

const sessionOptions = (lab: Lab, s: Scenario, afi: Afi) => `
  local ${lab.addr[afi].peer} as ${s.peerAs};
  neighbor ${lab.addr[afi].ours} as ${s.ourAs};
  hold time ${HOLD_TIME};
  keepalive time 1;
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 5;`;

const renderBird2: Render = (lab, s, afis, routes) => `
router id ${lab.routerId.peer};
protocol device {}
protocol direct { ipv4; ipv6; interface "${lab.peerIf}"; }
${afis.map((afi) => `
protocol static s_${afi} { ${afi}; ${routes[afi].map((p) => `route ${p} blackhole;`).join(' ')} }
protocol bgp tabby_${afi} {${sessionOptions(lab, s, afi)}
  ${afi} { import all; export where proto = "s_${afi}"; };
}`).join('\n')}
`;

const renderBird16: Render = (lab, s, afis, routes) => `
router id ${lab.routerId.peer};
protocol device {}
protocol direct { interface "${lab.peerIf}"; }
protocol static originated { ${routes[afis[0]!].map((p) => `route ${p} blackhole;`).join(' ')} }
protocol bgp tabby {${sessionOptions(lab, s, afis[0]!)}
  import all;
  export where proto = "originated";
}
`;

class BirdPeer implements PeerDaemon {
  private readonly routes: Record<Afi, string[]>;

  constructor(private readonly lab: Lab, private readonly s: Scenario, private readonly instances: Instance[], private readonly render: Render, private readonly protoName: (afi: Afi) => string, private readonly showsNextHop: boolean) {
    this.routes = { ipv4: [...s.routes.ipv4], ipv6: [...s.routes.ipv6] };
  }

  private instance(afi: Afi): Instance {
    return this.instances.find((i) => i.afis.includes(afi))!;
  }

  private config(i: Instance): string {
    return this.render(this.lab, this.s, i.afis, this.routes);
  }

  established(afi: Afi): boolean {
    return /\bEstablished\b/.test(this.instance(afi).bird.birdc('show', 'protocols', this.protoName(afi)));
  }

  learned(afi: Afi, prefix: string): LearnedRoute | undefined {
    const out = this.instance(afi).bird.birdc('show', 'route', prefix, 'all');
    // Only the route from our session counts (the table may also hold a static one).
    if (!out.includes(`[${this.protoName(afi)} `)) return undefined;
    const asPath = /BGP\.as_path:([^\n]*)/.exec(out)?.[1]?.trim();
    const nextHop = /BGP\.next_hop: (\S+)/.exec(out)?.[1];
    const localPref = /BGP\.local_pref: (\d+)/.exec(out)?.[1];
    if (asPath === undefined || nextHop === undefined) return undefined;
    return {
      asPath: asPath ? asPath.split(/\s+/).map(Number) : [],
      nextHop,
      ...(localPref ? { localPref: Number(localPref) } : {}),
      usable: !/\bunreachable\b/.test(out) && new RegExp(`via ${nextHop.replace(/\./g, '\\.')} on ${this.lab.peerIf}`).test(out),
    };
  }

  /**
   * BIRD 2 prints the next hops a channel sends ("BGP Next hop: <global> <link-local>"). BIRD 1.6
   * prints none, so for it they are inferred from its rule (checked against a recorder): over
   * a single-hop eBGP session it adds the link-local address it knows on the interface.
   */
  advertisedNextHops(afi: Afi): string[] | undefined {
    const bird = this.instance(afi).bird;
    if (this.showsNextHop) return /BGP Next hop:\s+(.*)/.exec(bird.birdc('show', 'protocols', 'all', this.protoName(afi)))?.[1]?.trim().split(/\s+/);
    if (afi !== 'ipv6' || this.s.type !== 'ebgp') return [this.lab.addr[afi].peer];
    const iface = bird.birdc('show', 'interfaces').split(/\n(?=\S)/).find((b) => b.startsWith(`${this.lab.peerIf} `)) ?? '';
    const ll = /(fe80:\S+)\/64/.exec(iface)?.[1];
    return ll ? [this.lab.addr[afi].peer, ll] : [this.lab.addr[afi].peer];
  }

  async announce(afi: Afi, prefixes: readonly string[]): Promise<void> {
    this.routes[afi] = [...prefixes];
    const i = this.instance(afi);
    i.bird.reconfigure(this.config(i));
  }

  processes() {
    return this.instances.map((i) => i.bird);
  }

  async kill(): Promise<void> {
    for (const i of this.instances) await killHard(i.bird);
  }

  async restart(): Promise<void> {
    for (const i of this.instances) i.bird = startBird(this.lab.peerNs, i.dir, this.config(i), i.bin);
  }

  async stop(): Promise<void> {
    for (const i of this.instances) await i.bird.stop();
  }

  output(): string {
    return this.instances.map((i) => i.bird.output()).join('\n');
  }
}

function startInstances(lab: Lab, s: Scenario, specs: { afis: readonly Afi[]; bin: Instance['bin']; sub: string }[], render: Render): Instance[] {
  return specs.map(({ afis, bin, sub }) => {
    const dir = join(lab.dir, sub);
    mkdirSync(dir, { recursive: true });
    return { afis, bin, dir, bird: startBird(lab.peerNs, dir, render(lab, s, afis, s.routes), bin) };
  });
}

export const bird2: PeerKind = {
  name: 'BIRD 2',
  tag: 'b2',
  net: 220,
  families: ['ipv4', 'ipv6'],
  // Over a single-hop eBGP session BIRD 2 sends global + link-local; over iBGP (multihop by
  // default) the global only.
  linkLocalNextHop: ['ebgp'],
  start: async (lab, s) => {
    const instances = startInstances(lab, s, [{ afis: ['ipv4', 'ipv6'], bin: { bird: 'bird', birdc: 'birdc' }, sub: 'bird2' }], renderBird2);
    return new BirdPeer(lab, s, instances, renderBird2, (afi) => `tabby_${afi}`, true);
  },
};

export const bird16: PeerKind = {
  name: 'BIRD 1.6',
  tag: 'b16',
  net: 221,
  families: ['ipv4', 'ipv6'],
  // bird6 as BIRD 2, provided the link-local address had finished DAD when it started (createLab
  // waits for that; a bird6 that starts earlier never learns the address).
  linkLocalNextHop: ['ebgp'],
  start: async (lab, s) => {
    const v4 = bird16Paths(REPO_ROOT);
    const v6 = { bird: `${v4.bird}6`, birdc: `${v4.birdc}6` };
    const instances = startInstances(lab, s, [
      { afis: ['ipv4'], bin: v4, sub: 'bird' },
      { afis: ['ipv6'], bin: v6, sub: 'bird6' },
    ], renderBird16);
    return new BirdPeer(lab, s, instances, renderBird16, () => 'tabby', false);
  },
};

// Shared setup for the interop matrix: one namespace pair per peer daemon (a veth with an IPv4
// and an IPv6 subnet), our bgpd inside it, and read-back of what bgpd put in the kernel.

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, vethPair, tmpDir, startInNetns, eventually, linkLocalReady, type Netns, type Daemon } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';

export const BGPD = fileURLToPath(new URL('../../../../bin/bgpd.js', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../../../../../', import.meta.url));

export type Afi = 'ipv4' | 'ipv6';
export type SessionType = 'ibgp' | 'ebgp';

/** Our AS in every scenario; an eBGP peer uses its own. */
export const OUR_AS = 65002;
/** Hold time on both sides: short, so expiry and recovery stay within a few seconds. */
export const HOLD_TIME = 3;

export interface Lab {
  /** Third octet of the IPv4 subnet and second group of the IPv6 one; unique per peer kind. */
  net: number;
  peerNs: Netns;
  ourNs: Netns;
  /** Temp dir for configs, sockets and pid files (mode 0755: FRR drops privileges to read it). */
  dir: string;
  /** Interface names: letters and digits only, so BIRD's config grammar accepts them. */
  peerIf: string;
  ourIf: string;
  addr: Record<Afi, { peer: string; ours: string }>;
  routerId: { peer: string; ours: string };
  destroy(): void;
}

/**
 * Two namespaces joined by a veth carrying 10.<net>.0.0/24 and fd00:<net>::/64. Returns once
 * both link-local addresses have finished DAD: BIRD only sends its link-local next hop when the
 * address was usable at session start, and that must not depend on how fast a test began.
 */
export async function createLab(tag: string, net: number): Promise<Lab> {
  const dir = tmpDir(`tabby-matrix-${tag}-`);
  const peerNs = createNetns(`${tag}-peer`);
  const ourNs = createNetns(`${tag}-bgpd`);
  const peerIf = `mx${tag}p`;
  const ourIf = `mx${tag}o`;
  const lab: Lab = {
    net, peerNs, ourNs, dir, peerIf, ourIf,
    addr: {
      ipv4: { peer: `10.${net}.0.1`, ours: `10.${net}.0.2` },
      ipv6: { peer: `fd00:${net}::1`, ours: `fd00:${net}::2` },
    },
    routerId: { peer: `10.${net}.0.1`, ours: `10.${net}.0.2` },
    destroy: () => {
      peerNs.delete();
      ourNs.delete();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    vethPair(peerNs, peerIf, ourNs, ourIf);
    peerNs.run('ip', ['addr', 'add', `${lab.addr.ipv4.peer}/24`, 'dev', peerIf]);
    ourNs.run('ip', ['addr', 'add', `${lab.addr.ipv4.ours}/24`, 'dev', ourIf]);
    peerNs.run('ip', ['-6', 'addr', 'add', `${lab.addr.ipv6.peer}/64`, 'dev', peerIf, 'nodad']);
    ourNs.run('ip', ['-6', 'addr', 'add', `${lab.addr.ipv6.ours}/64`, 'dev', ourIf, 'nodad']);
    for (const [ns, dev] of [[peerNs, peerIf], [ourNs, ourIf]] as const) {
      await eventually(() => linkLocalReady(ns, dev), 10_000, `link-local address on ${dev} out of DAD`);
    }
  } catch (e) {
    lab.destroy();
    throw e;
  }
  return lab;
}

export interface KernelRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  type?: string;
}

/** bgpd's routes (protocol 201) in a namespace's main table, as `ip -j` reports them. */
export function kernelRoutes(ns: Netns, afi: Afi): KernelRoute[] {
  const out = ns.run('ip', ['-j', afi === 'ipv4' ? '-4' : '-6', 'route', 'show', 'proto', '201']).trim();
  return out ? (JSON.parse(out) as KernelRoute[]) : [];
}

export interface BgpdPeerSpec {
  address: string;
  asNumber: number;
}

/** Our bgpd in the lab's namespace: config file, restart, reload, status by peer address. */
export class OurBgpd {
  private daemon: Daemon | undefined;
  readonly sock: string;
  private readonly cfgFile: string;
  private originated: string[] = [];

  constructor(private readonly lab: Lab, private readonly peers: readonly BgpdPeerSpec[], private readonly type: SessionType) {
    this.sock = join(lab.dir, 'bgpd.ctl');
    this.cfgFile = join(lab.dir, 'bgpd.yaml');
  }

  private writeConfig(): void {
    writeFileSync(this.cfgFile, [
      `routerId: ${this.lab.routerId.ours}`,
      `asNumber: ${OUR_AS}`,
      'listen: { address: "::", port: 179 }',
      'peers:',
      ...this.peers.map((p) => `  - { address: "${p.address}", asNumber: ${p.asNumber}, holdTime: ${HOLD_TIME}, connectRetryTime: 1, type: ${this.type === 'ibgp' ? 'mesh' : 'global'} }`),
      'originate:',
      ...this.originated.map((p) => `  - { prefix: "${p}" }`),
      'kernel: { enabled: true, protocol: 201 }',
    ].join('\n') + '\n');
  }

  start(originate: readonly string[] = this.originated): void {
    if (this.daemon && !this.daemon.exited()) throw new Error('bgpd is already running');
    this.originated = [...originate];
    this.writeConfig();
    // TABBY_BGPD_LOG=debug puts FSM transitions into the output shown on failures.
    const log = process.env['TABBY_BGPD_LOG'] ? ['--log-level', process.env['TABBY_BGPD_LOG']] : [];
    this.daemon = startInNetns(this.lab.ourNs, [process.execPath, BGPD, '--config', this.cfgFile, '--socket', this.sock, ...log]);
  }

  /** SIGTERM and wait for the exit. */
  async stop(): Promise<void> {
    await this.daemon?.stop();
  }

  /** Rewrites what we originate and reloads with SIGHUP (sessions are kept). */
  originate(prefixes: readonly string[]): void {
    this.originated = [...prefixes];
    this.writeConfig();
    this.daemon?.signal('SIGHUP');
  }

  get prefixes(): readonly string[] {
    return this.originated;
  }

  async status(address: string): Promise<PeerStatus | undefined> {
    return ((await request(this.sock, { cmd: 'status' })) as PeerStatus[]).find((p) => p.address === address);
  }

  async up(address: string): Promise<boolean> {
    return (await this.status(address))?.state === 'up';
  }

  output(): string {
    return this.daemon?.output() ?? '';
  }
}

/** Sends `sig` to every process and swallows "already gone". */
export function signalAll(ds: readonly Daemon[], sig: NodeJS.Signals): void {
  for (const d of ds) d.signal(sig);
}

/** SIGKILL, then wait until the process is gone (Daemon.stop only waits when it is). */
export async function killHard(d: Daemon): Promise<void> {
  d.signal('SIGKILL');
  await d.stop();
}

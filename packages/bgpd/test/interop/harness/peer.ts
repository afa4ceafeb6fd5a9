// What the matrix needs from a peer daemon, whatever its CLI looks like.

import type { Daemon } from '@tabby/test-support';
import type { Afi, Lab, SessionType } from './lab.js';

/** A route the peer learned from us, as the peer itself reports it. */
export interface LearnedRoute {
  asPath: number[];
  /** The (first, global) next hop the peer recorded. */
  nextHop: string;
  localPref?: number;
  /** The peer would forward with it: the route is valid and its next hop resolved. */
  usable: boolean;
}

export interface Scenario {
  type: SessionType;
  peerAs: number;
  ourAs: number;
  /** Prefixes the peer originates from the start, per family. */
  routes: Record<Afi, string[]>;
}

export interface PeerDaemon {
  /** The peer says its session to us for this family is Established. */
  established(afi: Afi): boolean;
  /** The route for `prefix` the peer learned from bgpd (undefined if it has none from us). */
  learned(afi: Afi, prefix: string): LearnedRoute | undefined;
  /** The next hops the peer sends with the routes it originates, when its CLI shows them. */
  advertisedNextHops?(afi: Afi): string[] | undefined;
  /** Replaces the set of prefixes the peer originates for `afi` (withdraws what is dropped). */
  announce(afi: Afi, prefixes: readonly string[]): Promise<void>;
  /** The processes to freeze with SIGSTOP (BIRD 1.6 runs one per family). */
  processes(): Daemon[];
  /** SIGKILL every process (a crash: no NOTIFICATION) and wait until they are gone. */
  kill(): Promise<void>;
  /** Starts the daemon again with the same config and originated prefixes. */
  restart(): Promise<void>;
  /** Stops everything (SIGCONT + SIGTERM, SIGKILL after 5 s). */
  stop(): Promise<void>;
  output(): string;
}

export interface PeerKind {
  name: string;
  /** Short tag for namespace and interface names (letters and digits). */
  tag: string;
  net: number;
  families: readonly Afi[];
  /** Session types over which it sends a link-local IPv6 next hop after the global one (RFC 2545 32-byte form). */
  linkLocalNextHop: readonly SessionType[];
  start(lab: Lab, s: Scenario): Promise<PeerDaemon>;
}

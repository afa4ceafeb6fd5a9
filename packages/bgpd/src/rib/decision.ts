// Best-path selection (RFC 4271 §9.1.2.2) as an ordered list of named comparators. Each
// returns which candidate wins or a tie; the first decisive step names the reason, which is
// shown to users ("why is this route best?").

export type Origin = 0 | 1 | 2; // IGP, EGP, INCOMPLETE

export interface Candidate {
  /** LOCAL_PREF as received (iBGP) or the local default (eBGP / originated). */
  localPref: number;
  /** AS_PATH length as counted for selection (an AS_SET counts as 1). */
  asPathLength: number;
  /** Neighbouring AS (first AS of the path), for MED comparison; undefined for local routes. */
  neighborAs?: number;
  origin: Origin;
  med: number;
  /** Learned over eBGP. */
  ebgp: boolean;
  /** Originated by this speaker: always preferred over learned routes. */
  local: boolean;
  /** BGP identifier of the advertising peer (or ORIGINATOR_ID when reflected). */
  routerId: string;
  clusterListLength: number;
  /** Address of the peer the route came from (final tie-breaker). */
  peerAddress: string;
}

export type DecisionReason =
  | 'local-origin' | 'local-pref' | 'as-path-length' | 'origin' | 'med' | 'ebgp-over-ibgp'
  | 'router-id' | 'cluster-list-length' | 'peer-address' | 'equal';

/** < 0: a wins, > 0: b wins, 0: tie. */
type Comparator = (a: Candidate, b: Candidate) => number;

function ipKey(ip: string): string {
  if (ip.includes(':')) return 'b' + ip; // v6 after v4; exact order between families is moot
  return 'a' + ip.split('.').map((o) => o.padStart(3, '0')).join('.');
}

export const compareLocalOrigin: Comparator = (a, b) => Number(b.local) - Number(a.local);
export const compareLocalPref: Comparator = (a, b) => b.localPref - a.localPref;
export const compareAsPathLength: Comparator = (a, b) => a.asPathLength - b.asPathLength;
export const compareOrigin: Comparator = (a, b) => a.origin - b.origin;
/** MED only compares routes from the same neighbouring AS (no always-compare-med). */
export const compareMed: Comparator = (a, b) => (a.neighborAs !== undefined && a.neighborAs === b.neighborAs ? a.med - b.med : 0);
export const compareEbgp: Comparator = (a, b) => Number(b.ebgp) - Number(a.ebgp);
export const compareRouterId: Comparator = (a, b) => (ipKey(a.routerId) < ipKey(b.routerId) ? -1 : ipKey(a.routerId) > ipKey(b.routerId) ? 1 : 0);
export const compareClusterList: Comparator = (a, b) => a.clusterListLength - b.clusterListLength;
export const comparePeerAddress: Comparator = (a, b) => (ipKey(a.peerAddress) < ipKey(b.peerAddress) ? -1 : ipKey(a.peerAddress) > ipKey(b.peerAddress) ? 1 : 0);

export const DECISION_STEPS: readonly { reason: DecisionReason; compare: Comparator }[] = [
  { reason: 'local-origin', compare: compareLocalOrigin },
  { reason: 'local-pref', compare: compareLocalPref },
  { reason: 'as-path-length', compare: compareAsPathLength },
  { reason: 'origin', compare: compareOrigin },
  { reason: 'med', compare: compareMed },
  { reason: 'ebgp-over-ibgp', compare: compareEbgp },
  // Everything above this line is what makes two paths "equally good" for multipath.
  { reason: 'router-id', compare: compareRouterId },
  { reason: 'cluster-list-length', compare: compareClusterList },
  { reason: 'peer-address', compare: comparePeerAddress },
];

/** Index of the first step that is only a tie-breaker (not a preference). */
const MULTIPATH_CUTOFF = DECISION_STEPS.findIndex((s) => s.reason === 'router-id');

export function compare(a: Candidate, b: Candidate): { winner: 'a' | 'b' | 'tie'; reason: DecisionReason } {
  for (const s of DECISION_STEPS) {
    const c = s.compare(a, b);
    if (c !== 0) return { winner: c < 0 ? 'a' : 'b', reason: s.reason };
  }
  return { winner: 'tie', reason: 'equal' };
}

/** True when a and b are equally preferred up to the tie-breakers (ECMP candidates). */
export function multipathEqual(a: Candidate, b: Candidate): boolean {
  for (let i = 0; i < MULTIPATH_CUTOFF; i++) if (DECISION_STEPS[i]!.compare(a, b) !== 0) return false;
  return true;
}

export interface Selection<T extends Candidate> {
  best: T;
  /** The best plus every path equal to it for multipath (best first). */
  multipath: T[];
  /** Why `best` beat the runner-up (or 'equal' when alone / only tie-broken). */
  reason: DecisionReason;
}

export function selectBest<T extends Candidate>(paths: readonly T[]): Selection<T> | undefined {
  if (!paths.length) return undefined;
  let best = paths[0]!;
  for (const p of paths.slice(1)) if (compare(p, best).winner === 'a') best = p;
  let reason: DecisionReason = 'equal';
  let runnerUp: T | undefined;
  for (const p of paths) {
    if (p === best) continue;
    if (!runnerUp || compare(p, runnerUp).winner === 'a') runnerUp = p;
  }
  if (runnerUp) reason = compare(best, runnerUp).reason;
  const multipath = [best, ...paths.filter((p) => p !== best && multipathEqual(p, best) && !p.local && !best.local)];
  return { best, multipath, reason };
}

// NAT outgoing, as Calico lays it out in the nat table: POSTROUTING -> cali-POSTROUTING ->
// cali-nat-outgoing, which masquerades traffic from a natOutgoing pool to anywhere outside all
// pools. Pool membership is two IP sets (so pool changes never rewrite the rule):
// cali40masq-ipam-pools (pools with natOutgoing) and cali40all-ipam-pools (every pool).

import type { IPPool } from '@tabby/api';
import type { Chain, IpSetSpec } from '../policy/model.js';

export const NAT_HOOKS: ReadonlyArray<{ kernel: string; chain: string }> = Object.freeze([
  { kernel: 'POSTROUTING', chain: 'cali-POSTROUTING' },
]);
export const NAT_OUTGOING_CHAIN = 'cali-nat-outgoing';
export const MASQ_POOLS_SET = 'cali40masq-ipam-pools';
export const ALL_POOLS_SET = 'cali40all-ipam-pools';

export interface NatTargets {
  chains: Chain[];
  ipsets: IpSetSpec[];
}

function canonical(cidr: string): string {
  return cidr.includes('/') ? cidr : `${cidr}/${cidr.includes(':') ? 128 : 32}`;
}

/** IPv4 only: IPv6 pools would need ip6tables and `cali60` sets. */
export function calculateNat(pools: Iterable<IPPool>, opts: { randomFully?: boolean } = {}): NatTargets {
  const v4 = [...pools].filter((p) => !p.spec.cidr.includes(':'));
  const all = new Set(v4.map((p) => canonical(p.spec.cidr)));
  const masq = new Set(v4.filter((p) => p.spec.natOutgoing && !p.spec.disabled).map((p) => canonical(p.spec.cidr)));
  const natOutgoing: Chain = {
    name: NAT_OUTGOING_CHAIN,
    rules: masq.size
      ? [{
          match: [
            { kind: 'ipset', set: MASQ_POOLS_SET, flags: 'src' },
            { kind: 'ipset', set: ALL_POOLS_SET, flags: 'dst', negate: true },
          ],
          action: { kind: 'masquerade', ...(opts.randomFully && { randomFully: true }) },
        }]
      : [],
  };
  const postrouting: Chain = {
    name: 'cali-POSTROUTING',
    rules: [{ match: [], action: { kind: 'jump', target: NAT_OUTGOING_CHAIN } }],
  };
  return {
    chains: [postrouting, natOutgoing],
    ipsets: [
      { name: MASQ_POOLS_SET, type: 'hash:net', members: masq },
      { name: ALL_POOLS_SET, type: 'hash:net', members: all },
    ],
  };
}

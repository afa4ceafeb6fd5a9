// NAT outgoing, as Calico lays it out in the nat table: POSTROUTING -> cali-POSTROUTING ->
// cali-nat-outgoing, which masquerades traffic from a natOutgoing pool to anywhere outside all
// pools. Pool membership is two IP sets (so pool changes never rewrite the rule):
// cali40masq-ipam-pools (pools with natOutgoing) and cali40all-ipam-pools (every pool). IPv6
// pools get the same chains in ip6tables' nat table, with cali60masq-/cali60all-ipam-pools.

import { canonicalCidr, parseCidrOrIp, type IPPool } from '@tabby/api';
import type { Chain, IpSetSpec } from '../policy/model.js';

export const NAT_HOOKS: ReadonlyArray<{ kernel: string; chain: string }> = Object.freeze([
  { kernel: 'POSTROUTING', chain: 'cali-POSTROUTING' },
]);
export const NAT_OUTGOING_CHAIN = 'cali-nat-outgoing';
export const MASQ_POOLS_SET = 'cali40masq-ipam-pools';
export const ALL_POOLS_SET = 'cali40all-ipam-pools';
export const MASQ_POOLS_SET_V6 = 'cali60masq-ipam-pools';
export const ALL_POOLS_SET_V6 = 'cali60all-ipam-pools';

export interface NatTargets {
  chains: Chain[];
  ipsets: IpSetSpec[];
}

/** The pool CIDR as the kernel lists set members (masked; RFC 5952 text for IPv6). */
function canonical(cidr: string): string {
  const c = parseCidrOrIp(cidr);
  return c ? canonicalCidr(c) : cidr;
}

/** The nat table for one IP family (default 4): only that family's pools count. */
export function calculateNat(pools: Iterable<IPPool>, opts: { randomFully?: boolean; ipVersion?: 4 | 6 } = {}): NatTargets {
  const v6 = opts.ipVersion === 6;
  const mine = [...pools].filter((p) => p.spec.cidr.includes(':') === v6);
  const all = new Set(mine.map((p) => canonical(p.spec.cidr)));
  const masq = new Set(mine.filter((p) => p.spec.natOutgoing && !p.spec.disabled).map((p) => canonical(p.spec.cidr)));
  const [masqSet, allSet] = v6 ? [MASQ_POOLS_SET_V6, ALL_POOLS_SET_V6] : [MASQ_POOLS_SET, ALL_POOLS_SET];
  const natOutgoing: Chain = {
    name: NAT_OUTGOING_CHAIN,
    rules: masq.size
      ? [{
          match: [
            { kind: 'ipset', set: masqSet, flags: 'src' },
            { kind: 'ipset', set: allSet, flags: 'dst', negate: true },
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
      { name: masqSet, type: 'hash:net', members: masq },
      { name: allSet, type: 'hash:net', members: all },
    ],
  };
}

// BGPFilter (cluster-scoped): import/export rules for BGP routes, per address family, applied to
// the peers that name the filter in their BGPPeer `filters`. A peer's filters are applied in
// order and the first rule that matches decides (Accept or Reject).

import type { ResourceOf } from '../meta.js';
import { joinPath, type Issues } from '../validate/issues.js';
import { any, arr, int, obj, oneOf, str, type Schema } from '../validate/schema.js';
import { checkMaskedCidr } from '../validate/common.js';
import { parseCidrOrIp } from '../net.js';
import { checkCommunityValue } from './bgp-configuration.js';

export type BGPFilterMatchOperator = 'Equal' | 'NotEqual' | 'In' | 'NotIn';
export type BGPFilterAction = 'Accept' | 'Reject';

export interface BGPFilterRule {
  cidr?: string;
  prefixLength?: { min?: number; max?: number };
  matchOperator?: BGPFilterMatchOperator;
  /** `RemotePeers`: routes learned from BGP peers only. */
  source?: 'RemotePeers';
  /** Interface name or glob of routes learned from an interface. */
  interface?: string;
  peerType?: 'eBGP' | 'iBGP';
  communities?: { values?: string[] };
  asPathPrefix?: number[];
  priority?: number;
  operations?: unknown[];
  action: BGPFilterAction;
}

export interface BGPFilterSpec {
  exportV4?: BGPFilterRule[];
  importV4?: BGPFilterRule[];
  exportV6?: BGPFilterRule[];
  importV6?: BGPFilterRule[];
}
export type BGPFilter = ResourceOf<'BGPFilter', BGPFilterSpec>;

const rule = (bits: number): Schema => obj({
  cidr: str(checkMaskedCidr),
  prefixLength: obj({ min: int(0, bits), max: int(0, bits) }),
  matchOperator: oneOf('Equal', 'NotEqual', 'In', 'NotIn'),
  source: oneOf('RemotePeers'),
  interface: str(),
  peerType: oneOf('eBGP', 'iBGP'),
  communities: obj({ values: arr(str(), 1) }),
  asPathPrefix: arr(int(0, 0xffffffff)),
  priority: int(0, 2147483647),
  operations: arr(any),
  action: oneOf('Accept', 'Reject'),
}, ['action']);

export const bgpFilterSpecSchema: Schema = obj({
  exportV4: arr(rule(32)),
  importV4: arr(rule(32)),
  exportV6: arr(rule(128)),
  importV6: arr(rule(128)),
});

export function defaultBGPFilter(r: BGPFilter): BGPFilter {
  return r;
}

export function validateBGPFilter(r: BGPFilter, issues: Issues): void {
  for (const list of ['exportV4', 'importV4', 'exportV6', 'importV6'] as const) {
    const version = list.endsWith('V4') ? 4 : 6;
    (r.spec[list] ?? []).forEach((ru, i) => {
      const path = joinPath(joinPath('spec', list), i);
      if (!ru || typeof ru !== 'object') return;
      if (ru.cidr && !ru.matchOperator) issues.add(joinPath(path, 'matchOperator'), ru.matchOperator, 'is required when cidr is set');
      if (ru.matchOperator && !ru.cidr) issues.add(joinPath(path, 'cidr'), ru.cidr, 'is required when matchOperator is set');
      if (ru.prefixLength && !ru.cidr) issues.add(joinPath(path, 'prefixLength'), ru.prefixLength, 'needs cidr');
      const c = typeof ru.cidr === 'string' ? parseCidrOrIp(ru.cidr) : undefined;
      if (c && c.version !== version) issues.add(joinPath(path, 'cidr'), ru.cidr, `must be an IPv${version} CIDR in ${list}`);
      const pl = ru.prefixLength;
      if (pl && typeof pl.min === 'number' && typeof pl.max === 'number' && pl.min > pl.max) issues.add(joinPath(path, 'prefixLength'), pl, 'min must not exceed max');
      if (pl && c && typeof pl.min === 'number' && pl.min < c.prefixLen) issues.add(joinPath(joinPath(path, 'prefixLength'), 'min'), pl.min, `must be at least the cidr's prefix length (${c.prefixLen})`);
      (ru.communities?.values ?? []).forEach((v, j) => {
        const ok = typeof v === 'string' ? checkCommunityValue(v) : { format: false };
        if (!ok.format || ok.reason) issues.add(joinPath(joinPath(joinPath(path, 'communities'), 'values'), j), v, ok.reason ?? 'must be a community value aa:nn or aa:nn:mm');
      });
    });
  }
}

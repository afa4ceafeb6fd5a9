// IPPool (cluster-scoped): a range pods (and tunnels) get addresses from, with its
// encapsulation and NAT settings.

import type { ResourceOf } from '../meta.js';
import type { Issues } from '../validate/issues.js';
import { arr, bool, int, obj, oneOf, str, type Schema } from '../validate/schema.js';
import { checkMaskedCidr, checkSelector } from '../validate/common.js';
import { cidrsOverlap, parseCidr } from '../net.js';

export type EncapMode = 'Never' | 'Always' | 'CrossSubnet';
export type AllowedUse = 'Workload' | 'Tunnel' | 'LoadBalancer';

export interface IPPoolSpec {
  cidr: string;
  blockSize?: number;
  ipipMode?: EncapMode;
  vxlanMode?: EncapMode;
  natOutgoing?: boolean;
  disabled?: boolean;
  disableBGPExport?: boolean;
  nodeSelector?: string;
  namespaceSelector?: string;
  allowedUses?: AllowedUse[];
  assignmentMode?: 'Automatic' | 'Manual';
  awsSubnetID?: string;
  /** Deprecated v1-style IPIP settings, converted to ipipMode. */
  ipip?: { enabled?: boolean; mode?: 'always' | 'cross-subnet' };
  /** Deprecated spelling of natOutgoing. */
  'nat-outgoing'?: boolean;
}
export type IPPool = ResourceOf<'IPPool', IPPoolSpec>;

const ENCAP = oneOf('Never', 'Always', 'CrossSubnet');

export const ipPoolSpecSchema: Schema = obj({
  cidr: str(checkMaskedCidr),
  blockSize: int(),
  ipipMode: ENCAP,
  vxlanMode: ENCAP,
  natOutgoing: bool,
  disabled: bool,
  disableBGPExport: bool,
  nodeSelector: str(checkSelector),
  namespaceSelector: str(checkSelector),
  allowedUses: arr(oneOf('Workload', 'Tunnel', 'LoadBalancer')),
  assignmentMode: oneOf('Automatic', 'Manual'),
  awsSubnetID: str(),
  ipip: obj({ enabled: bool, mode: oneOf('always', 'cross-subnet') }),
  'nat-outgoing': bool,
}, ['cidr']);

export const DEFAULT_BLOCK_SIZE_V4 = 26;
export const DEFAULT_BLOCK_SIZE_V6 = 122;

/** Fills Calico's defaults and folds the deprecated fields into their replacements. */
export function defaultIPPool(r: IPPool): IPPool {
  const spec: IPPoolSpec = { ...r.spec };
  const v6 = parseCidr(spec.cidr)?.version === 6;
  if (spec.ipip && spec.ipipMode === undefined) {
    spec.ipipMode = spec.ipip.enabled === false ? 'Never' : spec.ipip.mode === 'cross-subnet' ? 'CrossSubnet' : 'Always';
  }
  delete spec.ipip;
  if (spec['nat-outgoing'] !== undefined && spec.natOutgoing === undefined) spec.natOutgoing = spec['nat-outgoing'];
  delete spec['nat-outgoing'];
  spec.blockSize ??= v6 ? DEFAULT_BLOCK_SIZE_V6 : DEFAULT_BLOCK_SIZE_V4;
  spec.ipipMode ??= 'Never';
  spec.vxlanMode ??= 'Never';
  spec.natOutgoing ??= false;
  spec.nodeSelector ??= 'all()';
  spec.allowedUses ??= ['Workload', 'Tunnel'];
  return { ...r, spec };
}

const LINK_LOCAL_V4 = parseCidr('169.254.0.0/16')!;
const LINK_LOCAL_V6 = parseCidr('fe80::/10')!;

export function validateIPPool(r: IPPool, issues: Issues): void {
  const s = r.spec;
  const cidr = parseCidr(s.cidr.includes('/') ? s.cidr : '');
  if (!cidr) {
    issues.add('spec.cidr', s.cidr, 'must be a CIDR with a prefix length, e.g. 10.0.0.0/16');
    return;
  }
  const v6 = cidr.version === 6;
  if (cidrsOverlap(cidr, v6 ? LINK_LOCAL_V6 : LINK_LOCAL_V4)) {
    issues.add('spec.cidr', s.cidr, `must not overlap the link-local range ${v6 ? 'fe80::/10' : '169.254.0.0/16'}`);
  }
  if (s.blockSize !== undefined) {
    const [min, max] = v6 ? [116, 128] : [20, 32];
    if (s.blockSize < min || s.blockSize > max) issues.add('spec.blockSize', s.blockSize, `must be between ${min} and ${max} for an IPv${cidr.version} pool`);
    else if (cidr.prefixLen > s.blockSize) issues.add('spec.blockSize', s.blockSize, `must not be smaller than the pool itself (/${cidr.prefixLen})`);
  }
  const ipip = s.ipipMode ?? 'Never';
  const vxlan = s.vxlanMode ?? 'Never';
  if (ipip !== 'Never' && vxlan !== 'Never') issues.add('spec.vxlanMode', vxlan, `cannot be enabled together with spec.ipipMode (${ipip}); choose one encapsulation`);
  if (v6 && ipip !== 'Never') issues.add('spec.ipipMode', ipip, 'IPIP is not supported on an IPv6 pool; use Never');
  const uses = s.allowedUses ?? [];
  if (uses.includes('LoadBalancer') && uses.length > 1) issues.add('spec.allowedUses', uses, 'LoadBalancer cannot be combined with other uses');
  if (new Set(uses).size !== uses.length) issues.add('spec.allowedUses', uses, 'must not repeat a use');
  if (uses.includes('LoadBalancer') && s.nodeSelector && s.nodeSelector !== 'all()') {
    issues.add('spec.nodeSelector', s.nodeSelector, 'must be all() for a LoadBalancer pool');
  }
}

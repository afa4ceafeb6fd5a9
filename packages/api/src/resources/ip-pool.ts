// IPPool (cluster-scoped): a range that pods, tunnels or LoadBalancer services get addresses
// from, carved into blocks, with its encapsulation and outgoing-NAT settings.

import type { ResourceOf } from '../meta.js';
import type { FieldIssue, Issues } from '../validate/issues.js';
import { arr, bool, custom, int, obj, str, type Check, type Schema } from '../validate/schema.js';
import { checkMaskedCidr } from '../validate/common.js';
import { canonicalCidr, cidrsOverlap, isMasked, parseCidr } from '../net.js';
import { maxLength, selectorField } from './rule.js';

export type EncapMode = 'Never' | 'Always' | 'CrossSubnet';
export type AllowedUse = 'Workload' | 'Tunnel' | 'LoadBalancer';
export type AssignmentMode = 'Automatic' | 'Manual';

export interface IPPoolSpec {
  cidr: string;
  /** Prefix length of the pool's blocks: 26 (IPv4) / 122 (IPv6) unless set. */
  blockSize?: number;
  ipipMode?: EncapMode;
  vxlanMode?: EncapMode;
  natOutgoing?: boolean;
  disabled?: boolean;
  disableBGPExport?: boolean;
  nodeSelector?: string;
  namespaceSelector?: string;
  allowedUses?: AllowedUse[];
  assignmentMode?: AssignmentMode;
  /**
   * The v1 form of ipipMode. Calico's v3 API refuses it on input; libcalico-go converts it when
   * it reads old stored pools (see convertLegacyIPPoolSpec).
   */
  ipip?: { enabled?: boolean; mode?: string };
  /** The v1 spelling of natOutgoing; refused when true, like `ipip`. */
  'nat-outgoing'?: boolean;
}
export type IPPool = ResourceOf<'IPPool', IPPoolSpec>;

export const DEFAULT_BLOCK_SIZE_V4 = 26;
export const DEFAULT_BLOCK_SIZE_V6 = 122;
export const ENCAP_MODES: readonly EncapMode[] = ['Never', 'Always', 'CrossSubnet'];
const USES: readonly AllowedUse[] = ['Workload', 'Tunnel', 'LoadBalancer'];

/** One of `values`, or "" which Go's omitempty reads as unset (defaulted later). */
function enumOrEmpty(values: readonly string[]): Check {
  return (v, path, issues) => {
    if (v !== '' && (typeof v !== 'string' || !values.includes(v))) issues.add(path, v, `must be one of ${values.join(', ')}`);
  };
}

export const ipPoolSpecSchema: Schema = obj({
  cidr: str(maxLength(48, checkMaskedCidr)),
  blockSize: int(0, 128),
  ipipMode: custom(enumOrEmpty(ENCAP_MODES)),
  vxlanMode: custom(enumOrEmpty(ENCAP_MODES)),
  natOutgoing: bool,
  disabled: bool,
  disableBGPExport: bool,
  nodeSelector: selectorField,
  namespaceSelector: selectorField,
  allowedUses: arr(custom(enumOrEmpty(USES)), 10),
  assignmentMode: custom(enumOrEmpty(['Automatic', 'Manual'])),
  ipip: obj({ enabled: bool, mode: str() }),
  'nat-outgoing': bool,
}, ['cidr']);

/**
 * Calico's client defaults: blockSize by family, both encapsulations Never, nodeSelector all(),
 * allowedUses [Workload, Tunnel], assignmentMode Automatic, natOutgoing false; a masked CIDR is
 * rewritten in canonical form (`FD00:0::/48` -> `fd00::/48`).
 */
export function defaultIPPool(r: IPPool): IPPool {
  const spec: IPPoolSpec = { ...r.spec };
  const cidr = parseCidr(spec.cidr);
  if (cidr && isMasked(cidr)) spec.cidr = canonicalCidr(cidr);
  if (!spec.blockSize) spec.blockSize = cidr?.version === 6 ? DEFAULT_BLOCK_SIZE_V6 : DEFAULT_BLOCK_SIZE_V4;
  spec.ipipMode ||= 'Never';
  spec.vxlanMode ||= 'Never';
  spec.natOutgoing ??= false;
  spec.nodeSelector ||= 'all()';
  if (!spec.allowedUses || spec.allowedUses.length === 0) spec.allowedUses = ['Workload', 'Tunnel'];
  spec.assignmentMode ||= 'Automatic';
  if (spec['nat-outgoing'] === false) delete spec['nat-outgoing'];
  return { ...r, spec };
}

/**
 * The read-side conversion libcalico-go applies to pools stored with v1 fields: `ipip` becomes
 * ipipMode (disabled -> Never, mode cross-subnet -> CrossSubnet, else Always) and `nat-outgoing`
 * is OR-ed into natOutgoing. Both old fields are dropped.
 */
export function convertLegacyIPPoolSpec(spec: IPPoolSpec): IPPoolSpec {
  const out: IPPoolSpec = { ...spec };
  if (out.ipip) {
    out.ipipMode = !out.ipip.enabled ? 'Never' : out.ipip.mode === 'cross-subnet' ? 'CrossSubnet' : 'Always';
  }
  delete out.ipip;
  if (out['nat-outgoing']) out.natOutgoing = true;
  delete out['nat-outgoing'];
  return out;
}

const LINK_LOCAL_V4 = parseCidr('169.254.0.0/16')!;
const LINK_LOCAL_V6 = parseCidr('fe80::/10')!;

const enabled = (m: EncapMode | undefined) => m === 'Always' || m === 'CrossSubnet';

export function validateIPPool(r: IPPool, issues: Issues): void {
  const s = r.spec;
  if (s.ipip !== undefined && s.ipip !== null) {
    issues.add('spec.ipip', s.ipip, 'is the v1 form and is not accepted by projectcalico.org/v3: use spec.ipipMode (Always, CrossSubnet or Never)');
  }
  if (s['nat-outgoing'] === true) {
    issues.add('spec.nat-outgoing', true, 'is the v1 spelling and is not accepted by projectcalico.org/v3: use spec.natOutgoing');
  }
  const cidr = s.cidr.includes('/') ? parseCidr(s.cidr) : undefined;
  if (!cidr) {
    issues.add('spec.cidr', s.cidr, 'must be a CIDR with a prefix length, e.g. 10.0.0.0/16');
    return;
  }
  const v6 = cidr.version === 6;
  if (cidrsOverlap(cidr, v6 ? LINK_LOCAL_V6 : LINK_LOCAL_V4)) {
    issues.add('spec.cidr', s.cidr, `must not overlap the link-local range ${v6 ? 'fe80::/10' : '169.254.0.0/16'}`);
  }
  const blockSize = s.blockSize ?? (v6 ? DEFAULT_BLOCK_SIZE_V6 : DEFAULT_BLOCK_SIZE_V4);
  const [min, max] = v6 ? [116, 128] : [20, 32];
  if (blockSize < min || blockSize > max) {
    issues.add('spec.blockSize', blockSize, `must be between ${min} and ${max} for an IPv${cidr.version} pool`);
  } else if (!s.disabled && cidr.prefixLen > blockSize) {
    issues.add('spec.cidr', s.cidr, `is too small for Calico IPAM: the pool (/${cidr.prefixLen}) must be at least as large as one block (/${blockSize})`);
  }
  if (enabled(s.ipipMode) && enabled(s.vxlanMode)) {
    issues.add('spec.vxlanMode', s.vxlanMode, `cannot be enabled together with spec.ipipMode (${s.ipipMode}); choose one encapsulation`);
  }
  if (v6 && enabled(s.ipipMode)) issues.add('spec.ipipMode', s.ipipMode, 'IPIP is not supported on an IPv6 pool; use Never (VXLAN works for IPv6)');
  checkUses(s, issues);
  for (const f of ['nodeSelector', 'namespaceSelector'] as const) {
    if (s[f]?.includes('global(')) issues.add(`spec.${f}`, s[f], 'must not use global(): it is not valid in an IP pool selector; use all()');
  }
}

function checkUses(s: IPPoolSpec, issues: Issues): void {
  const uses = s.allowedUses ?? [];
  if (new Set(uses).size !== uses.length) issues.add('spec.allowedUses', uses, 'must not repeat a use');
  if (uses.includes('Tunnel') && s.namespaceSelector) {
    issues.add('spec.namespaceSelector', s.namespaceSelector, 'must be empty on a pool with allowed use Tunnel: tunnel addresses belong to no namespace');
  }
  if (!uses.includes('LoadBalancer')) return;
  const others = uses.filter((u) => u !== 'LoadBalancer');
  if (others.length > 0) issues.add('spec.allowedUses', uses, `LoadBalancer cannot be combined with ${others.join(', ')}`);
  if (enabled(s.ipipMode) || enabled(s.vxlanMode)) {
    issues.add(enabled(s.ipipMode) ? 'spec.ipipMode' : 'spec.vxlanMode', enabled(s.ipipMode) ? s.ipipMode : s.vxlanMode, 'must be Never on a LoadBalancer pool');
  }
  if (s.disableBGPExport) issues.add('spec.disableBGPExport', true, 'must not be true on a LoadBalancer pool: its addresses are advertised over BGP');
  if ((s.nodeSelector ?? 'all()') !== 'all()') issues.add('spec.nodeSelector', s.nodeSelector, 'must be all() on a LoadBalancer pool');
}

/**
 * The checks Calico makes against the stored pools when a pool is written: a new pool must not
 * overlap another; an update may not change cidr or blockSize, nor turn a LoadBalancer pool into
 * a Workload/Tunnel one. `pool` and `old` are defaulted pools.
 */
export function checkIPPoolAgainst(pool: IPPool, others: readonly IPPool[], old?: IPPool): FieldIssue[] {
  const out: FieldIssue[] = [];
  const cidr = parseCidr(pool.spec.cidr);
  if (!cidr) return out;
  if (old) {
    const before = parseCidr(old.spec.cidr);
    if (!before || canonicalCidr(before) !== canonicalCidr(cidr)) {
      out.push({ path: 'spec.cidr', value: pool.spec.cidr, reason: `cannot be changed (was ${old.spec.cidr}); create a new pool and migrate instead` });
    }
    if (old.spec.blockSize !== pool.spec.blockSize) {
      out.push({ path: 'spec.blockSize', value: pool.spec.blockSize, reason: `cannot be changed (was ${old.spec.blockSize})` });
    }
    if (old.spec.allowedUses?.includes('LoadBalancer') && pool.spec.allowedUses?.some((u) => u !== 'LoadBalancer')) {
      out.push({ path: 'spec.allowedUses', value: pool.spec.allowedUses, reason: 'cannot change from LoadBalancer to Workload or Tunnel' });
    }
    return out;
  }
  for (const other of others) {
    if (other.metadata.name === pool.metadata.name) continue;
    const oc = parseCidr(other.spec.cidr);
    if (oc && cidrsOverlap(oc, cidr)) {
      out.push({ path: 'spec.cidr', value: pool.spec.cidr, reason: `overlaps IPPool "${other.metadata.name}" (${other.spec.cidr})` });
    }
  }
  return out;
}

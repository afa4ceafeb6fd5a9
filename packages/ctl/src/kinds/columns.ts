// Per-kind table layout for `ctl get`: calicoctl's default (ps) and wide headings, and one cell
// function per heading. Cells read the resource loosely: stored objects may predate a field.

import type { AnyResource, KindName } from '@tabby/api';

export interface CellContext {
  /** The cluster's default AS number (BGPConfiguration default, else 64512), fetched lazily. */
  globalAsn(): Promise<string>;
}

export type Cell = (r: AnyResource, ctx: CellContext) => string | Promise<string>;

export interface TableDef {
  ps: readonly string[];
  wide: readonly string[];
  cells: Record<string, Cell>;
}

/** Reads a dotted path from a resource; undefined when any step is missing. */
export function pick(r: unknown, path: string): unknown {
  let cur: unknown = r;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Go's fmt rendering of a scalar, as calicoctl's templates print it. */
export function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** calicoctl's join: lists joined with ",", maps as sorted k=v; optional truncation with "...". */
export function join(v: unknown, maxLen = 0): string {
  let items: string[];
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) items = v.map((x) => (x && typeof x === 'object' ? goStruct(x) : text(x)));
  else if (typeof v === 'object') items = Object.entries(v).map(([k, x]) => `${k}=${text(x)}`).sort();
  else items = [text(v)];
  const s = items.join(',');
  return maxLen > 0 && s.length > maxLen ? s.slice(0, maxLen - 3) + '...' : s;
}

/** fmt's %v of a struct: `{a b}` (field values in order). */
function goStruct(o: object): string {
  return '{' + Object.values(o).map(text).join(' ') + '}';
}

const f = (path: string): Cell => (r) => text(pick(r, path));
const orDash = (path: string): Cell => (r) => {
  const v = pick(r, path);
  return v === undefined || v === null ? '-' : text(v);
};
const orNever = (path: string): Cell => (r) => text(pick(r, path)) || 'Never';
const boolCell = (path: string): Cell => (r) => String(pick(r, path) === true);
const NAME: Cell = f('metadata.name');
const NAMESPACE: Cell = f('metadata.namespace');

export const TABLES: Record<KindName, TableDef> = {
  BGPConfiguration: {
    ps: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    wide: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    cells: { NAME, LOGSEVERITY: f('spec.logSeverityScreen'), MESHENABLED: orDash('spec.nodeToNodeMeshEnabled'), ASNUMBER: orDash('spec.asNumber') },
  },
  BGPPeer: {
    ps: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    wide: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    cells: {
      NAME,
      PEERIP: (r) => text(pick(r, 'spec.peerIP')) || text(pick(r, 'spec.peerSelector')),
      NODE: (r) => text(pick(r, 'spec.node')) || text(pick(r, 'spec.nodeSelector')) || '(global)',
      ASN: f('spec.asNumber'),
    },
  },
  BGPFilter: {
    ps: ['NAME', 'NUMEXPORTV4', 'NUMIMPORTV4', 'NUMEXPORTV6', 'NUMIMPORTV6'],
    wide: ['NAME', 'NUMEXPORTV4', 'NUMIMPORTV4', 'NUMEXPORTV6', 'NUMIMPORTV6'],
    cells: {
      NAME,
      NUMEXPORTV4: (r) => String((pick(r, 'spec.exportV4') as unknown[] | undefined)?.length ?? 0),
      NUMIMPORTV4: (r) => String((pick(r, 'spec.importV4') as unknown[] | undefined)?.length ?? 0),
      NUMEXPORTV6: (r) => String((pick(r, 'spec.exportV6') as unknown[] | undefined)?.length ?? 0),
      NUMIMPORTV6: (r) => String((pick(r, 'spec.importV6') as unknown[] | undefined)?.length ?? 0),
    },
  },
  FelixConfiguration: { ps: ['NAME'], wide: ['NAME'], cells: { NAME } },
  GlobalNetworkPolicy: {
    ps: ['NAME'],
    wide: ['NAME', 'ORDER', 'SELECTOR'],
    cells: { NAME, ORDER: f('spec.order'), SELECTOR: f('spec.selector') },
  },
  NetworkPolicy: {
    ps: ['NAME'],
    wide: ['NAME', 'ORDER', 'SELECTOR'],
    cells: { NAME, NAMESPACE, ORDER: f('spec.order'), SELECTOR: f('spec.selector') },
  },
  HostEndpoint: {
    ps: ['NAME', 'NODE'],
    wide: ['NAME', 'NODE', 'INTERFACE', 'IPS', 'PROFILES'],
    cells: { NAME, NODE: f('spec.node'), INTERFACE: f('spec.interfaceName'), IPS: (r) => join(pick(r, 'spec.expectedIPs')), PROFILES: (r) => join(pick(r, 'spec.profiles')) },
  },
  IPPool: {
    ps: ['NAME', 'CIDR', 'SELECTOR'],
    wide: ['NAME', 'CIDR', 'NAT', 'IPIPMODE', 'VXLANMODE', 'DISABLED', 'DISABLEBGPEXPORT', 'SELECTOR'],
    cells: {
      NAME, CIDR: f('spec.cidr'), NAT: boolCell('spec.natOutgoing'), IPIPMODE: orNever('spec.ipipMode'),
      VXLANMODE: orNever('spec.vxlanMode'), DISABLED: boolCell('spec.disabled'),
      DISABLEBGPEXPORT: boolCell('spec.disableBGPExport'), SELECTOR: f('spec.nodeSelector'),
    },
  },
  Node: {
    ps: ['NAME'],
    wide: ['NAME', 'ASN', 'IPV4', 'IPV6'],
    cells: {
      NAME,
      ASN: async (r, ctx) => {
        const own = pick(r, 'spec.bgp.asNumber');
        return own !== undefined && own !== null ? text(own) : `(${await ctx.globalAsn()})`;
      },
      IPV4: f('spec.bgp.ipv4Address'),
      IPV6: f('spec.bgp.ipv6Address'),
    },
  },
  Profile: {
    ps: ['NAME'],
    wide: ['NAME', 'LABELS'],
    cells: { NAME, LABELS: (r) => join(pick(r, 'spec.labelsToApply')) },
  },
  WorkloadEndpoint: {
    ps: ['WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE'],
    wide: ['NAME', 'WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE', 'PROFILES', 'NATS'],
    cells: {
      NAME, NAMESPACE, NODE: f('spec.node'), ORCHESTRATOR: f('spec.orchestrator'),
      WORKLOAD: (r) => text(pick(r, 'spec.workload')) || text(pick(r, 'spec.pod')),
      NETWORKS: (r) => join(pick(r, 'spec.ipNetworks')),
      NATS: (r) => join(pick(r, 'spec.ipNATs')),
      PROFILES: (r) => join(pick(r, 'spec.profiles')),
      INTERFACE: f('spec.interfaceName'),
    },
  },
  ClusterInformation: {
    ps: ['NAME', 'CLUSTERGUID', 'CLUSTERTYPE', 'CALICOVERSION', 'DATASTOREREADY'],
    wide: ['NAME', 'CLUSTERGUID', 'CLUSTERTYPE', 'CALICOVERSION', 'DATASTOREREADY'],
    cells: {
      NAME, CLUSTERGUID: f('spec.clusterGUID'), CLUSTERTYPE: f('spec.clusterType'),
      CALICOVERSION: f('spec.calicoVersion'), DATASTOREREADY: f('spec.datastoreReady'),
    },
  },
  IPAMConfig: {
    ps: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS'],
    wide: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS', 'MAXBLOCKSPERHOST'],
    cells: {
      NAME, STRICTAFFINITY: boolCell('spec.strictAffinity'), AUTOALLOCATEBLOCKS: boolCell('spec.autoAllocateBlocks'),
      MAXBLOCKSPERHOST: (r) => text(pick(r, 'spec.maxBlocksPerHost') ?? 0),
    },
  },
  // Not in calicoctl's registry (it hides IPAM objects); columns chosen to match `ipam show`.
  IPAMBlock: {
    ps: ['NAME', 'CIDR', 'AFFINITY'],
    wide: ['NAME', 'CIDR', 'AFFINITY', 'IPS IN USE'],
    cells: {
      NAME, CIDR: f('spec.cidr'), AFFINITY: f('spec.affinity'),
      'IPS IN USE': (r) => {
        const a = pick(r, 'spec.allocations');
        return String(Array.isArray(a) ? a.filter((x) => x !== null && x !== undefined).length : 0);
      },
    },
  },
  BlockAffinity: {
    ps: ['NAME', 'NODE', 'CIDR', 'STATE'],
    wide: ['NAME', 'NODE', 'CIDR', 'STATE'],
    cells: { NAME, NODE: f('spec.node'), CIDR: f('spec.cidr'), STATE: f('spec.state') },
  },
  IPAMHandle: {
    ps: ['NAME', 'BLOCKS'],
    wide: ['NAME', 'BLOCKS'],
    cells: { NAME, BLOCKS: (r) => join(pick(r, 'spec.block')) },
  },
};

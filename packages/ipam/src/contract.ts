// The contract between IPAM and its callers (the CNI plugin, the node agent, ctl). The
// implementation lives next to this file; callers depend only on these types.

/** Attributes stored with an allocation (Calico's `secondary` attributes). */
export interface AllocationAttrs {
  namespace?: string;
  pod?: string;
  node?: string;
  /** e.g. "ipipTunnelAddress", "vxlanTunnelAddress" for tunnel addresses. */
  type?: string;
  [key: string]: string | undefined;
}

export interface AutoAssignRequest {
  /** How many IPv4 / IPv6 addresses to assign (0 for none). */
  num4: number;
  num6: number;
  /** The handle the addresses are recorded under (CNI: `<network>.<containerID>`). */
  handleID: string;
  attrs?: AllocationAttrs;
  /** The node whose affine blocks are used (and claimed). */
  hostname: string;
  /** Restrict to these pools (CIDRs or pool names); default: enabled pools whose nodeSelector matches the node. */
  ipv4Pools?: string[];
  ipv6Pools?: string[];
  /** Overrides IPAMConfig.maxBlocksPerHost when smaller. */
  maxBlocksPerHost?: number;
  /** "Workload" (default) or "Tunnel" (IPPool allowedUses). */
  use?: 'Workload' | 'Tunnel';
}

export interface AssignedAddress {
  /** The address with its block's prefix length, as Calico returns it, e.g. "10.244.1.5/26". */
  cidr: string;
  /** Just the address, e.g. "10.244.1.5". */
  address: string;
  /** The block it came from, e.g. "10.244.1.0/26". */
  block: string;
  /** True when the block is affine to another node (a borrowed address). */
  borrowed: boolean;
}

export interface AutoAssignResult {
  ipv4: AssignedAddress[];
  ipv6: AssignedAddress[];
}

/** Thrown when fewer addresses than requested could be assigned (nothing is left assigned then). */
export class IpamExhaustedError extends Error {
  constructor(readonly family: 4 | 6, readonly wanted: number, readonly got: number, reason: string) {
    super(`IPv${family}: assigned ${got} of ${wanted} addresses: ${reason}`);
    this.name = 'IpamExhaustedError';
  }
}

export interface Ipam {
  autoAssign(req: AutoAssignRequest): Promise<AutoAssignResult>;
  /** Assigns one specific address (fails if taken or outside every pool). */
  assignIP(req: { address: string; handleID: string; attrs?: AllocationAttrs; hostname: string }): Promise<AssignedAddress>;
  /** Releases every address recorded under the handle; returns what was released ([] if none: idempotent). */
  releaseByHandle(handleID: string): Promise<string[]>;
  /** Releases these addresses; returns the ones that were not allocated. */
  releaseIPs(addresses: string[]): Promise<string[]>;
  /** The addresses recorded under a handle. */
  ipsByHandle(handleID: string): Promise<string[]>;
}

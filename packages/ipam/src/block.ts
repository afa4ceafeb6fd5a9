// Pure operations on one allocation block (libcalico-go's AllocationBlock): ordinal <-> address
// math, assignment from the `unallocated` list, release, and the attribute table. Every
// function works on a plain IPAMBlockSpec; callers clone before mutating and write the result
// back with a compare-and-swap.

import {
  bits, canonicalCidr, cidrContains, formatIP, networkOf, parseCidr, parseIP,
  type AllocationAttribute, type Cidr, type IPAMBlockSpec, type IpAddr,
} from '@tabby/api';
import { IpamError } from './errors.js';
import type { AllocationAttrs } from './contract.js';

/** The `affinity` value of a block held by a node. */
export function hostAffinity(host: string): string {
  return `host:${host}`;
}

/** The node named by a `host:<node>` affinity, or undefined (no affinity, or `virtual:`). */
export function affinityHost(affinity: string | null | undefined): string | undefined {
  return affinity?.startsWith('host:') ? affinity.slice(5) : undefined;
}

export function parseBlockCidr(cidr: string): Cidr {
  const c = parseCidr(cidr);
  if (!c) throw new IpamError(`"${cidr}" is not a block CIDR`);
  return { ...c, addr: networkOf(c) };
}

/** Number of addresses in a block (at most 4096: blocks are /20../32 and /116../128). */
export function blockCapacity(block: Cidr): number {
  return 2 ** (bits(block.version) - block.prefixLen);
}

/** The block of a pool (with the pool's block size) that holds an address. */
export function blockCidrFor(ip: IpAddr, blockSize: number): string {
  return canonicalCidr({ version: ip.version, addr: ip.value, prefixLen: blockSize });
}

export function ordinalOf(block: Cidr, ip: IpAddr): number {
  const inner: Cidr = { version: ip.version, addr: ip.value, prefixLen: bits(ip.version) };
  if (!cidrContains(block, inner)) throw new IpamError(`${formatIP(ip.version, ip.value)} is not in block ${canonicalCidr(block)}`);
  return Number(ip.value - networkOf(block));
}

export function addressOf(block: Cidr, ordinal: number): string {
  return formatIP(block.version, networkOf(block) + BigInt(ordinal));
}

export function parseAddress(text: string): IpAddr {
  const ip = parseIP(text.includes('/') ? text.slice(0, text.indexOf('/')) : text);
  if (!ip) throw new IpamError(`"${text}" is not an IP address`);
  return ip;
}

/** A fresh block: every ordinal free, in order, as libcalico-go's newBlock makes it. */
export function newBlockSpec(cidr: string, affinity: string | null, claimTime: string, sequenceNumber: number): IPAMBlockSpec {
  const c = parseBlockCidr(cidr);
  const n = blockCapacity(c);
  return {
    cidr: canonicalCidr(c),
    affinity,
    ...(affinity ? { affinityClaimTime: claimTime } : {}),
    strictAffinity: false,
    allocations: new Array<number | null>(n).fill(null),
    unallocated: Array.from({ length: n }, (_, i) => i),
    attributes: [],
    sequenceNumber,
    sequenceNumberForAllocation: {},
    deleted: false,
  };
}

export function cloneBlock(b: IPAMBlockSpec): IPAMBlockSpec {
  return structuredClone(b);
}

export function freeCount(b: IPAMBlockSpec): number {
  return b.unallocated.length;
}

export function inUseCount(b: IPAMBlockSpec): number {
  let n = 0;
  for (const a of b.allocations) if (a !== null) n++;
  return n;
}

export function isEmpty(b: IPAMBlockSpec): boolean {
  return b.allocations.every((a) => a === null);
}

/** Attribute entries are shared by allocations with the same handle and attributes. */
function findOrAddAttribute(b: IPAMBlockSpec, handleID: string | undefined, attrs: AllocationAttrs): number {
  const secondary = cleanAttrs(attrs);
  const want = JSON.stringify(sortedEntries(secondary));
  const i = b.attributes.findIndex((a) => a.handle_id === handleID && JSON.stringify(sortedEntries(a.secondary ?? {})) === want);
  if (i >= 0) return i;
  const entry: AllocationAttribute = { ...(handleID !== undefined ? { handle_id: handleID } : {}), secondary };
  b.attributes.push(entry);
  return b.attributes.length - 1;
}

function cleanAttrs(attrs: AllocationAttrs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (typeof v === 'string') out[k] = v;
  return out;
}

function sortedEntries(o: Record<string, string>): [string, string][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function checkAffinity(b: IPAMBlockSpec, host: string): void {
  if (b.affinity && b.affinity !== hostAffinity(host)) {
    throw new IpamError(`Block ${b.cidr} is affine to ${b.affinity}, not to host ${host}, and strict affinity is enabled`);
  }
}

/**
 * Takes up to `num` free ordinals from the front of `unallocated` (the order in which they were
 * freed), all recorded under one attribute entry. Returns the ordinals (fewer when the block is
 * nearly full). With `affinityCheck` a block affine to another host is refused.
 */
export function assignFromBlock(b: IPAMBlockSpec, num: number, handleID: string | undefined, attrs: AllocationAttrs, host: string, affinityCheck: boolean): number[] {
  if (affinityCheck) checkAffinity(b, host);
  const take = Math.min(num, b.unallocated.length);
  if (take <= 0) return [];
  const ordinals = b.unallocated.splice(0, take);
  const idx = findOrAddAttribute(b, handleID, attrs);
  const seq = b.sequenceNumber ?? 0;
  b.sequenceNumberForAllocation ??= {};
  for (const o of ordinals) {
    b.allocations[o] = idx;
    b.sequenceNumberForAllocation[String(o)] = seq;
  }
  b.sequenceNumber = seq + 1;
  return ordinals;
}

/** Assigns one given ordinal; fails if it is taken (or, with strict affinity, if the block is another host's). */
export function assignOrdinal(b: IPAMBlockSpec, ordinal: number, handleID: string | undefined, attrs: AllocationAttrs, host: string, strictAffinity: boolean): void {
  if (strictAffinity) checkAffinity(b, host);
  if (ordinal < 0 || ordinal >= b.allocations.length) throw new IpamError(`ordinal ${ordinal} is outside block ${b.cidr}`);
  if (b.allocations[ordinal] !== null) throw new IpamError(`Address ${addressOf(parseBlockCidr(b.cidr), ordinal)} is already assigned in block ${b.cidr}`);
  const at = b.unallocated.indexOf(ordinal);
  if (at >= 0) b.unallocated.splice(at, 1);
  const idx = findOrAddAttribute(b, handleID, attrs);
  const seq = b.sequenceNumber ?? 0;
  b.allocations[ordinal] = idx;
  b.sequenceNumberForAllocation = { ...(b.sequenceNumberForAllocation ?? {}), [String(ordinal)]: seq };
  b.sequenceNumber = seq + 1;
}

export interface ReleaseResult {
  /** Ordinals that were released. */
  released: number[];
  /** Requested ordinals that were not allocated. */
  notAllocated: number[];
  /** Handle ID -> number of its addresses released. */
  handles: Map<string, number>;
}

/**
 * Frees ordinals: each goes to the end of `unallocated` (so recently freed addresses are
 * reused last), its sequence number is dropped, and attribute entries no longer referenced are
 * removed (the remaining ones renumbered).
 */
export function releaseOrdinals(b: IPAMBlockSpec, ordinals: readonly number[]): ReleaseResult {
  const out: ReleaseResult = { released: [], notAllocated: [], handles: new Map() };
  for (const o of ordinals) {
    const idx = b.allocations[o];
    if (idx === null || idx === undefined) {
      out.notAllocated.push(o);
      continue;
    }
    const handle = b.attributes[idx]?.handle_id;
    if (handle !== undefined) out.handles.set(handle, (out.handles.get(handle) ?? 0) + 1);
    b.allocations[o] = null;
    b.unallocated.push(o);
    if (b.sequenceNumberForAllocation) delete b.sequenceNumberForAllocation[String(o)];
    out.released.push(o);
  }
  if (out.released.length > 0) {
    compactAttributes(b);
    b.sequenceNumber = (b.sequenceNumber ?? 0) + 1;
  }
  return out;
}

function compactAttributes(b: IPAMBlockSpec): void {
  const used = new Set<number>();
  for (const a of b.allocations) if (a !== null) used.add(a);
  const renumber = new Map<number, number>();
  const kept: AllocationAttribute[] = [];
  b.attributes.forEach((attr, i) => {
    if (!used.has(i)) return;
    renumber.set(i, kept.length);
    kept.push(attr);
  });
  b.attributes = kept;
  b.allocations = b.allocations.map((a) => (a === null ? null : renumber.get(a)!));
}

/** The ordinals recorded under a handle, in address order. */
export function ordinalsByHandle(b: IPAMBlockSpec, handleID: string): number[] {
  const out: number[] = [];
  b.allocations.forEach((a, o) => {
    if (a !== null && b.attributes[a]?.handle_id === handleID) out.push(o);
  });
  return out;
}

/** The attribute entry of an allocated ordinal. */
export function attributeOf(b: IPAMBlockSpec, ordinal: number): AllocationAttribute | undefined {
  const a = b.allocations[ordinal];
  return a === null || a === undefined ? undefined : b.attributes[a] ?? {};
}

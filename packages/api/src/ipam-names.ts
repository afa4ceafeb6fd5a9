// Names of IPAM objects as libcalico-go derives them: block names from CIDRs, block-affinity
// names from node + block, allocation handle IDs, and the block `affinity` field.

import { createHash } from 'node:crypto';
import { canonicalCidr, parseCidr } from './net.js';

/** A CIDR or node name that cannot be turned into an IPAM object name. */
export class IpamNameError extends Error {
  constructor(readonly what: string, readonly value: string, reason: string) {
    super(`${what} ${JSON.stringify(value)}: ${reason}`);
    this.name = 'IpamNameError';
  }
}

/**
 * The resource name of a block: its canonical CIDR text with ".", ":" and "/" turned into "-"
 * (`10.244.1.0/26` -> `10-244-1-0-26`, `fd00:1::/122` -> `fd00-1---122`). Host bits are cleared
 * and IPv6 is written in its canonical compressed form first, so every spelling of a block gives
 * the one name Calico uses.
 */
export function blockNameFromCidr(cidr: string): string {
  const c = parseCidr(cidr);
  if (!c) throw new IpamNameError('block CIDR', cidr, 'is not a CIDR such as 10.244.1.0/26');
  return canonicalCidr(c).replace(/[.:/]/g, '-');
}

/**
 * Inverse of blockNameFromCidr: the canonical CIDR a block name stands for, or undefined when
 * no block has that name. Every "-" but the last is a "." (IPv4) or ":" (IPv6); the last one
 * separates the prefix length.
 */
export function cidrFromBlockName(name: string): string | undefined {
  const i = name.lastIndexOf('-');
  if (i < 1) return undefined;
  const addr = name.slice(0, i);
  const text = /^\d+-\d+-\d+-\d+$/.test(addr) ? addr.replace(/-/g, '.') : addr.replace(/-/g, ':');
  const c = parseCidr(`${text}/${name.slice(i + 1)}`);
  if (!c) return undefined;
  const cidr = canonicalCidr(c);
  return blockNameFromCidr(cidr) === name ? cidr : undefined;
}

/** Kubernetes object names are at most 253 characters. */
const MAX_NAME = 253;

/**
 * The resource name of a node's affinity to a block: `<node>-<block name>`. As in Calico, a name
 * that would reach 253 characters keeps a prefix of the node name and gains an 11-hex-digit
 * SHA-256 of "<node>+<block name>" so that it stays unique.
 */
export function blockAffinityName(node: string, cidr: string): string {
  if (node === '') throw new IpamNameError('node name', node, 'must not be empty');
  const block = blockNameFromCidr(cidr);
  const name = `${node}-${block}`;
  if (name.length < MAX_NAME) return name;
  const keep = MAX_NAME - 1 - block.length - 13;
  const hash = createHash('sha256').update(`${node}+${block}`).digest('hex').slice(0, 11);
  return `${node.slice(0, keep)}-${block}-${hash}`;
}

/**
 * Every (node, CIDR) pair an un-hashed affinity name can stand for. IPv4 names split one way,
 * but the tail of a node name may look like part of an IPv6 block name (`a-1---122`), so
 * callers that need one answer must check the candidates against the spec or the datastore.
 */
export function splitBlockAffinityName(name: string): { node: string; cidr: string }[] {
  const out: { node: string; cidr: string }[] = [];
  for (let i = name.indexOf('-', 1); i > 0; i = name.indexOf('-', i + 1)) {
    const cidr = cidrFromBlockName(name.slice(i + 1));
    if (cidr) out.push({ node: name.slice(0, i), cidr });
  }
  return out;
}

// ---- the block's affinity field ----------------------------------------------------------

export type AffinityType = 'host' | 'virtual';

/** `host:<node>` for a node's block, `virtual:<name>` for LoadBalancer address blocks. */
export function blockAffinityValue(type: AffinityType, name: string): string {
  return `${type}:${name}`;
}

/** Splits an IPAMBlock `affinity` ("host:node-1"); undefined when it has neither form. */
export function parseBlockAffinityValue(v: string): { type: AffinityType; name: string } | undefined {
  const m = /^(host|virtual):([a-zA-Z0-9._-]+)$/.exec(v);
  return m ? { type: m[1] as AffinityType, name: m[2]! } : undefined;
}

// ---- allocation handles ------------------------------------------------------------------

/** The handle the CNI IPAM plugin allocates a pod's addresses under: `<network>.<containerID>`. */
export function cniHandleID(networkName: string, containerID: string): string {
  return `${networkName}.${containerID}`;
}

export type TunnelAddressKind = 'ipip' | 'vxlan' | 'vxlan-v6' | 'wireguard' | 'wireguard-v6';

/** The handle calico-node allocates a node's tunnel address under, e.g. `ipip-tunnel-addr-node-1`. */
export function tunnelHandleID(kind: TunnelAddressKind, node: string): string {
  return `${kind}-tunnel-addr-${node}`;
}

// Calico's etcd v3 key layout and value encoding (pure). v3 resources are stored as their JSON
// (without resourceVersion, which is the key's mod revision); the IPAM objects use Calico's
// /calico/ipam/v2 keys and model JSON, so a Calico node and Tabby can share one etcd.

import { API_VERSION, KINDS, blockNameFromCidr, cidrFromBlockName, parseCidr, type AnyResource, type KindName } from '@tabby/api';
import { DecodeError } from '../errors.js';

export const V3_PREFIX = '/calico/resources/v3/projectcalico.org/';
export const IPAM_PREFIX = '/calico/ipam/v2/';
const BLOCK_PREFIX = `${IPAM_PREFIX}assignment/`;
const HOST_PREFIX = `${IPAM_PREFIX}host/`;
const HANDLE_PREFIX = `${IPAM_PREFIX}handle/`;
export const IPAM_CONFIG_KEY = `${IPAM_PREFIX}config`;

/** Block names as Calico forms them (re-exported from the api package for callers of this module). */
export const blockNameOf = blockNameFromCidr;
export const cidrOfBlockName = cidrFromBlockName;

function family(cidr: string): 'ipv4' | 'ipv6' {
  return parseCidr(cidr)?.version === 6 ? 'ipv6' : 'ipv4';
}

export function blockKey(cidr: string): string {
  return `${BLOCK_PREFIX}${family(cidr)}/block/${blockNameOf(cidr)}`;
}

export function affinityKey(node: string, cidr: string): string {
  return `${HOST_PREFIX}${node}/${family(cidr)}/block/${blockNameOf(cidr)}`;
}

/** BlockAffinity names join node and block name; IPv4 block names are unambiguous at the end. */
export function splitAffinityName(name: string): { node: string; cidr: string } | undefined {
  const m = /^(.+)-(\d+-\d+-\d+-\d+-\d+)$/.exec(name);
  if (m) {
    const cidr = cidrOfBlockName(m[2]!);
    if (cidr) return { node: m[1]!, cidr };
  }
  return undefined;
}

function checkPathSegment(kind: string, what: string, v: string): void {
  if (!v || v.includes('/')) throw new DecodeError(`${kind}/${v}`, `${what} must be non-empty and contain no "/"`);
}

/** The key of one resource; for BlockAffinity, undefined when the name alone cannot tell (IPv6). */
export function keyOf(kind: KindName, name: string, namespace?: string): string | undefined {
  const def = KINDS[kind];
  switch (def.storage) {
    case 'v3':
      checkPathSegment(kind, 'name', name);
      if (def.namespaced) {
        checkPathSegment(kind, 'namespace', namespace ?? '');
        return `${V3_PREFIX}${def.plural}/${namespace}/${name}`;
      }
      return `${V3_PREFIX}${def.plural}/${name}`;
    case 'ipam-block': {
      const cidr = cidrOfBlockName(name);
      return cidr ? blockKey(cidr) : undefined;
    }
    case 'block-affinity': {
      const s = splitAffinityName(name);
      return s ? affinityKey(s.node, s.cidr) : undefined;
    }
    case 'ipam-handle':
      checkPathSegment(kind, 'handle id', name);
      return `${HANDLE_PREFIX}${name}`;
    case 'ipam-config':
      return IPAM_CONFIG_KEY;
  }
}

/** The key a resource is stored under (uses the spec where the name is not enough). */
export function keyOfResource(r: AnyResource): string {
  if (r.kind === 'BlockAffinity') {
    const spec = r.spec as { node?: string; cidr?: string };
    if (spec.node && spec.cidr) return affinityKey(spec.node, spec.cidr);
  }
  const key = keyOf(r.kind, r.metadata.name, r.metadata.namespace);
  if (!key) throw new DecodeError(`${r.kind}/${r.metadata.name}`, 'cannot derive the etcd key from this name');
  return key;
}

/** The prefix that lists a kind (optionally within one namespace). Exact key for IPAMConfig. */
export function listPrefixOf(kind: KindName, namespace?: string): string {
  const def = KINDS[kind];
  switch (def.storage) {
    case 'v3':
      return def.namespaced && namespace ? `${V3_PREFIX}${def.plural}/${namespace}/` : `${V3_PREFIX}${def.plural}/`;
    case 'ipam-block': return BLOCK_PREFIX;
    case 'block-affinity': return HOST_PREFIX;
    case 'ipam-handle': return HANDLE_PREFIX;
    case 'ipam-config': return IPAM_CONFIG_KEY;
  }
}

type Json = Record<string, unknown>;

/** The stored value of a resource. */
export function encodeValue(r: AnyResource): string {
  const spec = (r.spec ?? {}) as Json;
  switch (KINDS[r.kind].storage) {
    case 'v3': {
      const { resourceVersion: _rv, ...metadata } = r.metadata;
      return JSON.stringify({ ...r, metadata });
    }
    case 'ipam-block': {
      const { cidr, affinity, affinityClaimTime, strictAffinity, allocations, unallocated, attributes, sequenceNumber, sequenceNumberForAllocation, deleted } = spec;
      return JSON.stringify({
        cidr, affinity: affinity ?? null, ...(affinityClaimTime !== undefined ? { affinityClaimTime } : {}),
        strictAffinity: strictAffinity ?? false, allocations: allocations ?? [], unallocated: unallocated ?? [],
        attributes: attributes ?? [], deleted: deleted ?? false, sequenceNumber: sequenceNumber ?? 0,
        sequenceNumberForAllocation: sequenceNumberForAllocation ?? {},
      });
    }
    case 'block-affinity':
      return JSON.stringify({ state: spec['state'] ?? 'confirmed', deleted: spec['deleted'] ?? false });
    case 'ipam-handle':
      return JSON.stringify({ block: spec['block'] ?? {}, deleted: spec['deleted'] ?? false });
    case 'ipam-config':
      return JSON.stringify({
        strict_affinity: spec['strictAffinity'] ?? false,
        auto_allocate_blocks: spec['autoAllocateBlocks'] ?? true,
        maxBlocksPerHost: spec['maxBlocksPerHost'] ?? 0,
      });
  }
}

function envelope(kind: KindName, name: string, revision: string, spec: Json): AnyResource {
  return { apiVersion: API_VERSION, kind, metadata: { name, resourceVersion: revision }, spec } as AnyResource;
}

/** Decodes a stored key/value of the given kind into a resource carrying resourceVersion. */
export function decodeKV(kind: KindName, key: string, value: string, modRevision: string): AnyResource {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    throw new DecodeError(key, `value is not JSON: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DecodeError(key, 'value is not a JSON object');
  const v = parsed as Json;
  switch (KINDS[kind].storage) {
    case 'v3': {
      const meta = v['metadata'];
      if (v['kind'] !== kind || !meta || typeof meta !== 'object' || typeof (meta as Json)['name'] !== 'string') {
        throw new DecodeError(key, `expected a ${kind} object with metadata.name`);
      }
      return { ...v, metadata: { ...(meta as Json), resourceVersion: modRevision } } as unknown as AnyResource;
    }
    case 'ipam-block': {
      const m = /\/block\/([^/]+)$/.exec(key);
      if (!m) throw new DecodeError(key, 'not an IPAM block key');
      return envelope(kind, m[1]!, modRevision, v);
    }
    case 'block-affinity': {
      const m = /^\/calico\/ipam\/v2\/host\/([^/]+)\/ipv[46]\/block\/([^/]+)$/.exec(key);
      const cidr = m ? cidrOfBlockName(m[2]!) : undefined;
      if (!m || !cidr) throw new DecodeError(key, 'not a block affinity key');
      return envelope(kind, `${m[1]}-${m[2]}`, modRevision, { state: v['state'] ?? 'confirmed', node: m[1], cidr, type: 'host', deleted: v['deleted'] ?? false });
    }
    case 'ipam-handle': {
      const id = key.slice(HANDLE_PREFIX.length);
      return envelope(kind, id, modRevision, { handleID: id, block: v['block'] ?? {}, deleted: v['deleted'] ?? false });
    }
    case 'ipam-config':
      return envelope(kind, 'default', modRevision, {
        strictAffinity: v['strict_affinity'] ?? false,
        autoAllocateBlocks: v['auto_allocate_blocks'] ?? true,
        maxBlocksPerHost: v['maxBlocksPerHost'] ?? 0,
      });
  }
}

/** Keys under a list prefix that do not belong to the kind (e.g. a deeper path) are skipped. */
export function keyMatchesKind(kind: KindName, key: string): boolean {
  const def = KINDS[kind];
  switch (def.storage) {
    case 'v3': {
      const rest = key.slice(`${V3_PREFIX}${def.plural}/`.length).split('/');
      return rest.length === (def.namespaced ? 2 : 1);
    }
    case 'ipam-block': return /^\/calico\/ipam\/v2\/assignment\/ipv[46]\/block\/[^/]+$/.test(key);
    case 'block-affinity': return /^\/calico\/ipam\/v2\/host\/[^/]+\/ipv[46]\/block\/[^/]+$/.test(key);
    case 'ipam-handle': return key.length > HANDLE_PREFIX.length && !key.slice(HANDLE_PREFIX.length).includes('/');
    case 'ipam-config': return key === IPAM_CONFIG_KEY;
  }
}

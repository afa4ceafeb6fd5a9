// Calico's etcd v3 key layout and value encoding (pure), so that a Calico node and Tabby can
// share one etcd:
//  - v3 resources: /calico/resources/v3/projectcalico.org/<plural>/[<namespace>/]<name>, the value
//    is the resource JSON without resourceVersion (that is the key's mod revision);
//  - IPAM: libcalico-go's model keys under /calico/ipam/v2/ with its model JSON. Those keys spell
//    a block as its CIDR with "/" turned into "-" (`10.244.1.0-26`, `fd00::-122`), while the
//    resource *names* are the Kubernetes-style ones (`10-244-1-0-26`, `<node>-10-244-1-0-26`).

import {
  API_VERSION, KINDS, blockNameFromCidr, canonicalCidr, parseCidr, type AnyResource, type Cidr, type KindName,
} from '@tabby/api';
import { DecodeError, InvalidArgumentError } from '../errors.js';

export const V3_PREFIX = '/calico/resources/v3/projectcalico.org/';
export const IPAM_PREFIX = '/calico/ipam/v2/';
export const BLOCK_PREFIX = `${IPAM_PREFIX}assignment/`;
export const AFFINITY_PREFIX = `${IPAM_PREFIX}host/`;
export const HANDLE_PREFIX = `${IPAM_PREFIX}handle/`;
export const IPAM_CONFIG_KEY = `${IPAM_PREFIX}config`;

const BLOCK_KEY = /^\/calico\/ipam\/v2\/assignment\/ipv([46])\/block\/([^/]+)$/;
const AFFINITY_KEY = /^\/calico\/ipam\/v2\/host\/([^/]+)\/ipv([46])\/block\/([^/]+)$/;

type Json = Record<string, unknown>;

// ---- CIDRs in keys and names ----------------------------------------------------------------

/** The key segment Calico uses for a block: the canonical CIDR with "/" replaced by "-". */
export function cidrKeySegment(c: Cidr): string {
  return canonicalCidr(c).replace('/', '-');
}

/** Inverse of cidrKeySegment; undefined for anything that is not a CIDR. */
export function cidrOfKeySegment(seg: string): Cidr | undefined {
  return parseCidr(seg.replace('-', '/'));
}

function canonicalOrThrow(cidr: string, what: string): Cidr {
  const c = parseCidr(cidr);
  if (!c) throw new InvalidArgumentError(`${what}: "${cidr}" is not a CIDR`);
  return c;
}

/** The block a resource name denotes, only if the name is that block's canonical name. */
function cidrOfBlockName(name: string): Cidr | undefined {
  // Names replace ".", ":" and "/" by "-", so the prefix length follows the last "-".
  const i = name.lastIndexOf('-');
  if (i < 1) return undefined;
  const addr = name.slice(0, i);
  const text = /^\d+-\d+-\d+-\d+$/.test(addr) ? addr.replace(/-/g, '.') : addr.replace(/-/g, ':');
  const c = parseCidr(`${text}/${name.slice(i + 1)}`);
  return c && blockNameFromCidr(canonicalCidr(c)) === name ? c : undefined;
}

const family = (c: Cidr) => `ipv${c.version}`;

export function blockKey(cidr: string): string {
  const c = canonicalOrThrow(cidr, 'IPAMBlock cidr');
  return `${BLOCK_PREFIX}${family(c)}/block/${cidrKeySegment(c)}`;
}

export function affinityKey(node: string, cidr: string): string {
  checkSegment('BlockAffinity', 'spec.node', node);
  const c = canonicalOrThrow(cidr, 'BlockAffinity spec.cidr');
  return `${AFFINITY_PREFIX}${node}/${family(c)}/block/${cidrKeySegment(c)}`;
}

/**
 * Every (node, block) a BlockAffinity name can stand for. `<node>-<block name>` splits uniquely
 * for IPv4 blocks, but an IPv6 block name such as `abc-fd00---122` may also end a node name,
 * so the caller looks each candidate up.
 */
export function splitAffinityName(name: string): { node: string; cidr: string }[] {
  const out: { node: string; cidr: string }[] = [];
  for (let i = name.indexOf('-', 1); i > 0; i = name.indexOf('-', i + 1)) {
    const c = cidrOfBlockName(name.slice(i + 1));
    if (c) out.push({ node: name.slice(0, i), cidr: canonicalCidr(c) });
  }
  return out;
}

// ---- keys of resources ----------------------------------------------------------------------

function checkSegment(kind: string, what: string, v: string | undefined): asserts v is string {
  if (!v) throw new InvalidArgumentError(`${kind}: ${what} is required`);
  if (v.includes('/')) throw new InvalidArgumentError(`${kind}: ${what} "${v}" must not contain "/"`);
}

/**
 * The keys a (kind, name, namespace) can denote: exactly one, except for an ambiguous IPv6
 * BlockAffinity name (several) or an IPAM name no block could have (none: it cannot exist).
 * Throws InvalidArgumentError for names that could never be stored (a "/", a missing namespace).
 */
export function candidateKeys(kind: KindName, name: string, namespace?: string): string[] {
  const def = KINDS[kind];
  switch (def.storage) {
    case 'v3':
      checkSegment(kind, 'name', name);
      if (!def.namespaced) return [`${V3_PREFIX}${def.plural}/${name}`];
      checkSegment(kind, 'namespace', namespace);
      return [`${V3_PREFIX}${def.plural}/${namespace}/${name}`];
    case 'ipam-block': {
      const c = cidrOfBlockName(name);
      return c ? [blockKey(canonicalCidr(c))] : [];
    }
    case 'block-affinity':
      return splitAffinityName(name).map((s) => affinityKey(s.node, s.cidr));
    case 'ipam-handle':
      checkSegment(kind, 'name (handle ID)', name);
      return [`${HANDLE_PREFIX}${name}`];
    case 'ipam-config':
      if (name !== 'default') return [];
      return [IPAM_CONFIG_KEY];
  }
}

/** The key a resource is written to; its name must agree with the spec where both say it. */
export function keyOfResource(r: AnyResource): string {
  const name = r.metadata.name;
  const spec = (r.spec ?? {}) as Json;
  switch (r.kind) {
    case 'IPAMBlock': {
      const key = blockKey(String(spec['cidr'] ?? ''));
      const want = blockNameFromCidr(canonicalCidr(parseCidr(String(spec['cidr']))!));
      if (name !== want) throw new InvalidArgumentError(`IPAMBlock ${name}: the name of block ${String(spec['cidr'])} must be ${want}`);
      return key;
    }
    case 'BlockAffinity': {
      if (spec['type'] === 'virtual') throw new InvalidArgumentError(`BlockAffinity ${name}: type "virtual" is not supported by the etcd backend`);
      const key = affinityKey(String(spec['node'] ?? ''), String(spec['cidr'] ?? ''));
      const want = `${String(spec['node'])}-${blockNameFromCidr(canonicalCidr(parseCidr(String(spec['cidr']))!))}`;
      if (name !== want) throw new InvalidArgumentError(`BlockAffinity ${name}: the name must be ${want} (<node>-<block name>)`);
      return key;
    }
    default: {
      const keys = candidateKeys(r.kind, name, r.metadata.namespace);
      if (keys.length !== 1) throw new InvalidArgumentError(`${r.kind}: "${name}" is not a valid name`);
      return keys[0]!;
    }
  }
}

/** The prefix listing a kind (optionally one namespace), or the exact key for IPAMConfig. */
export function listPrefixOf(kind: KindName, namespace?: string): string {
  const def = KINDS[kind];
  switch (def.storage) {
    case 'v3':
      if (def.namespaced && namespace !== undefined) {
        checkSegment(kind, 'namespace', namespace);
        return `${V3_PREFIX}${def.plural}/${namespace}/`;
      }
      return `${V3_PREFIX}${def.plural}/`;
    case 'ipam-block': return BLOCK_PREFIX;
    case 'block-affinity': return AFFINITY_PREFIX;
    case 'ipam-handle': return HANDLE_PREFIX;
    case 'ipam-config': return IPAM_CONFIG_KEY;
  }
}

/** Whether a key found under the kind's list prefix really holds that kind (not a deeper path). */
export function keyMatchesKind(kind: KindName, key: string): boolean {
  const def = KINDS[kind];
  switch (def.storage) {
    case 'v3': {
      const base = `${V3_PREFIX}${def.plural}/`;
      if (!key.startsWith(base)) return false;
      const rest = key.slice(base.length).split('/');
      return rest.length === (def.namespaced ? 2 : 1) && rest.every(Boolean);
    }
    case 'ipam-block': return BLOCK_KEY.test(key);
    case 'block-affinity': return AFFINITY_KEY.test(key);
    case 'ipam-handle': return key.startsWith(HANDLE_PREFIX) && /^[^/]+$/.test(key.slice(HANDLE_PREFIX.length));
    case 'ipam-config': return key === IPAM_CONFIG_KEY;
  }
}

// ---- values ---------------------------------------------------------------------------------

/** The stored value of a resource. */
export function encodeValue(r: AnyResource): string {
  const spec = (r.spec ?? {}) as Json;
  switch (KINDS[r.kind].storage) {
    case 'v3': {
      const { resourceVersion: _rv, ...metadata } = r.metadata;
      return JSON.stringify({ ...r, metadata });
    }
    case 'ipam-block': {
      // libcalico-go's AllocationBlock, field for field (Go's encoder order).
      const claim = spec['affinityClaimTime'];
      return JSON.stringify({
        cidr: canonicalCidr(canonicalOrThrow(String(spec['cidr'] ?? ''), 'IPAMBlock cidr')),
        affinity: spec['affinity'] ?? null,
        ...(claim ? { affinity_claim_time: claim } : {}),
        strictAffinity: spec['strictAffinity'] ?? false,
        allocations: spec['allocations'] ?? [],
        unallocated: spec['unallocated'] ?? [],
        attributes: spec['attributes'] ?? [],
        sequenceNumber: spec['sequenceNumber'] ?? 0,
        sequenceNumberForAllocation: spec['sequenceNumberForAllocation'] ?? {},
        deleted: spec['deleted'] ?? false,
      });
    }
    case 'block-affinity':
      // Node and CIDR live in the key.
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
  return { apiVersion: API_VERSION, kind, metadata: { name, resourceVersion: revision }, spec } as unknown as AnyResource;
}

function parseObject(key: string, value: string, emptyIsObject: boolean): Json {
  if (value === '' && emptyIsObject) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    throw new DecodeError(key, `value is not JSON: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DecodeError(key, 'value is not a JSON object');
  return parsed as Json;
}

/** Decodes a stored key/value of the given kind into a resource carrying resourceVersion. */
export function decodeKV(kind: KindName, key: string, value: string, modRevision: string): AnyResource {
  const def = KINDS[kind];
  if (!keyMatchesKind(kind, key)) throw new DecodeError(key, `not a ${kind} key`);
  // Calico once stored block affinities with an empty value; it means "confirmed".
  const v = parseObject(key, value, def.storage === 'block-affinity');
  switch (def.storage) {
    case 'v3': {
      const meta = v['metadata'];
      if (v['kind'] !== kind || !meta || typeof meta !== 'object' || Array.isArray(meta)) {
        throw new DecodeError(key, `expected a ${kind} object with metadata`);
      }
      // The key is the identity; the stored metadata only adds to it.
      const parts = key.slice(`${V3_PREFIX}${def.plural}/`.length).split('/');
      const identity = def.namespaced ? { namespace: parts[0], name: parts[1] } : { name: parts[0] };
      return { ...v, metadata: { ...(meta as Json), ...identity, resourceVersion: modRevision } } as unknown as AnyResource;
    }
    case 'ipam-block': {
      const c = cidrOfKeySegment(BLOCK_KEY.exec(key)![2]!);
      if (!c) throw new DecodeError(key, 'the key does not name a CIDR');
      const cidr = canonicalCidr(c);
      // Very old blocks carried only hostAffinity.
      const legacy = typeof v['hostAffinity'] === 'string' ? `host:${v['hostAffinity']}` : null;
      return envelope(kind, blockNameFromCidr(cidr), modRevision, {
        cidr,
        affinity: v['affinity'] ?? legacy,
        ...(v['affinity_claim_time'] ? { affinityClaimTime: v['affinity_claim_time'] } : {}),
        strictAffinity: v['strictAffinity'] ?? false,
        allocations: v['allocations'] ?? [],
        unallocated: v['unallocated'] ?? [],
        attributes: v['attributes'] ?? [],
        sequenceNumber: v['sequenceNumber'] ?? 0,
        sequenceNumberForAllocation: v['sequenceNumberForAllocation'] ?? {},
        deleted: v['deleted'] ?? false,
      });
    }
    case 'block-affinity': {
      const m = AFFINITY_KEY.exec(key)!;
      const c = cidrOfKeySegment(m[3]!);
      if (!c) throw new DecodeError(key, 'the key does not name a CIDR');
      const cidr = canonicalCidr(c);
      return envelope(kind, `${m[1]}-${blockNameFromCidr(cidr)}`, modRevision, {
        state: v['state'] || 'confirmed', node: m[1], cidr, type: 'host', deleted: v['deleted'] ?? false,
      });
    }
    case 'ipam-handle': {
      const id = key.slice(HANDLE_PREFIX.length);
      return envelope(kind, id, modRevision, { handleID: id, block: v['block'] ?? {}, deleted: v['deleted'] ?? false });
    }
    case 'ipam-config':
      // libcalico-go writes these with omitempty: an absent field is false / 0.
      return envelope(kind, 'default', modRevision, {
        strictAffinity: v['strict_affinity'] ?? false,
        autoAllocateBlocks: v['auto_allocate_blocks'] ?? false,
        maxBlocksPerHost: v['maxBlocksPerHost'] ?? 0,
      });
  }
}

/**
 * The identity-only resource at a key (name, namespace, resourceVersion; an empty spec), for a
 * deletion whose last value is unknown or unreadable. Undefined if the key is not of the kind.
 */
export function stubOf(kind: KindName, key: string, modRevision: string): AnyResource | undefined {
  if (!keyMatchesKind(kind, key)) return undefined;
  const def = KINDS[kind];
  if (def.storage !== 'v3') return decodeKV(kind, key, '{}', modRevision);
  const parts = key.slice(`${V3_PREFIX}${def.plural}/`.length).split('/');
  const identity = def.namespaced ? { namespace: parts[0]!, name: parts[1]! } : { name: parts[0]! };
  return { apiVersion: API_VERSION, kind, metadata: { ...identity, resourceVersion: modRevision }, spec: {} } as unknown as AnyResource;
}

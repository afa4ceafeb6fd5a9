// Calico resources <-> Kubernetes objects (pure): custom resources of crd.projectcalico.org/v1
// and Nodes with Calico's annotations.

import { API_VERSION, type AnyResource, type KindName, type Node, type NodeAddress, type ObjectMeta } from '@tabby/api';
import { CRD_API_VERSION } from './paths.js';
import type { Json } from './client.js';

/** v3 metadata from a Kubernetes object's: identity, labels, annotations, resourceVersion, uid, creationTimestamp. */
export function metaFromKube(m: Json, overrides: Partial<ObjectMeta> = {}): ObjectMeta {
  const out: ObjectMeta = { name: String(m['name']) };
  if (m['namespace']) out.namespace = String(m['namespace']);
  if (m['labels'] && Object.keys(m['labels']).length) out.labels = { ...m['labels'] };
  if (m['annotations'] && Object.keys(m['annotations']).length) out.annotations = { ...m['annotations'] };
  if (m['resourceVersion']) out.resourceVersion = String(m['resourceVersion']);
  if (m['uid']) out.uid = String(m['uid']);
  if (m['creationTimestamp']) out.creationTimestamp = String(m['creationTimestamp']);
  return { ...out, ...overrides };
}

// ---- custom resources -------------------------------------------------------------------------

/**
 * The custom resource Calico stores for a v3 resource: the same kind under crd.projectcalico.org/v1,
 * the spec copied, metadata name/namespace/labels/annotations (and resourceVersion for updates).
 * Calico's BlockAffinity CRD keeps `deleted` as a string.
 */
export function toCustomResource(r: AnyResource): Json {
  const m = r.metadata;
  const metadata: Json = { name: m.name };
  if (m.namespace) metadata['namespace'] = m.namespace;
  if (m.labels) metadata['labels'] = m.labels;
  if (m.annotations) metadata['annotations'] = m.annotations;
  if (m.resourceVersion) metadata['resourceVersion'] = m.resourceVersion;
  let spec: Json = structuredClone((r.spec ?? {}) as Json);
  if (r.kind === 'BlockAffinity') spec = { ...spec, deleted: String(spec['deleted'] ?? false) };
  return { apiVersion: CRD_API_VERSION, kind: r.kind, metadata, spec };
}

export function fromCustomResource(kind: KindName, o: Json): AnyResource {
  let spec: Json = structuredClone(o['spec'] ?? {});
  if (kind === 'BlockAffinity') spec = { ...spec, deleted: spec['deleted'] === true || spec['deleted'] === 'true' };
  return { apiVersion: API_VERSION, kind, metadata: metaFromKube(o['metadata'] ?? {}), spec } as unknown as AnyResource;
}

// ---- nodes ------------------------------------------------------------------------------------

/** Calico's node annotations and the Node fields they carry. */
export const NODE_ANNOTATIONS = {
  ipv4Address: 'projectcalico.org/IPv4Address',
  ipv6Address: 'projectcalico.org/IPv6Address',
  asNumber: 'projectcalico.org/ASNumber',
  routeReflectorClusterID: 'projectcalico.org/RouteReflectorClusterID',
  ipv4IPIPTunnelAddr: 'projectcalico.org/IPv4IPIPTunnelAddr',
  ipv4VXLANTunnelAddr: 'projectcalico.org/IPv4VXLANTunnelAddr',
  vxlanTunnelMACAddr: 'projectcalico.org/VXLANTunnelMACAddr',
  ipv6VXLANTunnelAddr: 'projectcalico.org/IPv6VXLANTunnelAddr',
  vxlanTunnelMACAddrV6: 'projectcalico.org/VXLANTunnelMACAddrV6',
  wireguardIPv4: 'projectcalico.org/IPv4WireguardInterfaceAddr',
  wireguardIPv6: 'projectcalico.org/IPv6WireguardInterfaceAddr',
  wireguardPublicKey: 'projectcalico.org/WireguardPublicKey',
  wireguardPublicKeyV6: 'projectcalico.org/WireguardPublicKeyV6',
} as const;

const CALICO_NODE_ANNOTATIONS = new Set<string>(Object.values(NODE_ANNOTATIONS));

/** A Calico Node from a Kubernetes Node: BGP and tunnel settings from annotations, addresses, podCIDRs. */
export function nodeFromKube(k: Json): Node {
  const ann: Record<string, string> = k['metadata']?.['annotations'] ?? {};
  const a = (key: keyof typeof NODE_ANNOTATIONS) => ann[NODE_ANNOTATIONS[key]] || undefined;
  const bgp: Json = {};
  if (a('ipv4Address')) bgp['ipv4Address'] = a('ipv4Address');
  if (a('ipv6Address')) bgp['ipv6Address'] = a('ipv6Address');
  if (a('asNumber')) bgp['asNumber'] = /^\d+$/.test(a('asNumber')!) ? Number(a('asNumber')) : a('asNumber');
  if (a('routeReflectorClusterID')) bgp['routeReflectorClusterID'] = a('routeReflectorClusterID');
  if (a('ipv4IPIPTunnelAddr')) bgp['ipv4IPIPTunnelAddr'] = a('ipv4IPIPTunnelAddr');
  const spec: Json = {};
  if (Object.keys(bgp).length) spec['bgp'] = bgp;
  for (const f of ['ipv4VXLANTunnelAddr', 'vxlanTunnelMACAddr', 'ipv6VXLANTunnelAddr', 'vxlanTunnelMACAddrV6'] as const) if (a(f)) spec[f] = a(f);
  if (a('wireguardIPv4') || a('wireguardIPv6')) {
    spec['wireguard'] = { ...(a('wireguardIPv4') ? { interfaceIPv4Address: a('wireguardIPv4') } : {}), ...(a('wireguardIPv6') ? { interfaceIPv6Address: a('wireguardIPv6') } : {}) };
  }
  const name = String(k['metadata']?.['name']);
  spec['orchRefs'] = [{ orchestrator: 'k8s', nodeName: name }];
  const addresses: NodeAddress[] = [];
  // In the CIDR form the node agent writes, so that a re-registration finds nothing to change.
  for (const ip of [a('ipv4Address'), a('ipv6Address')]) if (ip) addresses.push({ address: ip, type: 'CalicoNodeIP' });
  for (const ka of (k['status']?.['addresses'] ?? []) as Json[]) {
    if (ka['type'] === 'InternalIP' || ka['type'] === 'ExternalIP') addresses.push({ address: String(ka['address']), type: ka['type'] });
  }
  if (addresses.length) spec['addresses'] = addresses;
  const status: Json = {};
  if (a('wireguardPublicKey')) status['wireguardPublicKey'] = a('wireguardPublicKey');
  if (a('wireguardPublicKeyV6')) status['wireguardPublicKeyV6'] = a('wireguardPublicKeyV6');
  const cidrs = k['spec']?.['podCIDRs'] ?? (k['spec']?.['podCIDR'] ? [k['spec']['podCIDR']] : undefined);
  if (cidrs?.length) status['podCIDRs'] = [...cidrs];
  // Calico's annotations are shown as Node fields, not repeated as annotations.
  const others = Object.fromEntries(Object.entries(ann).filter(([key]) => !CALICO_NODE_ANNOTATIONS.has(key)));
  const metadata = metaFromKube({ ...k['metadata'], annotations: others });
  return { apiVersion: API_VERSION, kind: 'Node', metadata, spec, ...(Object.keys(status).length ? { status } : {}) } as Node;
}

/**
 * The merge patch that makes a Kubernetes Node's Calico annotations say what a Calico Node says
 * (unset fields remove their annotation). With the Node's resourceVersion it is a compare-and-swap.
 */
export function nodeAnnotationPatch(n: Node): Json {
  const s = n.spec ?? {};
  const want: Record<string, string | undefined> = {
    [NODE_ANNOTATIONS.ipv4Address]: s.bgp?.ipv4Address,
    [NODE_ANNOTATIONS.ipv6Address]: s.bgp?.ipv6Address,
    [NODE_ANNOTATIONS.asNumber]: s.bgp?.asNumber !== undefined && s.bgp?.asNumber !== null && s.bgp?.asNumber !== '' ? String(s.bgp.asNumber) : undefined,
    [NODE_ANNOTATIONS.routeReflectorClusterID]: s.bgp?.routeReflectorClusterID,
    [NODE_ANNOTATIONS.ipv4IPIPTunnelAddr]: s.bgp?.ipv4IPIPTunnelAddr,
    [NODE_ANNOTATIONS.ipv4VXLANTunnelAddr]: s.ipv4VXLANTunnelAddr,
    [NODE_ANNOTATIONS.vxlanTunnelMACAddr]: s.vxlanTunnelMACAddr,
    [NODE_ANNOTATIONS.ipv6VXLANTunnelAddr]: s.ipv6VXLANTunnelAddr,
    [NODE_ANNOTATIONS.vxlanTunnelMACAddrV6]: s.vxlanTunnelMACAddrV6,
    [NODE_ANNOTATIONS.wireguardIPv4]: s.wireguard?.interfaceIPv4Address,
    [NODE_ANNOTATIONS.wireguardIPv6]: s.wireguard?.interfaceIPv6Address,
    [NODE_ANNOTATIONS.wireguardPublicKey]: n.status?.wireguardPublicKey,
    [NODE_ANNOTATIONS.wireguardPublicKeyV6]: n.status?.wireguardPublicKeyV6,
  };
  const annotations: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(want)) annotations[k] = v ? v : null;
  const metadata: Json = { annotations };
  if (n.metadata.resourceVersion) metadata['resourceVersion'] = n.metadata.resourceVersion;
  return { metadata };
}

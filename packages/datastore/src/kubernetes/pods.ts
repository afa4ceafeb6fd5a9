// Pods -> WorkloadEndpoints and Namespaces / ServiceAccounts -> Profiles, as Calico's Kubernetes
// converter derives them (pure), and the pod annotations a WorkloadEndpoint write becomes.

import {
  API_VERSION, LABEL_NAMESPACE, LABEL_ORCHESTRATOR, LABEL_SERVICE_ACCOUNT, namespaceProfileName, parseCidrOrIp,
  serviceAccountProfileName, workloadEndpointName, workloadInterfaceName, type Profile, type WorkloadEndpoint,
  type WorkloadEndpointPort,
} from '@tabby/api';
import type { Json } from './client.js';
import { metaFromKube } from './convert.js';

export const ANN_POD_IP = 'cni.projectcalico.org/podIP';
export const ANN_POD_IPS = 'cni.projectcalico.org/podIPs';
export const ANN_CONTAINER_ID = 'cni.projectcalico.org/containerID';
/** Calico's annotation asking for a MAC address; read when Tabby's own is absent. */
export const ANN_HW_ADDR = 'cni.projectcalico.org/hwAddr';
/** Where Tabby's plugin records the pod interface's MAC (Calico keeps none in this mode). */
export const ANN_MAC = 'cni.tabby.io/mac';

export const K8S_ORCHESTRATOR = 'k8s';
/** Calico names every Kubernetes pod's endpoint eth0, whatever CNI_IFNAME was. */
export const K8S_ENDPOINT = 'eth0';
export const NAMESPACE_LABEL_PREFIX = 'pcns.';
export const SERVICE_ACCOUNT_LABEL_PREFIX = 'pcsa.';
export const PROFILE_NAME_LABEL = 'projectcalico.org/name';

/** Each address as a single-address CIDR (/32, /128); entries that are no address are dropped. */
function ipNetworks(list: string[]): string[] {
  const out: string[] = [];
  for (const text of list) {
    const c = parseCidrOrIp(text.trim());
    if (!c) continue;
    const addr = text.trim().split('/')[0]!;
    const n = `${addr}/${c.version === 4 ? 32 : 128}`;
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/**
 * The pod's addresses: the CNI plugin's annotations first, else the kubelet's status. Annotations
 * present but empty (what a DEL leaves) mean "no address": the status, which the kubelet keeps
 * until the pod ends, must not bring a torn-down endpoint back.
 */
export function podIPs(pod: Json): string[] {
  const ann: Record<string, string> = pod['metadata']?.['annotations'] ?? {};
  if (ann[ANN_POD_IPS]) return ipNetworks(ann[ANN_POD_IPS].split(','));
  if (ann[ANN_POD_IP]) return ipNetworks([ann[ANN_POD_IP]]);
  if (ANN_POD_IPS in ann || ANN_POD_IP in ann) return [];
  const st = pod['status'] ?? {};
  const list: string[] = (st['podIPs'] ?? []).map((p: Json) => String(p['ip']));
  if (!list.length && st['podIP']) list.push(String(st['podIP']));
  return ipNetworks(list);
}

/**
 * Whether a pod is a workload endpoint: scheduled, not on the host's network, not finished, and
 * (as Calico requires) with an address.
 */
export function podIsEndpoint(pod: Json): boolean {
  const spec = pod['spec'] ?? {};
  if (!spec['nodeName'] || spec['hostNetwork']) return false;
  const phase = pod['status']?.['phase'];
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  return podIPs(pod).length > 0;
}

export function podEndpointName(node: string, pod: string): string {
  return workloadEndpointName({ node, orchestrator: K8S_ORCHESTRATOR, pod, endpoint: K8S_ENDPOINT });
}

/** The WorkloadEndpoint of a pod, or undefined if it has none (see podIsEndpoint). */
export function workloadEndpointFromPod(pod: Json): WorkloadEndpoint | undefined {
  if (!podIsEndpoint(pod)) return undefined;
  const m = pod['metadata'] ?? {};
  const ns = String(m['namespace']);
  const name = String(m['name']);
  const spec = pod['spec'] ?? {};
  const node = String(spec['nodeName']);
  const sa = String(spec['serviceAccountName'] || spec['serviceAccount'] || 'default');
  const ann: Record<string, string> = m['annotations'] ?? {};
  const labels: Record<string, string> = { ...(m['labels'] ?? {}), [LABEL_NAMESPACE]: ns, [LABEL_ORCHESTRATOR]: K8S_ORCHESTRATOR };
  if (sa.length <= 63) labels[LABEL_SERVICE_ACCOUNT] = sa;
  const ports: WorkloadEndpointPort[] = [];
  for (const c of [...(spec['containers'] ?? [])] as Json[]) {
    for (const p of (c['ports'] ?? []) as Json[]) {
      if (!p['name'] && !p['hostPort']) continue;
      ports.push({
        ...(p['name'] ? { name: String(p['name']) } : {}),
        protocol: String(p['protocol'] ?? 'TCP'),
        port: Number(p['containerPort']),
        ...(p['hostPort'] ? { hostPort: Number(p['hostPort']) } : {}),
        ...(p['hostIP'] ? { hostIP: String(p['hostIP']) } : {}),
      });
    }
  }
  const mac = ann[ANN_MAC] || ann[ANN_HW_ADDR];
  const wep: WorkloadEndpoint = {
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: metaFromKube({ ...m, labels, annotations: undefined }, { name: podEndpointName(node, name), namespace: ns }),
    spec: {
      orchestrator: K8S_ORCHESTRATOR,
      node,
      pod: name,
      endpoint: K8S_ENDPOINT,
      serviceAccountName: sa,
      ipNetworks: podIPs(pod),
      profiles: [namespaceProfileName(ns), serviceAccountProfileName(ns, sa)],
      interfaceName: workloadInterfaceName(ns, name),
      ...(ann[ANN_CONTAINER_ID] ? { containerID: ann[ANN_CONTAINER_ID] } : {}),
      ...(mac ? { mac } : {}),
      ...(ports.length ? { ports } : {}),
    },
  };
  return wep;
}

/**
 * The merge patch that records a WorkloadEndpoint on its pod, as Calico's plugin does: podIP,
 * podIPs and containerID (plus Tabby's MAC). `undefined` (a deletion) empties the addresses and
 * the container ID, so that the kubelet's status IPs do not stand in for them. With a
 * resourceVersion the patch is a compare-and-swap on the pod.
 */
export function podAnnotationPatch(wep: WorkloadEndpoint | undefined, resourceVersion?: string): Json {
  const ips = (wep?.spec.ipNetworks ?? []).map((n) => n);
  const v4 = ips.find((n) => !n.includes(':'));
  const annotations: Record<string, string | null> = {
    [ANN_POD_IP]: ips.length ? (v4 ?? ips[0]!) : '',
    [ANN_POD_IPS]: ips.length ? ips.join(',') : '',
    [ANN_CONTAINER_ID]: wep?.spec.containerID || (wep ? null : ''),
    [ANN_MAC]: wep?.spec.mac || null,
  };
  return { metadata: { annotations, ...(resourceVersion ? { resourceVersion } : {}) } };
}

const allowAll = () => ({ ingress: [{ action: 'Allow' as const }], egress: [{ action: 'Allow' as const }] });

/** kns.<ns>: allows everything and gives endpoints the namespace's labels as pcns.<key>. */
export function profileFromNamespace(ns: Json): Profile {
  const m = ns['metadata'] ?? {};
  const name = String(m['name']);
  const labelsToApply: Record<string, string> = { [`${NAMESPACE_LABEL_PREFIX}${PROFILE_NAME_LABEL}`]: name };
  for (const [k, v] of Object.entries((m['labels'] ?? {}) as Record<string, string>)) labelsToApply[`${NAMESPACE_LABEL_PREFIX}${k}`] = v;
  return {
    apiVersion: API_VERSION, kind: 'Profile',
    metadata: metaFromKube({ ...m, labels: undefined, annotations: undefined }, { name: namespaceProfileName(name) }),
    spec: { ...allowAll(), labelsToApply },
  };
}

/** ksa.<ns>.<sa>: no rules, the service account's labels as pcsa.<key>. */
export function profileFromServiceAccount(sa: Json): Profile {
  const m = sa['metadata'] ?? {};
  const name = String(m['name']);
  const ns = String(m['namespace']);
  const labelsToApply: Record<string, string> = { [`${SERVICE_ACCOUNT_LABEL_PREFIX}${PROFILE_NAME_LABEL}`]: name };
  for (const [k, v] of Object.entries((m['labels'] ?? {}) as Record<string, string>)) labelsToApply[`${SERVICE_ACCOUNT_LABEL_PREFIX}${k}`] = v;
  const meta = metaFromKube({ ...m, labels: undefined, annotations: undefined }, { name: serviceAccountProfileName(ns, name) });
  delete meta.namespace;
  return { apiVersion: API_VERSION, kind: 'Profile', metadata: meta, spec: { labelsToApply } };
}

/** The source of a profile name: a namespace (kns.<ns>) or a service account (ksa.<ns>.<sa>). */
export function parseProfileName(name: string): { namespace: string; serviceAccount?: string } | undefined {
  if (name.startsWith('kns.') && name.length > 4) return { namespace: name.slice(4) };
  const m = /^ksa\.([^.]+)\.(.+)$/.exec(name);
  if (m) return { namespace: m[1]!, serviceAccount: m[2]! };
  return undefined;
}

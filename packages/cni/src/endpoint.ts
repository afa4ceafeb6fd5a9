// The datastore side of a pod: its WorkloadEndpoint (named and labelled as Calico's plugin
// writes it) and the namespace profile `kns.<namespace>` that Calico's controllers would create.

import {
  API_VERSION, LABEL_NAMESPACE, LABEL_ORCHESTRATOR, formatIssue, namespaceProfileName, validateResource, workloadEndpointName,
  WorkloadEndpointNameError, type Profile, type WorkloadEndpoint,
} from '@tabby/api';
import { AlreadyExistsError, ConnectionError, NotFoundError, type Datastore } from '@tabby/datastore';
import { CniCode, CniError } from './errors.js';
import type { PodRef } from './env.js';

export const ORCHESTRATOR = 'k8s';
export const PROFILE_NAMESPACE_LABEL = 'pcns.projectcalico.org/name';

export interface EndpointIds {
  node: string;
  pod: PodRef;
  /** CNI_IFNAME: the endpoint segment of the name. */
  endpoint: string;
  containerID: string;
}

/** `<node>-k8s-<pod>-<endpoint>` with Calico's dash escaping; a bad identifier is a CNI_ARGS/env problem. */
export function endpointName(ids: EndpointIds): string {
  try {
    return workloadEndpointName({ node: ids.node, orchestrator: ORCHESTRATOR, pod: ids.pod.name, endpoint: ids.endpoint });
  } catch (e) {
    if (e instanceof WorkloadEndpointNameError) {
      const src = { node: 'nodename', pod: 'CNI_ARGS K8S_POD_NAME', endpoint: 'CNI_IFNAME' }[e.field as string] ?? e.field;
      throw new CniError(e.field === 'node' ? CniCode.invalidNetworkConfig : CniCode.invalidEnvironment, `${src}: ${e.message}`);
    }
    throw e;
  }
}

export interface EndpointData {
  hostVeth: string;
  /** Pod-side MAC. */
  mac: string;
  /** Each a single address with /32 or /128. */
  ipNetworks: string[];
}

export function buildWorkloadEndpoint(ids: EndpointIds, data: EndpointData): WorkloadEndpoint {
  return {
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: {
      name: endpointName(ids),
      namespace: ids.pod.namespace,
      labels: { [LABEL_NAMESPACE]: ids.pod.namespace, [LABEL_ORCHESTRATOR]: ORCHESTRATOR },
    },
    spec: {
      orchestrator: ORCHESTRATOR,
      node: ids.node,
      pod: ids.pod.name,
      endpoint: ids.endpoint,
      containerID: ids.containerID,
      ipNetworks: data.ipNetworks,
      profiles: [namespaceProfileName(ids.pod.namespace)],
      interfaceName: data.hostVeth,
      mac: data.mac,
    },
  };
}

/** What Calico's controllers derive from a Kubernetes namespace: allow everything, label the endpoints. */
export function buildNamespaceProfile(namespace: string): Profile {
  return {
    apiVersion: API_VERSION,
    kind: 'Profile',
    metadata: { name: namespaceProfileName(namespace) },
    spec: {
      ingress: [{ action: 'Allow' }],
      egress: [{ action: 'Allow' }],
      labelsToApply: { [PROFILE_NAMESPACE_LABEL]: namespace },
    },
  };
}

/**
 * Validates a WorkloadEndpoint with the API's rules; `code` is the error code used when it is
 * invalid (the identifiers come from CNI_ARGS before the addresses are known, from us after).
 */
export function checkWorkloadEndpoint(wep: WorkloadEndpoint, code: number): void {
  const v = validateResource(wep, { applyDefaults: false });
  if (v.issues.length) {
    throw new CniError(code, `workload endpoint ${wep.metadata.namespace}/${wep.metadata.name} is invalid: ${v.issues.map(formatIssue).join('; ')}`);
  }
}

/** Datastore failures as CNI errors: unreachable means "try again later" (11). */
export function datastoreError(what: string, e: unknown): CniError {
  if (e instanceof CniError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new CniError(e instanceof ConnectionError ? CniCode.tryAgainLater : CniCode.datastoreFailure, `${what}: ${msg}`);
}

export async function ensureNamespaceProfile(ds: Datastore, namespace: string): Promise<'created' | 'exists'> {
  const name = namespaceProfileName(namespace);
  try {
    await ds.get('Profile', name);
    return 'exists';
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw datastoreError(`reading profile ${name}`, e);
  }
  try {
    await ds.create(buildNamespaceProfile(namespace));
    return 'created';
  } catch (e) {
    if (e instanceof AlreadyExistsError) return 'exists'; // another ADD in the namespace won the race
    throw datastoreError(`creating profile ${name}`, e);
  }
}

/**
 * Creates the endpoint, or replaces one left by an earlier sandbox of the same pod (keeping its
 * identity; the update is a compare-and-swap on what was read).
 */
export async function writeWorkloadEndpoint(ds: Datastore, wep: WorkloadEndpoint): Promise<{ stored: WorkloadEndpoint; previous?: WorkloadEndpoint }> {
  const ns = wep.metadata.namespace!;
  let previous: WorkloadEndpoint | undefined;
  try {
    previous = await ds.get('WorkloadEndpoint', wep.metadata.name, ns);
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw datastoreError(`reading workload endpoint ${ns}/${wep.metadata.name}`, e);
  }
  try {
    if (!previous) return { stored: await ds.create(wep) };
    const next: WorkloadEndpoint = { ...wep, metadata: { ...previous.metadata, labels: { ...previous.metadata.labels, ...wep.metadata.labels } } };
    return { stored: await ds.update(next), previous };
  } catch (e) {
    throw datastoreError(`writing workload endpoint ${ns}/${wep.metadata.name}`, e);
  }
}

/**
 * Deletes the pod's endpoint if it belongs to this container. One written by a newer sandbox of
 * the same pod (another container ID) is left alone: a late DEL must not unplug its successor.
 */
export async function deleteWorkloadEndpoint(ds: Datastore, name: string, namespace: string, containerID: string): Promise<'deleted' | 'absent' | 'other-container'> {
  let wep: WorkloadEndpoint;
  try {
    wep = await ds.get('WorkloadEndpoint', name, namespace);
  } catch (e) {
    if (e instanceof NotFoundError) return 'absent';
    throw datastoreError(`reading workload endpoint ${namespace}/${name}`, e);
  }
  if (wep.spec.containerID && wep.spec.containerID !== containerID) return 'other-container';
  try {
    await ds.delete('WorkloadEndpoint', name, namespace, wep.metadata.resourceVersion ? { resourceVersion: wep.metadata.resourceVersion } : {});
    return 'deleted';
  } catch (e) {
    if (e instanceof NotFoundError) return 'absent';
    throw datastoreError(`deleting workload endpoint ${namespace}/${name}`, e);
  }
}

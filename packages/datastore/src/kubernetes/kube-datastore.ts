// The Kubernetes backend (Calico's "KDD"): Calico's own kinds are crd.projectcalico.org/v1
// custom resources; Nodes are Kubernetes Nodes with Calico's annotations; WorkloadEndpoints are
// derived from Pods (a write records IPs and container ID in the pod's annotations); Profiles
// come from Namespaces and ServiceAccounts; NetworkPolicy lists Calico's custom resources and
// the Kubernetes NetworkPolicies converted to `knp.default.<name>` (read-only).
// resourceVersion is the Kubernetes resourceVersion, and every update/delete carrying one is a
// compare-and-swap on it (409 Conflict -> ConflictError).

import { KINDS, type AnyResource, type KindMap, type KindName, type Node, type WorkloadEndpoint, parseWorkloadEndpointName } from '@tabby/api';
import type { Datastore, DeleteOptions, ListOptions, ListResult, Watch, WatchEvent, WatchOptions } from '../datastore.js';
import {
  AlreadyExistsError, ConflictError, InvalidArgumentError, NotFoundError, type ResourceRef,
} from '../errors.js';
import { KubeApiError, KubeClient, KubeRefusedError, kubeSourceOf, loadKubeConfig, type Json, type KubeOptions } from './client.js';
import { fromCustomResource, nodeAnnotationPatch, nodeFromKube, toCustomResource } from './convert.js';
import { KNP_PREFIX, networkPolicyFromKube } from './network-policy.js';
import {
  backingOf, collectionPath, crdCollection, K8S_NETWORK_POLICIES, NAMESPACES, NODES, objectPath, PODS, SERVICE_ACCOUNTS,
} from './paths.js';
import {
  K8S_ENDPOINT, K8S_ORCHESTRATOR, parseProfileName, podAnnotationPatch, podEndpointName, profileFromNamespace,
  profileFromServiceAccount, workloadEndpointFromPod,
} from './pods.js';
import { KindWatch, listSource, type Source } from './watch.js';

const MERGE_PATCH = 'application/merge-patch+json';
/** How many times a write without a resourceVersion is tried again after losing a race. */
const UNCONDITIONAL_RETRIES = 5;

function refOf(kind: KindName, name: string, namespace?: string): ResourceRef {
  return { kind, name, ...(KINDS[kind].namespaced && namespace ? { namespace } : {}) };
}

const refOfResource = (r: AnyResource) => refOf(r.kind, r.metadata.name, r.metadata.namespace);

/** The error for an operation the Kubernetes datastore does not offer on a kind. */
function unsupported(kind: KindName, op: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`${op} ${kind} is not supported with the Kubernetes datastore: ${why}`);
}

export class KubeDatastore implements Datastore {
  private clientP: Promise<KubeClient> | undefined;
  private readonly retryMs: number;
  private readonly watches = new Set<Watch>();

  /** Checks where the settings come from at once (ConfigError); the client library loads on the first call. */
  constructor(private readonly opts: KubeOptions = {}, private readonly env: NodeJS.ProcessEnv = process.env) {
    kubeSourceOf(opts, env);
    this.retryMs = opts.watchRetryMs ?? 200;
  }

  private connection(): Promise<KubeClient> {
    this.clientP ??= loadKubeConfig(this.opts, this.env).then((kc) => new KubeClient(kc, this.opts.timeoutMs));
    return this.clientP;
  }

  /** One request through the (lazily built) client. */
  private async request(method: string, path: string, body?: unknown, contentType?: string): Promise<Json> {
    return (await this.connection()).request(method, path, body, contentType);
  }

  /** Maps a 404/409 of the API to the datastore's errors; other errors pass through. */
  private mapError(e: unknown, ref: ResourceRef, expected?: string): Error {
    if (e instanceof KubeApiError) {
      if (e.code === 404) return new NotFoundError(ref);
      if (e.code === 409 && e.reason === 'AlreadyExists') return new AlreadyExistsError(ref);
      if (e.code === 409) return new ConflictError(ref, expected, undefined);
    }
    return e as Error;
  }

  private async call<T>(ref: ResourceRef, fn: () => Promise<T>, expected?: string): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.mapError(e, ref, expected);
    }
  }

  /** The collections a kind is read from, with their converters. */
  private sources(kind: KindName, namespace?: string): Source<AnyResource>[] {
    const ns = namespace !== undefined ? { namespace } : {};
    switch (backingOf(kind)) {
      case 'node': return [{ collection: NODES, convert: nodeFromKube }];
      case 'wep': return [{ collection: PODS, ...ns, convert: workloadEndpointFromPod }];
      case 'profile': return [
        { collection: NAMESPACES, convert: profileFromNamespace },
        { collection: SERVICE_ACCOUNTS, convert: profileFromServiceAccount },
      ];
      case 'crd': {
        const crd: Source<AnyResource> = { collection: crdCollection(kind), ...(KINDS[kind].namespaced ? ns : {}), convert: (o) => fromCustomResource(kind, o) };
        if (kind !== 'NetworkPolicy') return [crd];
        return [crd, { collection: K8S_NETWORK_POLICIES, ...ns, convert: networkPolicyFromKube }];
      }
    }
  }

  async get<K extends KindName>(kind: K, name: string, namespace?: string): Promise<KindMap[K]> {
    const ref = refOf(kind, name, namespace);
    const found = await this.read(kind, name, namespace);
    if (!found) throw new NotFoundError(ref);
    return found as KindMap[K];
  }

  /** The resource, or undefined when it does not exist. */
  private async read(kind: KindName, name: string, namespace?: string): Promise<AnyResource | undefined> {
    const ref = refOf(kind, name, namespace);
    if (KINDS[kind].namespaced && !namespace) throw new InvalidArgumentError(`${kind}: namespace is required`);
    const fetch = async (path: string): Promise<Json | undefined> => {
      try {
        return await this.request('GET', path);
      } catch (e) {
        const m = this.mapError(e, ref);
        if (m instanceof NotFoundError) return undefined;
        throw m;
      }
    };
    switch (backingOf(kind)) {
      case 'node': {
        const o = await fetch(objectPath(NODES, name));
        return o ? nodeFromKube(o) : undefined;
      }
      case 'wep': {
        const pod = this.podOfEndpoint(name);
        if (!pod) return undefined;
        const o = await fetch(objectPath(PODS, pod, namespace));
        const wep = o ? workloadEndpointFromPod(o) : undefined;
        return wep && wep.metadata.name === name ? wep : undefined;
      }
      case 'profile': {
        const p = parseProfileName(name);
        if (!p) return undefined;
        if (p.serviceAccount === undefined) {
          const o = await fetch(objectPath(NAMESPACES, p.namespace));
          return o ? profileFromNamespace(o) : undefined;
        }
        const o = await fetch(objectPath(SERVICE_ACCOUNTS, p.serviceAccount, p.namespace));
        return o ? profileFromServiceAccount(o) : undefined;
      }
      case 'crd': {
        if (kind === 'NetworkPolicy' && name.startsWith(KNP_PREFIX)) {
          const o = await fetch(objectPath(K8S_NETWORK_POLICIES, name.slice(KNP_PREFIX.length), namespace));
          return o ? networkPolicyFromKube(o) : undefined;
        }
        const o = await fetch(objectPath(crdCollection(kind), name, namespace));
        return o ? fromCustomResource(kind, o) : undefined;
      }
    }
  }

  /** The pod a WorkloadEndpoint name denotes (`<node>-k8s-<pod>-eth0`), if it can denote one. */
  private podOfEndpoint(name: string): string | undefined {
    try {
      const ids = parseWorkloadEndpointName(name);
      if (ids.orchestrator !== K8S_ORCHESTRATOR || !ids.pod || ids.endpoint !== K8S_ENDPOINT) return undefined;
      return ids.pod;
    } catch {
      return undefined;
    }
  }

  async list<K extends KindName>(kind: K, opts: ListOptions = {}): Promise<ListResult<KindMap[K]>> {
    const ns = KINDS[kind].namespaced ? opts.namespace : undefined;
    const items: AnyResource[] = [];
    const revisions: string[] = [];
    for (const s of this.sources(kind, ns)) {
      const client = await this.connection();
      const res = await this.call(refOf(kind, '*'), () => listSource(client, s));
      items.push(...res.items.map((i) => i.r));
      revisions.push(res.revision);
    }
    return { items: items as KindMap[K][], revision: revisions.join('/') };
  }

  async create<R extends AnyResource>(resource: R): Promise<R> {
    const r = structuredClone(resource);
    const ref = refOfResource(r);
    switch (backingOf(r.kind)) {
      case 'node': throw unsupported('Node', 'create', 'Nodes are Kubernetes Nodes, registered by the kubelet; update the Node instead');
      case 'profile': throw unsupported('Profile', 'create', 'profiles are derived from Namespaces and ServiceAccounts');
      case 'wep': {
        const wep = r as WorkloadEndpoint;
        const { podPath, pod } = await this.podFor(wep);
        if (workloadEndpointFromPod(pod)) throw new AlreadyExistsError(ref);
        return await this.patchPod(wep, podPath, pod['metadata']['resourceVersion']) as R;
      }
      case 'crd': {
        if (r.kind === 'NetworkPolicy' && r.metadata.name.startsWith(KNP_PREFIX)) throw unsupported('NetworkPolicy', 'create', `${KNP_PREFIX}* policies are Kubernetes NetworkPolicies (read-only here)`);
        delete r.metadata.resourceVersion;
        const c = crdCollection(r.kind);
        const o = await this.call(ref, () => this.request('POST', collectionPath(c, c.namespaced ? r.metadata.namespace ?? '' : undefined), toCustomResource(r)));
        return fromCustomResource(r.kind, o) as R;
      }
    }
  }

  async update<R extends AnyResource>(resource: R): Promise<R> {
    const r = structuredClone(resource);
    const ref = refOfResource(r);
    const wanted = r.metadata.resourceVersion;
    switch (backingOf(r.kind)) {
      case 'profile': throw unsupported('Profile', 'update', 'profiles are derived from Namespaces and ServiceAccounts');
      case 'node': {
        const o = await this.patchAnnotations(objectPath(NODES, r.metadata.name), nodeAnnotationPatch(r as Node), ref, wanted);
        return nodeFromKube(o) as R;
      }
      case 'wep': {
        const wep = r as WorkloadEndpoint;
        const { podPath, pod } = await this.podFor(wep);
        if (!workloadEndpointFromPod(pod)) throw new NotFoundError(ref);
        return await this.patchPod(wep, podPath, wanted) as R;
      }
      case 'crd': {
        if (r.kind === 'NetworkPolicy' && r.metadata.name.startsWith(KNP_PREFIX)) throw unsupported('NetworkPolicy', 'update', `${KNP_PREFIX}* policies are Kubernetes NetworkPolicies (read-only here)`);
        const c = crdCollection(r.kind);
        const path = objectPath(c, r.metadata.name, r.metadata.namespace);
        for (let attempt = 0; ; attempt++) {
          // Custom resources need a resourceVersion on update: without one, use the current one.
          let rv = wanted;
          if (!rv) {
            const cur = await this.read(r.kind, r.metadata.name, r.metadata.namespace);
            if (!cur) throw new NotFoundError(ref);
            rv = cur.metadata.resourceVersion;
          }
          const body = toCustomResource({ ...r, metadata: { ...r.metadata, resourceVersion: rv } } as AnyResource);
          try {
            const o = await this.call(ref, () => this.request('PUT', path, body), rv);
            return fromCustomResource(r.kind, o) as R;
          } catch (e) {
            if (!(e instanceof ConflictError) || wanted || attempt >= UNCONDITIONAL_RETRIES) throw await this.withActual(e);
          }
        }
      }
    }
  }

  async delete<K extends KindName>(kind: K, name: string, namespace?: string, opts: DeleteOptions = {}): Promise<KindMap[K]> {
    const ref = refOf(kind, name, namespace);
    switch (backingOf(kind)) {
      case 'node': throw unsupported('Node', 'delete', 'Nodes are Kubernetes Nodes; delete the Kubernetes Node');
      case 'profile': throw unsupported('Profile', 'delete', 'profiles are derived from Namespaces and ServiceAccounts');
      case 'wep': {
        // The endpoint goes away with the pod's address annotations (as Calico's plugin on DEL).
        const cur = await this.get(kind, name, namespace) as WorkloadEndpoint;
        if (opts.resourceVersion && opts.resourceVersion !== cur.metadata.resourceVersion) throw new ConflictError(ref, opts.resourceVersion, cur.metadata.resourceVersion);
        await this.patchAnnotations(objectPath(PODS, cur.spec.pod!, namespace), podAnnotationPatch(undefined, cur.metadata.resourceVersion), ref, cur.metadata.resourceVersion);
        return cur as KindMap[K];
      }
      case 'crd': {
        if (kind === 'NetworkPolicy' && name.startsWith(KNP_PREFIX)) throw unsupported('NetworkPolicy', 'delete', `${KNP_PREFIX}* policies are Kubernetes NetworkPolicies (read-only here)`);
        const path = objectPath(crdCollection(kind), name, namespace);
        for (let attempt = 0; ; attempt++) {
          // Read first: the deleted object is returned, and the delete is a CAS on what was read.
          const cur = await this.get(kind, name, namespace);
          const rv = cur.metadata.resourceVersion;
          if (opts.resourceVersion && opts.resourceVersion !== rv) throw new ConflictError(ref, opts.resourceVersion, rv);
          try {
            await this.call(ref, () => this.request('DELETE', path, { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: rv } }), rv);
            return cur;
          } catch (e) {
            if (!(e instanceof ConflictError) || opts.resourceVersion || attempt >= UNCONDITIONAL_RETRIES) throw await this.withActual(e);
          }
        }
      }
    }
  }

  async watch<K extends KindName>(kind: K, opts: WatchOptions, onEvent: (ev: WatchEvent<KindMap[K]>) => void): Promise<Watch> {
    const ns = KINDS[kind].namespaced ? opts.namespace : undefined;
    const w = new KindWatch<AnyResource>(await this.connection(), this.sources(kind, ns), onEvent as (ev: WatchEvent<AnyResource>) => void, this.retryMs);
    await w.open(opts.revision);
    const handle: Watch = {
      close: async () => {
        this.watches.delete(handle);
        await w.close();
      },
    };
    this.watches.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    await Promise.all([...this.watches].map((w) => w.close()));
  }

  /** The Kubernetes Pod itself (the CNI plugin reads its labels and node), or undefined if there is none. */
  async getPod(namespace: string, name: string): Promise<Json | undefined> {
    try {
      return await this.request('GET', objectPath(PODS, name, namespace));
    } catch (e) {
      if (e instanceof KubeApiError && e.code === 404) return undefined;
      throw e;
    }
  }

  /**
   * A merge patch of a Pod's or Node's annotations, through the status subresource as Calico does
   * (its RBAC grants pods/status and nodes/status patch); if that is forbidden, through the object
   * itself (RBAC granting pods/nodes patch). A resourceVersion in the patch makes it a CAS.
   */
  private async patchAnnotations(path: string, patch: Json, ref: ResourceRef, expected: string | undefined): Promise<Json> {
    try {
      return await this.call(ref, () => this.request('PATCH', `${path}/status`, patch, MERGE_PATCH), expected);
    } catch (e) {
      if (!(e instanceof KubeRefusedError && e.code === 403)) throw e;
      return this.call(ref, () => this.request('PATCH', path, patch, MERGE_PATCH), expected);
    }
  }

  /** A ConflictError completed with the stored resourceVersion, for a message a user can act on. */
  private async withActual(e: unknown): Promise<unknown> {
    if (!(e instanceof ConflictError) || e.actual !== undefined) return e;
    const cur = await this.read(e.ref.kind, e.ref.name, e.ref.namespace).catch(() => undefined);
    if (!cur) return new NotFoundError(e.ref);
    return new ConflictError(e.ref, e.expected, cur.metadata.resourceVersion);
  }

  /** The pod a WorkloadEndpoint belongs to; its name must be the one Calico derives from the pod. */
  private async podFor(wep: WorkloadEndpoint): Promise<{ podPath: string; pod: Json }> {
    const ns = wep.metadata.namespace;
    if (!ns) throw new InvalidArgumentError('WorkloadEndpoint: namespace is required');
    const podName = wep.spec.pod ?? this.podOfEndpoint(wep.metadata.name);
    if (!podName) throw new InvalidArgumentError(`WorkloadEndpoint ${wep.metadata.name}: with the Kubernetes datastore an endpoint belongs to a pod (spec.pod, name <node>-k8s-<pod>-eth0)`);
    const podPath = objectPath(PODS, podName, ns);
    const ref = refOfResource(wep);
    let pod: Json;
    try {
      pod = await this.request('GET', podPath);
    } catch (e) {
      const m = this.mapError(e, ref);
      if (m instanceof NotFoundError) throw new NotFoundError({ kind: 'WorkloadEndpoint', name: wep.metadata.name, namespace: ns });
      throw m;
    }
    const node = pod['spec']?.['nodeName'];
    if (!node) throw new InvalidArgumentError(`WorkloadEndpoint ${ns}/${wep.metadata.name}: pod ${podName} is not scheduled to a node yet`);
    const want = podEndpointName(String(node), podName);
    if (wep.metadata.name !== want) throw new InvalidArgumentError(`WorkloadEndpoint ${ns}/${wep.metadata.name}: the endpoint of pod ${podName} on node ${node} is named ${want}`);
    return { podPath, pod };
  }

  /** Records a WorkloadEndpoint in its pod's annotations; with a resourceVersion, a CAS on the pod. */
  private async patchPod(wep: WorkloadEndpoint, podPath: string, resourceVersion: string | undefined): Promise<WorkloadEndpoint> {
    const ref = refOfResource(wep);
    if (!wep.spec.ipNetworks?.length) throw new InvalidArgumentError(`WorkloadEndpoint ${ref.namespace}/${ref.name}: with the Kubernetes datastore an endpoint needs ipNetworks (they are kept in the pod's annotations)`);
    try {
      const o = await this.patchAnnotations(podPath, podAnnotationPatch(wep, resourceVersion), ref, resourceVersion);
      const stored = workloadEndpointFromPod(o);
      if (!stored) throw new InvalidArgumentError(`WorkloadEndpoint ${ref.namespace}/${ref.name}: the pod does not form an endpoint (host network or finished)`);
      return stored;
    } catch (e) {
      throw await this.withActual(e);
    }
  }
}

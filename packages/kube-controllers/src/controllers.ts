// What Calico's kube-controllers do for an etcd datastore: the Kubernetes API is the source of
// truth for NetworkPolicies, Namespaces, ServiceAccounts and pod labels, and felix reads only
// etcd, so these are copied across and kept in step.
//
//  - policy: networking.k8s.io NetworkPolicies -> NetworkPolicy `knp.default.<name>`;
//  - namespace: Namespaces -> Profile `kns.<ns>` (allow all, labels as `pcns.*`);
//  - serviceaccount: ServiceAccounts -> Profile `ksa.<ns>.<sa>` (labels as `pcsa.*`);
//  - workloadendpoint: each k8s WorkloadEndpoint the CNI plugin wrote gets its pod's labels,
//    the namespace/orchestrator/serviceaccount labels and the kns/ksa profiles.
//
// Each controller is level-triggered: events from either side (a Kubernetes watch that
// re-lists on 410 Gone, and an etcd watch) schedule one reconcile, which compares the whole
// desired set with etcd and writes only the differences, each update a compare-and-swap. A
// failed reconcile is tried again with a doubling delay. Resources a controller does not own
// (by name prefix) are never touched.

import {
  LABEL_NAMESPACE, LABEL_ORCHESTRATOR, LABEL_SERVICE_ACCOUNT, namespaceProfileName, serviceAccountProfileName,
  type KindName, type NetworkPolicy, type Profile, type WorkloadEndpoint,
} from '@tabby/api';
import { ConflictError, KindWatch, NotFoundError, kubeConvert, type Datastore, type KubeClient, type KubeSource, type Watch, type WatchEvent } from '@tabby/datastore';
import type { Logger } from '@tabby/log';

export const CONTROLLERS = ['policy', 'namespace', 'serviceaccount', 'workloadendpoint'] as const;
export type ControllerName = (typeof CONTROLLERS)[number];

export interface ControllerOptions {
  kube: KubeClient;
  ds: Datastore;
  log: Logger;
  /** Delay before a reconcile, so a burst of events makes one (default 100 ms). */
  debounceMs?: number;
  /** First delay after a failed reconcile, doubling to 30 s (default 1 s). */
  retryMs?: number;
  /** First delay before a broken Kubernetes watch reconnects (default 200 ms). */
  watchRetryMs?: number;
}

export interface ReconcileStats { created: number; updated: number; deleted: number }

/** Schedules reconciles: one at a time, debounced, retried with backoff after a failure. */
abstract class Controller {
  protected readonly watches: Watch[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private failures = 0;
  private stopped = false;
  /** Resolves after the first reconcile that succeeded (readiness). */
  readonly synced: Promise<void>;
  private markSynced!: () => void;

  constructor(readonly name: ControllerName, protected readonly o: ControllerOptions) {
    this.synced = new Promise((r) => { this.markSynced = r; });
  }

  protected abstract reconcileOnce(): Promise<ReconcileStats>;
  abstract start(): Promise<void>;

  protected schedule(delay = this.o.debounceMs ?? 100): void {
    if (this.stopped) return;
    if (this.running) { this.again = true; return; }
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = undefined; this.run(); }, delay);
  }

  private run(): void {
    this.running = (async () => {
      try {
        const s = await this.reconcileOnce();
        this.failures = 0;
        if (s.created || s.updated || s.deleted) this.o.log.info(`${this.name}: synced`, { ...s });
        this.markSynced();
      } catch (e) {
        this.failures++;
        const delay = Math.min((this.o.retryMs ?? 1000) * 2 ** (this.failures - 1), 30_000);
        this.o.log.warn(`${this.name}: reconcile failed; trying again`, { error: (e as Error).message, retryInMs: delay });
        this.again = false;
        this.running = undefined;
        this.schedule(delay);
        return;
      }
      this.running = undefined;
      if (this.again) { this.again = false; this.schedule(); }
    })();
  }

  /** Watches the etcd side too, so a copy changed or deleted by hand is put back at once. */
  protected async watchDatastore(kind: KindName): Promise<void> {
    this.watches.push(await this.o.ds.watch(kind, {}, (ev) => { if (ev.type !== 'error') this.schedule(); }));
  }

  protected async watchKube<R>(sources: KubeSource<R>[], onEvent: (ev: WatchEvent<R>) => void): Promise<void> {
    const w = new KindWatch<R>(this.o.kube, sources, (ev) => {
      if (ev.type === 'error') { this.o.log.warn(`${this.name}: Kubernetes watch trouble; it keeps reconnecting`, { error: ev.error.message }); return; }
      onEvent(ev);
      this.schedule();
    }, this.o.watchRetryMs ?? 200);
    await w.open();
    this.watches.push(w);
  }

  /** Closes the watches a failed start() opened, so that start() can be tried again. */
  async reset(): Promise<void> {
    await Promise.all(this.watches.splice(0).map((w) => w.close()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all(this.watches.splice(0).map((w) => w.close()));
    await this.running;
  }
}

const keyOf = (r: { metadata: { name: string; namespace?: string } }) => `${r.metadata.namespace ?? ''}/${r.metadata.name}`;

/** Applies a watch event to a map of converted objects. */
function track<R extends { metadata: { name: string; namespace?: string } }>(into: Map<string, R>, ev: WatchEvent<R>): void {
  if (ev.type === 'resync') { into.clear(); for (const r of ev.items) into.set(keyOf(r), r); }
  else if (ev.type === 'added' || ev.type === 'modified') into.set(keyOf(ev.resource), ev.resource);
  else if (ev.type === 'deleted') into.delete(keyOf(ev.resource));
}

/** Deterministic JSON (sorted keys) for comparing what matters of two resources. */
function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : x));
}

type Mirrored = NetworkPolicy | Profile;

/**
 * Copies a converted Kubernetes collection into etcd: creates what is missing, rewrites what
 * differs (labels or spec), deletes the copies whose source is gone.
 */
class Mirror<R extends Mirrored> extends Controller {
  private readonly desired = new Map<string, R>();

  constructor(name: ControllerName, o: ControllerOptions, private readonly kind: R['kind'], private readonly sources: KubeSource<R>[], private readonly owns: (name: string) => boolean) {
    super(name, o);
  }

  async start(): Promise<void> {
    await this.watchKube(this.sources, (ev) => track(this.desired, ev));
    await this.watchDatastore(this.kind);
    this.schedule(0);
  }

  protected async reconcileOnce(): Promise<ReconcileStats> {
    const s: ReconcileStats = { created: 0, updated: 0, deleted: 0 };
    const have = new Map<string, R>();
    for (const r of (await this.o.ds.list(this.kind)).items as unknown as R[]) if (this.owns(r.metadata.name)) have.set(keyOf(r), r);
    for (const [key, want] of this.desired) {
      const cur = have.get(key);
      const labels = want.metadata.labels;
      if (!cur) {
        const fresh = { ...want, metadata: { name: want.metadata.name, ...(want.metadata.namespace && { namespace: want.metadata.namespace }), ...(labels && { labels }) } } as R;
        await this.o.ds.create(fresh);
        s.created++;
      } else if (canon([cur.metadata.labels ?? {}, cur.spec]) !== canon([labels ?? {}, want.spec])) {
        const next = { ...cur, metadata: { ...cur.metadata, labels }, spec: want.spec } as R;
        if (!labels) delete next.metadata.labels;
        await this.o.ds.update(next);
        s.updated++;
      }
    }
    for (const [key, cur] of have) {
      if (this.desired.has(key)) continue;
      try {
        await this.o.ds.delete(this.kind, cur.metadata.name, cur.metadata.namespace, { resourceVersion: cur.metadata.resourceVersion! });
        s.deleted++;
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
    return s;
  }
}

interface PodInfo { metadata: { name: string; namespace: string }; labels: Record<string, string>; serviceAccount?: string }

/** Gives each k8s WorkloadEndpoint its pod's labels and profiles. */
class EndpointLabels extends Controller {
  private readonly pods = new Map<string, PodInfo>();

  async start(): Promise<void> {
    const source: KubeSource<PodInfo> = {
      collection: kubeConvert.PODS,
      convert: (p) => ({
        metadata: { name: String(p['metadata']['name']), namespace: String(p['metadata']['namespace']) },
        labels: { ...(p['metadata']['labels'] ?? {}) } as Record<string, string>,
        ...(p['spec']?.['serviceAccountName'] ? { serviceAccount: String(p['spec']['serviceAccountName']) } : {}),
      }),
    };
    await this.watchKube([source], (ev) => track(this.pods, ev));
    await this.watchDatastore('WorkloadEndpoint');
    this.schedule(0);
  }

  protected async reconcileOnce(): Promise<ReconcileStats> {
    const s: ReconcileStats = { created: 0, updated: 0, deleted: 0 };
    let conflicts = 0;
    for (const wep of (await this.o.ds.list('WorkloadEndpoint')).items as WorkloadEndpoint[]) {
      if (wep.spec.orchestrator !== 'k8s' || !wep.spec.pod) continue;
      const ns = wep.metadata.namespace!;
      const pod = this.pods.get(`${ns}/${wep.spec.pod}`);
      if (!pod) continue; // not (yet) known to the API: leave it as the plugin wrote it
      const labels: Record<string, string> = {
        ...pod.labels,
        [LABEL_NAMESPACE]: ns,
        [LABEL_ORCHESTRATOR]: 'k8s',
        ...(pod.serviceAccount && { [LABEL_SERVICE_ACCOUNT]: pod.serviceAccount }),
      };
      const profiles = [namespaceProfileName(ns), ...(pod.serviceAccount ? [serviceAccountProfileName(ns, pod.serviceAccount)] : [])];
      if (canon(wep.metadata.labels ?? {}) === canon(labels) && canon(wep.spec.profiles ?? []) === canon(profiles)) continue;
      try {
        await this.o.ds.update({ ...wep, metadata: { ...wep.metadata, labels }, spec: { ...wep.spec, profiles } });
        s.updated++;
      } catch (e) {
        // The plugin rewrote it meanwhile, or the pod went: the next round sees the new state.
        if (e instanceof ConflictError || e instanceof NotFoundError) conflicts++;
        else throw e;
      }
    }
    if (conflicts) this.schedule();
    return s;
  }
}

export type AnyController = Controller;

/** The controllers named, not started. */
export function createControllers(names: readonly ControllerName[], o: ControllerOptions): AnyController[] {
  return names.map((n): AnyController => {
    switch (n) {
      case 'policy':
        return new Mirror<NetworkPolicy>(n, o, 'NetworkPolicy', [{ collection: kubeConvert.K8S_NETWORK_POLICIES, convert: kubeConvert.networkPolicyFromKube }], (name) => name.startsWith(kubeConvert.KNP_PREFIX));
      case 'namespace':
        return new Mirror<Profile>(n, o, 'Profile', [{ collection: kubeConvert.NAMESPACES, convert: kubeConvert.profileFromNamespace }], (name) => name.startsWith('kns.'));
      case 'serviceaccount':
        return new Mirror<Profile>(n, o, 'Profile', [{ collection: kubeConvert.SERVICE_ACCOUNTS, convert: kubeConvert.profileFromServiceAccount }], (name) => name.startsWith('ksa.'));
      case 'workloadendpoint':
        return new EndpointLabels(n, o);
    }
  });
}

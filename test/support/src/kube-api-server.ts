// A small Kubernetes API TEST server for Tabby's tests — NOT a real apiserver. It speaks just
// enough of the Kubernetes REST protocol for @kubernetes/client-node and Tabby's Kubernetes
// datastore: list / watch / get / create / update (PUT) / patch (merge, strategic treated as
// merge, JSON patch) / delete on the resources Calico uses, with
//  - one global resourceVersion counter (as etcd's revision behind a real apiserver),
//  - 409 Conflict on a stale resourceVersion (update, patch, delete preconditions),
//  - errors as Kubernetes Status objects (404 NotFound, 409 AlreadyExists / Conflict, ...),
//  - watches streaming JSON lines (ADDED / MODIFIED / DELETED, BOOKMARK with
//    allowWatchBookmarks, ERROR 410 Expired when the requested resourceVersion is older than the
//    compaction point set with compact()),
//  - equality/set label selectors and equality field selectors on list and watch,
//  - bearer-token authentication, and a kubeconfig file pointing at itself.
// Deliberately missing: admission (namespaces need not exist), validation of object schemas,
// subresources (status, scale), server-side apply, pagination, client certificates. Plain
// http:// by default (the kubeconfig then sets insecure-skip-tls-verify, which the client
// requires for http); `tls: true` serves https:// with a throwaway CA named in the kubeconfig.

import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fieldsMatch, jsonPatch, labelsMatch, mergePatch, parseFieldSelector, parseLabelSelector, StatusError, type Requirement,
} from './kube-api-selectors.js';

export { parseLabelSelector } from './kube-api-selectors.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface KubeResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

const CRD_GROUP = 'crd.projectcalico.org';
const crd = (plural: string, kind: string, namespaced = false): KubeResourceType => ({ group: CRD_GROUP, version: 'v1', plural, kind, namespaced });

/** The resources this server serves. */
export const KUBE_TEST_RESOURCES: readonly KubeResourceType[] = [
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false },
  { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true },
  crd('bgpconfigurations', 'BGPConfiguration'), crd('bgppeers', 'BGPPeer'), crd('bgpfilters', 'BGPFilter'),
  crd('ippools', 'IPPool'), crd('globalnetworkpolicies', 'GlobalNetworkPolicy'), crd('networkpolicies', 'NetworkPolicy', true),
  crd('hostendpoints', 'HostEndpoint'), crd('felixconfigurations', 'FelixConfiguration'),
  crd('clusterinformations', 'ClusterInformation'), crd('ipamblocks', 'IPAMBlock'), crd('blockaffinities', 'BlockAffinity'),
  crd('ipamhandles', 'IPAMHandle'), crd('ipamconfigs', 'IPAMConfig'),
];

const apiVersionOf = (t: KubeResourceType) => (t.group ? `${t.group}/${t.version}` : t.version);
const basePath = (t: KubeResourceType) => (t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`);

export interface KubeApiTestServerOptions {
  /** How often watches with allowWatchBookmarks get a BOOKMARK (default 0: only on bookmarkNow()). */
  bookmarkIntervalMs?: number;
  /** Collections not to serve, as `<group>/<plural>` (core: `/pods`), e.g. a cluster without a CRD: `crd.projectcalico.org/ippools`. */
  omit?: string[];
  /** Answer 403 Forbidden to these, as RBAC would: `<plural>/status` (any object's status subresource) or `<plural>` (any write to the collection's objects). */
  forbid?: string[];
  /** Serve https:// with a throwaway CA (its file is `caFile`, and the kubeconfig names it). */
  tls?: boolean;
}

export interface KubeApiTestServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly token: string;
  /** A kubeconfig file (bearer token, insecure-skip-tls-verify) pointing at this server. */
  readonly kubeconfig: string;
  /** With tls: the CA that signed the server's certificate. */
  readonly caFile?: string;
  /** The current global resourceVersion. */
  resourceVersion(): number;
  /** Forgets the history up to `rv` (default: now): watches from an older resourceVersion get 410 Expired. */
  compact(rv?: number): void;
  /** Sends a BOOKMARK (current resourceVersion) to every watch that asked for bookmarks. */
  bookmarkNow(): void;
  /** Ends every open watch stream (as an apiserver restart or timeout would). */
  dropWatches(): void;
  /** While true every request is answered 503 ServiceUnavailable and new connections are refused-like. */
  setUnavailable(on: boolean): void;
  /**
   * In-process access for tests, by API path, e.g. `/api/v1/namespaces/ns1/pods` (create) or
   * `/api/v1/namespaces/ns1/pods/p1` (get/put/remove). Same semantics as over HTTP; errors throw
   * with the Status message.
   */
  create(collectionPath: string, obj: Obj): Obj;
  get(path: string): Obj | undefined;
  put(path: string, obj: Obj): Obj;
  remove(path: string): Obj;
  list(collectionPath: string): Obj[];
  /** Requests seen (method and path with query), for tests that check what a client sent. */
  readonly requests: { method: string; url: string; contentType?: string; status?: number }[];
  close(): Promise<void>;
}


interface Target {
  type: KubeResourceType;
  namespace?: string;
  name?: string;
  /** The status subresource (pods, nodes): writes keep the spec, as the apiserver's status strategy does, but take metadata. */
  status?: boolean;
}

/** Resources with a status subresource here. */
const WITH_STATUS = new Set(['pods', 'nodes']);

interface Change {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  type_: KubeResourceType;
  object: Obj;
  previous?: Obj;
}

interface Watcher {
  target: Target;
  labels: Requirement[];
  fields: [string, string, boolean][];
  bookmarks: boolean;
  res: ServerResponse;
  send(type: string, object: Obj): void;
  end(): void;
}

// ---- the server -------------------------------------------------------------------------------

/** A CA and a server certificate for 127.0.0.1, throwaway. */
function makeServerCert(dir: string): { ca: string; cert: string; key: string } {
  const openssl = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
  };
  writeFileSync(join(dir, 'server.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tabby-kube-test-ca']);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=tabby-kube-test']);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.cnf']);
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

export async function startKubeApiTestServer(opts: KubeApiTestServerOptions = {}): Promise<KubeApiTestServer> {
  const token = randomBytes(16).toString('hex');
  const objects = new Map<string, { type: KubeResourceType; obj: Obj }>();
  let history: Change[] = [];
  let rv = 1;
  let compactedAt = 0;
  let unavailable = false;
  const watchers = new Set<Watcher>();
  const requests: KubeApiTestServer['requests'] = [];

  const served = KUBE_TEST_RESOURCES.filter((t) => !(opts.omit ?? []).includes(`${t.group}/${t.plural}`));
  const keyOf = (t: KubeResourceType, ns: string | undefined, name: string) => `${basePath(t)}/${t.plural}/${ns ?? ''}/${name}`;
  const gr = (t: KubeResourceType) => ({ group: t.group, kind: t.plural });
  const notFound = (t: KubeResourceType, name: string) => new StatusError(404, 'NotFound', `${t.plural}${t.group ? '.' + t.group : ''} "${name}" not found`, { name, ...gr(t) });
  const conflict = (t: KubeResourceType, name: string) =>
    new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${t.plural}${t.group ? '.' + t.group : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, ...gr(t) });

  /** Resolves an API path (without query) to a resource type, namespace and name. */
  function route(path: string): Target {
    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    let rest: string[];
    let group = '';
    let version: string;
    if (segs[0] === 'api' && segs.length >= 2) {
      version = segs[1]!;
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 3) {
      group = segs[1]!;
      version = segs[2]!;
      rest = segs.slice(3);
    } else throw new StatusError(404, 'NotFound', `the server could not find the requested resource (${path})`);
    const types = served.filter((t) => t.group === group && t.version === version);
    const notFound = () => new StatusError(404, 'NotFound', `the server could not find the requested resource (${path})`);
    const status = (t: KubeResourceType, sub: string | undefined) => {
      if (sub === undefined) return {};
      if (sub !== 'status' || !WITH_STATUS.has(t.plural)) throw notFound();
      return { status: true };
    };
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const t = types.find((x) => x.plural === rest[2] && x.namespaced);
      if (!t || rest.length > 5) throw notFound();
      return { type: t, namespace: rest[1]!, ...(rest[3] ? { name: rest[3] } : {}), ...status(t, rest[4]) };
    }
    const t = types.find((x) => x.plural === rest[0]);
    if (!t || rest.length > 3 || (rest.length >= 2 && t.namespaced)) throw notFound();
    return { type: t, ...(rest[1] ? { name: rest[1] } : {}), ...status(t, rest[2]) };
  }

  function present(t: KubeResourceType, obj: Obj): Obj {
    return { apiVersion: apiVersionOf(t), kind: t.kind, ...structuredClone(obj) };
  }

  function inScope(w: { target: Target; labels: Requirement[]; fields: [string, string, boolean][] }, t: KubeResourceType, obj: Obj | undefined): boolean {
    if (!obj || w.target.type !== t) return false;
    if (w.target.namespace !== undefined && obj['metadata']?.['namespace'] !== w.target.namespace) return false;
    if (w.target.name !== undefined && obj['metadata']?.['name'] !== w.target.name) return false;
    return labelsMatch(w.labels, obj['metadata']?.['labels']) && fieldsMatch(w.fields, obj);
  }

  /** The event a watcher sees for a change: a MODIFIED that leaves or enters its selection becomes DELETED or ADDED. */
  function eventFor(w: Watcher, c: Change): [string, Obj] | undefined {
    const now = inScope(w, c.type_, c.object);
    const before = c.previous ? inScope(w, c.type_, c.previous) : false;
    if (c.type === 'MODIFIED') {
      if (now && before) return ['MODIFIED', c.object];
      if (now) return ['ADDED', c.object];
      if (before) return ['DELETED', c.object];
      return undefined;
    }
    return now ? [c.type, c.object] : undefined;
  }

  function record(type: Change['type'], t: KubeResourceType, object: Obj, previous?: Obj): void {
    const c: Change = { rv, type, type_: t, object: present(t, object), ...(previous ? { previous } : {}) };
    history.push(c);
    for (const w of watchers) {
      const ev = eventFor(w, c);
      if (ev) w.send(ev[0], ev[1]);
    }
  }

  function nextRv(): string {
    rv += 1;
    return String(rv);
  }

  function doCreate(target: Target, body: Obj): Obj {
    const t = target.type;
    if (!body || typeof body !== 'object') throw new StatusError(400, 'BadRequest', 'the body must be a JSON object');
    const meta: Obj = { ...(body['metadata'] ?? {}) };
    if (!meta['name'] && meta['generateName']) meta['name'] = `${meta['generateName']}${randomBytes(3).toString('hex').slice(0, 5)}`;
    const name = meta['name'];
    if (typeof name !== 'string' || !name) throw new StatusError(422, 'Invalid', `${t.kind} "": metadata.name: Required value: name or generateName is required`);
    if (t.namespaced) {
      if (meta['namespace'] && meta['namespace'] !== target.namespace) {
        throw new StatusError(400, 'BadRequest', `the namespace of the provided object does not match the namespace sent on the request`);
      }
      meta['namespace'] = target.namespace;
    } else delete meta['namespace'];
    if (meta['resourceVersion']) throw new StatusError(422, 'Invalid', `${t.kind} "${name}": metadata.resourceVersion: Invalid value: must not be set on create`);
    const key = keyOf(t, meta['namespace'], name);
    if (objects.has(key)) throw new StatusError(409, 'AlreadyExists', `${t.plural}${t.group ? '.' + t.group : ''} "${name}" already exists`, { name, ...gr(t) });
    meta['uid'] = randomUUID();
    meta['creationTimestamp'] = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    meta['resourceVersion'] = nextRv();
    const { apiVersion: _a, kind: _k, ...rest } = body;
    const obj = { ...rest, metadata: meta };
    objects.set(key, { type: t, obj });
    record('ADDED', t, obj);
    return present(t, obj);
  }

  function current(target: Target): { key: string; obj: Obj } {
    const key = keyOf(target.type, target.namespace, target.name!);
    const hit = objects.get(key);
    if (!hit) throw notFound(target.type, target.name!);
    return { key, obj: hit.obj };
  }

  /** Replaces an object; `wanted` is the resourceVersion the writer read (CAS) or undefined. */
  function replace(target: Target, body: Obj, wanted: string | undefined, requireRv: boolean): Obj {
    const t = target.type;
    const { key, obj: old } = current(target);
    const meta: Obj = { ...(body['metadata'] ?? {}) };
    if (meta['name'] !== undefined && meta['name'] !== target.name) throw new StatusError(400, 'BadRequest', `the name of the object (${meta['name']}) does not match the name on the URL (${target.name})`);
    if (!wanted && requireRv) throw new StatusError(422, 'Invalid', `${t.kind}.${t.group} "${target.name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`);
    if (wanted && wanted !== old['metadata']['resourceVersion']) throw conflict(t, target.name!);
    meta['name'] = target.name;
    if (t.namespaced) meta['namespace'] = target.namespace;
    else delete meta['namespace'];
    meta['uid'] = old['metadata']['uid'];
    meta['creationTimestamp'] = old['metadata']['creationTimestamp'];
    const { apiVersion: _a, kind: _k, ...rest } = body;
    const obj: Obj = { ...rest, metadata: meta };
    if (target.status) {
      if (old['spec'] !== undefined) obj['spec'] = old['spec'];
      else delete obj['spec'];
    }
    if (JSON.stringify({ ...obj, metadata: { ...meta, resourceVersion: undefined } }) === JSON.stringify({ ...old, metadata: { ...old['metadata'], resourceVersion: undefined } })) {
      return present(t, old); // a no-op write does not change the resourceVersion (as a real apiserver)
    }
    meta['resourceVersion'] = nextRv();
    objects.set(key, { type: t, obj });
    record('MODIFIED', t, obj, present(t, old));
    return present(t, obj);
  }

  function doPatch(target: Target, body: unknown, contentType: string): Obj {
    const { obj: old } = current(target);
    let next: Obj;
    if (contentType.startsWith('application/json-patch+json')) next = jsonPatch(old, body);
    else if (contentType.startsWith('application/merge-patch+json') || contentType.startsWith('application/strategic-merge-patch+json')) {
      next = mergePatch(old, body) as Obj;
    } else throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType || 'none'})`);
    const wanted = next['metadata']?.['resourceVersion'];
    // A patch carrying a resourceVersion is a compare-and-swap on it; one without is not.
    return replace(target, next, wanted !== old['metadata']['resourceVersion'] ? wanted : undefined, false)
      ?? present(target.type, old);
  }

  function doDelete(target: Target, body: Obj | undefined): Obj {
    const t = target.type;
    const { key, obj } = current(target);
    const pre = body?.['preconditions'] ?? {};
    if (pre['resourceVersion'] && pre['resourceVersion'] !== obj['metadata']['resourceVersion']) {
      throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${t.plural} "${target.name}": Precondition failed: ResourceVersion in precondition: ${pre['resourceVersion']}, ResourceVersion in object meta: ${obj['metadata']['resourceVersion']}`, { name: target.name, ...gr(t) });
    }
    if (pre['uid'] && pre['uid'] !== obj['metadata']['uid']) {
      throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${t.plural} "${target.name}": Precondition failed: UID in precondition: ${pre['uid']}, UID in object meta: ${obj['metadata']['uid']}`, { name: target.name, ...gr(t) });
    }
    objects.delete(key);
    // The deletion event carries the object at the deletion's resourceVersion.
    const gone = { ...obj, metadata: { ...obj['metadata'], resourceVersion: nextRv() } };
    record('DELETED', t, gone);
    return present(t, gone);
  }

  function doList(target: Target, labels: Requirement[], fields: [string, string, boolean][]): Obj {
    const t = target.type;
    const items = [...objects.values()]
      .filter((o) => inScope({ target, labels, fields }, o.type, o.obj))
      .map((o) => (t.group === CRD_GROUP ? present(t, o.obj) : structuredClone(o.obj)))
      .sort((a, b) => `${a['metadata']['namespace'] ?? ''}/${a['metadata']['name']}`.localeCompare(`${b['metadata']['namespace'] ?? ''}/${b['metadata']['name']}`));
    return { kind: `${t.kind}List`, apiVersion: apiVersionOf(t), metadata: { resourceVersion: String(rv) }, items };
  }

  function startWatch(target: Target, q: URLSearchParams, res: ServerResponse): void {
    const labels = parseLabelSelector(q.get('labelSelector') ?? '');
    const fields = parseFieldSelector(q.get('fieldSelector') ?? '');
    const from = q.get('resourceVersion');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    const entry = requests.at(-1);
    if (entry) entry.status = 200;
    res.flushHeaders(); // the client's watch() settles on the headers, as with a real apiserver
    let timer: NodeJS.Timeout | undefined;
    const w: Watcher = {
      target, labels, fields, res,
      bookmarks: q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1',
      send: (type, object) => { if (!res.writableEnded) res.write(JSON.stringify({ type, object }) + '\n'); },
      end: () => {
        clearTimeout(timer);
        watchers.delete(w);
        if (!res.writableEnded) res.end();
      },
    };
    res.on('close', () => w.end());
    const n = from && from !== '0' ? Number(from) : undefined;
    if (n !== undefined && (!Number.isInteger(n) || n < compactedAt)) {
      const gone = new StatusError(410, 'Expired', `too old resource version: ${from} (${compactedAt})`);
      w.send('ERROR', gone.status());
      res.end();
      return;
    }
    if (n === undefined) {
      // Without a resourceVersion a watch starts with the current objects as ADDED events.
      for (const o of objects.values()) if (inScope(w, o.type, o.obj)) w.send('ADDED', present(o.type, o.obj));
    } else {
      for (const c of history) if (c.rv > n) {
        const ev = eventFor(w, c);
        if (ev) w.send(ev[0], ev[1]);
      }
    }
    watchers.add(w);
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    if (timeout > 0) timer = setTimeout(() => w.end(), timeout * 1000);
  }

  function discovery(path: string): Obj | undefined {
    for (const gv of new Set(KUBE_TEST_RESOURCES.map((t) => basePath(t)))) {
      if (path.replace(/\/$/, '') !== gv) continue;
      const types = served.filter((t) => basePath(t) === gv);
      return {
        kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(types[0]!),
        resources: types.map((t) => ({ name: t.plural, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] })),
      };
    }
    return undefined;
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new StatusError(400, 'BadRequest', `the body is not JSON: ${(e as Error).message}`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const contentType = req.headers['content-type'];
    const entry: KubeApiTestServer['requests'][number] = { method, url: url.pathname + url.search, ...(contentType ? { contentType } : {}) };
    requests.push(entry);
    const reply = (code: number, body: Obj) => {
      entry.status = code;
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      if (unavailable) throw new StatusError(503, 'ServiceUnavailable', 'the test server is set unavailable');
      if (req.headers.authorization !== `Bearer ${token}`) throw new StatusError(401, 'Unauthorized', 'Unauthorized');
      const disc = method === 'GET' ? discovery(url.pathname) : undefined;
      if (disc) return reply(200, disc);
      const target = route(url.pathname);
      const q = url.searchParams;
      const forbidden = opts.forbid ?? [];
      if ((target.status && forbidden.includes(`${target.type.plural}/status`)) || (method !== 'GET' && !target.status && forbidden.includes(target.type.plural))) {
        throw new StatusError(403, 'Forbidden', `${target.type.plural}${target.status ? '/status' : ''} "${target.name ?? ''}" is forbidden: User "tabby-test" cannot ${method.toLowerCase()} resource "${target.type.plural}${target.status ? '/status' : ''}"`);
      }
      if (method === 'GET' && !target.name && (q.get('watch') === 'true' || q.get('watch') === '1')) return startWatch(target, q, res);
      if (method === 'GET' && !target.name) return reply(200, doList(target, parseLabelSelector(q.get('labelSelector') ?? ''), parseFieldSelector(q.get('fieldSelector') ?? '')));
      if (method === 'GET') return reply(200, present(target.type, current(target).obj));
      const body = (await readBody(req)) as Obj;
      if (method === 'POST' && !target.name) return reply(201, doCreate(target, body));
      if (method === 'PUT' && target.name) {
        if (!body || typeof body !== 'object') throw new StatusError(400, 'BadRequest', 'the body must be a JSON object');
        return reply(200, replace(target, body, body['metadata']?.['resourceVersion'] || undefined, target.type.group === CRD_GROUP));
      }
      if (method === 'PATCH' && target.name) return reply(200, doPatch(target, body, String(contentType ?? '')));
      if (method === 'DELETE' && target.name && !target.status) return reply(200, doDelete(target, body));
      throw new StatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method} ${url.pathname})`);
    } catch (e) {
      const err = e instanceof StatusError ? e : new StatusError(500, 'InternalError', `internal error: ${(e as Error).message}`);
      if (!res.headersSent) reply(err.code, err.status());
      else res.end();
    }
  }

  const dir = mkdtempSync(join(tmpdir(), 'tabby-kube-test-'));
  let server: Server;
  let certs: { ca: string; cert: string; key: string } | undefined;
  try {
    certs = opts.tls ? makeServerCert(dir) : undefined;
    const onRequest = (req: IncomingMessage, res: ServerResponse) => { void handle(req, res); };
    server = certs ? createHttpsServer({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) }, onRequest) : createServer(onRequest);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const url = `${certs ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = join(dir, 'kubeconfig');
  // JSON is YAML: the client's loader reads it like any kubeconfig.
  writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'tabby-test',
    clusters: [{ name: 'tabby-test', cluster: certs ? { server: url, 'certificate-authority': certs.ca } : { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'tabby-test', user: { token } }],
    contexts: [{ name: 'tabby-test', context: { cluster: 'tabby-test', user: 'tabby-test' } }],
  }, null, 2));

  let bookmarkTimer: NodeJS.Timeout | undefined;
  const bookmarkNow = () => {
    for (const w of watchers) if (w.bookmarks) w.send('BOOKMARK', { kind: w.target.type.kind, apiVersion: apiVersionOf(w.target.type), metadata: { resourceVersion: String(rv) } });
  };
  if (opts.bookmarkIntervalMs) bookmarkTimer = setInterval(bookmarkNow, opts.bookmarkIntervalMs);

  const inProcess = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof StatusError) throw new Error(`${e.code} ${e.reason}: ${e.message}`);
      throw e;
    }
  };

  return {
    url, token, kubeconfig, requests, ...(certs ? { caFile: certs.ca } : {}),
    resourceVersion: () => rv,
    compact(at = rv) {
      compactedAt = at;
      history = history.filter((c) => c.rv > at);
    },
    bookmarkNow,
    dropWatches() {
      for (const w of [...watchers]) w.end();
    },
    setUnavailable(on) {
      unavailable = on;
      if (on) for (const w of [...watchers]) w.end();
    },
    create: (path, obj) => inProcess(() => doCreate(route(path), obj)),
    get: (path) => {
      try {
        return present(route(path).type, current(route(path)).obj);
      } catch (e) {
        if (e instanceof StatusError && e.code === 404) return undefined;
        throw e;
      }
    },
    put: (path, obj) => inProcess(() => replace(route(path), obj, obj['metadata']?.['resourceVersion'] || undefined, false)),
    remove: (path) => inProcess(() => doDelete(route(path), undefined)),
    list: (path) => inProcess(() => doList(route(path), [], []))['items'] as Obj[],
    async close() {
      clearInterval(bookmarkTimer);
      for (const w of [...watchers]) w.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

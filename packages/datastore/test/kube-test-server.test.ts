// test/support's Kubernetes API test server, spoken to over plain HTTP: what it answers must look
// like what a real apiserver answers, or the backend tests prove nothing.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseLabelSelector, startKubeApiTestServer, type KubeApiTestServer } from '@tabby/test-support';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('test/support: Kubernetes API test server', function () {
  this.timeout(20_000);
  let kube: KubeApiTestServer;
  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json', token?: string) => {
    const res = await fetch(kube.url + path, {
      method, headers: { Authorization: `Bearer ${token ?? kube.token}`, ...(body !== undefined ? { 'Content-Type': contentType } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Obj };
  };
  /** Reads watch lines until `n` arrived (or the stream ends), then aborts. */
  const watchLines = async (path: string, n: number, during: () => void | Promise<void> = () => undefined): Promise<Obj[]> => {
    const ctl = new AbortController();
    const res = await fetch(kube.url + path, { headers: { Authorization: `Bearer ${kube.token}` }, signal: ctl.signal });
    const reader = res.body!.getReader();
    const out: Obj[] = [];
    let buf = '';
    const pending = (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        buf += Buffer.from(value!).toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          out.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
        }
        if (out.length >= n) return;
      }
    })();
    await during();
    const timer = setTimeout(() => ctl.abort(), 3000);
    await pending;
    clearTimeout(timer);
    ctl.abort();
    return out;
  };

  before(async () => {
    kube = await startKubeApiTestServer();
  });
  after(async () => {
    await kube?.close();
  });

  it('writes a kubeconfig with a bearer token, refuses requests without it, serves discovery', async () => {
    const cfg = JSON.parse(readFileSync(kube.kubeconfig, 'utf8'));
    expect(cfg.clusters[0].cluster).to.deep.equal({ server: kube.url, 'insecure-skip-tls-verify': true });
    expect(cfg.users[0].user).to.deep.equal({ token: kube.token });
    const denied = await call('GET', '/api/v1/pods', undefined, undefined, 'wrong');
    expect(denied.status).to.equal(401);
    expect(denied.body).to.include({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    const disc = await call('GET', '/apis/crd.projectcalico.org/v1');
    expect(disc.body['kind']).to.equal('APIResourceList');
    expect(disc.body['resources'].map((r: Obj) => r['name'])).to.include.members(['ippools', 'ipamblocks', 'blockaffinities', 'ipamhandles', 'networkpolicies']);
  });

  it('create / get / conflicting update / delete precondition, with Status errors as Kubernetes words them', async () => {
    const made = await call('POST', '/api/v1/namespaces/a/pods', { metadata: { name: 'p1', labels: { app: 'x' } }, spec: { nodeName: 'n1' } });
    expect(made.status).to.equal(201);
    expect(made.body['metadata']).to.include({ name: 'p1', namespace: 'a' });
    const rv = made.body['metadata']['resourceVersion'];
    const dup = await call('POST', '/api/v1/namespaces/a/pods', { metadata: { name: 'p1' } });
    expect(dup.status).to.equal(409);
    expect(dup.body).to.include({ reason: 'AlreadyExists', message: 'pods "p1" already exists' });
    const upd = await call('PUT', '/api/v1/namespaces/a/pods/p1', { ...made.body, spec: { nodeName: 'n2' } });
    expect(Number(upd.body['metadata']['resourceVersion'])).to.be.greaterThan(Number(rv));
    const stale = await call('PUT', '/api/v1/namespaces/a/pods/p1', { ...made.body, spec: { nodeName: 'n3' } });
    expect(stale.status).to.equal(409);
    expect(stale.body['reason']).to.equal('Conflict');
    expect(stale.body['message']).to.match(/the object has been modified; please apply your changes to the latest version and try again$/);
    const same = await call('PUT', '/api/v1/namespaces/a/pods/p1', upd.body);
    expect(same.body['metadata']['resourceVersion'], 'a no-op write keeps the resourceVersion').to.equal(upd.body['metadata']['resourceVersion']);
    const missing = await call('GET', '/apis/crd.projectcalico.org/v1/ippools/nope');
    expect(missing.status).to.equal(404);
    expect(missing.body).to.include({ reason: 'NotFound', message: 'ippools.crd.projectcalico.org "nope" not found' });
    const noRv = await call('PUT', '/apis/crd.projectcalico.org/v1/ippools/nope', { metadata: { name: 'nope' }, spec: {} });
    expect(noRv.status).to.equal(404);
    const pre = await call('DELETE', '/api/v1/namespaces/a/pods/p1', { preconditions: { resourceVersion: rv } });
    expect(pre.status).to.equal(409);
    expect((await call('DELETE', '/api/v1/namespaces/a/pods/p1', { preconditions: { resourceVersion: upd.body['metadata']['resourceVersion'] } })).status).to.equal(200);
    expect((await call('GET', '/api/v1/namespaces/a/pods/p1')).status).to.equal(404);
  });

  it('merge patch (null removes), JSON patch, and a patch carrying a stale resourceVersion is a conflict', async () => {
    const made = (await call('POST', '/api/v1/nodes', { metadata: { name: 'n1', annotations: { a: '1', b: '2' } } })).body;
    const merged = await call('PATCH', '/api/v1/nodes/n1', { metadata: { annotations: { a: null, c: '3' } } }, 'application/merge-patch+json');
    expect(merged.body['metadata']['annotations']).to.deep.equal({ b: '2', c: '3' });
    const jp = await call('PATCH', '/api/v1/nodes/n1', [{ op: 'add', path: '/metadata/labels', value: { x: 'y' } }, { op: 'remove', path: '/metadata/annotations/b' }], 'application/json-patch+json');
    expect(jp.body['metadata']).to.deep.include({ labels: { x: 'y' }, annotations: { c: '3' } });
    const stale = await call('PATCH', '/api/v1/nodes/n1', { metadata: { resourceVersion: made['metadata']['resourceVersion'], annotations: { d: '4' } } }, 'application/merge-patch+json');
    expect(stale.status).to.equal(409);
    const unsupported = await call('PATCH', '/api/v1/nodes/n1', {}, 'text/plain');
    expect(unsupported.status).to.equal(415);
    // The status subresource takes metadata but keeps the spec, as the apiserver's status strategy.
    const st = await call('PATCH', '/api/v1/nodes/n1/status', { metadata: { annotations: { e: '5' } }, spec: { podCIDR: '10.0.0.0/24' } }, 'application/merge-patch+json');
    expect(st.status).to.equal(200);
    expect(st.body['metadata']['annotations']).to.deep.equal({ c: '3', e: '5' });
    expect(st.body['spec']).to.equal(undefined);
    expect((await call('DELETE', '/api/v1/nodes/n1/status')).status).to.equal(405);
    expect((await call('GET', '/apis/crd.projectcalico.org/v1/ippools/x/status')).status).to.equal(404);
  });

  it('label and field selectors on list', async () => {
    for (const [name, labels, node] of [['s1', { app: 'web', tier: 'fe' }, 'n1'], ['s2', { app: 'db' }, 'n2'], ['s3', {}, 'n1']] as const) {
      await call('POST', '/api/v1/namespaces/sel/pods', { metadata: { name, labels }, spec: { nodeName: node } });
    }
    const names = async (q: string) => (await call('GET', `/api/v1/namespaces/sel/pods?${q}`)).body['items'].map((i: Obj) => i['metadata']['name']);
    expect(await names('labelSelector=app%3Dweb')).to.deep.equal(['s1']);
    expect(await names(`labelSelector=${encodeURIComponent('app in (web,db)')}`)).to.deep.equal(['s1', 's2']);
    expect(await names(`labelSelector=${encodeURIComponent('app,!tier')}`)).to.deep.equal(['s2']);
    expect(await names(`labelSelector=${encodeURIComponent('app notin (web)')}`)).to.deep.equal(['s2', 's3']);
    expect(await names('fieldSelector=spec.nodeName%3Dn1')).to.deep.equal(['s1', 's3']);
    expect(parseLabelSelector('a=b,c!=d, e in (f, g),!h')).to.deep.equal([
      { op: 'eq', key: 'a', value: 'b' }, { op: 'neq', key: 'c', value: 'd' }, { op: 'in', key: 'e', values: ['f', 'g'] }, { op: 'notexists', key: 'h' },
    ]);
    const list = await call('GET', '/api/v1/namespaces/sel/pods');
    expect(list.body).to.include({ kind: 'PodList', apiVersion: 'v1' });
    expect(list.body['metadata']['resourceVersion']).to.equal(String(kube.resourceVersion()));
  });

  it('watch: replay from a resourceVersion, selection changes as ADDED/DELETED, BOOKMARKs, 410 after compaction', async () => {
    const from = kube.resourceVersion();
    const lines = await watchLines(`/api/v1/namespaces/sel/pods?watch=1&resourceVersion=${from}&labelSelector=app%3Dweb&allowWatchBookmarks=true`, 4, async () => {
      const s3 = kube.get('/api/v1/namespaces/sel/pods/s3')!;
      kube.put('/api/v1/namespaces/sel/pods/s3', { ...s3, metadata: { ...s3['metadata'], labels: { app: 'web' } } });
      const s1 = kube.get('/api/v1/namespaces/sel/pods/s1')!;
      kube.put('/api/v1/namespaces/sel/pods/s1', { ...s1, metadata: { ...s1['metadata'], labels: { app: 'other' } } });
      kube.remove('/api/v1/namespaces/sel/pods/s3');
      await new Promise((r) => setTimeout(r, 100));
      kube.bookmarkNow();
    });
    expect(lines.map((l) => `${l['type']}:${l['object']['metadata']['name'] ?? ''}`)).to.deep.equal(['ADDED:s3', 'DELETED:s1', 'DELETED:s3', 'BOOKMARK:']);
    expect(lines[3]!['object']['metadata']['resourceVersion']).to.equal(String(kube.resourceVersion()));
    expect(Number(lines[2]!['object']['metadata']['resourceVersion']), 'a deletion carries its own resourceVersion').to.equal(kube.resourceVersion());
    kube.compact();
    const gone = await watchLines(`/api/v1/namespaces/sel/pods?watch=1&resourceVersion=${from}`, 1);
    expect(gone).to.have.length(1);
    expect(gone[0]!['type']).to.equal('ERROR');
    expect(gone[0]!['object']).to.include({ kind: 'Status', reason: 'Expired', code: 410 });
  });

  it('close() removes its files', async () => {
    const other = await startKubeApiTestServer();
    const dir = dirname(other.kubeconfig);
    expect(existsSync(dir)).to.equal(true);
    await other.close();
    expect(existsSync(dir)).to.equal(false);
  });
});

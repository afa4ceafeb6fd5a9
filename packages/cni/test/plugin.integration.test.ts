// The tabby and tabby-ipam executables against a real etcd and real network namespaces, called
// exactly as a runtime calls them (see harness.ts), with everything read back from the kernel
// and the datastore.
import { expect } from 'chai';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIP, parseCidr, workloadInterfaceName, type IPAMBlock } from '@tabby/api';
import { NotFoundError } from '@tabby/datastore';
import type { Netns } from '@tabby/test-support';
import { BIN_DIR, TestNode, type PluginRun } from './harness.js';

const V4_POOL = '10.77.0.0/16';
const V6_POOL = 'fd77::/48';
const NET = 'k8s-pod-network';

const ipj = <T = Record<string, unknown>[]>(ns: Netns, args: string[]): T => JSON.parse(ns.run('ip', ['-j', ...args]) || '[]') as T;

let cid = 0;
const containerID = () => `c${process.pid}x${++cid}`;

/** Addresses the IPAM blocks in etcd hold for a handle. */
async function allocated(node: TestNode, handle: string): Promise<string[]> {
  const blocks = (await node.ds.list('IPAMBlock')).items as IPAMBlock[];
  const out: string[] = [];
  for (const b of blocks) {
    const c = parseCidr(b.spec.cidr)!;
    b.spec.allocations.forEach((idx, ordinal) => {
      if (idx !== null && b.spec.attributes[idx]?.handle_id === handle) out.push(formatIP(c.version, c.addr + BigInt(ordinal)));
    });
  }
  return out.sort();
}

async function allocationAttrs(node: TestNode, handle: string): Promise<Record<string, string> | undefined> {
  const blocks = (await node.ds.list('IPAMBlock')).items as IPAMBlock[];
  for (const b of blocks) for (const a of b.spec.attributes) if (a.handle_id === handle) return a.secondary ?? {};
  return undefined;
}

function expectOk(r: PluginRun): Record<string, unknown> {
  expect(r.code, `exit code; stdout: ${r.stdout} stderr: ${r.stderr}`).to.equal(0);
  return r.json ?? {};
}

function expectError(r: PluginRun, code: number, msg: string): void {
  expect(r.code, `stdout: ${r.stdout}`).to.equal(1);
  expect(r.json, r.stdout).to.be.an('object');
  expect(r.json!['code'], r.stdout).to.equal(code);
  expect(r.json!['msg']).to.contain(msg);
  expect(r.json!['cniVersion']).to.be.a('string');
}

describe('tabby CNI plugin (real etcd and network namespaces)', function () {
  this.timeout(90_000);
  const node = new TestNode();

  before(async () => {
    await node.start();
    await node.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-v4' }, spec: { cidr: V4_POOL, blockSize: 26 } });
    await node.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-v6' }, spec: { cidr: V6_POOL, blockSize: 122 } });
  });
  after(() => node.stop());
  afterEach(() => node.deletePods());

  const add = (pod: Netns, name: string, id: string, extra: Record<string, unknown> = {}, namespace = 'team-a') =>
    node.run('tabby', { command: 'ADD', containerID: id, netns: node.netnsPath(pod), args: `K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${name}`, config: node.config(extra) });
  const del = (pod: Netns | string, name: string, id: string, extra: Record<string, unknown> = {}, namespace = 'team-a') =>
    node.run('tabby', {
      command: 'DEL', containerID: id, netns: typeof pod === 'string' ? pod : node.netnsPath(pod),
      args: `K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${name};K8S_POD_INFRA_CONTAINER_ID=${id}`, config: node.config(extra),
    });

  it('ADD wires the pod and the host side, writes the endpoint and the namespace profile, and reports it all', async () => {
    const pod = node.createPod();
    const id = containerID();
    const result = expectOk(await add(pod, 'web-0', id));
    const hostVeth = workloadInterfaceName('team-a', 'web-0');
    expect(hostVeth).to.match(/^cali[0-9a-f]{11}$/);

    // The result, in the spec's 1.0.0 shape.
    const ips = result['ips'] as { address: string; interface: number }[];
    const ifs = result['interfaces'] as { name: string; mac: string; sandbox?: string }[];
    expect(result['cniVersion']).to.equal('1.0.0');
    expect(ips).to.have.length(1);
    const addr = ips[0]!.address.split('/')[0]!;
    expect(ips[0]).to.deep.equal({ interface: 1, address: `${addr}/32` });
    expect(addr.startsWith('10.77.')).to.equal(true);
    expect(ifs[0]).to.deep.equal({ name: hostVeth, mac: 'ee:ee:ee:ee:ee:ee' });
    expect(ifs[1]).to.deep.include({ name: 'eth0', sandbox: node.netnsPath(pod) });
    expect(result['routes']).to.deep.equal([{ dst: '0.0.0.0/0', gw: '169.254.1.1' }]);
    expect(result['dns']).to.deep.equal({});

    // Pod side.
    const podLink = ipj<{ address: string; mtu: number; operstate: string; addr_info: { family: string; local: string; prefixlen: number }[] }[]>(pod, ['addr', 'show', 'dev', 'eth0'])[0]!;
    expect(podLink.address).to.equal(ifs[1]!.mac);
    expect(podLink.mtu).to.equal(1450);
    expect(podLink.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)).to.deep.equal([`${addr}/32`]);
    const routes = ipj<{ dst: string; gateway?: string; scope?: string; dev: string }[]>(pod, ['route', 'show']);
    expect(routes).to.deep.include.members([
      { dst: 'default', gateway: '169.254.1.1', dev: 'eth0', flags: [] },
      { dst: '169.254.1.1', dev: 'eth0', scope: 'link', flags: [] },
    ]);

    // Host side, inside the host namespace.
    const host = ipj<{ address: string; mtu: number; flags: string[] }[]>(node.hostns, ['link', 'show', 'dev', hostVeth])[0]!;
    expect(host.address).to.equal('ee:ee:ee:ee:ee:ee');
    expect(host.mtu).to.equal(1450);
    expect(host.flags).to.include('UP');
    const sysctl = (key: string) => node.hostns.run('cat', [`/proc/sys/${key}`]).trim();
    expect(sysctl(`net/ipv4/conf/${hostVeth}/proxy_arp`)).to.equal('1');
    expect(sysctl(`net/ipv4/neigh/${hostVeth}/proxy_delay`)).to.equal('0');
    expect(sysctl(`net/ipv4/conf/${hostVeth}/forwarding`)).to.equal('1');
    expect(sysctl(`net/ipv4/conf/${hostVeth}/route_localnet`)).to.equal('1');
    expect(sysctl(`net/ipv6/conf/${hostVeth}/accept_ra`)).to.equal('0');
    expect(ipj(node.hostns, ['route', 'show', 'exact', `${addr}/32`])).to.deep.equal([{ dst: addr, dev: hostVeth, scope: 'link', flags: [] }]);

    // Datastore: endpoint, profile, IPAM allocation under <network>.<containerID>.
    const wep = await node.ds.get('WorkloadEndpoint', 'node--1-k8s-web--0-eth0', 'team-a');
    expect(wep.metadata.labels).to.deep.equal({ 'projectcalico.org/namespace': 'team-a', 'projectcalico.org/orchestrator': 'k8s' });
    expect(wep.spec).to.deep.equal({
      orchestrator: 'k8s', node: 'node-1', pod: 'web-0', endpoint: 'eth0', containerID: id, ipNetworks: [`${addr}/32`],
      profiles: ['kns.team-a'], interfaceName: hostVeth, mac: podLink.address,
    });
    const profile = await node.ds.get('Profile', 'kns.team-a');
    expect(profile.spec).to.deep.equal({ ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply: { 'pcns.projectcalico.org/name': 'team-a' } });
    expect(await allocated(node, `${NET}.${id}`)).to.deep.equal([addr]);
    expect(await allocationAttrs(node, `${NET}.${id}`)).to.deep.include({ namespace: 'team-a', pod: 'web-0', node: 'node-1' });
    const affinities = (await node.ds.list('BlockAffinity')).items.map((a) => a.metadata.name);
    expect(affinities.some((n) => n.startsWith('node-1-10-77-'))).to.equal(true);

    // Logs went to log_file_path, not stdout (stdout parsed as one JSON document above).
    const log = readFileSync(node.logFile, 'utf8');
    expect(log).to.contain(id);
    expect(log).to.contain('workload endpoint written');
  });

  it('two pods get different addresses and reach each other through the host', async () => {
    const a = node.createPod('a');
    const b = node.createPod('b');
    const ra = expectOk(await add(a, 'client', containerID()));
    const rb = expectOk(await add(b, 'server', containerID()));
    const ipA = (ra['ips'] as { address: string }[])[0]!.address.split('/')[0]!;
    const ipB = (rb['ips'] as { address: string }[])[0]!.address.split('/')[0]!;
    expect(ipA).to.not.equal(ipB);
    await node.echoServer(b, ipB, 7000);
    expect(node.echoClient(a, ipB, 7000, 'hello-from-a')).to.equal('echo:hello-from-a');
    await node.echoServer(a, ipA, 7001);
    expect(node.echoClient(b, ipA, 7001, 'hello-from-b')).to.equal('echo:hello-from-b');
    // The pod learnt the gateway from the host's proxy ARP: the veth's MAC.
    const neigh = ipj<{ dst: string; lladdr?: string }[]>(a, ['neigh', 'show', 'dev', 'eth0']);
    expect(neigh.find((n) => n.dst === '169.254.1.1')?.lladdr).to.equal('ee:ee:ee:ee:ee:ee');
  });

  it('DEL removes the endpoint, the address and the veth; DEL again, and DEL without the namespace, succeed', async () => {
    const pod = node.createPod();
    const id = containerID();
    const r = expectOk(await add(pod, 'job-1', id));
    const addr = (r['ips'] as { address: string }[])[0]!.address.split('/')[0]!;
    const hostVeth = workloadInterfaceName('team-a', 'job-1');

    const d = await del(pod, 'job-1', id);
    expectOk(d);
    expect(d.stdout).to.equal('');
    expect(node.hostns.tryRun('ip', ['link', 'show', 'dev', hostVeth]).code).to.not.equal(0);
    expect(pod.tryRun('ip', ['link', 'show', 'dev', 'eth0']).code).to.not.equal(0);
    expect(ipj(node.hostns, ['route', 'show', 'exact', `${addr}/32`])).to.deep.equal([]);
    let missing: unknown;
    await node.ds.get('WorkloadEndpoint', 'node--1-k8s-job--1-eth0', 'team-a').catch((e: unknown) => { missing = e; });
    expect(missing).to.be.instanceOf(NotFoundError);
    expect(await allocated(node, `${NET}.${id}`)).to.deep.equal([]);

    expectOk(await del(pod, 'job-1', id));
    pod.delete();
    expectOk(await del(node.netnsPath(pod), 'job-1', id));
    expectOk(await del('', 'job-1', id));
  });

  it('DEL after the namespace is gone still releases the address and deletes the endpoint', async () => {
    const pod = node.createPod();
    const id = containerID();
    expectOk(await add(pod, 'gone', id));
    pod.delete(); // the runtime tore the sandbox down first: the veth pair went with it
    expectOk(await del(node.netnsPath(pod), 'gone', id));
    expect(await allocated(node, `${NET}.${id}`)).to.deep.equal([]);
    let missing: unknown;
    await node.ds.get('WorkloadEndpoint', 'node--1-k8s-gone-eth0', 'team-a').catch((e: unknown) => { missing = e; });
    expect(missing).to.be.instanceOf(NotFoundError);
    expect(node.hostns.tryRun('ip', ['link', 'show', 'dev', workloadInterfaceName('team-a', 'gone')]).code).to.not.equal(0);
  });

  it('a late DEL of an old sandbox leaves the new sandbox\'s endpoint alone but releases its own address', async () => {
    const oldPod = node.createPod('old');
    const newPod = node.createPod('new');
    const oldID = containerID();
    const newID = containerID();
    expectOk(await add(oldPod, 'stateful-0', oldID));
    oldPod.delete();
    const r = expectOk(await add(newPod, 'stateful-0', newID));
    expectOk(await del(node.netnsPath(oldPod), 'stateful-0', oldID));
    const wep = await node.ds.get('WorkloadEndpoint', 'node--1-k8s-stateful--0-eth0', 'team-a');
    expect(wep.spec.containerID).to.equal(newID);
    expect(await allocated(node, `${NET}.${oldID}`)).to.deep.equal([]);
    expect(await allocated(node, `${NET}.${newID}`)).to.deep.equal([(r['ips'] as { address: string }[])[0]!.address.split('/')[0]]);
    expect(newPod.tryRun('ip', ['link', 'show', 'dev', 'eth0']).code).to.equal(0);
  });

  it('CHECK accepts what ADD made and names every difference', async () => {
    const pod = node.createPod();
    const id = containerID();
    const prevResult = expectOk(await add(pod, 'checked', id));
    const check = (extra: Record<string, unknown> = {}) => node.run('tabby', {
      command: 'CHECK', containerID: id, netns: node.netnsPath(pod), args: 'K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=checked',
      config: node.config({ prevResult, ...extra }),
    });
    const ok = await check();
    expectOk(ok);
    expect(ok.stdout).to.equal('');

    const addr = (prevResult['ips'] as { address: string }[])[0]!.address;
    const hostVeth = workloadInterfaceName('team-a', 'checked');
    node.hostns.run('ip', ['route', 'del', addr, 'dev', hostVeth]);
    pod.run('ip', ['route', 'del', 'default']);
    const bad = await check();
    expectError(bad, 102, `no host route ${addr} dev ${hostVeth}`);
    expect(bad.json!['msg']).to.contain('no default route via 169.254.1.1 dev eth0');

    expectError(await check({ prevResult: undefined }), 7, 'prevResult: is required for CHECK');
    const wrong = { ...prevResult, ips: [{ address: '10.77.255.1/32', interface: 1 }] };
    const r = await check({ prevResult: wrong });
    expect(r.code).to.equal(1);
    expect(r.json!['msg']).to.match(/10\.77\.255\.1 not allocated to handle|lacks address 10\.77\.255\.1\/32/);
  });

  it('dual stack: a /128 with a default route via fe80::ecee:eeff:feee:eeee, reachable from another pod', async () => {
    node.hostns.run(process.execPath, ['-e', "require('fs').writeFileSync('/proc/sys/net/ipv6/conf/all/forwarding', '1')"]);
    const a = node.createPod('a6');
    const b = node.createPod('b6');
    const ipam = { type: 'tabby-ipam', assign_ipv4: 'true', assign_ipv6: 'true' };
    const ra = expectOk(await add(a, 'six-a', containerID(), { ipam }));
    const rb = expectOk(await add(b, 'six-b', containerID(), { ipam }));
    const v6 = (r: Record<string, unknown>) => (r['ips'] as { address: string }[]).map((i) => i.address).find((x) => x.includes(':'))!;
    expect(v6(ra)).to.match(/^fd77:.*\/128$/);
    expect(ra['routes']).to.deep.equal([{ dst: '0.0.0.0/0', gw: '169.254.1.1' }, { dst: '::/0', gw: 'fe80::ecee:eeff:feee:eeee' }]);
    const routes6 = ipj<{ dst: string; gateway?: string }[]>(a, ['-6', 'route', 'show', 'dev', 'eth0']);
    expect(routes6.find((r) => r.dst === 'default')?.gateway).to.equal('fe80::ecee:eeff:feee:eeee');
    const hostVeth = workloadInterfaceName('team-a', 'six-b');
    expect(ipj<{ dev: string }[]>(node.hostns, ['-6', 'route', 'show', 'exact', v6(rb)])[0]?.dev).to.equal(hostVeth);
    const ipB = v6(rb).split('/')[0]!;
    await node.echoServer(b, ipB, 7002);
    expect(node.echoClient(a, ipB, 7002, 'six')).to.equal('echo:six');
    const wep = await node.ds.get('WorkloadEndpoint', 'node--1-k8s-six--b-eth0', 'team-a');
    expect(wep.spec.ipNetworks).to.have.length(2);
    expect(wep.spec.ipNetworks).to.include(v6(rb));
  });

  it('a conflist-derived 0.3.1 config with prevResult gets a 0.3.1 result', async () => {
    const pod = node.createPod();
    const r = expectOk(await add(pod, 'old-runtime', containerID(), { cniVersion: '0.3.1', prevResult: { cniVersion: '0.3.1', interfaces: [], ips: [] } }));
    expect(r['cniVersion']).to.equal('0.3.1');
    expect((r['ips'] as Record<string, unknown>[])[0]).to.include({ version: '4', interface: 1 });
  });

  it('ADD retried for the same container keeps its address', async () => {
    const pod = node.createPod();
    const id = containerID();
    const first = expectOk(await add(pod, 'retry', id));
    const again = expectOk(await add(pod, 'retry', id));
    expect(again['ips']).to.deep.equal(first['ips']);
    expect(await allocated(node, `${NET}.${id}`)).to.have.length(1);
    expect(pod.tryRun('ip', ['link', 'show', 'dev', 'eth0']).code).to.equal(0);
  });

  it('DEL without the pod in CNI_ARGS finds the endpoint by container ID', async () => {
    const pod = node.createPod();
    const id = containerID();
    expectOk(await add(pod, 'anon', id));
    expectOk(await node.run('tabby', { command: 'DEL', containerID: id, netns: node.netnsPath(pod), config: node.config() }));
    const weps = (await node.ds.list('WorkloadEndpoint', { namespace: 'team-a' })).items.map((w) => w.metadata.name);
    expect(weps).to.not.include('node--1-k8s-anon-eth0');
    expect(await allocated(node, `${NET}.${id}`)).to.deep.equal([]);
    expect(pod.tryRun('ip', ['link', 'show', 'dev', 'eth0']).code).to.not.equal(0);
  });

  it('concurrent ADDs on one node get distinct addresses', async () => {
    const pods = [0, 1, 2, 3].map((i) => ({ ns: node.createPod(`c${i}`), name: `burst-${i}`, id: containerID() }));
    const results = await Promise.all(pods.map((p) => add(p.ns, p.name, p.id)));
    const addrs = results.map((r) => (expectOk(r)['ips'] as { address: string }[])[0]!.address);
    expect(new Set(addrs).size).to.equal(4);
    for (const [i, p] of pods.entries()) expect(await allocated(node, `${NET}.${p.id}`)).to.deep.equal([addrs[i]!.split('/')[0]]);
  });

  describe('failures leave nothing behind', () => {
    it('the pod interface cannot be created: the address is released and no veth or endpoint remains', async () => {
      const pod = node.createPod();
      pod.run('ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'squat0']);
      const id = containerID();
      const r = await add(pod, 'blocked', id);
      expectError(r, 101, 'creating veth');
      expect(await allocated(node, `${NET}.${id}`)).to.deep.equal([]);
      expect(node.hostns.tryRun('ip', ['link', 'show', 'dev', workloadInterfaceName('team-a', 'blocked')]).code).to.not.equal(0);
      const weps = (await node.ds.list('WorkloadEndpoint', { namespace: 'team-a' })).items.map((w) => w.metadata.name);
      expect(weps).to.not.include('node--1-k8s-blocked-eth0');
    });

    it('the datastore write fails after the veth exists: veth deleted, address released', async () => {
      // A corrupt stored profile makes the profile step fail once the dataplane is up.
      node.etcd.etcdctl('put', '/calico/resources/v3/projectcalico.org/profiles/kns.broken', '{not json');
      const pod = node.createPod();
      const id = containerID();
      const r = await add(pod, 'victim', id, {}, 'broken');
      expectError(r, 103, 'reading profile kns.broken');
      expect(await allocated(node, `${NET}.${id}`)).to.deep.equal([]);
      expect(node.hostns.tryRun('ip', ['link', 'show', 'dev', workloadInterfaceName('broken', 'victim')]).code).to.not.equal(0);
      expect(pod.tryRun('ip', ['link', 'show', 'dev', 'eth0']).code).to.not.equal(0);
      expect((await node.ds.list('WorkloadEndpoint', { namespace: 'broken' })).items).to.deep.equal([]);
      node.etcd.etcdctl('del', '/calico/resources/v3/projectcalico.org/profiles/kns.broken');
    });

    it('an IPAM plugin that succeeds with unusable output is told to release (DEL) and nothing is wired', async () => {
      // A stand-in IPAM plugin in its own CNI_PATH directory: prints garbage on ADD, records DELs.
      const dir = mkdtempSync(join(node.dir, 'ipam-'));
      const marker = join(dir, 'del-called');
      writeFileSync(join(dir, 'garbage-ipam'), `#!${process.execPath}\nconst fs = require('fs');\n` +
        `if (process.env.CNI_COMMAND === 'DEL') fs.writeFileSync(${JSON.stringify(marker)}, process.env.CNI_CONTAINERID);\n` +
        `else process.stdout.write('{"cniVersion":"1.0.0","ips":[{"address":"not-an-ip"}]}');\n`);
      chmodSync(join(dir, 'garbage-ipam'), 0o755);
      const pod = node.createPod();
      const id = containerID();
      const r = await node.run('tabby', {
        command: 'ADD', containerID: id, netns: node.netnsPath(pod), args: 'K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=garbage',
        path: `${dir}:${BIN_DIR}`, config: node.config({ ipam: { type: 'garbage-ipam' } }),
      });
      expectError(r, 100, 'IPAM plugin garbage-ipam result: ips[0].address "not-an-ip"');
      expect(readFileSync(marker, 'utf8')).to.equal(id);
      expect(node.hostns.tryRun('ip', ['link', 'show', 'dev', workloadInterfaceName('team-a', 'garbage')]).code).to.not.equal(0);
    });

    it('IPAM cannot assign: its error comes through and no veth is created', async () => {
      const pod = node.createPod();
      const id = containerID();
      const r = await add(pod, 'no-pool', id, { ipam: { type: 'tabby-ipam', ipv4_pools: ['10.200.0.0/16'] } });
      expect(r.code).to.equal(1);
      expect(r.json!['code']).to.equal(100);
      expect(r.json!['msg']).to.contain('10.200.0.0/16');
      expect(node.hostns.tryRun('ip', ['link', 'show', 'dev', workloadInterfaceName('team-a', 'no-pool')]).code).to.not.equal(0);
      expect(await allocated(node, `${NET}.${id}`)).to.deep.equal([]);
    });
  });

  describe('bad input', () => {
    it('errors name the config field, variable or argument', async () => {
      const pod = node.createPod();
      const netns = node.netnsPath(pod);
      const args = 'K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=bad';
      const call = (over: Partial<Parameters<TestNode['run']>[1]>) =>
        node.run('tabby', { command: 'ADD', containerID: containerID(), netns, args, config: node.config(), ...over });
      expectError(await call({ config: node.config({ mtu: 'big' }) }), 7, 'network config: mtu "big": must be an integer');
      expectError(await call({ config: node.config({ datastore_type: 'kubernetes' }) }), 7, 'kubernetes.kubeconfig: is required with datastore_type kubernetes');
      expectError(await call({ config: node.config({ datastore_type: 'kubernetes', kubernetes: { kubeconfig: '/nonexistent/kubeconfig' } }) }), 7, 'network config: kubernetes.kubeconfig: kubeconfig /nonexistent/kubeconfig does not exist');
      expectError(await call({ config: '{"cniVersion": "1.0.0", "name": ' }), 6, 'not valid JSON');
      expectError(await call({ config: node.config({ cniVersion: '0.2.0' }) }), 1, 'cniVersion "0.2.0" is not supported');
      expectError(await call({ netns: '' }), 4, 'CNI_NETNS');
      expectError(await call({ args: 'K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=bad;COLOUR=blue' }), 4, 'CNI_ARGS: unknown key COLOUR');
      expectError(await call({ args: 'K8S_POD_NAMESPACE=team-a' }), 4, 'K8S_POD_NAME missing');
      expectError(await call({ config: node.config({ ipam: { type: 'no-such-ipam' } }) }), 7, 'ipam.type "no-such-ipam": no executable plugin of that name in CNI_PATH');
      expectError(await call({ netns: '/var/run/netns/tabby-does-not-exist' }), 3, 'does not exist');
      expectError(await call({ config: node.config({ nodename: 'Node_1' }) }), 7, 'network config: nodename "Node_1": must be a DNS-1123 subdomain');
      expect(node.hostns.tryRun('ip', ['link', 'show', 'dev', workloadInterfaceName('team-a', 'bad')]).code).to.not.equal(0);
    });

    it('VERSION from both executables lists 0.3.0, 0.3.1, 0.4.0 and 1.0.0', async () => {
      for (const plugin of ['tabby', 'tabby-ipam'] as const) {
        const r = await node.run(plugin, { command: 'VERSION', config: '{"cniVersion":"1.0.0"}' });
        expect(expectOk(r)).to.deep.equal({ cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] });
      }
    });
  });
});

describe('tabby-ipam plugin on its own', function () {
  this.timeout(60_000);
  const node = new TestNode();
  before(async () => {
    await node.start();
    await node.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-a' }, spec: { cidr: '10.88.0.0/24', blockSize: 28 } });
  });
  after(() => node.stop());

  it('ADD assigns a /32 under <network>.<containerID>, CHECK confirms it, DEL releases it (twice)', async () => {
    const id = containerID();
    const call = (command: 'ADD' | 'DEL' | 'CHECK', extra: Record<string, unknown> = {}) => node.run('tabby-ipam', {
      command, containerID: id, netns: '/var/run/netns/unused', args: 'K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=p1', config: node.config(extra),
    });
    const r = expectOk(await call('ADD'));
    const address = (r['ips'] as { address: string }[])[0]!.address;
    expect(r).to.deep.equal({ cniVersion: '1.0.0', ips: [{ address }], dns: {} });
    expect(address).to.match(/^10\.88\.0\.\d+\/32$/);
    expect(await allocated(node, `${NET}.${id}`)).to.deep.equal([address.split('/')[0]]);
    expect(await allocationAttrs(node, `${NET}.${id}`)).to.deep.include({ namespace: 'ns1', pod: 'p1', node: 'node-1' });

    expectOk(await call('CHECK', { prevResult: r }));
    expectError(await call('CHECK', { prevResult: { cniVersion: '1.0.0', ips: [{ address: '10.88.0.250/32' }] } }), 102, '10.88.0.250 not allocated');

    expectOk(await call('DEL'));
    expect(await allocated(node, `${NET}.${id}`)).to.deep.equal([]);
    expectOk(await call('DEL'));
  });

  it('an unreachable etcd is "try again later" (11)', async () => {
    const r = await node.run('tabby-ipam', {
      command: 'ADD', containerID: containerID(), netns: '/x', config: node.config({ etcd_endpoints: 'http://127.0.0.1:1' }),
    });
    expectError(r, 11, '127.0.0.1:1');
  });
});

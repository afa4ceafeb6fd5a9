// Integration: the dataplane survives felix restarts and datastore outages. Same wiring as
// daemon.integration.test.ts (felix's bin in a node namespace, two pod namespaces wired like
// Calico's CNI, etcd reached through a unix-socket relay), but the relay goes through
// test-support's TCP proxy so the test can cut felix off from etcd while etcd keeps running.
// A continuous ping (20 per second) runs across each disruption; every sequence number up to
// the last answered one must have been answered.

import { expect } from 'chai';
import { createServer, connect, type Server } from 'node:net';
import { rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GlobalNetworkPolicy, Profile, WorkloadEndpoint } from '@tabby/api';
import { EtcdDatastore } from '@tabby/datastore';
import {
  createNetns, eventually, startEtcd, startInNetns, startTcpProxy, tmpDir, vethPair,
  type Daemon, type EtcdServer, type Netns, type TcpProxy,
} from '@tabby/test-support';
import { CLIENT, FORWARDER, SERVER } from './node-scripts.js';

const here = dirname(fileURLToPath(import.meta.url));
const FELIX_BIN = join(here, '..', '..', 'bin', 'felix.js');
const NODE = 'node1';
const A_IP = '10.66.0.1';
const B_IP = '10.66.0.2';
const HEALTH_PORT = 19098;

const HTTP_GET = `
require('http').get(process.argv[1], (r) => { r.resume(); r.on('end', () => console.log(r.statusCode)); })
  .on('error', (e) => console.log('ERR ' + e.message));
`;

const profile: Profile = {
  apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: 'kns.test' },
  spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
};
const denyDb = (name: string): GlobalNetworkPolicy => ({
  apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name },
  spec: { order: 10, selector: "app == 'db'", types: ['Ingress'], ingress: [{ action: 'Deny' }] },
});

function wep(pod: string, iface: string, ip: string, mac: string, labels: Record<string, string>): WorkloadEndpoint {
  return {
    apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint',
    metadata: { name: `${NODE}-k8s-${pod}-eth0`, namespace: 'test', labels: { ...labels, 'projectcalico.org/namespace': 'test', 'projectcalico.org/orchestrator': 'k8s' } },
    spec: { node: NODE, orchestrator: 'k8s', pod, endpoint: 'eth0', interfaceName: iface, ipNetworks: [`${ip}/32`], mac, profiles: ['kns.test'] },
  };
}

/** Sequence numbers that went unanswered before the last answered one (ping's own output). */
function pingGaps(output: string): { answered: number; missing: number[] } {
  const seqs = new Set([...output.matchAll(/bytes from .*icmp_seq=(\d+)/g)].map((m) => Number(m[1])));
  const last = Math.max(0, ...seqs);
  const missing: number[] = [];
  for (let i = 1; i <= last; i++) if (!seqs.has(i)) missing.push(i);
  return { answered: seqs.size, missing };
}

describe('felix resilience: restarts and datastore loss keep the dataplane (root, real etcd)', function () {
  this.timeout(90_000);
  let etcd: EtcdServer | undefined;
  let ds: EtcdDatastore | undefined;
  let proxy: TcpProxy | undefined;
  let bridge: Server | undefined;
  let dir: string | undefined;
  let node: Netns | undefined;
  let podA: Netns | undefined;
  let podB: Netns | undefined;
  const daemons: Daemon[] = [];
  let felix: Daemon | undefined;
  let backend = 'iptables';

  const tcp = () => podA!.tryRun(process.execPath, ['-e', CLIENT, B_IP, '80']).code === 0;
  const ping = () => podA!.tryRun('ping', ['-c', '1', '-W', '1', B_IP]).code === 0;
  const ready = () => node!.run(process.execPath, ['-e', HTTP_GET, `http://127.0.0.1:${HEALTH_PORT}/readiness`]).trim() === '200';
  /** Felix's routes, our filter rules (hooks included) and our sets: what must not change. */
  const snapshot = () => [
    node!.run('ip', ['route', 'show', 'proto', '80']).trim(),
    node!.run(`${backend}-save`, ['-t', 'filter']).split('\n').filter((l) => l.startsWith('-A ') && l.includes('cali')).join('\n'),
    node!.run('ipset', ['list', '-n']).split('\n').filter((l) => l.startsWith('cali')).sort().join('\n'),
  ].join('\n---\n');
  const until = async <T>(f: () => T, what: string): Promise<T> => {
    try { return await eventually(f, 30_000, what); } catch (e) {
      throw new Error(`${(e as Error).message}\n--- felix output ---\n${felix?.output().slice(-4000)}`);
    }
  };
  const startFelix = () => {
    felix = startInNetns(node!, [process.execPath, FELIX_BIN], {
      ...process.env,
      NODENAME: NODE, DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'http://127.0.0.1:2379',
      FELIX_IPTABLESREFRESHINTERVAL: '1', FELIX_ROUTEREFRESHINTERVAL: '1',
      FELIX_HEALTHHOST: '127.0.0.1', FELIX_HEALTHPORT: String(HEALTH_PORT), FELIX_LOGSEVERITYSCREEN: 'Info',
    });
    daemons.push(felix);
    return felix;
  };
  /** Runs `during` with a 20/s ping from A to B going on; returns ping's gaps. */
  const withPing = async (during: () => Promise<void>) => {
    const p = startInNetns(podA!, ['ping', '-n', '-i', '0.05', B_IP]);
    daemons.push(p);
    try {
      await until(() => pingGaps(p.output()).answered >= 5, 'ping running');
      await during();
      const before = pingGaps(p.output()).answered;
      await until(() => pingGaps(p.output()).answered >= before + 10, 'ping still answered after the disruption');
    } finally {
      p.signal('SIGINT');
      await eventually(() => p.exited(), 5000, 'ping exit').catch(() => undefined);
      await p.stop();
    }
    return pingGaps(p.output());
  };

  before(async () => {
    dir = tmpDir('felix-resilience-');
    etcd = await startEtcd();
    ds = new EtcdDatastore({ endpoints: [etcd.endpoint] });
    proxy = await startTcpProxy(Number(new URL(etcd.endpoint).port));
    const sock = join(dir, 'etcd.sock');
    bridge = createServer((c) => {
      const e = connect(proxy!.port, '127.0.0.1');
      c.pipe(e); e.pipe(c);
      for (const [a, b] of [[c, e], [e, c]] as const) { a.on('error', () => b.destroy()); a.on('close', () => b.destroy()); }
    });
    await new Promise<void>((res) => bridge!.listen(sock, res));

    node = createNetns('rnode');
    podA = createNetns('rpoda');
    podB = createNetns('rpodb');
    const fwd = startInNetns(node, [process.execPath, '-e', FORWARDER, '2379', sock]);
    daemons.push(fwd);
    await eventually(() => fwd.output().includes('ready'), 10_000, 'etcd forwarder');
    node.run('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    vethPair(node, 'uplink0', node, 'uplink1'); // a default route elsewhere, so proxy ARP answers for 169.254.1.1
    node.run('ip', ['addr', 'add', '192.168.51.1/24', 'dev', 'uplink0']);
    node.run('ip', ['route', 'add', 'default', 'via', '192.168.51.2', 'dev', 'uplink0']);
    const macs: string[] = [];
    for (const [pod, iface, ip] of [[podA, 'cali1a', A_IP], [podB, 'cali1b', B_IP]] as const) {
      vethPair(node, iface, pod, 'eth0');
      pod.run('ip', ['addr', 'add', `${ip}/32`, 'dev', 'eth0']);
      pod.run('ip', ['route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
      pod.run('ip', ['route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
      macs.push((JSON.parse(pod.run('ip', ['-json', 'link', 'show', 'eth0'])) as { address: string }[])[0]!.address);
    }
    const server = startInNetns(podB, [process.execPath, '-e', SERVER, '80']);
    daemons.push(server);
    await eventually(() => server.output().includes('ready'), 10_000, 'test server');

    await ds.create(profile);
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool1' }, spec: { cidr: '10.66.0.0/16', natOutgoing: true } });
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: NODE }, spec: { bgp: { ipv4Address: '192.168.51.1/24' } } });
    await ds.create(wep('a', 'cali1a', A_IP, macs[0]!, { app: 'web' }));
    await ds.create(wep('b', 'cali1b', B_IP, macs[1]!, { app: 'db' }));
    // Rules that select B, so the restart has policy chains and sets to keep, not just profiles.
    await ds.create({
      apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'allow-web-to-db' },
      spec: { order: 20, selector: "app == 'db'", types: ['Ingress'], ingress: [{ action: 'Allow', source: { selector: "app == 'web'" } }] },
    });
    startFelix();
    await until(() => ready() && ping() && tcp(), 'felix ready, A reaches B');
    backend = node.run('iptables-save', ['-t', 'filter']).includes('cali-FORWARD') ? 'iptables' : 'iptables-legacy';
  });

  after(async () => {
    for (const d of daemons.reverse()) await d.stop();
    for (const ns of [podA, podB, node]) ns?.delete();
    await new Promise<void>((res) => (bridge ? bridge.close(() => res()) : res()));
    await proxy?.close();
    await ds?.close();
    await etcd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a SIGTERM and a fresh start lose no packet and rewrite nothing', async () => {
    const before = snapshot();
    expect(before).to.include(`${B_IP} dev cali1b`);
    expect(before).to.match(/-A cali-pi-allow-web-to-db .*--match-set cali40s:\S+ src/);
    const gaps = await withPing(async () => {
      const old = felix!;
      old.signal('SIGTERM');
      await until(() => old.exited(), 'felix exits on SIGTERM');
      expect(snapshot(), 'dataplane after felix stopped').to.equal(before);
      await new Promise((r) => setTimeout(r, 1000)); // a second with no felix at all
      const next = startFelix();
      // Ready means every kind was listed and an apply pass succeeded.
      await until(() => ready() && !next.exited(), 'restarted felix ready');
      await new Promise((r) => setTimeout(r, 2500)); // a couple of 1 s resyncs on top
    });
    expect(gaps.answered).to.be.greaterThan(20);
    expect(gaps.missing, `unanswered pings across the restart\n${felix!.output().slice(-3000)}`).to.deep.equal([]);
    expect(snapshot(), 'dataplane after the restart').to.equal(before);
    // The new process found everything in place: it wrote no chain and replaced no route.
    expect(felix!.output()).not.to.include('filter table updated');
    expect(felix!.output()).not.to.include('routes updated');
    expect(tcp()).to.equal(true);
  });

  it('losing etcd keeps routes, rules and traffic; changes made meanwhile are applied after reconnect', async () => {
    const before = snapshot();
    let changedDuringOutage = false;
    const gaps = await withPing(async () => {
      proxy!.cut();
      await until(() => felix!.output().includes('datastore watch error'), 'felix notices the datastore is gone');
      // Several 1 s resyncs pass without the datastore.
      await new Promise((r) => setTimeout(r, 3500));
      expect(snapshot(), 'dataplane while etcd is unreachable').to.equal(before);
      expect(ping() && tcp(), 'traffic while etcd is unreachable').to.equal(true);
      // A change made while felix cannot see etcd.
      await ds!.create(denyDb('deny-db-1'));
      changedDuringOutage = true;
      await new Promise((r) => setTimeout(r, 1500));
      expect(tcp(), 'felix cannot have applied it yet').to.equal(true);
      proxy!.restore();
    });
    expect(changedDuringOutage).to.equal(true);
    expect(gaps.missing, 'unanswered pings while etcd was unreachable').to.deep.equal([]);
    await until(() => !tcp() && !ping(), 'the deny policy made during the outage is applied after reconnect');
    await ds!.delete('GlobalNetworkPolicy', 'deny-db-1');
    await until(() => tcp() && ping(), 'deleting it admits again');
  });

  it('an etcd restart keeps the dataplane; a change after the restart is applied', async () => {
    const before = snapshot();
    const gaps = await withPing(async () => {
      await etcd!.restart({ hard: true });
      await new Promise((r) => setTimeout(r, 2500));
      expect(snapshot(), 'dataplane across the etcd restart').to.equal(before);
    });
    expect(gaps.missing, 'unanswered pings across the etcd restart').to.deep.equal([]);
    await ds!.create(denyDb('deny-db-2'));
    await until(() => !tcp() && !ping(), 'a deny policy created after the etcd restart is applied');
    await ds!.delete('GlobalNetworkPolicy', 'deny-db-2');
    await until(() => tcp() && ping(), 'deleting it admits again');
    expect(felix!.exited(), 'felix still running').to.equal(false);
  });
});

// Integration: the felix daemon (bin/felix.js) in a "node" network namespace, reading a real
// etcd, with two pod namespaces wired like Calico's CNI wires them but WITHOUT the host-side
// route and sysctls: felix has to program those. Checks routes/ARP/sysctls, policy with real
// traffic, NAT outgoing (IPv4 and IPv6, seen from a host beyond the node's uplink), tamper
// repair by the periodic resync, health and metrics.

import { expect } from 'chai';
import { createServer, connect, type Server } from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GlobalNetworkPolicy, IPPool, Profile, WorkloadEndpoint } from '@tabby/api';
import { EtcdDatastore } from '@tabby/datastore';
import {
  createNetns, eventually, linkLocalReady, startEtcd, startInNetns, tmpDir, vethPair,
  type Daemon, type EtcdServer, type Netns,
} from '@tabby/test-support';
import { CLIENT, FORWARDER, SERVER } from './node-scripts.js';
import { rmSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
const FELIX_BIN = join(here, '..', '..', 'bin', 'felix.js');
const NODE = 'node1';
const A_IP = '10.65.0.1';
const B_IP = '10.65.0.2';
const A_IP6 = 'fd65::1';
/** The host beyond the node's uplink; it has no route to the pools. */
const OUTSIDE = { v4: '192.168.50.2', v6: 'fd50::2' };
const NODE_UPLINK = { v4: '192.168.50.1', v6: 'fd50::1' };
const OUTSIDE_PORT = 7000;
const HEALTH_PORT = 19099;
const METRICS_PORT = 19091;

const HTTP_GET = `
require('http').get(process.argv[1], (r) => { let d = ''; r.on('data', (c) => d += c); r.on('end', () => console.log(r.statusCode + '\\n' + d)); })
  .on('error', (e) => console.log('ERR ' + e.message));
`;

const profile: Profile = {
  apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: 'kns.test' },
  spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
};
const pool: IPPool = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool1' }, spec: { cidr: '10.65.0.0/16', natOutgoing: true } };
const pool6: IPPool = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool6' }, spec: { cidr: 'fd65::/48', natOutgoing: true } };

/** A TCP server on both families that prints each client's address. */
const WHO_IS_IT = `
require('net').createServer((s) => { console.log('from ' + s.remoteAddress); s.on('error', () => {}); s.end('ok'); })
  .listen(+process.argv[1], '::', () => console.log('ready'));
`;
const denyDb: GlobalNetworkPolicy = {
  apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'deny-db' },
  spec: { order: 10, selector: "app == 'db'", types: ['Ingress'], ingress: [{ action: 'Deny' }] },
};
const allowDb: GlobalNetworkPolicy = {
  apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'deny-db' },
  spec: { order: 10, selector: "app == 'db'", types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80] } }] },
};

function wep(pod: string, iface: string, ip: string, mac: string, labels: Record<string, string>, ip6?: string): WorkloadEndpoint {
  return {
    apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint',
    metadata: { name: `${NODE}-k8s-${pod}-eth0`, namespace: 'test', labels: { ...labels, 'projectcalico.org/namespace': 'test', 'projectcalico.org/orchestrator': 'k8s' } },
    spec: { node: NODE, orchestrator: 'k8s', pod, endpoint: 'eth0', interfaceName: iface, ipNetworks: [`${ip}/32`, ...(ip6 ? [`${ip6}/128`] : [])], mac, profiles: ['kns.test'] },
  };
}

describe('felix daemon in a node namespace (etcd, routes, policy, resync, health)', function () {
  this.timeout(60_000);
  let etcd: EtcdServer | undefined;
  let ds: EtcdDatastore | undefined;
  let bridge: Server | undefined;
  let dir: string | undefined;
  let node: Netns | undefined;
  let podA: Netns | undefined;
  let podB: Netns | undefined;
  let outside: Netns | undefined;
  let whoIsIt: Daemon | undefined;
  const daemons: Daemon[] = [];
  let felix: Daemon;
  let macA = '';
  let macB = '';

  const tcp = (port: number) => podA!.tryRun(process.execPath, ['-e', CLIENT, B_IP, String(port)]).code === 0;
  const ping = () => podA!.tryRun('ping', ['-c', '1', '-W', '1', B_IP]).code === 0;
  const sysctl = (key: string) => node!.run('sysctl', ['-n', key]).trim();
  const routes = () => node!.run('ip', ['route', 'show', 'proto', '80']);
  const neigh = () => node!.run('ip', ['neigh', 'show', 'nud', 'permanent']);
  const httpGet = (port: number, path: string) => node!.run(process.execPath, ['-e', HTTP_GET, `http://127.0.0.1:${port}${path}`]);
  const until = async <T>(f: () => T, what: string): Promise<T> => {
    try { return await eventually(f, 20_000, what); } catch (e) {
      throw new Error(`${(e as Error).message}\n--- felix output ---\n${felix?.output().slice(-4000)}`);
    }
  };

  before(async () => {
    dir = tmpDir('felix-daemon-');
    etcd = await startEtcd();
    ds = new EtcdDatastore({ endpoints: [etcd.endpoint] });
    const etcdPort = Number(new URL(etcd.endpoint).port);
    const sock = join(dir, 'etcd.sock');
    bridge = createServer((c) => {
      const e = connect(etcdPort, '127.0.0.1');
      c.pipe(e); e.pipe(c);
      for (const [a, b] of [[c, e], [e, c]] as const) { a.on('error', () => b.destroy()); a.on('close', () => b.destroy()); }
    });
    await new Promise<void>((res) => bridge!.listen(sock, res));

    node = createNetns('fnode');
    podA = createNetns('fpoda');
    podB = createNetns('fpodb');
    outside = createNetns('fout');
    const fwd = startInNetns(node, [process.execPath, '-e', FORWARDER, '2379', sock]);
    daemons.push(fwd);
    await eventually(() => fwd.output().includes('ready'), 10_000, 'etcd forwarder');
    node.run('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    node.run('sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
    // The uplink to a host outside: a default route elsewhere (so proxy ARP answers for
    // 169.254.1.1), and somewhere NAT outgoing is needed to get an answer from.
    vethPair(node, 'uplink0', outside, 'uplink1');
    node.run('ip', ['addr', 'add', `${NODE_UPLINK.v4}/24`, 'dev', 'uplink0']);
    node.run('ip', ['-6', 'addr', 'add', `${NODE_UPLINK.v6}/64`, 'dev', 'uplink0', 'nodad']);
    node.run('ip', ['route', 'add', 'default', 'via', OUTSIDE.v4, 'dev', 'uplink0']);
    node.run('ip', ['-6', 'route', 'add', 'default', 'via', OUTSIDE.v6, 'dev', 'uplink0']);
    outside.run('ip', ['addr', 'add', `${OUTSIDE.v4}/24`, 'dev', 'uplink1']);
    outside.run('ip', ['-6', 'addr', 'add', `${OUTSIDE.v6}/64`, 'dev', 'uplink1', 'nodad']);
    whoIsIt = startInNetns(outside, [process.execPath, '-e', WHO_IS_IT, String(OUTSIDE_PORT)]);
    daemons.push(whoIsIt);
    for (const [pod, iface, ip] of [[podA, 'cali0a', A_IP], [podB, 'cali0b', B_IP]] as const) {
      vethPair(node, iface, pod, 'eth0');
      pod.run('ip', ['addr', 'add', `${ip}/32`, 'dev', 'eth0']);
      pod.run('ip', ['route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
      pod.run('ip', ['route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
    }
    // Pod A is dual-stack: its IPv6 default route goes to the host end's link-local address.
    await eventually(() => linkLocalReady(node!, 'cali0a'), 10_000, 'cali0a link-local address');
    const hostLL = (JSON.parse(node.run('ip', ['-j', '-6', 'addr', 'show', 'dev', 'cali0a', 'scope', 'link'])) as { addr_info: { local: string }[] }[])[0]!.addr_info[0]!.local;
    podA.run('ip', ['-6', 'addr', 'add', `${A_IP6}/128`, 'dev', 'eth0', 'nodad']);
    podA.run('ip', ['-6', 'route', 'add', 'default', 'via', hostLL, 'dev', 'eth0']);
    macA = (JSON.parse(podA.run('ip', ['-json', 'link', 'show', 'eth0'])) as { address: string }[])[0]!.address;
    macB = (JSON.parse(podB.run('ip', ['-json', 'link', 'show', 'eth0'])) as { address: string }[])[0]!.address;
    const server = startInNetns(podB, [process.execPath, '-e', SERVER, '80']);
    daemons.push(server);
    await eventually(() => server.output().includes('ready'), 10_000, 'test server');

    await ds.create(profile);
    await ds.create(pool);
    await ds.create(pool6);
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: NODE }, spec: { bgp: { ipv4Address: '192.168.50.1/24' } } });
    await ds.create(wep('a', 'cali0a', A_IP, macA, { app: 'web' }, A_IP6));
    await ds.create(wep('b', 'cali0b', B_IP, macB, { app: 'db' }));

    felix = startInNetns(node, [process.execPath, FELIX_BIN], {
      ...process.env,
      NODENAME: NODE, DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'http://127.0.0.1:2379',
      FELIX_IPTABLESREFRESHINTERVAL: '1', FELIX_ROUTEREFRESHINTERVAL: '1',
      FELIX_HEALTHHOST: '127.0.0.1', FELIX_HEALTHPORT: String(HEALTH_PORT),
      FELIX_PROMETHEUSMETRICSENABLED: 'true', FELIX_PROMETHEUSMETRICSPORT: String(METRICS_PORT),
      FELIX_LOGSEVERITYSCREEN: 'Info',
    });
    daemons.push(felix);
  });

  after(async () => {
    for (const d of daemons.reverse()) await d.stop();
    for (const ns of [podA, podB, outside, node]) ns?.delete();
    await new Promise<void>((res) => (bridge ? bridge.close(() => res()) : res()));
    await ds?.close();
    await etcd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('programs routes, static ARP and sysctls for local endpoints; traffic flows; ready; NAT outgoing; metrics', async () => {
    await until(() => routes().includes(`${B_IP} dev cali0b scope link`) && routes().includes(`${A_IP} dev cali0a scope link`), 'workload routes (proto 80)');
    await until(() => neigh().includes(`${B_IP} dev cali0b lladdr ${macB} PERMANENT`), 'static ARP for B');
    for (const iface of ['cali0a', 'cali0b']) {
      expect(sysctl(`net.ipv4.conf.${iface}.proxy_arp`)).to.equal('1');
      expect(sysctl(`net.ipv4.neigh.${iface}.proxy_delay`)).to.equal('0');
      expect(sysctl(`net.ipv4.conf.${iface}.forwarding`)).to.equal('1');
      expect(sysctl(`net.ipv4.conf.${iface}.route_localnet`)).to.equal('1');
    }
    await until(() => ping() && tcp(80), 'A reaches B (ping, TCP)');
    await until(() => httpGet(HEALTH_PORT, '/readiness').startsWith('200'), 'readiness 200');
    expect(httpGet(HEALTH_PORT, '/liveness')).to.match(/^200/);
    const nat = node!.run('iptables-save', ['-t', 'nat']) + node!.run('iptables-legacy-save', ['-t', 'nat']);
    expect(nat).to.match(/-A POSTROUTING .*-j cali-POSTROUTING/);
    expect(nat).to.match(/-A cali-nat-outgoing .*--match-set cali40masq-ipam-pools src .*! --match-set cali40all-ipam-pools dst .*-j MASQUERADE/);
    expect(node!.run('ipset', ['list', 'cali40masq-ipam-pools'])).to.include('10.65.0.0/16');
    const metrics = httpGet(METRICS_PORT, '/metrics');
    expect(metrics).to.match(/^200/);
    expect(metrics).to.match(/^felix_active_local_endpoints 2$/m);
    expect(metrics).to.include('felix_int_dataplane_apply_time_seconds_count{part="routes"}');
    // IPv6 support is on by default: the same layout is in ip6tables.
    const v6 = node!.run('sh', ['-c', 'ip6tables-nft-save -t filter; ip6tables-legacy-save -t filter']);
    expect(v6).to.match(/-A FORWARD .*-j cali-FORWARD/);
    expect(v6).to.include(':cali-tw-cali0b');
    expect(felix.output()).to.include('IPv6 policy enabled');
  });

  it('NAT outgoing: pod A reaches a host beyond the uplink as the node, over IPv4 and IPv6; without it there is no answer', async () => {
    /** Pod A connects to the outside host; returns the client address that host saw, or undefined. */
    const froms = () => whoIsIt!.output().split('\n').filter((l) => l.startsWith('from '));
    const seenFrom = async (dst: string): Promise<string | undefined> => {
      const before = froms().length;
      const r = podA!.tryRun(process.execPath, ['-e', CLIENT, dst, String(OUTSIDE_PORT)]);
      last = `client exit ${r.code}; the outside host's server printed:\n${whoIsIt!.output().slice(-400)}`;
      if (r.code !== 0) return undefined;
      // The server's line reaches us through its stdout pipe, a moment after the connection.
      await eventually(() => froms().length > before, 5000, 'the outside server to print the connection');
      return froms().slice(before).pop()?.slice(5).replace(/^::ffff:/, '');
    };
    let last = '';
    const seen = async (dst: string, want: string) => {
      try {
        await until(async () => (await seenFrom(dst)) === want, `the outside host sees ${want}`);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${last}\n${node!.run('sh', ['-c', 'iptables-save -t nat; ip6tables-save -t nat; ip route; ip -6 route; ipset list -t'])}`);
      }
    };
    const nat6 = () => node!.run('sh', ['-c', 'ip6tables-nft-save -t nat; ip6tables-legacy-save -t nat']);
    await until(() => /-A cali-nat-outgoing .*--match-set cali60masq-ipam-pools src .*! --match-set cali60all-ipam-pools dst .*-j MASQUERADE/.test(nat6()), 'ip6tables nat rule');
    expect(nat6()).to.match(/-A POSTROUTING .*-j cali-POSTROUTING/);
    expect(node!.run('ipset', ['list', 'cali60masq-ipam-pools'])).to.include('fd65::/48');
    expect(node!.run('ip', ['-6', 'route', 'show', 'proto', '80'])).to.include(`${A_IP6} dev cali0a`);
    await seen(OUTSIDE.v4, NODE_UPLINK.v4);
    await seen(OUTSIDE.v6, NODE_UPLINK.v6);

    // natOutgoing off: the pod's own source goes out, and the outside host has no route back.
    for (const p of [pool, pool6]) {
      const cur = await ds!.get('IPPool', p.metadata.name);
      await ds!.update({ ...cur, spec: { ...cur.spec, natOutgoing: false } } as IPPool);
    }
    await until(() => !node!.run('ipset', ['list', 'cali60masq-ipam-pools']).includes('fd65::/48') && !node!.run('ipset', ['list', 'cali40masq-ipam-pools']).includes('10.65.0.0/16'), 'masquerade sets emptied');
    expect(await seenFrom(OUTSIDE.v4), 'IPv4 without NAT').to.equal(undefined);
    expect(await seenFrom(OUTSIDE.v6), 'IPv6 without NAT').to.equal(undefined);
    expect(ping() && tcp(80), 'pod to pod is not NAT outgoing business').to.equal(true);

    for (const p of [pool, pool6]) {
      const cur = await ds!.get('IPPool', p.metadata.name);
      await ds!.update({ ...cur, spec: { ...cur.spec, natOutgoing: true } } as IPPool);
    }
    await seen(OUTSIDE.v4, NODE_UPLINK.v4);
    await seen(OUTSIDE.v6, NODE_UPLINK.v6);
  });

  it('periodic resyncs of a dataplane that is right rewrite nothing (IPv4 and IPv6 workload routes)', async () => {
    await until(() => routes().includes(`${A_IP} dev cali0a`), 'routes in place');
    await new Promise((r) => setTimeout(r, 1500)); // let anything in flight settle
    const resyncs = () => Number(/^felix_resyncs_started\{kind="routes"\} (\d+)$/m.exec(httpGet(METRICS_PORT, '/metrics'))?.[1] ?? 0);
    const mark = felix.output().length;
    const before = resyncs();
    await new Promise((r) => setTimeout(r, 3500)); // about three route and iptables resyncs (1 s intervals)
    expect(resyncs() - before, 'route resyncs ran').to.be.at.least(2);
    const log = felix.output().slice(mark);
    expect(log.split('\n').filter((l) => / updated /.test(l)), 'nothing rewritten').to.deep.equal([]);
  });

  it('a deny policy blocks, an allow policy admits', async () => {
    await ds!.create(denyDb);
    await until(() => !tcp(80) && !ping(), 'deny blocks ping and TCP');
    const cur = await ds!.get('GlobalNetworkPolicy', 'deny-db');
    await ds!.update({ ...allowDb, metadata: cur.metadata });
    await until(() => tcp(80), 'allow admits TCP :80');
    expect(ping(), 'ICMP still not allowed by the policy').to.equal(false);
    await ds!.delete('GlobalNetworkPolicy', 'deny-db');
    await until(() => ping(), 'profile decides again');
  });

  it('repairs a deleted route, a changed sysctl and a deleted rule on its periodic resync', async () => {
    node!.run('ip', ['route', 'del', `${B_IP}/32`, 'dev', 'cali0b']);
    node!.run('sysctl', ['-qw', 'net.ipv4.conf.cali0a.proxy_arp=0']);
    const backend = node!.run('iptables-save', ['-t', 'filter']).includes('cali-FORWARD') ? 'iptables' : 'iptables-legacy';
    node!.run(backend, ['-D', 'FORWARD', '1']); // our hook
    node!.run(backend, ['-F', 'cali-to-wl-dispatch']);
    await until(() => routes().includes(`${B_IP} dev cali0b scope link`), 'route repaired');
    await until(() => sysctl('net.ipv4.conf.cali0a.proxy_arp') === '1', 'proxy_arp repaired');
    await until(() => /-A FORWARD .*-j cali-FORWARD/.test(node!.run(`${backend}-save`, ['-t', 'filter'])), 'hook repaired');
    await until(() => node!.run(`${backend}-save`, ['-t', 'filter']).includes('-A cali-to-wl-dispatch'), 'dispatch chain refilled');
    await until(() => ping() && tcp(80), 'traffic flows again');
  });

  it('removes the route and ARP entry of a deleted endpoint, leaves routes it does not own', async () => {
    node!.run('ip', ['route', 'add', '10.77.0.0/24', 'dev', 'uplink0', 'proto', 'static']);
    await ds!.delete('WorkloadEndpoint', `${NODE}-k8s-b-eth0`, 'test');
    await until(() => !routes().includes(B_IP) && !neigh().includes(B_IP), 'B route and ARP gone');
    await until(() => !ping(), 'B unreachable');
    expect(routes()).to.include(`${A_IP} dev cali0a`);
    expect(node!.run('ip', ['route', 'show'])).to.include('10.77.0.0/24 dev uplink0 proto static');
    expect(felix.exited(), 'felix still running').to.equal(false);
  });
});


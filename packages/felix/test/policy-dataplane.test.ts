// Integration: the policy dataplane in real network namespaces, with real iptables (legacy and
// nft) and ipsets inside a "host" namespace, and real traffic between two "pod" namespaces
// wired the way Calico's CNI wires them (veth cali*, /32 routes, proxy ARP, 169.254.1.1).

import { expect } from 'chai';
import type { GlobalNetworkPolicy, NetworkPolicy, Profile, WorkloadEndpoint } from '@tabby/api';
import { PolicyDataplane, iptablesCommands, detectIptablesBackend, type IptablesBackend } from '@tabby/felix';
import { createNetns, eventually, startInNetns, vethPair, type Daemon, type Netns } from '@tabby/test-support';

const NODE = 'node1';
const A_IP = '10.65.0.1';
const B_IP = '10.65.0.2';

const profile: Profile = {
  apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: 'kns.test' },
  spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply: { 'pcns.projectcalico.org/name': 'test' } },
};

function wep(name: string, iface: string, ip: string, labels: Record<string, string>, ports: WorkloadEndpoint['spec']['ports'] = []): WorkloadEndpoint {
  return {
    apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint',
    metadata: { name, namespace: 'test', labels },
    spec: { node: NODE, orchestrator: 'k8s', pod: name, endpoint: 'eth0', interfaceName: iface, ipNetworks: [`${ip}/32`], profiles: ['kns.test'], ports },
  };
}

const webToDbHttp: NetworkPolicy = {
  apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: 'db-from-web', namespace: 'test' },
  spec: {
    order: 100, selector: "app == 'db'", types: ['Ingress'],
    ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "app == 'web'" }, destination: { ports: ['http'] } }],
  },
};

const allowPing: GlobalNetworkPolicy = {
  apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'allow-ping' },
  spec: { order: 10, selector: "app == 'db'", types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { type: 8 } }] },
};

const SERVER = `
const net = require('net');
let n = 0;
for (const p of process.argv.slice(1)) net.createServer((s) => { s.on('error', () => {}); s.end('ok'); }).listen(+p, '0.0.0.0', () => { if (++n === process.argv.length - 1) console.log('ready'); });
`;
const CLIENT = `
const net = require('net');
const [h, p] = process.argv.slice(1);
const s = net.connect(+p, h, () => process.exit(0));
s.setTimeout(1000, () => process.exit(2));
s.on('error', () => process.exit(1));
`;

function wirePod(host: Netns, pod: Netns, iface: string, ip: string): void {
  vethPair(host, iface, pod, 'eth0');
  pod.run('ip', ['addr', 'add', `${ip}/32`, 'dev', 'eth0']);
  pod.run('ip', ['route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
  pod.run('ip', ['route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
  host.run('sysctl', ['-qw', `net.ipv4.conf.${iface}.proxy_arp=1`, `net.ipv4.neigh.${iface}.proxy_delay=0`]);
  host.run('ip', ['route', 'add', `${ip}/32`, 'dev', iface, 'scope', 'link']);
}

for (const backend of ['nft', 'legacy'] as IptablesBackend[]) {
  describe(`felix policy dataplane in namespaces (iptables-${backend})`, function () {
    this.timeout(30_000);
    let host: Netns;
    let podA: Netns;
    let podB: Netns;
    let server: Daemon | undefined;
    let dp: PolicyDataplane;
    const cmds = iptablesCommands(backend);

    const tcp = (from: Netns, port: number): boolean => from.tryRun(process.execPath, ['-e', CLIENT, B_IP, String(port)]).code === 0;
    const ping = (from: Netns): boolean => from.tryRun('ping', ['-c', '1', '-W', '1', B_IP]).code === 0;
    const save = (): string => host.run(cmds.save, ['-t', 'filter']);
    const reachable = (what: () => boolean, label: string) => eventually(what, 8000, label);

    before(async () => {
      host = createNetns('fhost');
      podA = createNetns('fpoda');
      podB = createNetns('fpodb');
      host.run('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      // A default route out of another interface, so proxy ARP answers for 169.254.1.1.
      vethPair(host, 'uplink0', host, 'uplink1');
      host.run('ip', ['route', 'add', 'default', 'dev', 'uplink0']);
      wirePod(host, podA, 'cali0a', A_IP);
      wirePod(host, podB, 'cali0b', B_IP);
      server = startInNetns(podB, [process.execPath, '-e', SERVER, '80', '81']);
      await eventually(() => server!.output().includes('ready'), 10_000, 'test server to listen');

      dp = await PolicyDataplane.create({ nodeName: NODE, netns: host.name, iptablesBackend: backend });
      dp.calc.update(profile);
      dp.calc.update(wep('a', 'cali0a', A_IP, { app: 'web' }));
      dp.calc.update(wep('b', 'cali0b', B_IP, { app: 'db' }, [{ name: 'http', protocol: 'TCP', port: 80 }]));
      await dp.apply();
    });

    after(async () => {
      await server?.stop();
      for (const ns of [podA, podB, host]) ns?.delete();
    });

    it('installs the hooks and lets traffic through per profile when no policy applies', async () => {
      const text = save();
      for (const k of ['INPUT', 'FORWARD', 'OUTPUT']) expect(text).to.match(new RegExp(`-A ${k} -m comment --comment "?cali:[\\w-]+"? -j cali-${k}`));
      expect(text).to.include(':cali-tw-cali0b');
      await reachable(() => tcp(podA, 80), 'A -> B:80');
      await reachable(() => tcp(podA, 81), 'A -> B:81');
      await reachable(() => ping(podA), 'A pings B');
    });

    it('enforces a NetworkPolicy with a named port: allowed port connects, others and ICMP are denied', async () => {
      dp.calc.update(webToDbHttp);
      const r = await dp.apply();
      expect(r.iptables.written).to.have.members(['cali-pi-test/db-from-web', 'cali-tw-cali0b']);
      await reachable(() => tcp(podA, 80), 'A -> B:80 (named port http)');
      expect(tcp(podA, 81), 'A -> B:81 is denied').to.equal(false);
      expect(ping(podA), 'ping is denied once a policy selects B').to.equal(false);
      const sets = host.run('ipset', ['save']);
      expect(sets).to.match(new RegExp(`add cali40s:\\S+ ${A_IP.replace(/\./g, '\\.')}`));
      expect(sets).to.include(`${B_IP},tcp:80`);
    });

    it('applies a GlobalNetworkPolicy allowing ICMP echo before it', async () => {
      dp.calc.update(allowPing);
      await dp.apply();
      await reachable(() => ping(podA), 'A pings B');
      expect(tcp(podA, 81)).to.equal(false);
    });

    it('repairs a deleted rule on resync', async () => {
      host.run(cmds.iptables, ['-D', 'cali-pi-test/db-from-web', '1']);
      expect(tcp(podA, 80), 'the tampered policy no longer allows :80').to.equal(false);
      const r = await dp.resync();
      expect(r.iptables.written).to.deep.equal(['cali-pi-test/db-from-web']);
      await reachable(() => tcp(podA, 80), 'A -> B:80 after repair');
      expect((await dp.resync()).iptables.written, 'nothing left to repair').to.deep.equal([]);
    });

    it('repairs a flushed ipset on resync (temp set + swap)', async () => {
      const set = [...dp.calc.ipsets().values()].find((s) => s.type === 'hash:net')!;
      host.run('ipset', ['flush', set.name]);
      expect(tcp(podA, 80), 'an empty source set allows nothing').to.equal(false);
      const r = await dp.resync();
      expect(r.ipsets.rewritten).to.include(set.name);
      await reachable(() => tcp(podA, 80), 'A -> B:80 after the set is refilled');
    });

    it('repairs a deleted hook and a deleted chain on resync', async () => {
      host.run(cmds.iptables, ['-D', 'FORWARD', '1']);
      await reachable(() => tcp(podA, 81), 'without the hook, policy is bypassed');
      host.run(cmds.iptables, ['-D', 'INPUT', '1']);
      host.run(cmds.iptables, ['-F', 'cali-INPUT']);
      host.run(cmds.iptables, ['-X', 'cali-INPUT']);
      const r = await dp.resync();
      expect(r.iptables.hooksFixed).to.have.members(['FORWARD', 'INPUT']);
      expect(r.iptables.written).to.deep.equal(['cali-INPUT']);
      expect(save()).to.match(/-A INPUT -m comment --comment "?cali:[\w-]+"? -j cali-INPUT/);
      expect(tcp(podA, 81), 'policy enforced again').to.equal(false);
    });

    it('removes policy chains and sets when all policies are gone; profiles decide again', async () => {
      dp.calc.remove('NetworkPolicy', 'db-from-web', 'test');
      dp.calc.remove('GlobalNetworkPolicy', 'allow-ping');
      const r = await dp.apply();
      expect(r.iptables.deleted).to.have.members(['cali-pi-test/db-from-web', 'cali-pi-allow-ping']);
      const text = save();
      expect(text).to.not.match(/cali-p[io]-/);
      expect(host.run('ipset', ['list', '-n']).trim()).to.equal('');
      await reachable(() => tcp(podA, 81), 'A -> B:81 per profile');
      await reachable(() => ping(podA), 'A pings B per profile');
    });

    it('uninstalls everything it created', async () => {
      await dp.uninstall();
      expect(save()).to.not.include('cali');
    });
  });
}

describe('iptables backend detection', () => {
  let ns: Netns | undefined;
  afterEach(() => ns?.delete());

  it('picks the backend that already holds rules', async () => {
    ns = createNetns('fdetect');
    ns.run('iptables-legacy', ['-A', 'FORWARD', '-j', 'ACCEPT']);
    expect(await detectIptablesBackend({ netns: ns.name })).to.equal('legacy');
    ns.run('iptables-legacy', ['-D', 'FORWARD', '-j', 'ACCEPT']);
    ns.run('iptables-nft', ['-A', 'FORWARD', '-j', 'ACCEPT']);
    expect(await detectIptablesBackend({ netns: ns.name })).to.equal('nft');
  });

  it('picks the backend holding kube-proxy\'s hint chain even when the other has more rules', async () => {
    ns = createNetns('fdetect');
    ns.run('iptables-nft', ['-t', 'mangle', '-N', 'KUBE-IPTABLES-HINT']);
    ns.run('iptables-legacy', ['-A', 'FORWARD', '-j', 'ACCEPT']);
    ns.run('iptables-legacy', ['-A', 'INPUT', '-j', 'ACCEPT']);
    expect(await detectIptablesBackend({ netns: ns.name })).to.equal('nft');
  });
});

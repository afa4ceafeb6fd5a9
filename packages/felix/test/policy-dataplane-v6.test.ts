// Integration: IPv6 policy in real network namespaces. A "host" namespace runs an IPv4 and an
// IPv6 policy dataplane side by side (iptables + cali40 sets, ip6tables + cali60 inet6 sets) for
// two dual-stack "pods" wired as Calico wires them (veth cali*, /32 and /128 routes, IPv4 via
// proxy ARP for 169.254.1.1, IPv6 via the host side's link-local gateway); real ping6 and TCP
// over IPv6 between the pods show the ip6tables rules working, for both iptables backends.

import { expect } from 'chai';
import type { GlobalNetworkPolicy, NetworkPolicy, Profile, WorkloadEndpoint } from '@tabby/api';
import { PolicyDataplane, iptablesCommands, type IptablesBackend } from '@tabby/felix';
import { createNetns, eventually, startInNetns, vethPair, type Daemon, type Netns } from '@tabby/test-support';

const NODE = 'node1';
const A = { v4: '10.66.0.1', v6: 'fd10:66::1' };
const B = { v4: '10.66.0.2', v6: 'fd10:66::2' };
const GW6 = 'fe80::ecee:eeff:feee:eeee';

const profile: Profile = {
  apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: 'kns.test' },
  spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply: { 'pcns.projectcalico.org/name': 'test' } },
};

function wep(name: string, iface: string, ip: { v4: string; v6: string }, labels: Record<string, string>, ports: WorkloadEndpoint['spec']['ports'] = []): WorkloadEndpoint {
  return {
    apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint',
    metadata: { name, namespace: 'test', labels },
    spec: { node: NODE, orchestrator: 'k8s', pod: name, endpoint: 'eth0', interfaceName: iface, ipNetworks: [`${ip.v4}/32`, `${ip.v6}/128`], profiles: ['kns.test'], ports },
  };
}

const dbFromWeb: NetworkPolicy = {
  apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: 'db-from-web', namespace: 'test' },
  spec: {
    order: 100, selector: "app == 'db'", types: ['Ingress'],
    ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "app == 'web'" }, destination: { ports: ['http'] } }],
  },
};

const allowPing6: GlobalNetworkPolicy = {
  apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'allow-ping6' },
  spec: { order: 10, selector: "app == 'db'", types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'ICMPv6', icmp: { type: 128 } }] },
};

const SERVER = `
const net = require('net');
let n = 0;
for (const p of process.argv.slice(1)) net.createServer((s) => { s.on('error', () => {}); s.end('ok'); }).listen(+p, '::', () => { if (++n === process.argv.length - 1) console.log('ready'); });
`;
const CLIENT = `
const net = require('net');
const [h, p] = process.argv.slice(1);
const s = net.connect(+p, h, () => process.exit(0));
s.setTimeout(1000, () => process.exit(2));
s.on('error', () => process.exit(1));
`;

function wirePod(host: Netns, pod: Netns, iface: string, ip: { v4: string; v6: string }): void {
  vethPair(host, iface, pod, 'eth0');
  host.run('ip', ['link', 'set', iface, 'address', 'ee:ee:ee:ee:ee:ee']);
  host.run('ip', ['-6', 'addr', 'add', `${GW6}/64`, 'dev', iface, 'nodad']);
  pod.run('ip', ['addr', 'add', `${ip.v4}/32`, 'dev', 'eth0']);
  pod.run('ip', ['route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
  pod.run('ip', ['route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
  pod.run('ip', ['-6', 'addr', 'add', `${ip.v6}/128`, 'dev', 'eth0', 'nodad']);
  pod.run('ip', ['-6', 'route', 'add', 'default', 'via', GW6, 'dev', 'eth0']);
  host.run('sysctl', ['-qw', `net.ipv4.conf.${iface}.proxy_arp=1`, `net.ipv4.neigh.${iface}.proxy_delay=0`]);
  host.run('ip', ['route', 'add', `${ip.v4}/32`, 'dev', iface, 'scope', 'link']);
  host.run('ip', ['-6', 'route', 'add', `${ip.v6}/128`, 'dev', iface]);
}

for (const backend of ['nft', 'legacy'] as IptablesBackend[]) {
  describe(`felix IPv6 policy dataplane in namespaces (ip6tables-${backend})`, function () {
    this.timeout(40_000);
    let host: Netns;
    let podA: Netns;
    let podB: Netns;
    let server: Daemon | undefined;
    let dp4: PolicyDataplane;
    let dp6: PolicyDataplane;
    const cmds6 = iptablesCommands(backend, 6);
    const cmds4 = iptablesCommands(backend, 4);

    const tcp6 = (port: number): boolean => podA.tryRun(process.execPath, ['-e', CLIENT, B.v6, String(port)]).code === 0;
    const tcp4 = (port: number): boolean => podA.tryRun(process.execPath, ['-e', CLIENT, B.v4, String(port)]).code === 0;
    const ping6 = (): boolean => podA.tryRun('ping', ['-6', '-c', '1', '-W', '1', B.v6]).code === 0;
    const ping4 = (): boolean => podA.tryRun('ping', ['-c', '1', '-W', '1', B.v4]).code === 0;
    const save6 = (): string => host.run(cmds6.save, ['-t', 'filter']);
    const reachable = (what: () => boolean, label: string) => eventually(what, 8000, label);
    const both = async (f: (dp: PolicyDataplane) => void) => { for (const dp of [dp4, dp6]) f(dp); await dp4.apply(); return dp6.apply(); };

    before(async () => {
      host = createNetns('f6host');
      podA = createNetns('f6poda');
      podB = createNetns('f6podb');
      host.run('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
      vethPair(host, 'uplink0', host, 'uplink1');
      host.run('ip', ['route', 'add', 'default', 'dev', 'uplink0']);
      wirePod(host, podA, 'cali0a', A);
      wirePod(host, podB, 'cali0b', B);
      server = startInNetns(podB, [process.execPath, '-e', SERVER, '80', '81']);
      await eventually(() => server!.output().includes('ready'), 10_000, 'test server to listen');

      dp4 = await PolicyDataplane.create({ nodeName: NODE, netns: host.name, iptablesBackend: backend });
      dp6 = await PolicyDataplane.create({ nodeName: NODE, netns: host.name, iptablesBackend: backend, ipVersion: 6 });
      await both((dp) => {
        dp.calc.update(profile);
        dp.calc.update(wep('a', 'cali0a', A, { app: 'web' }));
        dp.calc.update(wep('b', 'cali0b', B, { app: 'db' }, [{ name: 'http', protocol: 'TCP', port: 80 }]));
      });
    });

    after(async () => {
      await server?.stop();
      for (const ns of [podA, podB, host]) ns?.delete();
    });

    it('hooks ip6tables INPUT/FORWARD/OUTPUT; the profile lets ping6 and TCP over IPv6 through', async () => {
      const text = save6();
      for (const k of ['INPUT', 'FORWARD', 'OUTPUT']) expect(text).to.match(new RegExp(`-A ${k} -m comment --comment "?cali:[\\w-]+"? -j cali-${k}`));
      expect(text).to.include(':cali-tw-cali0b');
      expect(text).to.match(/-A cali-wl-to-host .*-p ipv6-icmp .*--icmpv6-type 135 .*-j ACCEPT/);
      await reachable(ping6, 'A ping6 B');
      await reachable(() => tcp6(81), 'A -> [B]:81');
      await reachable(ping4, 'A pings B (IPv4)');
    });

    it('a policy selecting B denies ping6 and other ports over IPv6; its allow rule admits TCP to the named port', async () => {
      const r = await both((dp) => dp.calc.update(dbFromWeb));
      expect(r.iptables.written).to.have.members(['cali-pi-test/db-from-web', 'cali-tw-cali0b']);
      await reachable(() => tcp6(80), 'A -> [B]:80 (named port http)');
      expect(tcp6(81), 'A -> [B]:81 is denied').to.equal(false);
      expect(ping6(), 'ping6 is denied once a policy selects B').to.equal(false);
      expect(ping4(), 'so is IPv4 ping').to.equal(false);
      const sets = host.run('ipset', ['save']);
      expect(sets).to.match(/create cali60s:\S+ hash:net family inet6/);
      expect(sets).to.match(new RegExp(`add cali60s:\\S+ ${A.v6}`));
      expect(sets).to.include(`add cali40`);
      expect(sets).to.match(/create cali60n:\S+ hash:ip,port family inet6/);
      expect(sets).to.include(`${B.v6},tcp:80`);
    });

    it('an ICMPv6 echo allow policy admits ping6 and leaves IPv4 ping denied', async () => {
      await both((dp) => dp.calc.update(allowPing6));
      await reachable(ping6, 'A ping6 B');
      expect(ping4(), 'the ICMPv6 rule is not rendered for IPv4').to.equal(false);
      expect(tcp6(81)).to.equal(false);
    });

    it('repairs a deleted ip6tables rule on resync', async () => {
      host.run(cmds6.iptables, ['-D', 'cali-pi-test/db-from-web', '1']);
      expect(tcp6(80), 'the tampered policy no longer allows :80 over IPv6').to.equal(false);
      await reachable(() => tcp4(80), 'IPv4 is untouched');
      const r = await dp6.resync();
      expect(r.iptables.written).to.deep.equal(['cali-pi-test/db-from-web']);
      await reachable(() => tcp6(80), 'A -> [B]:80 after repair');
      expect((await dp6.resync()).iptables.written, 'nothing left to repair').to.deep.equal([]);
      expect((await dp4.resync()).iptables.written, 'the IPv4 table never changed').to.deep.equal([]);
    });

    it('repairs a deleted ip6tables hook and a flushed cali60 set on resync', async () => {
      host.run(cmds6.iptables, ['-D', 'FORWARD', '1']);
      await reachable(() => tcp6(81), 'without the hook, IPv6 policy is bypassed');
      const set = [...dp6.calc.ipsets().values()].find((s) => s.type === 'hash:net')!;
      host.run('ipset', ['flush', set.name]);
      const r = await dp6.resync();
      expect(r.iptables.hooksFixed).to.deep.equal(['FORWARD']);
      expect(r.ipsets.rewritten).to.include(set.name);
      expect(tcp6(81), 'IPv6 policy enforced again').to.equal(false);
      await reachable(() => tcp6(80), 'A -> [B]:80 with the set refilled');
    });

    it('each family removes only its own sets: IPv6 policy gone, IPv4 policy and cali40 sets stay', async () => {
      dp6.calc.remove('NetworkPolicy', 'db-from-web', 'test');
      dp6.calc.remove('GlobalNetworkPolicy', 'allow-ping6');
      const r = await dp6.apply();
      expect(r.ipsets.deleted.every((n) => n.startsWith('cali60'))).to.equal(true);
      const names = host.run('ipset', ['list', '-n']).trim().split('\n');
      expect(names.some((n) => n.startsWith('cali60'))).to.equal(false);
      expect(names.some((n) => n.startsWith('cali40'))).to.equal(true);
      expect((await dp4.resync()).ipsets.deleted, 'the IPv4 applier leaves nothing to delete').to.deep.equal([]);
      await reachable(() => tcp6(81), 'A -> [B]:81 per profile');
      await reachable(ping6, 'A ping6 B per profile');
      expect(tcp4(81), 'IPv4 policy still denies :81').to.equal(false);
    });

    it('uninstalling the IPv6 dataplane leaves the IPv4 one in place', async () => {
      await dp6.uninstall();
      expect(save6()).to.not.include('cali');
      expect(host.run(cmds4.save, ['-t', 'filter'])).to.include('cali-tw-cali0b');
      await dp4.uninstall();
      expect(host.run('ipset', ['list', '-n']).trim()).to.equal('');
    });
  });
}

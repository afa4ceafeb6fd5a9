// Unit tests: the IPv6 policy calculation (ip6tables rendering, ICMPv6, family filtering of
// rules, cali60 sets) and the family separation of IP set names and read-back.

import { expect } from 'chai';
import { parseSelector, type Rule as ApiRule, type WorkloadEndpoint, type NetworkPolicy, type Profile } from '@tabby/api';
import {
  DEFAULT_MARKS, PolicyCalculator, IpsetApplier, iptablesCommands, ipsetName, isOurIpset, normaliseMember, parseIpsetSave,
  renderApiRule, renderRuleBody, resolveSettings, tempIpsetName, type Chain, type RuleRenderContext,
} from '@tabby/felix';

function ctx(ipVersion: 4 | 6): RuleRenderContext {
  return {
    marks: DEFAULT_MARKS,
    logPrefix: 'calico-packet',
    allSelector: parseSelector('all()'),
    ipVersion,
    sets: { selectorSet: (sel) => `S[${sel.toString()}]`, namedPortSet: (_s, proto, port) => `N[${proto}:${port}]` },
  };
}
const r6 = (rule: ApiRule): string[] => renderApiRule(rule, '', ctx(6)).map(renderRuleBody);
const r4 = (rule: ApiRule): string[] => renderApiRule(rule, '', ctx(4)).map(renderRuleBody);

const NODE = 'node1';
function wep(name: string, iface: string, nets: string[], labels: Record<string, string> = {}, node = NODE, ports: WorkloadEndpoint['spec']['ports'] = []): WorkloadEndpoint {
  return {
    apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name, namespace: 'ns', labels },
    spec: { node, orchestrator: 'k8s', interfaceName: iface, ipNetworks: nets, profiles: ['kns.ns'], ports },
  };
}
function np(name: string, spec: NetworkPolicy['spec']): NetworkPolicy {
  return { apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name, namespace: 'ns' }, spec };
}
const kns: Profile = { apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: 'kns.ns' }, spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] } };
const body = (c: Chain | undefined): string[] => (c ? c.rules.map(renderRuleBody) : []);

describe('IPv6 policy rendering', () => {
  it('renders ICMPv6 rules (protocol ipv6-icmp, -m icmp6 --icmpv6-type) only for IPv6, ICMP only for IPv4', () => {
    const icmp6: ApiRule = { action: 'Allow', protocol: 'ICMPv6', icmp: { type: 128, code: 0 }, notICMP: { type: 129 } };
    expect(r6(icmp6)[0]).to.equal('-p ipv6-icmp -m icmp6 --icmpv6-type 128/0 -m icmp6 ! --icmpv6-type 129 -j MARK --set-xmark 0x10000/0x10000');
    expect(r4(icmp6)).to.deep.equal([]);
    const icmp: ApiRule = { action: 'Allow', protocol: 'ICMP', icmp: { type: 8 } };
    expect(r4(icmp)[0]).to.equal('-p icmp -m icmp --icmp-type 8 -j MARK --set-xmark 0x10000/0x10000');
    expect(r6(icmp)).to.deep.equal([]);
    expect(r6({ action: 'Deny', notProtocol: 'ICMP' })).to.deep.equal([]);
  });

  it('skips rules of the other ipVersion', () => {
    expect(r6({ action: 'Allow', ipVersion: 4 })).to.deep.equal([]);
    expect(r6({ action: 'Allow', ipVersion: 6 })).to.have.length(2);
    expect(r4({ action: 'Allow', ipVersion: 6 })).to.deep.equal([]);
  });

  it('keeps only this family of mixed nets; a side whose nets or notNets are all of the other family skips the rule', () => {
    const mixed: ApiRule = { action: 'Deny', source: { nets: ['10.0.0.0/8', 'fd00:1::5/64'] } };
    expect(r6(mixed)).to.deep.equal(['-s fd00:1::/64 -j DROP']);
    expect(r4(mixed)).to.deep.equal(['-s 10.0.0.0/8 -j DROP']);
    expect(r6({ action: 'Deny', destination: { nets: ['10.0.0.0/8'] } })).to.deep.equal([]);
    expect(r6({ action: 'Deny', destination: { notNets: ['192.168.0.0/16'] } })).to.deep.equal([]);
    expect(r4({ action: 'Deny', destination: { notNets: ['fd00::/8'] } })).to.deep.equal([]);
    expect(r6({ action: 'Deny', destination: { notNets: ['192.168.0.0/16', 'fd00::/8'] } })).to.deep.equal(['! -d fd00::/8 -j DROP']);
    // An IPv6 host address gets /128.
    expect(r6({ action: 'Deny', source: { nets: ['fd00::1'] } })).to.deep.equal(['-s fd00::1/128 -j DROP']);
    // Two IPv6 nets of a mixed list still need the match-block form; the IPv4 one is gone.
    expect(r6({ action: 'Deny', source: { nets: ['fd00:1::/64', '10.1.0.0/16', 'fd00:2::/64'] } })).to.deep.equal([
      '-j MARK --set-xmark 0x80000/0x180000',
      '-m mark --mark 0x80000/0x80000 -s fd00:1::/64 -j MARK --set-xmark 0x100000/0x100000',
      '-m mark --mark 0x80000/0x80000 -s fd00:2::/64 -j MARK --set-xmark 0x100000/0x100000',
      '-m mark --mark 0x0/0x100000 -j MARK --set-xmark 0x0/0x80000',
      '-j MARK --set-xmark 0x0/0x100000',
      '-m mark --mark 0x80000/0x80000 -j DROP',
    ]);
  });

  it('ports, selectors and the rest render as for IPv4', () => {
    const rule: ApiRule = { action: 'Allow', protocol: 'TCP', source: { selector: "app == 'x'" }, destination: { ports: [80, 443] } };
    expect(r6(rule)).to.deep.equal(r4(rule));
  });
});

describe('IPv6 policy calculation', () => {
  function cluster(ipVersion: 4 | 6): PolicyCalculator {
    const c = new PolicyCalculator({ nodeName: NODE, ipVersion });
    c.update(kns);
    c.update(wep('a', 'caliaaaa', ['10.65.0.1/32', 'fd10::1/128'], { app: 'a' }, NODE, [{ name: 'http', protocol: 'TCP', port: 8080 }]));
    c.update(wep('b', 'calibbbb', ['10.65.0.2/32', 'fd10::2/128'], { app: 'b' }));
    c.update(wep('v4only', 'calicccc', ['10.65.0.3/32'], { app: 'a' }));
    c.update(wep('remote', 'calidddd', ['fd10:1::9/128'], { app: 'a' }, 'node2', [{ name: 'http', protocol: 'TCP', port: 8081 }]));
    c.update(np('a-in', {
      selector: "app == 'a'", types: ['Ingress'],
      ingress: [
        { action: 'Allow', protocol: 'TCP', source: { selector: "app == 'a'" }, destination: { ports: ['http'] } },
        { action: 'Allow', protocol: 'ICMPv6', icmp: { type: 128 } },
        { action: 'Allow', protocol: 'ICMP', icmp: { type: 8 } },
      ],
    }));
    return c;
  }

  it('uses cali60 hash:net sets with the IPv6 addresses of every selected endpoint, and hash:ip,port named-port sets', () => {
    const c = cluster(6);
    const sets = [...c.ipsets().values()];
    expect(sets.map((s) => s.name).every((n) => n.startsWith('cali60'))).to.equal(true);
    const sel = sets.find((s) => s.type === 'hash:net')!;
    expect([...sel.members]).to.deep.equal(['fd10:1::9/128', 'fd10::1/128']);
    const named = sets.find((s) => s.type === 'hash:ip,port')!;
    expect([...named.members]).to.deep.equal(['fd10:1::9,tcp:8081', 'fd10::1,tcp:8080']);
    expect(sel.name).to.equal(ipsetName(parseSelector("(projectcalico.org/namespace == \"ns\" && app == 'a')").uniqueId(), 6));

    const v4 = cluster(4);
    const sel4 = [...v4.ipsets().values()].find((s) => s.type === 'hash:net')!;
    expect(sel4.name).to.equal(sel.name.replace(/^cali60/, 'cali40'));
    expect([...sel4.members]).to.deep.equal(['10.65.0.1/32', '10.65.0.3/32']);
  });

  it('renders the same chain layout with the family-specific rules', () => {
    const c6 = cluster(6);
    const c4 = cluster(4);
    expect([...c6.chains.keys()].sort()).to.deep.equal([...c4.chains.keys()].sort());
    const pol6 = body(c6.chains.get('cali-pi-ns/a-in'));
    expect(pol6.some((l) => l.includes('--icmpv6-type 128'))).to.equal(true);
    expect(pol6.some((l) => l.includes('--icmp-type'))).to.equal(false);
    const pol4 = body(c4.chains.get('cali-pi-ns/a-in'));
    expect(pol4.some((l) => l.includes('icmp6'))).to.equal(false);
    expect(pol4.some((l) => l.includes('--icmp-type 8'))).to.equal(true);
    // Endpoint chains (conntrack, invalid, marks, tiers, profiles) are the same for both families.
    expect(body(c6.chains.get('cali-tw-caliaaaa'))).to.deep.equal(body(c4.chains.get('cali-tw-caliaaaa')));
    expect(body(c6.chains.get('cali-tw-caliaaaa')).slice(0, 3)).to.deep.equal([
      '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-m conntrack --ctstate INVALID -j DROP', '-j MARK --set-xmark 0x0/0x30000',
    ]);
    // The IPv6 workload-to-host chain lets neighbour discovery and MLD through before egress policy.
    expect(body(c6.chains.get('cali-wl-to-host')).slice(0, 7)).to.deep.equal([
      ...[130, 131, 132, 133, 135, 136].map((t) => `-p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j ACCEPT`),
      '-j cali-from-wl-dispatch',
    ]);
    expect(body(c4.chains.get('cali-wl-to-host'))[0]).to.equal('-j cali-from-wl-dispatch');
  });

  it('an endpoint change moves only IPv6 members in the IPv6 calculation', () => {
    const c = cluster(6);
    c.takeDirty();
    c.update(wep('v4only', 'calicccc', ['10.65.0.4/32'], { app: 'a' }));
    expect(c.takeDirty().ipsets).to.deep.equal([]);
    c.update(wep('v4only', 'calicccc', ['10.65.0.4/32', 'fd10::4/128'], { app: 'a' }));
    const d = c.takeDirty();
    expect(d.ipsets).to.have.length(1);
    expect([...c.ipset(d.ipsets[0]!)!.members]).to.include('fd10::4/128');
  });

  it('refuses an invalid ipVersion', () => {
    expect(() => new PolicyCalculator({ nodeName: NODE, ipVersion: 5 as 4 })).to.throw(/ipVersion must be 4 or 6/);
  });
});

describe('IP set families', () => {
  it('names: cali40/cali4t for IPv4, cali60/cali6t for IPv6, never mistaken for each other', () => {
    expect(ipsetName('s:abc', 6)).to.equal('cali60s:abc');
    expect(tempIpsetName(3, 6)).to.equal('cali6t3');
    expect(isOurIpset('cali60s:abc', 6)).to.equal(true);
    expect(isOurIpset('cali60s:abc', 4)).to.equal(false);
    expect(isOurIpset('cali40s:abc', 6)).to.equal(false);
    expect(isOurIpset('cali6t1', 4)).to.equal(false);
    expect(isOurIpset('cali4t1', 6)).to.equal(false);
  });

  it('parseIpsetSave keeps only the sets of the requested family; /128 is added to bare IPv6 members', () => {
    const text = [
      'create cali40s:abc hash:net family inet hashsize 1024 maxelem 1048576',
      'add cali40s:abc 10.0.0.1',
      'create cali60s:abc hash:net family inet6 hashsize 1024 maxelem 1048576',
      'add cali60s:abc fd00::1',
      'add cali60s:abc fd00:1::/64',
      'create cali6t0 hash:net family inet6 maxelem 10',
    ].join('\n');
    expect([...parseIpsetSave(text, 4).keys()]).to.deep.equal(['cali40s:abc']);
    const v6 = parseIpsetSave(text, 6);
    expect([...v6.keys()]).to.deep.equal(['cali60s:abc', 'cali6t0']);
    expect([...v6.get('cali60s:abc')!.members]).to.deep.equal(['fd00::1/128', 'fd00:1::/64']);
    expect(normaliseMember('hash:net', '10.0.0.1')).to.equal('10.0.0.1/32');
  });

  it('each applier accepts only its own family names', () => {
    const v6 = new IpsetApplier({ ipVersion: 6 });
    expect(() => v6.updateSet({ name: 'cali40s:x', type: 'hash:net', members: new Set() })).to.throw(/not a cali60 name/);
    const v4 = new IpsetApplier();
    expect(() => v4.updateSet({ name: 'cali60s:x', type: 'hash:net', members: new Set() })).to.throw(/not a cali40 name/);
  });

  it('ip6tables commands of the same backend', () => {
    expect(iptablesCommands('nft', 6)).to.deep.equal({ save: 'ip6tables-nft-save', restore: 'ip6tables-nft-restore', iptables: 'ip6tables-nft' });
    expect(iptablesCommands('legacy', 6).restore).to.equal('ip6tables-legacy-restore');
    expect(iptablesCommands('legacy').restore).to.equal('iptables-legacy-restore');
  });
});

describe('ipv6Support setting', () => {
  it('defaults to true as Calico; FelixConfiguration ipv6Support and FELIX_IPV6SUPPORT turn it off; bad values are named', () => {
    expect(resolveSettings({ NODENAME: 'n' }).ipv6Support).to.equal(true);
    expect(resolveSettings({ NODENAME: 'n', FELIX_IPV6SUPPORT: 'false' }).ipv6Support).to.equal(false);
    const fc = { apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: { ipv6Support: false } } as const;
    expect(resolveSettings({ NODENAME: 'n' }, [fc]).ipv6Support).to.equal(false);
    expect(resolveSettings({ NODENAME: 'n', FELIX_IPV6SUPPORT: 'true' }, [fc]).ipv6Support).to.equal(true);
    expect(() => resolveSettings({ NODENAME: 'n', FELIX_IPV6SUPPORT: 'maybe' })).to.throw(/FELIX_IPV6SUPPORT: not a boolean/);
  });
});

// Unit tests: one v3 rule -> iptables rules; names; selectors; hashes.

import { expect } from 'chai';
import { parseSelector, type Rule as ApiRule } from '@tabby/api';
import {
  DEFAULT_MARKS, chunkPorts, entitySelectors, ipsetName, lengthLimitedId, policyChainName, renderApiRule,
  renderRuleBody, ruleHashes, ruleNamespaceSelector, type RuleRenderContext,
} from '@tabby/felix';

/** A resolver that names sets after their selector text so expectations stay readable. */
function ctx(): RuleRenderContext & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    marks: DEFAULT_MARKS,
    logPrefix: 'calico-packet',
    allSelector: parseSelector('all()'),
    sets: {
      selectorSet: (sel) => { seen.push(sel.toString()); return `S[${sel.toString()}]`; },
      namedPortSet: (sel, proto, port) => { seen.push(`${sel.toString()}|${proto}|${port}`); return `N[${proto}:${port}]`; },
    },
  };
}

const render = (rule: ApiRule, ns = ''): string[] => renderApiRule(rule, ns, ctx()).map(renderRuleBody);

describe('policy rule rendering', () => {
  it('Allow sets the accept mark and returns; Pass uses the pass mark', () => {
    expect(render({ action: 'Allow', protocol: 'TCP', destination: { ports: [80, '8000:8080'] } })).to.deep.equal([
      '-p tcp -m multiport --dports 80,8000:8080 -j MARK --set-xmark 0x10000/0x10000',
      '-m mark --mark 0x10000/0x10000 -j RETURN',
    ]);
    expect(render({ action: 'Pass' })).to.deep.equal([
      '-j MARK --set-xmark 0x20000/0x20000',
      '-m mark --mark 0x20000/0x20000 -j RETURN',
    ]);
  });

  it('Deny drops, Log logs with the Calico prefix and lets processing continue', () => {
    expect(render({ action: 'Deny', protocol: 'UDP', source: { ports: [53] } })).to.deep.equal([
      '-p udp -m multiport --sports 53 -j DROP',
    ]);
    expect(render({ action: 'Log', protocol: 6 })).to.deep.equal([
      '-p tcp -j LOG --log-prefix "calico-packet: " --log-level 5',
    ]);
  });

  it('renders ICMP type/code, notICMP, notProtocol and numeric protocols', () => {
    expect(render({ action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 }, notICMP: { type: 3 } })[0]).to.equal(
      '-p icmp -m icmp --icmp-type 8/0 -m icmp ! --icmp-type 3 -j MARK --set-xmark 0x10000/0x10000');
    expect(render({ action: 'Deny', notProtocol: 'UDP' })).to.deep.equal(['! -p udp -j DROP']);
    expect(render({ action: 'Deny', protocol: 47 })).to.deep.equal(['-p 47 -j DROP']);
  });

  it('inlines one net and one notNet per side, and masks host bits', () => {
    expect(render({ action: 'Deny', source: { nets: ['10.1.2.3/16'] }, destination: { notNets: ['192.168.0.0/24'] } })).to.deep.equal([
      '-s 10.1.0.0/16 ! -d 192.168.0.0/24 -j DROP',
    ]);
    expect(render({ action: 'Deny', source: { nets: ['10.0.0.7'] } })).to.deep.equal(['-s 10.0.0.7/32 -j DROP']);
  });

  it('ipBlock with except (nets + several notNets) uses scratch-mark match blocks', () => {
    expect(render({ action: 'Allow', source: { nets: ['10.0.0.0/8'], notNets: ['10.1.0.0/16', '10.2.0.0/16'] } })).to.deep.equal([
      '-j MARK --set-xmark 0x80000/0x180000',
      '-s 10.1.0.0/16 -j MARK --set-xmark 0x0/0x80000',
      '-s 10.2.0.0/16 -j MARK --set-xmark 0x0/0x80000',
      '-m mark --mark 0x80000/0x80000 -s 10.0.0.0/8 -j MARK --set-xmark 0x10000/0x10000',
      '-m mark --mark 0x10000/0x10000 -j RETURN',
    ]);
  });

  it('several nets are ORed through a match block so the action happens once', () => {
    expect(render({ action: 'Log', destination: { nets: ['10.0.0.0/24', '10.0.1.0/24'] } })).to.deep.equal([
      '-j MARK --set-xmark 0x80000/0x180000',
      '-m mark --mark 0x80000/0x80000 -d 10.0.0.0/24 -j MARK --set-xmark 0x100000/0x100000',
      '-m mark --mark 0x80000/0x80000 -d 10.0.1.0/24 -j MARK --set-xmark 0x100000/0x100000',
      '-m mark --mark 0x0/0x100000 -j MARK --set-xmark 0x0/0x80000',
      '-j MARK --set-xmark 0x0/0x100000',
      '-m mark --mark 0x80000/0x80000 -j LOG --log-prefix "calico-packet: " --log-level 5',
    ]);
  });

  it('named ports become hash:ip,port set matches; mixed with numbers they are ORed', () => {
    const c = ctx();
    const out = renderApiRule({ action: 'Allow', protocol: 'TCP', destination: { selector: "app == 'db'", ports: ['http', 5432] } }, 'prod', c).map(renderRuleBody);
    expect(out).to.deep.equal([
      '-j MARK --set-xmark 0x80000/0x180000',
      '-m mark --mark 0x80000/0x80000 -m multiport --dports 5432 -j MARK --set-xmark 0x100000/0x100000',
      '-m mark --mark 0x80000/0x80000 -m set --match-set N[tcp:http] dst,dst -j MARK --set-xmark 0x100000/0x100000',
      '-m mark --mark 0x0/0x100000 -j MARK --set-xmark 0x0/0x80000',
      '-j MARK --set-xmark 0x0/0x100000',
      `-m mark --mark 0x80000/0x80000 -p tcp -m set --match-set S[(projectcalico.org/namespace == "prod" && app == "db")] dst -j MARK --set-xmark 0x10000/0x10000`,
      '-m mark --mark 0x10000/0x10000 -j RETURN',
    ]);
    // The named port belongs to the endpoints the same side selects.
    expect(c.seen).to.include('(projectcalico.org/namespace == "prod" && app == "db")|tcp|http');
    expect(render({ action: 'Allow', protocol: 'UDP', destination: { ports: ['dns'] } })).to.deep.equal([
      '-p udp -m set --match-set N[udp:dns] dst,dst -j MARK --set-xmark 0x10000/0x10000',
      '-m mark --mark 0x10000/0x10000 -j RETURN',
    ]);
  });

  it('notPorts and named notPorts are ANDed negations in one rule', () => {
    expect(render({ action: 'Deny', protocol: 'TCP', destination: { notPorts: [22, 'ssh'] } })).to.deep.equal([
      '-p tcp -m multiport ! --dports 22 -m set ! --match-set N[tcp:ssh] dst,dst -j DROP',
    ]);
  });

  it('splits more than 15 multiport slots (a range takes two) into ORed chunks', () => {
    const ports = Array.from({ length: 14 }, (_, i) => ({ min: 1000 + i, max: 1000 + i }));
    expect(chunkPorts([...ports, { min: 2000, max: 2010 }]).map((c) => c.length)).to.deep.equal([14, 1]);
    expect(chunkPorts([...ports, { min: 3000, max: 3000 }]).map((c) => c.length)).to.deep.equal([15]);
    expect(render({ action: 'Allow', protocol: 'TCP', destination: { ports: Array.from({ length: 16 }, (_, i) => 100 + i) } })).to.have.length(7);
  });

  it('selector and notSelector become src/dst set matches; the notSelector is not namespaced', () => {
    expect(render({ action: 'Allow', source: { selector: 'role == "fe"', notSelector: 'tier == "x"' } }, 'prod')[0]).to.equal(
      '-m set --match-set S[(projectcalico.org/namespace == "prod" && role == "fe")] src -m set ! --match-set S[tier == "x"] src -j MARK --set-xmark 0x10000/0x10000');
  });

  it('skips IPv6-only rules and service matches in the IPv4 dataplane', () => {
    expect(render({ action: 'Allow', ipVersion: 6 })).to.deep.equal([]);
    expect(render({ action: 'Allow', source: { nets: ['fd00::/64'] } })).to.deep.equal([]);
    expect(render({ action: 'Allow', destination: { services: { name: 'kube-dns', namespace: 'kube-system' } } })).to.deep.equal([]);
  });

  it('refuses bad ports and protocols with a clear error', () => {
    expect(() => render({ action: 'Allow', protocol: 'TCP', destination: { ports: ['70000'] } })).to.throw(/invalid port "70000"/);
    expect(() => render({ action: 'Allow', protocol: 'tcp' })).to.throw(/invalid protocol "tcp"/);
  });
});

describe('rule selectors (libcalico-go conversion)', () => {
  it('namespaces selectors of namespaced policies and prefixes namespaceSelectors with pcns.', () => {
    expect(entitySelectors({ selector: "app == 'a'" }, 'ns1').selector!.toString()).to.equal('(projectcalico.org/namespace == "ns1" && app == "a")');
    expect(entitySelectors({ selector: "app == 'a'", namespaceSelector: "env == 'prod'" }, 'ns1').selector!.toString()).to.equal('(pcns.env == "prod" && app == "a")');
    expect(entitySelectors({ namespaceSelector: "env == 'prod'" }, '').selector!.toString()).to.equal('pcns.env == "prod"');
    expect(entitySelectors({ nets: ['10.0.0.0/8'] }, 'ns1').selector).to.equal(undefined);
    expect(entitySelectors({ selector: "app == 'a'" }, '').selector!.toString()).to.equal('app == "a"');
  });

  it('rewrites all() and global() inside namespaceSelectors', () => {
    expect(ruleNamespaceSelector('all()')).to.equal('has(projectcalico.org/namespace)');
    expect(ruleNamespaceSelector('global()')).to.equal('!has(projectcalico.org/namespace)');
    expect(entitySelectors({ notSelector: 'x == "1"', namespaceSelector: 'all()' }, 'ns').selector!.toString()).to.equal('has(projectcalico.org/namespace)');
  });

  it('turns serviceAccounts into pcsa. selectors and a name set', () => {
    expect(entitySelectors({ serviceAccounts: { names: ['b', 'a'], selector: 'team == "x"' } }, '').selector!.toString()).to.equal(
      '(pcsa.team == "x" && projectcalico.org/serviceaccount in {"a", "b"})');
  });
});

describe('names and hashes', () => {
  it('keeps short chain names and hashes long ones (or ones starting with _) to 28 characters', () => {
    expect(policyChainName('ingress', 'default/allow-web')).to.equal('cali-pi-default/allow-web');
    const long = policyChainName('egress', 'default/knp.default.allow-web-traffic');
    expect(long).to.match(/^cali-po-_[A-Za-z0-9_-]{19}$/);
    expect(long).to.have.length(28);
    expect(lengthLimitedId('cali-pi-', '_x')).to.match(/^cali-pi-_[A-Za-z0-9_-]{19}$/);
    expect(policyChainName('egress', 'default/knp.default.allow-web-traffic')).to.equal(long);
    expect(policyChainName('egress', 'default/knp.default.allow-web-traffic2')).to.not.equal(long);
  });

  it('names selector sets cali40 + the selector unique id, cut to 31 characters', () => {
    const sel = parseSelector("app == 'web'");
    const name = ipsetName(sel.uniqueId());
    expect(name).to.have.length(31);
    expect(name).to.equal(`cali40${sel.uniqueId()}`.slice(0, 31));
    expect(name.startsWith('cali40s:')).to.equal(true);
  });

  it('chains rule hashes through the chain name and every preceding rule', () => {
    const r1 = { match: [], action: { kind: 'accept' } } as const;
    const r2 = { match: [], action: { kind: 'drop' } } as const;
    const [a1, a2] = ruleHashes('cali-x', [r1, r2]);
    expect(a1).to.match(/^[A-Za-z0-9_-]{16}$/);
    expect(ruleHashes('cali-y', [r1, r2])[0]).to.not.equal(a1);
    expect(ruleHashes('cali-x', [r2, r2])[1]).to.not.equal(a2);
    expect(ruleHashes('cali-x', [r1, r2])).to.deep.equal([a1, a2]);
  });
});

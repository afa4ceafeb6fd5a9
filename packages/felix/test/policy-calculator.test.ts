// Unit tests: the incremental policy calculation (chains, ordering, default deny, profiles,
// label inheritance, IP set members) and its dirty tracking. The full output for a sample
// policy set is a golden file (UPDATE_GOLDEN=1 rewrites it).

import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { GlobalNetworkPolicy, NetworkPolicy, Profile, WorkloadEndpoint } from '@tabby/api';
import {
  PolicyCalculator, PolicyInputError, ipsetName, renderChainsRestore, renderRuleBody, type Chain,
} from '@tabby/felix';
import { parseSelector } from '@tabby/api';

const NODE = 'node1';

function wep(ns: string, name: string, iface: string, ip: string, labels: Record<string, string> = {}, opts: Partial<WorkloadEndpoint['spec']> = {}): WorkloadEndpoint {
  return {
    apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name, namespace: ns, labels },
    spec: { node: NODE, orchestrator: 'k8s', interfaceName: iface, ipNetworks: [`${ip}/32`], profiles: [`kns.${ns}`], ...opts },
  };
}
function np(ns: string, name: string, spec: NetworkPolicy['spec']): NetworkPolicy {
  return { apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec };
}
function gnp(name: string, spec: GlobalNetworkPolicy['spec']): GlobalNetworkPolicy {
  return { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name }, spec };
}
function kns(ns: string, labels: Record<string, string> = {}): Profile {
  const labelsToApply: Record<string, string> = { 'pcns.projectcalico.org/name': ns };
  for (const [k, v] of Object.entries(labels)) labelsToApply[`pcns.${k}`] = v;
  return { apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: `kns.${ns}` }, spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply } };
}

const body = (c: Chain | undefined): string[] => (c ? c.rules.map(renderRuleBody) : []);
const jumps = (c: Chain | undefined): string[] => (c?.rules ?? []).flatMap((r) => (r.action.kind === 'jump' ? [r.action.target] : []));

/** A small cluster: two local pods in `shop`, one in `tools`, one remote pod. */
function sample(): PolicyCalculator {
  const c = new PolicyCalculator({ nodeName: NODE });
  c.update(kns('shop', { env: 'prod' }));
  c.update(kns('tools', { env: 'dev' }));
  c.update(wep('shop', 'web-1', 'cali1111111111a', '10.65.0.1', { app: 'web' }));
  c.update(wep('shop', 'db-1', 'cali2222222222b', '10.65.0.2', { app: 'db' }, { ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }] }));
  c.update(wep('tools', 'probe', 'cali3333333333c', '10.65.0.3', { app: 'probe' }));
  c.update(wep('shop', 'web-2', 'cali4444444444d', '10.65.1.9', { app: 'web' }, { node: 'node2' }));
  c.update(np('shop', 'db-ingress', {
    order: 100, selector: "app == 'db'", types: ['Ingress'],
    ingress: [
      { action: 'Allow', protocol: 'TCP', source: { selector: "app == 'web'" }, destination: { ports: ['pg'] } },
      { action: 'Allow', protocol: 'TCP', source: { namespaceSelector: "env == 'dev'" }, destination: { ports: [5432] } },
    ],
  }));
  c.update(gnp('deny-metadata', {
    order: 10, selector: 'all()', types: ['Egress'],
    egress: [
      { action: 'Deny', destination: { nets: ['169.254.169.254/32'] } },
      { action: 'Pass' },
    ],
  }));
  c.update(gnp('icmp', { order: 20, selector: "app == 'db'", ingress: [{ action: 'Log', protocol: 'ICMP' }, { action: 'Allow', protocol: 'ICMP', icmp: { type: 8 } }] }));
  return c;
}

describe('policy calculator', () => {
  it('produces the golden chains and IP sets for a sample cluster', () => {
    const c = sample();
    const text = renderChainsRestore([...c.chains.values()].sort((a, b) => (a.name < b.name ? -1 : 1)));
    const sets = [...c.ipsets().values()].map((s) => `${s.name} ${s.type} ${[...s.members].join(' ')}`).sort().join('\n') + '\n';
    const golden = (file: string, actual: string) => {
      const url = new URL(`../fixtures/${file}`, import.meta.url);
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(url)) writeFileSync(url, actual);
      expect(actual).to.equal(readFileSync(url, 'utf8'));
    };
    golden('sample-filter.restore', text);
    golden('sample-ipsets.txt', sets);
  });

  it('orders tiers and policies by order, then name; a selected endpoint is default-deny per tier', () => {
    const c = new PolicyCalculator({ nodeName: NODE });
    c.update(kns('ns'));
    c.update(wep('ns', 'p', 'caliaaaaaaaaaaa', '10.0.0.1', { app: 'x' }));
    c.update(np('ns', 'zeta', { order: 5, ingress: [{ action: 'Allow' }] }));
    c.update(np('ns', 'alpha', { order: 5, ingress: [{ action: 'Allow' }] }));
    c.update(np('ns', 'first', { order: 1, ingress: [{ action: 'Allow' }] }));
    c.update(np('ns', 'unordered', { ingress: [{ action: 'Allow' }] }));
    c.update(gnp('admin', { tier: 'kube-admin', ingress: [{ action: 'Pass' }] }));
    const tw = c.chains.get('cali-tw-caliaaaaaaaaaaa');
    expect(jumps(tw)).to.deep.equal([
      'cali-pi-admin', 'cali-pi-ns/first', 'cali-pi-ns/alpha', 'cali-pi-ns/zeta', 'cali-pi-ns/unordered', 'cali-pri-kns.ns',
    ]);
    const text = body(tw);
    // kube-admin passes by default (no end-of-tier drop); default tier denies.
    expect(text.filter((l) => l.includes('End of tier'))).to.deep.equal([
      '-m comment --comment "End of tier default. Drop if no policies passed packet" -m mark --mark 0x0/0x20000 -j DROP',
    ]);
    expect(text.indexOf('-m comment --comment "Start of tier kube-admin" -j MARK --set-xmark 0x0/0x20000')).to.be.lessThan(
      text.indexOf('-m comment --comment "Start of tier default" -j MARK --set-xmark 0x0/0x20000'));
    // Egress has no policy: profiles decide.
    expect(jumps(c.chains.get('cali-fw-caliaaaaaaaaaaa'))).to.deep.equal(['cali-pro-kns.ns']);
  });

  it('renders the endpoint chain layout exactly', () => {
    const c = new PolicyCalculator({ nodeName: NODE });
    c.update(kns('ns'));
    c.update(wep('ns', 'p', 'calib', '10.0.0.1', { app: 'x' }));
    c.update(np('ns', 'allow', { selector: "app == 'x'", ingress: [{ action: 'Allow' }] }));
    expect(body(c.chains.get('cali-tw-calib'))).to.deep.equal([
      '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-m conntrack --ctstate INVALID -j DROP',
      '-j MARK --set-xmark 0x0/0x30000',
      '-m comment --comment "Start of tier default" -j MARK --set-xmark 0x0/0x20000',
      '-m mark --mark 0x0/0x20000 -j cali-pi-ns/allow',
      '-m comment --comment "Return if policy accepted" -m mark --mark 0x10000/0x10000 -j RETURN',
      '-m comment --comment "End of tier default. Drop if no policies passed packet" -m mark --mark 0x0/0x20000 -j DROP',
      '-j cali-pri-kns.ns',
      '-m comment --comment "Return if profile accepted" -m mark --mark 0x10000/0x10000 -j RETURN',
      '-m comment --comment "Drop if no profiles matched" -j DROP',
    ]);
    expect(body(c.chains.get('cali-from-wl-dispatch'))).to.deep.equal([
      '-i calib -g cali-fw-calib',
      '-m comment --comment "Unknown interface" -j DROP',
    ]);
  });

  it('an Ingress-only policy with no rules selects and denies all ingress', () => {
    const c = new PolicyCalculator({ nodeName: NODE });
    c.update(kns('ns'));
    c.update(wep('ns', 'p', 'calib', '10.0.0.1'));
    c.update(np('ns', 'deny-all', { types: ['Ingress'] }));
    expect(body(c.chains.get('cali-pi-ns/deny-all'))).to.deep.equal([]);
    expect(jumps(c.chains.get('cali-tw-calib'))).to.deep.equal(['cali-pi-ns/deny-all', 'cali-pri-kns.ns']);
    expect(c.chains.has('cali-po-ns/deny-all')).to.equal(false);
  });

  it('a missing profile fails closed: no jump, so the final drop applies', () => {
    const c = new PolicyCalculator({ nodeName: NODE });
    c.update(wep('ns', 'p', 'calib', '10.0.0.1'));
    expect(jumps(c.chains.get('cali-tw-calib'))).to.deep.equal([]);
    expect(c.chains.has('cali-pri-kns.ns')).to.equal(false);
    c.update(kns('ns'));
    expect(jumps(c.chains.get('cali-tw-calib'))).to.deep.equal(['cali-pri-kns.ns']);
    expect(c.chains.has('cali-pri-kns.ns')).to.equal(true);
  });

  it('namespaceSelector matches the pcns. labels endpoints inherit from their namespace profile', () => {
    const c = sample();
    const devSet = ipsetName(parseSelector('pcns.env == "dev"').uniqueId());
    expect([...c.ipset(devSet)!.members]).to.deep.equal(['10.65.0.3/32']);
    c.takeDirty();
    c.update(kns('shop', { env: 'dev' }));
    expect(c.takeDirty().ipsets).to.include(devSet);
    expect([...c.ipset(devSet)!.members].sort()).to.deep.equal(['10.65.0.1/32', '10.65.0.2/32', '10.65.0.3/32', '10.65.1.9/32']);
  });

  it('IP set members come from every node; only local endpoints get chains', () => {
    const c = sample();
    const webSet = ipsetName(parseSelector('(projectcalico.org/namespace == "shop") && (app == "web")').uniqueId());
    expect([...c.ipset(webSet)!.members].sort()).to.deep.equal(['10.65.0.1/32', '10.65.1.9/32']);
    expect(c.chains.has('cali-tw-cali4444444444d')).to.equal(false);
    c.takeDirty();
    c.remove('WorkloadEndpoint', 'web-2', 'shop');
    expect(c.takeDirty()).to.deep.equal({ chains: [], ipsets: [webSet] });
    expect([...c.ipset(webSet)!.members]).to.deep.equal(['10.65.0.1/32']);
  });

  it('named-port sets hold ip,proto:port of the selected endpoints', () => {
    const c = sample();
    const pg = [...c.ipsets().values()].find((s) => s.type === 'hash:ip,port')!;
    expect(pg.name.startsWith('cali40n:')).to.equal(true);
    expect([...pg.members]).to.deep.equal(['10.65.0.2,tcp:5432']);
  });

  describe('incremental updates', () => {
    it('a rule change in one policy dirties only that policy chain', () => {
      const c = sample();
      c.takeDirty();
      c.update(np('shop', 'db-ingress', {
        order: 100, selector: "app == 'db'", types: ['Ingress'],
        ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "app == 'web'" }, destination: { ports: ['pg'] } }],
      }));
      const dirty = c.takeDirty();
      expect(dirty.chains).to.deep.equal(['cali-pi-shop/db-ingress']);
      // The dev-namespace set is no longer used by anything.
      expect(dirty.ipsets).to.deep.equal([ipsetName(parseSelector('pcns.env == "dev"').uniqueId())]);
      expect(c.ipset(dirty.ipsets[0]!)).to.equal(undefined);
    });

    it('reordering dirties the endpoint chains that list the policy, not the policy chain', () => {
      const c = sample();
      c.takeDirty();
      c.update(gnp('icmp', { order: 200, selector: "app == 'db'", ingress: [{ action: 'Log', protocol: 'ICMP' }, { action: 'Allow', protocol: 'ICMP', icmp: { type: 8 } }] }));
      expect(c.takeDirty()).to.deep.equal({ chains: ['cali-tw-cali2222222222b'], ipsets: [] });
      c.update(gnp('icmp', { order: 200, selector: "app == 'db'", ingress: [{ action: 'Log', protocol: 'ICMP' }, { action: 'Allow', protocol: 'ICMP', icmp: { type: 8 } }] }));
      expect(c.takeDirty(), 'an identical update changes nothing').to.deep.equal({ chains: [], ipsets: [] });
    });

    it('a policy that starts selecting an endpoint adds its chain and rewrites that endpoint only', () => {
      const c = sample();
      c.takeDirty();
      c.update(gnp('icmp', { order: 20, selector: "app == 'probe'", ingress: [{ action: 'Log', protocol: 'ICMP' }, { action: 'Allow', protocol: 'ICMP', icmp: { type: 8 } }] }));
      expect(c.takeDirty().chains).to.deep.equal(['cali-tw-cali2222222222b', 'cali-tw-cali3333333333c']);
      c.remove('GlobalNetworkPolicy', 'icmp');
      expect(c.takeDirty().chains).to.deep.equal(['cali-pi-icmp', 'cali-tw-cali3333333333c']);
      expect(c.chains.has('cali-pi-icmp')).to.equal(false);
    });

    it('an endpoint relabel moves set members and policy selection; a new endpoint updates dispatch', () => {
      const c = sample();
      c.takeDirty();
      c.update(wep('shop', 'web-1', 'cali1111111111a', '10.65.0.1', { app: 'db' }));
      const dirty = c.takeDirty();
      expect(dirty.chains).to.deep.equal(['cali-tw-cali1111111111a']);
      // It left the web set; the db named-port set is unchanged because it has no "pg" port.
      const webSet = ipsetName(parseSelector('(projectcalico.org/namespace == "shop") && (app == "web")').uniqueId());
      expect(dirty.ipsets).to.deep.equal([webSet]);
      expect(jumps(c.chains.get('cali-tw-cali1111111111a'))).to.deep.equal(['cali-pi-icmp', 'cali-pi-shop/db-ingress', 'cali-pri-kns.shop']);
      c.update(wep('shop', 'new', 'cali5555555555e', '10.65.0.5', { app: 'x' }));
      expect(c.takeDirty().chains).to.deep.equal(['cali-from-wl-dispatch', 'cali-fw-cali5555555555e', 'cali-to-wl-dispatch', 'cali-tw-cali5555555555e']);
    });
  });

  it('refuses unusable resources with PolicyInputError and treats them as absent', () => {
    const c = sample();
    expect(() => c.update(np('shop', 'db-ingress', { selector: 'app ==' }))).to.throw(PolicyInputError, /NetworkPolicy np:shop\/db-ingress: bad selector/);
    expect(c.chains.has('cali-pi-shop/db-ingress')).to.equal(false);
    expect(() => c.update(gnp('bad-port', { ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['1:0'] } }] }))).to.throw(PolicyInputError, /rule 0: invalid port/);
    expect(() => c.update({ ...wep('shop', 'x', '', '10.0.0.9'), spec: { interfaceName: '' } } as WorkloadEndpoint)).to.throw(PolicyInputError, /interfaceName is required/);
    expect(() => new PolicyCalculator({ nodeName: '' })).to.throw(/node name/);
  });
});

import { expect } from 'chai';
import type { GlobalNetworkPolicy } from '@tabby/api';
import { expectIssue, expectValid, gnp, issuesOf, loadFixture } from './policy-support.js';

describe('GlobalNetworkPolicy: examples from the Calico docs', () => {
  const docs = loadFixture('docs-global-network-policies.yaml');

  it('has the examples', () => expect(docs.length).to.equal(10));

  docs.forEach((doc, i) => {
    const meta = doc['metadata'] as { name: string };
    it(`validates #${i} ${meta.name} unchanged`, () => {
      expectValid(doc);
    });
  });

  it('keeps the reference example as written, adding only tier and types defaults', () => {
    const r = expectValid(docs[0]) as GlobalNetworkPolicy;
    expect(r.metadata).to.deep.equal({ name: 'allow-tcp-6379', labels: { 'projectcalico.org/tier': 'default' } });
    expect(r.spec.selector).to.equal("role == 'database'");
    expect(r.spec.ingress?.[0]?.destination).to.deep.equal({ ports: [6379] });
  });

  it('defaults types the same way for doNotTrack and preDNAT policies', () => {
    const types = (i: number) => (expectValid(docs[i]) as GlobalNetworkPolicy).spec.types;
    expect(types(3)).to.deep.equal(['Ingress', 'Egress']); // memcached-server (doNotTrack)
    expect(types(4)).to.deep.equal(['Egress']); // allow-outbound-external
    expect(types(5)).to.deep.equal(['Ingress']); // allow-nodeport (preDNAT)
    expect(types(7)).to.deep.equal(['Egress']); // allow-kube-dns
  });

  it('keeps flow-style lists from the YAML', () => {
    const r = expectValid(docs[5]) as GlobalNetworkPolicy;
    expect(r.spec.ingress?.[0]?.destination).to.deep.equal({ selector: 'has(kubernetes-host)', ports: [31852] });
  });

  it('refuses the node-ports example whose nets have host bits set, as Calico does', () => {
    const [doc] = loadFixture('docs-rejected-by-calico.yaml');
    expectIssue(doc, 'spec.ingress[0].source.nets[0]', 'strictly masked', '1.2.3.4/16');
    expectIssue(doc, 'spec.ingress[0].source.nets[1]', 'strictly masked', '100.100.100.0/16');
    const spec = doc!['spec'] as { ingress: { source?: { nets: string[] } }[] };
    spec.ingress[0]!.source!.nets = ['1.2.0.0/16', '100.100.0.0/16'];
    expect((expectValid(doc) as GlobalNetworkPolicy).spec.types).to.deep.equal(['Ingress']);
  });
});

describe('GlobalNetworkPolicy: host endpoint modes', () => {
  const ing = [{ action: 'Allow' }];

  it('accepts each mode with applyOnForward, and applyOnForward alone', () => {
    expectValid(gnp({ applyOnForward: true }));
    expectValid(gnp({ applyOnForward: true, preDNAT: true, ingress: ing }));
    expectValid(gnp({ applyOnForward: true, doNotTrack: true, ingress: ing, egress: ing }));
    expectValid(gnp({ applyOnForward: false, doNotTrack: false, preDNAT: false }));
  });

  it('refuses doNotTrack together with preDNAT', () => {
    expectIssue(gnp({ applyOnForward: true, doNotTrack: true, preDNAT: true }), 'spec.preDNAT', 'preDNAT and doNotTrack cannot both be true');
  });

  it('requires applyOnForward for doNotTrack and for preDNAT', () => {
    expectIssue(gnp({ doNotTrack: true }), 'spec.applyOnForward', 'applyOnForward must be true when doNotTrack is true', false);
    expectIssue(gnp({ preDNAT: true, applyOnForward: false }), 'spec.applyOnForward', 'applyOnForward must be true when preDNAT is true');
  });

  it('refuses egress rules and the Egress type on preDNAT policies', () => {
    const doc = gnp({ preDNAT: true, applyOnForward: true, egress: ing });
    expectIssue(doc, 'spec.egress', 'preDNAT policy cannot have any egress rules');
    // The defaulted types ([Egress]) are refused too, as Calico defaults before validating.
    expectIssue(doc, 'spec.types[0]', "cannot have the 'Egress' type");
    expectIssue(gnp({ preDNAT: true, applyOnForward: true, types: ['Ingress', 'Egress'] }), 'spec.types[1]', "preDNAT policy cannot have the 'Egress' type", 'Egress');
  });

  it('checks field types', () => {
    expectIssue(gnp({ preDNAT: 'yes' }), 'spec.preDNAT', 'must be true or false');
  });
});

describe('GlobalNetworkPolicy: validation', () => {
  it('accepts a namespaceSelector', () => {
    expectValid(gnp({ namespaceSelector: 'has(projectcalico.org/name)', selector: 'all()' }));
  });

  it('refuses global() in policy-level selectors', () => {
    expectIssue(gnp({ namespaceSelector: 'global()' }), 'spec.namespaceSelector', 'global() can only be used');
    expectIssue(gnp({ selector: 'global()' }), 'spec.selector', 'global() can only be used');
    expectIssue(gnp({ serviceAccountSelector: 'global()' }), 'spec.serviceAccountSelector', 'global() can only be used');
  });

  it('requires a namespace on service matches', () => {
    expectValid(gnp({ egress: [{ action: 'Allow', destination: { services: { name: 'kube-dns', namespace: 'kube-system' } } }] }));
    expectIssue(gnp({ egress: [{ action: 'Allow', destination: { services: { name: 'kube-dns' } } }] }), 'spec.egress[0].destination.services.namespace', 'must specify a namespace');
    expectIssue(gnp({ ingress: [{ action: 'Allow', source: { services: { name: 'frontend' } } }] }), 'spec.ingress[0].source.services.namespace', 'must specify a namespace');
  });

  it('refuses services on the near end and HTTP on egress, like NetworkPolicy', () => {
    const svc = { name: 'a', namespace: 'b' };
    expectIssue(gnp({ ingress: [{ action: 'Allow', destination: { services: svc } }] }), 'spec.ingress[0].destination.services', 'not allowed in an ingress rule destination');
    expectIssue(gnp({ egress: [{ action: 'Allow', source: { services: svc } }] }), 'spec.egress[0].source.services', 'not allowed in an egress rule source');
    expectIssue(gnp({ egress: [{ action: 'Allow', http: { paths: [{ prefix: '/' }] } }] }), 'spec.egress[0].http', 'not allowed in egress rules');
  });

  it('validates rules with full paths', () => {
    const issues = issuesOf(gnp({ egress: [{ action: 'Allow' }, { action: 'Allow', destination: { ports: [53] } }] }));
    expect(issues.map((i) => i.path)).to.deep.equal(['spec.egress[1].destination.ports[0]']);
  });

  it('is not namespaced', () => {
    expectIssue({ ...gnp({}), metadata: { name: 'p', namespace: 'x' } }, 'metadata.namespace', 'not namespaced');
  });
});

describe('GlobalNetworkPolicy: names', () => {
  const named = (name: string) => ({ ...gnp({}), metadata: { name } });

  it('accepts a label, optionally with one "." (tier prefix)', () => {
    for (const name of ['thing', 'th.ing', 'default.allow-all', 'a'.repeat(253)]) expectValid(named(name));
  });

  it('rejects other names, including Kubernetes-policy names', () => {
    for (const name of ['t.h.i.ng', 'tHiNg', 't~!s.h.i.ng', 'knp.default.thing']) {
      expectIssue(named(name), 'metadata.name', 'a GlobalNetworkPolicy name', name);
    }
    expectIssue(named('a'.repeat(254)), 'metadata.name', 'too long');
  });
});

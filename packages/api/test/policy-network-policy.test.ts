import { expect } from 'chai';
import { defaultNetworkPolicy, defaultPolicyTypes, type NetworkPolicy } from '@tabby/api';
import { expectIssue, expectValid, issuesOf, loadFixture, np } from './policy-support.js';

describe('NetworkPolicy: examples from the Calico docs', () => {
  const docs = loadFixture('docs-network-policies.yaml');

  it('has the examples', () => expect(docs.length).to.equal(11));

  docs.forEach((doc, i) => {
    const meta = doc['metadata'] as { name: string };
    it(`validates #${i} ${meta.name} unchanged`, () => {
      expectValid(doc);
    });
  });

  it('keeps the reference example as written, adding only tier and types defaults', () => {
    const r = expectValid(docs[0]) as NetworkPolicy;
    expect(r.metadata).to.deep.equal({ name: 'allow-tcp-6379', namespace: 'production', labels: { 'projectcalico.org/tier': 'default' } });
    expect(r.spec.tier).to.equal('default');
    expect(r.spec.types).to.deep.equal(['Ingress', 'Egress']);
    expect(r.spec.ingress).to.deep.equal([{
      action: 'Allow',
      metadata: { annotations: { from: 'frontend', to: 'database' } },
      protocol: 'TCP',
      source: { selector: "role == 'frontend'" },
      destination: { ports: [6379] },
    }]);
    expect(r.spec.egress).to.deep.equal([{ action: 'Allow' }]);
  });

  it('defaults types for the examples that omit them', () => {
    const types = (i: number) => (expectValid(docs[i]) as NetworkPolicy).spec.types;
    expect(types(1)).to.deep.equal(['Ingress']); // allow-tcp-6379 (ingress only)
    expect(types(4)).to.deep.equal(['Egress']); // allow-api-access (egress only)
    expect(types(9)).to.deep.equal(['Ingress', 'Egress']); // restrict-intern-access (both)
  });
});

describe('NetworkPolicy: defaults', () => {
  const typesOf = (spec: Record<string, unknown>) => (expectValid(np(spec)) as NetworkPolicy).spec.types;

  it('defaults types from the rules present', () => {
    expect(typesOf({})).to.deep.equal(['Ingress']);
    expect(typesOf({ ingress: [{ action: 'Allow' }] })).to.deep.equal(['Ingress']);
    expect(typesOf({ egress: [{ action: 'Allow' }] })).to.deep.equal(['Egress']);
    expect(typesOf({ ingress: [{ action: 'Allow' }], egress: [{ action: 'Deny' }] })).to.deep.equal(['Ingress', 'Egress']);
    expect(typesOf({ ingress: [], egress: [] })).to.deep.equal(['Ingress']);
    expect(typesOf({ types: [] })).to.deep.equal(['Ingress']);
  });

  it('keeps explicit types, even when they disagree with the rules', () => {
    expect(typesOf({ types: ['Egress'], ingress: [{ action: 'Allow' }] })).to.deep.equal(['Egress']);
    expect(typesOf({ types: ['Egress', 'Ingress'] })).to.deep.equal(['Egress', 'Ingress']);
  });

  it('defaults the tier to "default" and labels the policy with its tier', () => {
    const r = expectValid(np({})) as NetworkPolicy;
    expect(r.spec.tier).to.equal('default');
    expect(r.metadata.labels).to.deep.equal({ 'projectcalico.org/tier': 'default' });
    const t = expectValid({ ...np({ tier: 'security' }), metadata: { name: 'p', namespace: 'ns', labels: { app: 'x' } } }) as NetworkPolicy;
    expect(t.spec.tier).to.equal('security');
    expect(t.metadata.labels).to.deep.equal({ app: 'x', 'projectcalico.org/tier': 'security' });
  });

  it('does not mutate its input', () => {
    const input: NetworkPolicy = {
      apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy',
      metadata: { name: 'p', namespace: 'default' }, spec: { egress: [{ action: 'Allow' }] },
    };
    const out = defaultNetworkPolicy(input);
    expect(out.spec.types).to.deep.equal(['Egress']);
    expect(input.spec).to.deep.equal({ egress: [{ action: 'Allow' }] });
    expect(input.metadata.labels).to.equal(undefined);
  });

  it('applies nothing when defaults are turned off', () => {
    const r = expectValid(np({ ingress: [{ action: 'Allow' }] }), { applyDefaults: false }) as NetworkPolicy;
    expect(r.spec.types).to.equal(undefined);
    expect(r.spec.tier).to.equal(undefined);
  });

  it('exposes the types rule on its own', () => {
    expect(defaultPolicyTypes(undefined, [{ action: 'Allow' }])).to.deep.equal(['Egress']);
  });

  it('takes the namespace from the caller when the manifest has none', () => {
    const doc = { apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: 'p' }, spec: {} };
    expect(expectValid(doc, { defaultNamespace: 'dev' }).metadata.namespace).to.equal('dev');
    expectIssue(doc, 'metadata.namespace', 'is required');
  });
});

describe('NetworkPolicy: validation', () => {
  it('accepts order, selectors and performance hints', () => {
    expectValid(np({ order: 100.5, selector: 'role == "db"', serviceAccountSelector: 'all()', performanceHints: ['AssumeNeededOnEveryNode'] }));
  });

  it('rejects unknown fields, including GlobalNetworkPolicy-only ones', () => {
    expectIssue(np({ namespaceSelector: 'all()' }), 'spec.namespaceSelector', 'unknown field');
    expectIssue(np({ doNotTrack: true }), 'spec.doNotTrack', 'unknown field');
    expectIssue(np({ ingres: [] }), 'spec.ingres', 'did you mean "ingress"');
  });

  it('checks field types', () => {
    expectIssue(np({ order: '10' }), 'spec.order', 'must be a number', '10');
    expectIssue(np({ types: ['ingress'] }), 'spec.types[0]', 'must be one of Ingress, Egress', 'ingress');
    expectIssue(np({ types: ['Ingress', 'Egress', 'Ingress'] }), 'spec.types', 'at most 2');
    expectIssue(np({ ingress: { action: 'Allow' } }), 'spec.ingress', 'must be a list');
  });

  it('rejects repeated types', () => {
    expectIssue(np({ types: ['Ingress', 'Ingress'] }), 'spec.types[1]', "'Ingress' type specified more than once");
  });

  it('rejects unknown or repeated performance hints', () => {
    expectIssue(np({ performanceHints: ['Bogus'] }), 'spec.performanceHints[0]', 'must be one of AssumeNeededOnEveryNode');
    expectIssue(np({ performanceHints: ['AssumeNeededOnEveryNode', 'AssumeNeededOnEveryNode'] }), 'spec.performanceHints[1]', 'more than once');
  });

  it('rejects an invalid tier name', () => {
    expectIssue(np({ tier: 'Bad Tier' }), 'spec.tier', 'DNS-1123 subdomain', 'Bad Tier');
  });

  it('parses the policy selectors', () => {
    expectIssue(np({ selector: 'role = "db"' }), 'spec.selector', 'invalid selector');
    expectIssue(np({ serviceAccountSelector: 'has(' }), 'spec.serviceAccountSelector', 'invalid selector');
  });

  it('refuses global() in the policy selectors', () => {
    expectIssue(np({ selector: 'global()' }), 'spec.selector', 'global() can only be used in an EntityRule namespaceSelector');
    expectIssue(np({ serviceAccountSelector: 'global()' }), 'spec.serviceAccountSelector', 'global() can only be used');
  });

  it('allows services only at the far end of a rule', () => {
    const svc = { name: 'kubernetes', namespace: 'default' };
    expectValid(np({ egress: [{ action: 'Allow', destination: { services: svc } }] }));
    expectValid(np({ ingress: [{ action: 'Allow', source: { services: { name: 'frontend' } } }] }));
    expectIssue(np({ ingress: [{ action: 'Allow', destination: { services: svc } }] }), 'spec.ingress[0].destination.services', 'not allowed in an ingress rule destination');
    expectIssue(np({ egress: [{ action: 'Allow', source: { services: svc } }] }), 'spec.egress[0].source.services', 'not allowed in an egress rule source');
  });

  it('refuses HTTP matches on egress rules', () => {
    expectValid(np({ ingress: [{ action: 'Allow', http: { methods: ['GET'] } }] }));
    expectIssue(np({ egress: [{ action: 'Allow', http: { methods: ['GET'] } }] }), 'spec.egress[0].http', 'not allowed in egress rules');
  });

  it('checks rules in both directions with their full paths', () => {
    const doc = np({
      ingress: [{ action: 'Allow' }, { action: 'Allow', protocol: 'TCP', destination: { ports: [80, 0] } }],
      egress: [{ action: 'Allow', protocol: 'TCP', source: { ports: ['9:1'] } }],
    });
    const paths = issuesOf(doc).map((i) => i.path);
    expect(paths).to.deep.equal(['spec.ingress[1].destination.ports[1]', 'spec.egress[0].source.ports[0]']);
  });
});

describe('NetworkPolicy: names', () => {
  const named = (name: string) => ({ ...np({}), metadata: { name, namespace: 'default' } });

  it('accepts a label, label.label, and the knp.default. / ossg.default. prefixes', () => {
    for (const name of ['thing', 'th.ing', 'default.allow-db', 'knp.default.thing', 'knp.default.a.b.c', 'ossg.default.sg-1', 'a'.repeat(253)]) {
      expectValid(named(name));
    }
  });

  it('rejects other names', () => {
    expectIssue(named('t.h.i.ng'), 'metadata.name', 'at most one "."', 't.h.i.ng');
    expectIssue(named('tHiNg'), 'metadata.name', 'a NetworkPolicy name');
    expectIssue(named('t~!s'), 'metadata.name', 'a NetworkPolicy name');
    expectIssue(named('-x'), 'metadata.name', 'a NetworkPolicy name');
    expectIssue(named('a'.repeat(254)), 'metadata.name', 'too long by 1');
  });
});

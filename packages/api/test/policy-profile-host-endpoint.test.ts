import { expect } from 'chai';
import type { HostEndpoint, Profile } from '@tabby/api';
import { expectIssue, expectValid, loadFixture } from './policy-support.js';

const hep = (spec: Record<string, unknown>, name = 'h') =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'HostEndpoint', metadata: { name }, spec });
const profile = (spec: Record<string, unknown>, name = 'p') =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name }, spec });

describe('HostEndpoint and Profile: examples from the Calico docs', () => {
  const docs = loadFixture('docs-host-endpoints-profiles.yaml');

  it('validates them unchanged, with no defaults added', () => {
    expect(docs.length).to.equal(3);
    for (const doc of docs) {
      const r = expectValid(doc);
      expect(r.spec).to.deep.equal(doc['spec']);
      expect(r.metadata).to.deep.equal(doc['metadata']);
    }
    const h = expectValid(docs[0]) as HostEndpoint;
    expect(h.spec.ports?.map((p) => p.name)).to.deep.equal(['some-port', 'another-port']);
    expect((expectValid(docs[2]) as Profile).spec.labelsToApply).to.deep.equal({ stage: 'development' });
  });
});

describe('HostEndpoint: validation', () => {
  it('accepts an interface name, "*", or expected IPs alone', () => {
    expectValid(hep({ node: 'node01', interfaceName: 'eth0' }));
    expectValid(hep({ node: 'node01', interfaceName: '*' }));
    expectValid(hep({ node: 'node01', expectedIPs: ['10.0.0.1', 'fd00::1'] }));
    expectValid(hep({ node: 'node01', interfaceName: 'eth0', expectedIPs: ['10.0.0.1'] }));
  });

  it('requires a node', () => {
    expectIssue(hep({ interfaceName: 'eth0' }), 'spec.node', 'node must be specified');
    expectIssue(hep({ node: 'Node_1', interfaceName: 'eth0' }), 'spec.node', 'DNS-1123 subdomain');
  });

  it('requires an interface name or expected IPs', () => {
    expectIssue(hep({ node: 'node01' }), 'spec.interfaceName', 'at least one of interfaceName or expectedIPs');
    expectIssue(hep({ node: 'node01', interfaceName: '', expectedIPs: [] }), 'spec.interfaceName', 'at least one of interfaceName or expectedIPs');
  });

  it('checks interface names, IPs and profile names', () => {
    expectIssue(hep({ node: 'n', interfaceName: 'an-interface-too-long' }), 'spec.interfaceName', 'interface name of 1-15 characters');
    expectIssue(hep({ node: 'n', interfaceName: 'eth*' }), 'spec.interfaceName', 'interface name');
    expectIssue(hep({ node: 'n', expectedIPs: ['10.0.0.1', '10.0.0.0/24'] }), 'spec.expectedIPs[1]', 'IPv4 or IPv6 address', '10.0.0.0/24');
    expectValid(hep({ node: 'n', interfaceName: 'eth0', profiles: ['knp.default.fun', 'fun-funner1234'] }));
    expectIssue(hep({ node: 'n', interfaceName: 'eth0', profiles: ['.fun'] }), 'spec.profiles[0]', 'DNS-1123 subdomain', '.fun');
  });

  it('accepts named ports, including names used twice with different protocols', () => {
    expectValid(hep({
      node: 'node01', interfaceName: 'eth0',
      ports: [{ name: 'a-valid-port', protocol: 'TCP', port: 1234 }, { name: 'a-valid-port', protocol: 'UDP', port: 5456 }, { name: 'sctp', protocol: 132, port: 9 }],
    }));
  });

  it('checks each port: a name, a protocol with ports, a number 1-65535', () => {
    const withPort = (p: Record<string, unknown>) => hep({ node: 'n', interfaceName: 'eth0', ports: [p] });
    expectIssue(withPort({ protocol: 'TCP', port: 1234 }), 'spec.ports[0].name', 'is required');
    expectIssue(withPort({ name: 'Bad_Name', protocol: 'TCP', port: 1234 }), 'spec.ports[0].name', 'must be a port name');
    expectIssue(withPort({ name: 'web', port: 1234 }), 'spec.ports[0].protocol', 'is required');
    expectIssue(withPort({ name: 'web', protocol: 'ICMP', port: 1234 }), 'spec.ports[0].protocol', 'must be TCP, UDP or SCTP', 'ICMP');
    expectIssue(withPort({ name: 'web', protocol: 123, port: 1234 }), 'spec.ports[0].protocol', 'must be TCP, UDP or SCTP', 123);
    expectIssue(withPort({ name: 'web', protocol: 'tcp', port: 1234 }), 'spec.ports[0].protocol', 'case-sensitive');
    expectIssue(withPort({ name: 'web', protocol: 'TCP', port: 0 }), 'spec.ports[0].port', 'at least 1');
    expectIssue(withPort({ name: 'web', protocol: 'TCP', port: 65536 }), 'spec.ports[0].port', 'at most 65535');
    expectIssue(withPort({ name: 'web', protocol: 'TCP', port: 80, hostPort: 8080 }), 'spec.ports[0].hostPort', 'unknown field');
  });

  it('is not namespaced', () => {
    expectIssue({ ...hep({ node: 'n', interfaceName: 'eth0' }), metadata: { name: 'h', namespace: 'x' } }, 'metadata.namespace', 'not namespaced');
  });
});

describe('Profile: validation', () => {
  it('accepts labelsToApply with qualified keys and 63-character values', () => {
    expectValid(profile({ labelsToApply: { 'project.calico.org/my-valid-label': 'v'.repeat(63), empty: '' } }));
  });

  it('rejects bad label keys and values', () => {
    expectIssue(profile({ labelsToApply: { 'project.calico.org/my-valid-label': 'v'.repeat(64) } }), 'spec.labelsToApply.project.calico.org/my-valid-label', 'invalid label value');
    expectIssue(profile({ labelsToApply: { '.mylabel': 'value' } }), 'spec.labelsToApply..mylabel', 'invalid label key', '.mylabel');
    expectIssue(profile({ labelsToApply: { 'my!nvalid-label': 'value' } }), 'spec.labelsToApply.my!nvalid-label', 'invalid label key');
    expectIssue(profile({ labelsToApply: { 'my-invalid-label$': 'value' } }), 'spec.labelsToApply.my-invalid-label$', 'invalid label key');
    expectIssue(profile({ labelsToApply: { a: 1 } }), 'spec.labelsToApply.a', 'must be a string');
  });

  it('validates its (deprecated) rules like policy rules, and defaults nothing', () => {
    const r = expectValid(profile({ ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow', protocol: 'UDP', destination: { ports: [53] } }] })) as Profile;
    expect(r.spec).to.not.have.property('types');
    expect(r.metadata.labels).to.equal(undefined);
    expectIssue(profile({ egress: [{ action: 'Allow', destination: { ports: [53] } }] }), 'spec.egress[0].destination.ports[0]', 'must set protocol');
    expectIssue(profile({ ingress: [{ action: 'Allow', source: { notNets: ['0.0.0.0/0'] } }] }), 'spec.ingress[0].source.notNets[0]', 'catch-all');
  });

  it('rejects fields profiles do not have', () => {
    expectIssue(profile({ types: ['Ingress'] }), 'spec.types', 'unknown field');
    expectIssue(profile({ labelToApply: {} }), 'spec.labelToApply', 'did you mean "labelsToApply"');
  });
});

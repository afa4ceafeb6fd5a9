import { expect } from 'chai';
import { parsePort, protocolNumber, protocolSupportsPorts } from '@tabby/api';
import { egress, expectIssue, expectValid, ingress, issuesOf } from './policy-support.js';

const tcpTo = (ports: unknown[], extra: Record<string, unknown> = {}) =>
  ingress({ action: 'Allow', protocol: 'TCP', destination: { ports }, ...extra });

describe('policy rules: ports', () => {
  it('accepts the documented port syntaxes: number, "start:end" and a named port', () => {
    expectValid(tcpTo([8080, '1234:5678', 'named-port']));
    expectValid(tcpTo(['80', 65535, '1:65535', '22:22']));
  });

  it('parses ports into ranges and names', () => {
    expect(parsePort(80)).to.deep.equal({ ok: true, port: { kind: 'range', min: 80, max: 80 } });
    expect(parsePort('6040:6050')).to.deep.equal({ ok: true, port: { kind: 'range', min: 6040, max: 6050 } });
    expect(parsePort('http-port')).to.deep.equal({ ok: true, port: { kind: 'named', name: 'http-port' } });
    expect(parsePort('0').ok).to.equal(false);
  });

  it('rejects port 0, out-of-range numbers and inverted ranges', () => {
    expectIssue(tcpTo([0]), 'spec.ingress[0].destination.ports[0]', 'between 1 and 65535', 0);
    expectIssue(tcpTo([80, 65536]), 'spec.ingress[0].destination.ports[1]', 'between 1 and 65535', 65536);
    expectIssue(tcpTo(['0:100']), 'spec.ingress[0].destination.ports[0]', 'between 1 and 65535');
    expectIssue(tcpTo(['1:70000']), 'spec.ingress[0].destination.ports[0]', 'between 1 and 65535');
    expectIssue(tcpTo(['200:100']), 'spec.ingress[0].destination.ports[0]', 'minimum 200 is greater than maximum 100');
    expectIssue(tcpTo([1.5]), 'spec.ingress[0].destination.ports[0]', 'whole number');
    expectIssue(tcpTo([true]), 'spec.ingress[0].destination.ports[0]', 'number or a string');
  });

  it('rejects named ports that are not IANA service names', () => {
    for (const bad of ['Upper', 'a--b', '-web', 'web-', 'x'.repeat(16), '123-456', 'has_underscore']) {
      expectIssue(tcpTo([bad]), 'spec.ingress[0].destination.ports[0]', 'port name', bad);
    }
  });

  it('checks notPorts and source ports the same way', () => {
    expectIssue(ingress({ action: 'Allow', protocol: 'TCP', source: { notPorts: [22, 0] } }), 'spec.ingress[0].source.notPorts[1]', 'between 1 and 65535');
  });

  it('requires TCP, UDP or SCTP (by name or number) for numeric ports', () => {
    expectValid(tcpTo([1], { protocol: 6 }));
    expectValid(tcpTo([1], { protocol: '17' }));
    expectValid(tcpTo([1], { protocol: 'SCTP' }));
    expectValid(tcpTo([1], { protocol: 'UDP' }));
    expectIssue(tcpTo([1], { protocol: 7 }), 'spec.ingress[0].destination.ports[0]', 'must set protocol to TCP, UDP or SCTP');
    expectIssue(tcpTo([1], { protocol: 'UDPLite' }), 'spec.ingress[0].destination.ports[0]', 'protocol UDPLite has no ports');
    expectIssue(
      ingress({ action: 'Allow', ipVersion: 4, protocol: 'ICMP', destination: { notPorts: [1] } }),
      'spec.ingress[0].destination.notPorts[0]', 'must set protocol to TCP, UDP or SCTP',
    );
  });

  it('lets named ports stand without a protocol, but not numbers or ranges', () => {
    expectValid(ingress({ action: 'Allow', destination: { ports: ['foo'] } }));
    expectValid(ingress({ action: 'Allow', source: { notPorts: ['foo'] } }));
    expectIssue(ingress({ action: 'Allow', destination: { ports: [1] } }), 'spec.ingress[0].destination.ports[0]', 'numeric port or port range must set protocol');
    expectIssue(ingress({ action: 'Allow', destination: { ports: ['foo', '10:20'] } }), 'spec.ingress[0].destination.ports[1]', 'numeric port or port range', '10:20');
  });

  it('rejects named ports with a protocol that has no ports', () => {
    expectIssue(tcpTo(['foo'], { protocol: 1, ipVersion: 4 }), 'spec.ingress[0].destination.ports[0]', 'protocol 1 has no ports');
  });

  it('accepts empty port lists with any protocol', () => {
    expectValid(ingress({ action: 'Allow', protocol: 100, source: { ports: [], notPorts: [] } }));
  });
});

describe('policy rules: protocol and action', () => {
  it('accepts the protocol names (case-sensitive) and numbers 1-255', () => {
    for (const p of ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite', 1, 255, '255']) {
      const ipVersion = p === 'ICMPv6' ? 6 : 4;
      expectValid(ingress({ action: 'Allow', protocol: p, ipVersion }));
      expectValid(ingress({ action: 'Allow', notProtocol: p, ipVersion }));
    }
    expect(protocolNumber('UDPLite')).to.equal(136);
    expect(protocolSupportsPorts('SCTP')).to.equal(true);
    expect(protocolSupportsPorts(136)).to.equal(false);
  });

  it('rejects unknown names, lower case names and numbers outside 1-255', () => {
    expectIssue(ingress({ action: 'Allow', protocol: 'tcp' }), 'spec.ingress[0].protocol', 'case-sensitive', 'tcp');
    expectIssue(ingress({ action: 'Allow', protocol: 'jolly-UDP' }), 'spec.ingress[0].protocol', 'must be one of TCP');
    expectIssue(ingress({ action: 'Allow', protocol: 'toString' }), 'spec.ingress[0].protocol', 'must be one of TCP');
    expectIssue(ingress({ action: 'Allow', protocol: 0 }), 'spec.ingress[0].protocol', 'between 1 and 255', 0);
    expectIssue(ingress({ action: 'Allow', notProtocol: 256 }), 'spec.ingress[0].notProtocol', 'between 1 and 255', 256);
    expectIssue(ingress({ action: 'Allow', protocol: '256' }), 'spec.ingress[0].protocol', 'between 1 and 255');
  });

  it('requires an action from Allow, Deny, Log, Pass', () => {
    for (const action of ['Allow', 'Deny', 'Log', 'Pass']) expectValid(ingress({ action }));
    expectIssue(ingress({ protocol: 'TCP' }), 'spec.ingress[0].action', 'is required');
    expectIssue(ingress({ action: 'allowfoo' }), 'spec.ingress[0].action', 'must be one of Allow, Deny, Log, Pass', 'allowfoo');
    expectIssue(ingress({ action: 'allow' }), 'spec.ingress[0].action', 'must be one of');
  });

  it('rejects unknown rule fields with a suggestion', () => {
    expectIssue(ingress({ action: 'Allow', protocl: 'TCP' }), 'spec.ingress[0].protocl', 'did you mean "protocol"');
    expectIssue(ingress({ action: 'Allow', source: { selecter: 'a == "b"' } }), 'spec.ingress[0].source.selecter', 'did you mean "selector"');
  });

  it('allows ipVersion 4 or 6 only', () => {
    expectIssue(ingress({ action: 'Allow', ipVersion: 5 }), 'spec.ingress[0].ipVersion', 'must be 4 or 6', 5);
    expectIssue(ingress({ action: 'Allow', ipVersion: 0 }), 'spec.ingress[0].ipVersion', 'must be 4 or 6');
  });
});

describe('policy rules: ICMP', () => {
  const icmp = (fields: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    ingress({ action: 'Allow', protocol: 'ICMP', icmp: fields, ...extra });

  it('accepts type 0-254 and code 0-255 with a type', () => {
    expectValid(icmp({}));
    expectValid(icmp({ type: 0 }));
    expectValid(icmp({ type: 254 }));
    expectValid(icmp({ type: 3, code: 1 }));
    expectValid(icmp({ type: 128, code: 255 }, { protocol: 'ICMPv6', ipVersion: 6 }));
    expectValid(icmp({ type: 8 }, { protocol: 1 }));
    expectValid(icmp({ type: 128 }, { protocol: 58 }));
  });

  it('rejects out-of-range types and codes', () => {
    expectIssue(icmp({ type: 255 }), 'spec.ingress[0].icmp.type', 'at most 254', 255);
    expectIssue(icmp({ type: 128, code: 256 }), 'spec.ingress[0].icmp.code', 'at most 255', 256);
    expectIssue(icmp({ type: -1 }), 'spec.ingress[0].icmp.type', 'at least 0');
  });

  it('requires a type when a code is given, in icmp and notICMP', () => {
    expectIssue(icmp({ code: 2 }), 'spec.ingress[0].icmp.code', 'ICMP code specified without an ICMP type', 2);
    expectIssue(ingress({ action: 'Allow', protocol: 'ICMP', notICMP: { code: 2 } }), 'spec.ingress[0].notICMP.code', 'without an ICMP type');
  });

  it('requires protocol ICMP or ICMPv6 for icmp matches', () => {
    expectIssue(ingress({ action: 'Allow', icmp: { type: 8 } }), 'spec.ingress[0].icmp', 'require protocol to be ICMP or ICMPv6');
    expectIssue(icmp({ type: 8 }, { protocol: 'TCP' }), 'spec.ingress[0].icmp', 'require protocol to be ICMP or ICMPv6');
  });

  it('ties ICMP to ipVersion 4 and ICMPv6 to ipVersion 6', () => {
    expectValid(icmp({ type: 8 }, { ipVersion: 4 }));
    expectIssue(icmp({ type: 8 }, { ipVersion: 6 }), 'spec.ingress[0].ipVersion', 'protocol ICMP requires ipVersion 4', 6);
    expectIssue(ingress({ action: 'Allow', protocol: 'ICMPv6', ipVersion: 4 }), 'spec.ingress[0].ipVersion', 'protocol ICMPv6 requires ipVersion 6');
    expectIssue(ingress({ action: 'Allow', notProtocol: 'ICMP', ipVersion: 6 }), 'spec.ingress[0].ipVersion', 'notProtocol ICMP requires ipVersion 4');
    expectIssue(ingress({ action: 'Allow', notProtocol: 58, ipVersion: 4 }), 'spec.ingress[0].ipVersion', 'notProtocol ICMPv6 requires ipVersion 6');
  });
});

describe('policy rules: nets', () => {
  it('accepts masked CIDRs and bare addresses', () => {
    expectValid(ingress({ action: 'Allow', source: { nets: ['10.0.0.0/8', '192.168.1.7'], notNets: ['10.1.0.0/16'] } }));
    expectValid(ingress({ action: 'Allow', ipVersion: 6, destination: { nets: ['fd00::/64', '::1'] } }));
    expectValid(ingress({ action: 'Allow', source: { nets: ['0.0.0.0/0'] } }));
  });

  it('rejects unmasked and unparsable CIDRs', () => {
    expectIssue(ingress({ action: 'Allow', source: { nets: ['10.0.0.1/24'] } }), 'spec.ingress[0].source.nets[0]', 'strictly masked', '10.0.0.1/24');
    expectIssue(ingress({ action: 'Allow', destination: { notNets: ['10.0.0.0/8', 'bogus'] } }), 'spec.ingress[0].destination.notNets[1]', 'must be a CIDR');
  });

  it('rejects a rule mixing IPv4 and IPv6 CIDRs, within or across fields', () => {
    expectIssue(
      ingress({ action: 'Allow', protocol: 'TCP', source: { nets: ['10.0.0.0/8'] }, destination: { nets: ['fd00::/64'] } }),
      'spec.ingress[0].destination.nets[0]', 'both IPv4 and IPv6 CIDRs', 'fd00::/64',
    );
    expectIssue(ingress({ action: 'Allow', source: { nets: ['10.0.0.0/8', 'fd00::/64'] } }), 'spec.ingress[0].source.nets[1]', 'both IPv4 and IPv6');
    expectIssue(ingress({ action: 'Allow', source: { nets: ['fd00::/64'], notNets: ['10.0.0.0/8'] } }), 'spec.ingress[0].source.notNets[0]', 'both IPv4 and IPv6');
  });

  it('rejects CIDRs of the other family than ipVersion', () => {
    expectIssue(ingress({ action: 'Allow', ipVersion: 6, source: { nets: ['10.0.0.0/8'] } }), 'spec.ingress[0].source.nets[0]', 'ipVersion 6 does not match');
    expectIssue(ingress({ action: 'Allow', ipVersion: 4, destination: { notNets: ['fd00::/64'] } }), 'spec.ingress[0].destination.notNets[0]', 'ipVersion 4 does not match');
  });

  it('rejects catch-all CIDRs in notNets', () => {
    expectIssue(ingress({ action: 'Allow', source: { notNets: ['0.0.0.0/0'] } }), 'spec.ingress[0].source.notNets[0]', 'catch-all', '0.0.0.0/0');
    expectIssue(ingress({ action: 'Allow', destination: { notNets: ['::/0'] } }), 'spec.ingress[0].destination.notNets[0]', 'catch-all');
  });
});

describe('policy rules: selectors', () => {
  it('parses every selector field', () => {
    expectIssue(ingress({ action: 'Allow', source: { selector: 'has(a' } }), 'spec.ingress[0].source.selector', 'invalid selector');
    expectIssue(ingress({ action: 'Allow', destination: { notSelector: 'a ==' } }), 'spec.ingress[0].destination.notSelector', 'invalid selector');
    expectIssue(ingress({ action: 'Allow', source: { namespaceSelector: 'global() && bad' } }), 'spec.ingress[0].source.namespaceSelector', 'invalid selector');
    expectIssue(ingress({ action: 'Allow', source: { serviceAccounts: { selector: '&&' } } }), 'spec.ingress[0].source.serviceAccounts.selector', 'invalid selector');
  });

  it('refuses global() outside an EntityRule namespaceSelector', () => {
    expectIssue(ingress({ action: 'Allow', source: { selector: '  global()  ' } }), 'spec.ingress[0].source.selector', 'global() can only be used in an EntityRule namespaceSelector');
  });

  it('accepts global() alone as a namespaceSelector, but not combined', () => {
    expectValid(ingress({ action: 'Allow', source: { namespaceSelector: '  global()  ' } }));
    expectValid(ingress({ action: 'Allow', source: { namespaceSelector: 'global()', selector: 'projectcalico.org/name == "x"' } }));
    expectIssue(ingress({ action: 'Allow', source: { namespaceSelector: ' global() && all()' } }), 'spec.ingress[0].source.namespaceSelector', 'global() cannot be combined');
    expectIssue(ingress({ action: 'Allow', destination: { namespaceSelector: 'global()||all()' } }), 'spec.ingress[0].destination.namespaceSelector', 'cannot be combined');
  });

  it('caps selectors at 1024 characters', () => {
    const long = `a == "${'x'.repeat(1020)}"`;
    expectIssue(ingress({ action: 'Allow', source: { selector: long } }), 'spec.ingress[0].source.selector', 'at most 1024');
  });

  it('accepts service account matches by names and selector', () => {
    expectValid(ingress({ action: 'Allow', source: { serviceAccounts: { names: ['api', 'auth'], selector: 'app == "web"' } } }));
    expectIssue(ingress({ action: 'Allow', source: { serviceAccounts: { name: ['api'] } } }), 'spec.ingress[0].source.serviceAccounts.name', 'did you mean "names"');
  });
});

describe('policy rules: service matches', () => {
  const svc = { name: 'frontend-service', namespace: 'frontend' };

  it('allows services with ports on the other side of an ingress rule', () => {
    expectValid(ingress({ action: 'Allow', protocol: 'TCP', source: { services: svc }, destination: { ports: [80] } }));
    expectValid(ingress({ action: 'Allow', protocol: 'TCP', source: { services: svc, ports: [80], notPorts: [81] } }));
  });

  it('refuses ports with destination services', () => {
    expectIssue(egress({ action: 'Allow', protocol: 'TCP', destination: { services: svc, ports: [80] } }), 'spec.egress[0].destination.ports', 'cannot be specified together with destination services');
    expectIssue(egress({ action: 'Allow', protocol: 'TCP', destination: { services: svc, notPorts: [80] } }), 'spec.egress[0].destination.notPorts', 'together with destination services');
  });

  it('requires a service name', () => {
    expectIssue(egress({ action: 'Allow', destination: { services: { namespace: 'x' } } }), 'spec.egress[0].destination.services.name', 'must specify a service name');
    expectIssue(egress({ action: 'Allow', destination: { services: { name: 'Bad_Name' } } }), 'spec.egress[0].destination.services.name', 'DNS-1123 subdomain');
  });

  it('refuses selectors, nets and service accounts beside services', () => {
    const cases: [string, unknown][] = [
      ['selector', 'a == "b"'], ['notSelector', 'a == "b"'], ['namespaceSelector', 'a == "b"'],
      ['nets', ['10.0.0.0/8']], ['notNets', ['10.0.0.0/8']], ['serviceAccounts', { names: ['x'] }],
    ];
    for (const [field, value] of cases) {
      expectIssue(
        egress({ action: 'Allow', destination: { services: svc, [field]: value } }),
        `spec.egress[0].destination.${field}`, 'cannot be specified together with services',
      );
    }
  });
});

describe('policy rules: HTTP matches', () => {
  const http = (h: Record<string, unknown>, extra: Record<string, unknown> = {}) => ingress({ action: 'Allow', http: h, ...extra });

  it('accepts methods and exact/prefix paths on Allow rules with TCP or no protocol', () => {
    expectValid(http({ methods: ['GET', 'PUT'], paths: [{ exact: '/foo' }, { prefix: '/bar' }] }));
    expectValid(http({ methods: ['GET'] }, { protocol: 'TCP' }));
    expectValid(http({ methods: ['GET'] }, { protocol: 6 }));
  });

  it('is only valid on Allow rules', () => {
    expectIssue(http({ methods: ['GET'] }, { action: 'Deny' }), 'spec.ingress[0].http', 'only valid on Allow rules');
  });

  it('requires protocol TCP when a protocol is set', () => {
    expectIssue(http({ methods: ['GET'] }, { protocol: 'UDP' }), 'spec.ingress[0].protocol', 'HTTP match must have protocol TCP');
  });

  it('rejects duplicate methods', () => {
    expectIssue(http({ methods: ['GET', 'GET', 'Foo'] }), 'spec.ingress[0].http.methods[1]', 'more than once', 'GET');
  });

  it('requires exactly one of exact or prefix, a leading "/" and no "?", "#" or space', () => {
    expectIssue(http({ paths: [{ exact: '/foo', prefix: '/bar' }, { prefix: '/bar' }] }), 'spec.ingress[0].http.paths[0]', 'exactly one of exact or prefix');
    expectIssue(http({ paths: [{}] }), 'spec.ingress[0].http.paths[0]', 'one of exact or prefix must be set');
    for (const bad of ['/fo?o', '/fo o', '/f#oo', 'foo']) {
      expectIssue(http({ paths: [{ exact: bad }] }), 'spec.ingress[0].http.paths[0].exact', 'must start with "/"', bad);
    }
    expectIssue(http({ paths: [{ prefix: 'bar' }] }), 'spec.ingress[0].http.paths[0].prefix', 'must start with "/"');
  });

  it('caps methods and paths at 20 entries', () => {
    const methods = Array.from({ length: 21 }, (_, i) => `M${i}`);
    expectIssue(http({ methods }), 'spec.ingress[0].http.methods', 'at most 20');
  });
});

describe('policy rules: metadata', () => {
  it('accepts annotations with qualified-name keys', () => {
    expectValid(ingress({ action: 'Allow', metadata: { annotations: { app: 'database', 'example.com/owner': 'devops' } } }));
  });

  it('rejects bad annotation keys and non-string values', () => {
    expectIssue(ingress({ action: 'Allow', metadata: { annotations: { 'bad key!': 'x' } } }), 'spec.ingress[0].metadata.annotations.bad key!', 'invalid annotation key');
    expectIssue(ingress({ action: 'Allow', metadata: { annotations: { a: 1 } } }), 'spec.ingress[0].metadata.annotations.a', 'must be a string');
  });

  it('reports every problem in one pass', () => {
    const issues = issuesOf(np2());
    expect(issues.map((i) => i.path)).to.include.members(['spec.ingress[0].destination.ports[0]', 'spec.ingress[1].icmp']);
  });
});

function np2(): Record<string, unknown> {
  const doc = ingress({ action: 'Allow', destination: { ports: [80] } });
  (doc['spec'] as { ingress: unknown[] }).ingress.push({ action: 'Deny', icmp: { type: 8 } });
  return doc;
}

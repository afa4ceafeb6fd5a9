// Result shaping per CNI version, and reading results (prevResult, IPAM output).
import { expect } from 'chai';
import { CniCode, formatResult, parseResult, versionInfo, type Result } from '@tabby/cni';
import { cniError } from './helpers.js';

const result: Result = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'cali0123456789a', mac: 'ee:ee:ee:ee:ee:ee' }, { name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/var/run/netns/p' }],
  ips: [{ address: '10.1.0.5/32', interface: 1 }, { address: 'fd00::5/128', interface: 1 }],
  routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }, { dst: '::/0', gw: 'fe80::ecee:eeff:feee:eeee' }],
};

describe('results', () => {
  it('1.0.0: no per-IP version, interface indexes, an empty dns object', () => {
    const out = formatResult(result, '1.0.0');
    expect(JSON.parse(JSON.stringify(out))).to.deep.equal({
      cniVersion: '1.0.0',
      interfaces: result.interfaces,
      ips: [{ interface: 1, address: '10.1.0.5/32' }, { interface: 1, address: 'fd00::5/128' }],
      routes: result.routes,
      dns: {},
    });
  });

  for (const v of ['0.3.0', '0.3.1', '0.4.0'] as const) {
    it(`${v}: each IP carries its version`, () => {
      const out = formatResult({ ...result, dns: { nameservers: ['10.96.0.10'] } }, v) as { cniVersion: string; ips: Record<string, unknown>[]; dns: unknown };
      expect(out.cniVersion).to.equal(v);
      expect(out.ips).to.deep.equal([
        { version: '4', interface: 1, address: '10.1.0.5/32' },
        { version: '6', interface: 1, address: 'fd00::5/128' },
      ]);
      expect(out.dns).to.deep.equal({ nameservers: ['10.96.0.10'] });
    });
  }

  it('reads back what it writes, in every version', () => {
    for (const v of ['0.3.1', '1.0.0'] as const) {
      const back = parseResult(formatResult(result, v), 'r', 7);
      expect(back.interfaces).to.deep.equal(result.interfaces);
      expect(back.ips).to.deep.equal(result.ips);
      expect(back.routes).to.deep.equal(result.routes);
    }
  });

  it('names the bad field with the caller\'s code', () => {
    const cases: [unknown, string][] = [
      [[], 'prevResult: []: must be a JSON object'],
      [{ ips: [{ address: '10.0.0.1' }] }, 'prevResult: ips[0].address "10.0.0.1": must be an address with a prefix length'],
      [{ ips: [{ version: '6', address: '10.0.0.1/32' }] }, 'prevResult: ips[0].version "6": does not match the address (IPv4)'],
      [{ interfaces: [{ name: 'eth0' }], ips: [{ address: '10.0.0.1/32', interface: 1 }] }, 'prevResult: ips[0].interface 1: must be an index into interfaces (0-0)'],
      [{ ips: [{ address: '10.0.0.1/32', gateway: 'x' }] }, 'ips[0].gateway "x"'],
      [{ routes: [{ dst: 'default' }] }, 'prevResult: routes[0].dst "default": must be a CIDR'],
      [{ interfaces: [{ mac: 'x' }] }, 'prevResult: interfaces[0]'],
      [{ ips: {} }, 'prevResult: ips {}: must be a list'],
    ];
    for (const [doc, msg] of cases) {
      const e = cniError(() => parseResult(doc, 'prevResult', CniCode.invalidNetworkConfig));
      expect(e.code).to.equal(7);
      expect(e.message).to.contain(msg);
    }
    expect(cniError(() => parseResult({ ips: [{ address: 'x' }] }, 'IPAM', CniCode.ipamFailure)).code).to.equal(100);
  });

  it('VERSION lists every supported version', () => {
    expect(versionInfo()).to.deep.equal({ cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] });
  });
});

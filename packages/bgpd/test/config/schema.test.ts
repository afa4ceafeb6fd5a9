import { expect } from 'chai';
import { ConfigError, DEFAULT_KERNEL_PROTOCOL, parseConfig } from '@tabby/bgpd';

const base = {
  routerId: '10.0.0.2',
  asNumber: 65002,
  listen: { address: '0.0.0.0', port: 179 },
  peers: [{ address: '10.0.0.1', asNumber: 65001, type: 'global', passive: false, holdTime: 90, keepaliveTime: 30, sourceAddress: '10.0.0.2' }],
  originate: [{ prefix: '10.244.1.0/26', blackhole: true }],
  kernel: { enabled: true },
};

function fails(doc: unknown, field: string, reason: RegExp): void {
  try {
    parseConfig(doc, 'bgpd.yaml');
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    expect((e as ConfigError).field).to.equal(field);
    expect((e as Error).message).to.match(reason);
    expect((e as Error).message.startsWith('bgpd.yaml: ')).to.equal(true);
    return;
  }
  expect.fail(`expected a ConfigError at ${field}`);
}

describe('bgpd config', () => {
  it('accepts the documented example and fills defaults', () => {
    const c = parseConfig(base);
    expect(c.peers[0]).to.deep.equal({
      address: '10.0.0.1', asNumber: 65001, type: 'global', passive: false, port: 179, holdTime: 90,
      keepaliveTime: 30, connectRetryTime: 5, connectDelayTime: 0, errorHandling: 'revised', gracefulRestart: { enabled: false, restartTime: 120 }, routeReflectorClient: false, sourceAddress: '10.0.0.2', localAsNumber: 65002,
      nextHop: 'auto', allowLocalAs: 0, bfd: { enabled: false, minInterval: 300, multiplier: 3 },
    });
    expect(c.kernel).to.deep.equal({ enabled: true, protocol: DEFAULT_KERNEL_PROTOCOL, table: 254, routes: [] });
    expect(c.originate).to.deep.equal([{ prefix: '10.244.1.0/26', blackhole: true }]);
  });

  it('defaults keepalive to a third of the hold time and allows listen: null', () => {
    const c = parseConfig({ routerId: '1.1.1.1', asNumber: 1, listen: null, peers: [{ address: 'fd00::1', asNumber: 2, holdTime: 9 }] });
    expect(c.listen).to.equal(null);
    expect(c.peers[0]).to.include({ keepaliveTime: 3, type: 'global' });
  });

  it('names the bad field and value', () => {
    fails({ ...base, routerId: 'fd00::1' }, 'routerId', /must be an IPv4 address/);
    fails({ ...base, asNumber: 0 }, 'asNumber', /integer from 1 to 4294967295/);
    fails({ ...base, peers: [{ ...base.peers[0], holdTime: 2 }] }, 'peers[0].holdTime', /at least 3 seconds/);
    fails({ ...base, peers: [{ ...base.peers[0], keepaliveTime: 100 }] }, 'peers[0].keepaliveTime', /must not exceed holdTime/);
    fails({ ...base, peers: [{ ...base.peers[0], type: 'tor' }] }, 'peers[0].type', /mesh, global or node/);
    fails({ ...base, peers: [{ ...base.peers[0], adress: '1.2.3.4' }] }, 'peers[0].adress', /unknown field/);
    fails({ ...base, peers: [base.peers[0], base.peers[0]] }, 'peers[1].address', /duplicates peers\[0\]/);
    fails({ ...base, originate: [{ prefix: '10.244.1.0/33' }] }, 'originate[0].prefix', /prefix such as/);
    fails({ ...base, kernel: { protocol: 300 } }, 'kernel.protocol', /1 to 255/);
  });

  it('writes prefixes canonically and refuses host bits with a suggestion', () => {
    const c = parseConfig({ ...base, originate: [{ prefix: 'fd00:0:0::/64' }], kernel: { routes: [{ prefix: '10.244.0.0/16', device: 'tunl0', onlink: true }, { prefix: '2001:DB8::/32', install: false }] } });
    expect(c.originate).to.deep.equal([{ prefix: 'fd00::/64', blackhole: false }]);
    expect(c.kernel.routes).to.deep.equal([
      { prefix: '10.244.0.0/16', install: true, onlink: true, device: 'tunl0' },
      { prefix: '2001:db8::/32', install: false, onlink: false },
    ]);
    fails({ ...base, originate: [{ prefix: '10.244.1.5/26' }] }, 'originate[0].prefix', /host bits set \(did you mean 10\.244\.1\.0\/26\?\)/);
  });

  it('checks kernel route rules', () => {
    fails({ ...base, kernel: { routes: [{ prefix: '10.0.0.0/8', onlink: true }] } }, 'kernel.routes[0].onlink', /needs device/);
    fails({ ...base, kernel: { routes: [{ prefix: '10.0.0.0/8', device: 'a very long name' }] } }, 'kernel.routes[0].device', /interface name/);
    fails({ ...base, kernel: { routes: [{ prefix: '10.0.0.0/8' }, { prefix: '10.0.0.0/8', install: false }] } }, 'kernel.routes[1].prefix', /duplicates kernel.routes\[0\]/);
    fails({ ...base, kernel: { routes: [{ prefix: '10.0.0.0/8', via: '1.2.3.4' }] } }, 'kernel.routes[0].via', /unknown field/);
    fails({ ...base, originate: [{ prefix: '10.244.1.0/26' }, { prefix: '10.244.1.0/26' }] }, 'originate[1].prefix', /duplicates originate\[0\]/);
  });
});

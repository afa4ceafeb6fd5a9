import { expect } from 'chai';
import { configFromEnv, EnvError, choose, desiredNode, type IpAddrRow } from '@tabby/node';

function fails(env: NodeJS.ProcessEnv, variable: string, reason: RegExp): void {
  try {
    configFromEnv(env);
  } catch (e) {
    expect(e).to.be.instanceOf(EnvError);
    expect((e as EnvError).variable).to.equal(variable);
    expect((e as Error).message).to.match(reason);
    return;
  }
  expect.fail(`expected an EnvError for ${variable}`);
}

describe('node agent: environment', () => {
  it("has calico-node's defaults", () => {
    const c = configFromEnv({ NODENAME: 'Node-1' });
    expect(c.nodename).to.equal('node-1');
    expect(c.backend).to.equal('bird');
    expect(c.ip).to.deep.equal({ kind: 'autodetect' });
    expect(c.ip6).to.deep.equal({ kind: 'none' });
    expect(c.autodetect4).to.deep.equal({ kind: 'first-found' });
    expect(c.defaultPools.v4).to.deep.equal({ cidr: '192.168.0.0/16', blockSize: 26, ipipMode: 'Always', vxlanMode: 'Never', natOutgoing: true, nodeSelector: 'all()' });
    expect(c.defaultPools.v6).to.equal(undefined);
    expect(c.as).to.equal(undefined);
  });

  it('reads pools, backends, AS and fixed addresses', () => {
    const c = configFromEnv({
      NODENAME: 'n', CALICO_NETWORKING_BACKEND: 'vxlan', CALICO_IPV4POOL_CIDR: '10.244.0.0/16', CALICO_IPV4POOL_BLOCK_SIZE: '24',
      CALICO_IPV4POOL_NAT_OUTGOING: 'false', CALICO_IPV6POOL_CIDR: 'fd00:10:244::/64', IP: '10.0.0.5/24', IP6: 'fd00::5', AS: '1.10',
      IP_AUTODETECTION_METHOD: 'can-reach=10.0.0.1',
    });
    expect(c.defaultPools.v4).to.include({ cidr: '10.244.0.0/16', blockSize: 24, ipipMode: 'Never', vxlanMode: 'Always', natOutgoing: false });
    expect(c.defaultPools.v6).to.include({ cidr: 'fd00:10:244::/64', blockSize: 122, vxlanMode: 'Always', natOutgoing: false });
    expect(c.ip).to.deep.equal({ kind: 'fixed', cidr: '10.0.0.5/24' });
    expect(c.ip6).to.deep.equal({ kind: 'fixed', cidr: 'fd00::5/128' });
    expect(c.as).to.equal(65546);
    expect(c.autodetect4).to.deep.equal({ kind: 'can-reach', destination: '10.0.0.1' });
    expect(configFromEnv({ NODENAME: 'n', NO_DEFAULT_POOLS: 'true' }).defaultPools).to.deep.equal({});
  });

  it('names the bad variable and value', () => {
    fails({ NODENAME: 'n', CALICO_NETWORKING_BACKEND: 'gobgp' }, 'CALICO_NETWORKING_BACKEND', /bird, vxlan or none/);
    fails({ NODENAME: 'bad_name' }, 'NODENAME', /DNS subdomain/);
    fails({ NODENAME: 'n', IP: '10.0.0.300' }, 'IP', /autodetect, none, or an IPv4 address/);
    fails({ NODENAME: 'n', AS: '70000.1' }, 'AS', /asplain or asdot/);
    fails({ NODENAME: 'n', CALICO_IPV4POOL_CIDR: '10.244.0.0' }, 'CALICO_IPV4POOL_CIDR', /IPv4 CIDR/);
    fails({ NODENAME: 'n', CALICO_IPV4POOL_BLOCK_SIZE: '33' }, 'CALICO_IPV4POOL_BLOCK_SIZE', /20 to 32/);
    fails({ NODENAME: 'n', CALICO_IPV4POOL_CIDR: '10.244.0.0/16', CALICO_IPV4POOL_VXLAN: 'Always' }, 'CALICO_IPV4POOL_VXLAN', /together with CALICO_IPV4POOL_IPIP=Always/);
    fails({ NODENAME: 'n', CALICO_IPV4POOL_IPIP: 'sometimes' }, 'CALICO_IPV4POOL_IPIP', /Always, CrossSubnet or Never/);
    fails({ NODENAME: 'n', IP_AUTODETECTION_METHOD: 'interface=(' }, 'IP_AUTODETECTION_METHOD', /bad regular expression/);
    fails({ NODENAME: 'n', IP_AUTODETECTION_METHOD: 'nearest' }, 'IP_AUTODETECTION_METHOD', /first-found, can-reach/);
    fails({ NODENAME: 'n', NO_DEFAULT_POOLS: 'maybe' }, 'NO_DEFAULT_POOLS', /true or false/);
  });
});

describe('node agent: address autodetection (choice)', () => {
  const rows: IpAddrRow[] = [
    { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }] },
    { ifname: 'docker0', addr_info: [{ family: 'inet', local: '172.17.0.1', prefixlen: 16, scope: 'global' }] },
    { ifname: 'cali1234', addr_info: [{ family: 'inet', local: '169.254.1.1', prefixlen: 32, scope: 'global' }] },
    { ifname: 'eth0', addr_info: [{}, { family: 'inet', local: '10.0.0.5', prefixlen: 24, scope: 'global' }, { family: 'inet6', local: 'fd00::5', prefixlen: 64, scope: 'global' }] },
    { ifname: 'eth1', addr_info: [{ family: 'inet', local: '192.168.50.2', prefixlen: 24, scope: 'global' }] },
  ];
  it('first-found skips the interfaces calico-node skips', () => {
    expect(choose(rows, 4, { kind: 'first-found' })).to.deep.equal({ ifname: 'eth0', cidr: '10.0.0.5/24' });
    expect(choose(rows, 6, { kind: 'first-found' })).to.deep.equal({ ifname: 'eth0', cidr: 'fd00::5/64' });
  });
  it('interface=, skip-interface= and cidr= pick as asked', () => {
    expect(choose(rows, 4, { kind: 'interface', patterns: [/^eth1$/] })!.cidr).to.equal('192.168.50.2/24');
    expect(choose(rows, 4, { kind: 'skip-interface', patterns: [/^eth0$/] })!.cidr).to.equal('192.168.50.2/24');
    expect(choose(rows, 4, { kind: 'cidr', cidrs: ['192.168.0.0/16'] })!.cidr).to.equal('192.168.50.2/24');
    expect(choose(rows, 4, { kind: 'cidr', cidrs: ['10.99.0.0/16'] })).to.equal(undefined);
  });
});

describe('node agent: the Node it registers', () => {
  it('sets addresses and AS, keeps what others wrote, drops a stale address', () => {
    const cfg = configFromEnv({ NODENAME: 'n1', AS: '65010' });
    const fresh = desiredNode(undefined, cfg, { ipv4: '10.0.0.5/24' });
    expect(fresh.spec).to.deep.equal({ bgp: { ipv4Address: '10.0.0.5/24', asNumber: 65010 }, addresses: [{ address: '10.0.0.5/24', type: 'CalicoNodeIP' }] });
    const existing = { ...fresh, metadata: { name: 'n1', labels: { rack: 'a' } }, spec: { ...fresh.spec, bgp: { ipv4Address: '10.0.0.9/24', ipv6Address: 'fd00::9/64', routeReflectorClusterID: '1.0.0.1' }, vxlanTunnelMACAddr: 'aa:bb:cc:dd:ee:ff' } };
    const next = desiredNode(existing, cfg, { ipv4: '10.0.0.5/24' });
    expect(next.metadata.labels).to.deep.equal({ rack: 'a' });
    expect(next.spec.bgp).to.deep.equal({ ipv4Address: '10.0.0.5/24', routeReflectorClusterID: '1.0.0.1', asNumber: 65010 });
    expect(next.spec.vxlanTunnelMACAddr).to.equal('aa:bb:cc:dd:ee:ff');
  });
});

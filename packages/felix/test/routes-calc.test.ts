// Pure calculation: workload routes, static ARP, sysctls, VXLAN (device, ARP/FDB, remote block
// routes, CrossSubnet), IPIP rendering, blackholes, NAT outgoing, and the settings merge.

import { expect } from 'chai';
import type { FelixConfiguration, IPAMBlock, IPPool, Node, WorkloadEndpoint } from '@tabby/api';
import {
  ALL_POOLS_SET, MASQ_POOLS_SET, calculateNat, calculateRoutes, cidr4Contains, parseDurationMs, renderChainRules,
  resolveSettings, vxlanMacForNode, FelixConfigError, type RouteCalcConfig,
} from '@tabby/felix';

const cfg: RouteCalcConfig = { nodeName: 'node1', interfacePrefixes: ['cali'], rpFilter: 1, vxlanVni: 4096, vxlanPort: 4789 };

function wep(name: string, node: string, iface: string, ips: string[], mac?: string): WorkloadEndpoint {
  return {
    apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name, namespace: 'ns' },
    spec: { node, interfaceName: iface, ipNetworks: ips, ...(mac && { mac }) },
  };
}
const pool = (name: string, cidr: string, spec: Partial<IPPool['spec']> = {}): IPPool =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, ...spec } });
const node = (name: string, ip: string, spec: Partial<Node['spec']> = {}): Node =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name }, spec: { bgp: { ipv4Address: ip }, ...spec } });
const block = (cidr: string, host: string): IPAMBlock =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'IPAMBlock', metadata: { name: cidr.replace(/[./]/g, '-') }, spec: { cidr, affinity: `host:${host}`, allocations: [], unallocated: [], attributes: [] } });

describe('felix route calculation', () => {
  it('routes, static ARP and sysctls for local endpoints only', () => {
    const t = calculateRoutes({
      endpoints: [
        wep('a', 'node1', 'cali1111', ['10.0.0.1/32', 'fd00::1/128'], 'AA:BB:CC:00:00:01'),
        wep('b', 'node2', 'cali2222', ['10.0.1.1/32'], 'aa:bb:cc:00:00:02'),
        wep('c', 'node1', 'eth7', ['10.0.0.9/32']),
      ],
      pools: [], nodes: [], blocks: [],
    }, cfg);
    expect(t.routes).to.deep.equal([
      { dst: '10.0.0.1/32', nexthops: [{ dev: 'cali1111' }], scope: 'link' },
      { dst: 'fd00::1/128', nexthops: [{ dev: 'cali1111' }], scope: 'link' },
    ]);
    expect(t.neighbours).to.deep.equal([{ dev: 'cali1111', ip: '10.0.0.1', mac: 'aa:bb:cc:00:00:01' }]);
    expect(Object.fromEntries(t.sysctls.map((s) => [s.path, s.value]))).to.deep.equal({
      'net/ipv6/conf/cali1111/accept_ra': '0',
      'net/ipv4/conf/cali1111/route_localnet': '1',
      'net/ipv4/neigh/cali1111/proxy_delay': '0',
      'net/ipv4/conf/cali1111/proxy_arp': '1',
      'net/ipv4/conf/cali1111/forwarding': '1',
      'net/ipv4/conf/cali1111/rp_filter': '1',
    });
    expect(t.problems).to.have.length(1);
    expect(t.problems[0]).to.include('eth7');
  });

  it('rp_filter 0 for endpoints allowed to spoof', () => {
    const w = wep('a', 'node1', 'cali1', ['10.0.0.1/32']);
    w.spec.allowSpoofedSourcePrefixes = ['10.9.0.0/16'];
    const t = calculateRoutes({ endpoints: [w], pools: [], nodes: [], blocks: [] }, { ...cfg, rpFilter: 2 });
    expect(t.sysctls.find((s) => s.path.endsWith('rp_filter'))!.value).to.equal('0');
  });

  it('derives the VTEP MAC as Calico does', () => {
    // 0x66 followed by the first five bytes of SHA-1("node1") (sha1sum: f937c37e94...)
    expect(vxlanMacForNode('node1')).to.equal('66:f9:37:c3:7e:94');
    expect(vxlanMacForNode('node1', 6)).to.not.equal(vxlanMacForNode('node1'));
  });

  it('VXLAN: device, per-remote-node ARP and FDB, remote block routes onlink, blackholes for local blocks', () => {
    const t = calculateRoutes({
      endpoints: [],
      pools: [pool('vx', '10.244.0.0/16', { vxlanMode: 'Always' })],
      nodes: [
        node('node1', '192.168.1.1/24', { ipv4VXLANTunnelAddr: '10.244.1.0' }),
        node('node2', '192.168.2.2/24', { ipv4VXLANTunnelAddr: '10.244.2.0', vxlanTunnelMACAddr: '66:00:00:00:00:02' }),
        node('node3', '192.168.3.3/24', { ipv4VXLANTunnelAddr: '10.244.3.0' }),
      ],
      blocks: [block('10.244.1.0/26', 'node1'), block('10.244.2.0/26', 'node2'), block('10.244.3.0/26', 'node3'), block('10.9.0.0/26', 'node2')],
    }, cfg);
    expect(t.vxlan).to.deep.equal({ name: 'vxlan.calico', vni: 4096, port: 4789, address: '10.244.1.0', localIp: '192.168.1.1', mac: vxlanMacForNode('node1') });
    expect(t.neighbours).to.deep.equal([
      { dev: 'vxlan.calico', ip: '10.244.2.0', mac: '66:00:00:00:00:02' },
      { dev: 'vxlan.calico', ip: '10.244.3.0', mac: vxlanMacForNode('node3') },
    ]);
    expect(t.fdb).to.deep.equal([
      { dev: 'vxlan.calico', mac: '66:00:00:00:00:02', dst: '192.168.2.2' },
      { dev: 'vxlan.calico', mac: vxlanMacForNode('node3'), dst: '192.168.3.3' },
    ]);
    expect(t.routes).to.deep.equal([
      { dst: '10.244.1.0/26', type: 'blackhole', nexthops: [] },
      { dst: '10.244.2.0/26', nexthops: [{ via: '10.244.2.0', dev: 'vxlan.calico', onlink: true }] },
      { dst: '10.244.3.0/26', nexthops: [{ via: '10.244.3.0', dev: 'vxlan.calico', onlink: true }] },
    ]);
  });

  it('VXLAN CrossSubnet: same-subnet nodes are routed directly, others via the tunnel', () => {
    const t = calculateRoutes({
      endpoints: [],
      pools: [pool('vx', '10.244.0.0/16', { vxlanMode: 'CrossSubnet' })],
      nodes: [
        node('node1', '192.168.1.1/24', { ipv4VXLANTunnelAddr: '10.244.1.0' }),
        node('node2', '192.168.1.2/24', { ipv4VXLANTunnelAddr: '10.244.2.0' }),
        node('node3', '192.168.3.3/24', { ipv4VXLANTunnelAddr: '10.244.3.0' }),
      ],
      blocks: [block('10.244.2.0/26', 'node2'), block('10.244.3.0/26', 'node3')],
    }, cfg);
    expect(t.routes).to.deep.equal([
      { dst: '10.244.2.0/26', nexthops: [{ via: '192.168.1.2' }] },
      { dst: '10.244.3.0/26', nexthops: [{ via: '10.244.3.0', dev: 'vxlan.calico', onlink: true }] },
    ]);
  });

  it('no VXLAN device until the node has a tunnel address; says why', () => {
    const t = calculateRoutes({ endpoints: [], pools: [pool('vx', '10.244.0.0/16', { vxlanMode: 'Always' })], nodes: [node('node1', '192.168.1.1/24')], blocks: [] }, cfg);
    expect(t.vxlan).to.equal(undefined);
    expect(t.problems.join()).to.include('ipv4VXLANTunnelAddr');
  });

  it('IPIP: remote blocks rendered via the node IP on tunl0 onlink (not in the applied routes), local blackhole', () => {
    const t = calculateRoutes({
      endpoints: [],
      pools: [pool('ip', '10.245.0.0/16', { ipipMode: 'Always' }), pool('plain', '10.246.0.0/16')],
      nodes: [node('node1', '192.168.1.1/24'), node('node2', '192.168.2.2/24')],
      blocks: [block('10.245.1.0/26', 'node1'), block('10.245.2.0/26', 'node2'), block('10.246.2.0/26', 'node2'), block('10.246.1.0/26', 'node1')],
    }, cfg);
    expect(t.ipipRoutes).to.deep.equal([{ dst: '10.245.2.0/26', nexthops: [{ via: '192.168.2.2', dev: 'tunl0', onlink: true }] }]);
    expect(t.routes).to.deep.equal([{ dst: '10.245.1.0/26', type: 'blackhole', nexthops: [] }]);
  });

  it('cidr containment', () => {
    expect(cidr4Contains('10.0.0.0/8', '10.1.2.0/26')).to.equal(true);
    expect(cidr4Contains('10.0.0.0/8', '11.0.0.0/26')).to.equal(false);
    expect(cidr4Contains('10.1.0.0/16', '10.0.0.0/8')).to.equal(false);
  });
});

describe('felix NAT outgoing calculation', () => {
  it('masquerades from natOutgoing pools to non-pool destinations through two ipsets', () => {
    const nat = calculateNat([pool('a', '10.244.0.0/16', { natOutgoing: true }), pool('b', '10.99.0.0/16'), pool('c', 'fd00::/48', { natOutgoing: true })]);
    expect(nat.ipsets).to.deep.equal([
      { name: MASQ_POOLS_SET, type: 'hash:net', members: new Set(['10.244.0.0/16']) },
      { name: ALL_POOLS_SET, type: 'hash:net', members: new Set(['10.244.0.0/16', '10.99.0.0/16']) },
    ]);
    const text = nat.chains.flatMap((c) => renderChainRules(c)).join('\n');
    expect(text).to.match(/-A cali-POSTROUTING -m comment --comment "?cali:[\w-]+"? -j cali-nat-outgoing/);
    expect(text).to.match(/-A cali-nat-outgoing .*-m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst .*-j MASQUERADE/);
  });

  it('IPv6 pools get the same chains with cali60 sets, in canonical text; disabled pools are not masqueraded', () => {
    const nat = calculateNat([
      pool('a', '10.244.0.0/16', { natOutgoing: true }), pool('c', 'fd00:0:0::/48', { natOutgoing: true }),
      pool('d', 'FD01::/64'), pool('e', 'fd02::/64', { natOutgoing: true, disabled: true }),
    ], { ipVersion: 6 });
    expect(nat.ipsets).to.deep.equal([
      { name: 'cali60masq-ipam-pools', type: 'hash:net', members: new Set(['fd00::/48']) },
      { name: 'cali60all-ipam-pools', type: 'hash:net', members: new Set(['fd00::/48', 'fd01::/64', 'fd02::/64']) },
    ]);
    const text = nat.chains.flatMap((c) => renderChainRules(c)).join('\n');
    expect(text).to.match(/-A cali-nat-outgoing .*-m set --match-set cali60masq-ipam-pools src -m set ! --match-set cali60all-ipam-pools dst .*-j MASQUERADE/);
    expect(calculateNat([pool('a', '10.244.0.0/16', { natOutgoing: true })], { ipVersion: 6 }).chains.find((c) => c.name === 'cali-nat-outgoing')!.rules).to.deep.equal([]);
  });

  it('keeps an empty cali-nat-outgoing when no pool asks for NAT', () => {
    const nat = calculateNat([pool('b', '10.99.0.0/16')]);
    expect(nat.chains.find((c) => c.name === 'cali-nat-outgoing')!.rules).to.deep.equal([]);
  });
});

describe('felix settings', () => {
  const fc = (name: string, spec: FelixConfiguration['spec']): FelixConfiguration => ({ apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name }, spec });

  it("Calico's defaults", () => {
    const s = resolveSettings({ NODENAME: 'n1' });
    expect(s).to.include({ nodeName: 'n1', iptablesRefreshIntervalMs: 90_000, routeRefreshIntervalMs: 90_000, healthPort: 9099, prometheusMetricsPort: 9091, prometheusMetricsEnabled: false, vxlanVni: 4096, vxlanPort: 4789 });
  });

  it('env beats node.<name> beats default; other nodes do not count', () => {
    const configs = [
      fc('default', { routeRefreshInterval: '1m30s', healthPort: 9100, iptablesRefreshInterval: '10s', logSeverityScreen: 'Warning' }),
      fc('node.n1', { healthPort: 9101, iptablesRefreshInterval: '2s' }),
      fc('node.n2', { healthPort: 9999 }),
    ];
    const s = resolveSettings({ NODENAME: 'n1', FELIX_IPTABLESREFRESHINTERVAL: '0.5', FELIX_PROMETHEUSMETRICSENABLED: 'true', FELIX_IPTABLESBACKEND: 'NFT' }, configs);
    expect(s).to.include({ healthPort: 9101, iptablesRefreshIntervalMs: 500, routeRefreshIntervalMs: 90_000, prometheusMetricsEnabled: true, iptablesBackend: 'nft', logSeverityScreen: 'Warning' });
  });

  it('names the bad field', () => {
    expect(() => resolveSettings({ NODENAME: 'n1', FELIX_HEALTHPORT: 'x' })).to.throw(FelixConfigError, 'FELIX_HEALTHPORT');
    expect(() => resolveSettings({})).to.throw(FelixConfigError, 'NODENAME');
    expect(parseDurationMs('1m30s', 'x')).to.equal(90_000);
    expect(parseDurationMs('250ms', 'x')).to.equal(250);
    expect(() => parseDurationMs('5 parsecs', 'x')).to.throw(FelixConfigError);
  });
});

// Integration: the route dataplane's VXLAN part against a real kernel in a namespace: device,
// tunnel address, FDB and ARP entries, onlink block routes and blackholes; drift repaired on
// resync; uninstall removes them.

import { expect } from 'chai';
import { RouteDataplane, calculateRoutes, type RouteTargets } from '@tabby/felix';
import type { IPAMBlock, IPPool, Node } from '@tabby/api';
import { createNetns, vethPair, type Netns } from '@tabby/test-support';

const node = (name: string, ip: string, tunnel: string): Node =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name }, spec: { bgp: { ipv4Address: ip }, ipv4VXLANTunnelAddr: tunnel } });
const block = (cidr: string, host: string): IPAMBlock =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'IPAMBlock', metadata: { name: cidr.replace(/[./]/g, '-') }, spec: { cidr, affinity: `host:${host}`, allocations: [], unallocated: [], attributes: [] } });
const pool: IPPool = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'vx' }, spec: { cidr: '10.244.0.0/16', vxlanMode: 'Always' } };

describe('felix route dataplane: VXLAN in a namespace', function () {
  this.timeout(30_000);
  let ns: Netns | undefined;
  let dp: RouteDataplane;
  let targets: RouteTargets;

  before(async () => {
    ns = createNetns('fvx');
    vethPair(ns, 'eth0x', ns, 'eth0y');
    ns.run('ip', ['addr', 'add', '192.168.1.1/24', 'dev', 'eth0x']);
    targets = calculateRoutes({
      endpoints: [], pools: [pool],
      nodes: [node('node1', '192.168.1.1/24', '10.244.1.0'), node('node2', '192.168.2.2/24', '10.244.2.0')],
      blocks: [block('10.244.1.0/26', 'node1'), block('10.244.2.0/26', 'node2')],
    }, { nodeName: 'node1', interfacePrefixes: ['cali'], rpFilter: 1, vxlanVni: 4096, vxlanPort: 4789 });
    dp = new RouteDataplane({ netns: ns.name });
    dp.setTargets(targets);
    const r = await dp.apply();
    expect(r.failures).to.deep.equal([]);
  });

  after(() => ns?.delete());

  const link = () => (JSON.parse(ns!.run('ip', ['-json', '-d', 'link', 'show', 'vxlan.calico'])) as { address: string; linkinfo: { info_data: { id: number; port: number; local: string } } }[])[0]!;

  it('creates the device, FDB, ARP and routes as Calico does', () => {
    const l = link();
    expect(l.address).to.equal(targets.vxlan!.mac);
    expect(l.linkinfo.info_data).to.include({ id: 4096, port: 4789, local: '192.168.1.1' });
    expect(ns!.run('ip', ['addr', 'show', 'vxlan.calico'])).to.include('10.244.1.0/32');
    const fdb = ns!.run('bridge', ['fdb', 'show', 'dev', 'vxlan.calico']);
    expect(fdb).to.include(`${targets.fdb[0]!.mac} dst 192.168.2.2 self permanent`);
    expect(ns!.run('ip', ['neigh', 'show', 'dev', 'vxlan.calico'])).to.include(`10.244.2.0 lladdr ${targets.fdb[0]!.mac} PERMANENT`);
    const routes = ns!.run('ip', ['route', 'show', 'proto', '80']);
    expect(routes).to.include('blackhole 10.244.1.0/26');
    expect(routes).to.include('10.244.2.0/26 via 10.244.2.0 dev vxlan.calico onlink');
  });

  it('repairs a deleted FDB entry, ARP entry and route on resync; a recreated device with a wrong VNI is replaced', async () => {
    ns!.run('bridge', ['fdb', 'del', targets.fdb[0]!.mac, 'dev', 'vxlan.calico', 'dst', '192.168.2.2', 'self']);
    ns!.run('ip', ['neigh', 'del', '10.244.2.0', 'dev', 'vxlan.calico']);
    ns!.run('ip', ['route', 'del', 'blackhole', '10.244.1.0/26']);
    let r = await dp.resync();
    expect(r).to.include({ fdbWritten: 1, neighboursWritten: 1, routesReplaced: 1 });
    ns!.run('ip', ['link', 'del', 'vxlan.calico']);
    ns!.run('ip', ['link', 'add', 'vxlan.calico', 'type', 'vxlan', 'id', '7', 'dstport', '4789']);
    r = await dp.resync();
    expect(r.vxlanRecreated).to.equal(true);
    expect(link().linkinfo.info_data.id).to.equal(4096);
    expect(ns!.run('ip', ['route', 'show', 'proto', '80'])).to.include('10.244.2.0/26 via 10.244.2.0 dev vxlan.calico onlink');
    expect((await dp.resync()).failures).to.deep.equal([]);
  });

  it('uninstall removes the device and felix routes', async () => {
    await dp.uninstall();
    expect(ns!.tryRun('ip', ['link', 'show', 'vxlan.calico']).code).to.not.equal(0);
    expect(ns!.run('ip', ['route', 'show', 'proto', '80']).trim()).to.equal('');
  });
});

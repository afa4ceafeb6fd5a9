// RouteTable against a real kernel routing table inside a network namespace.
import { expect } from 'chai';
import { createNetns, vethPair, type Netns } from '@tabby/test-support';
import { RouteTable, ipBatch, type Route } from '@tabby/linux';

const PROTO = 201;

interface KernelRoute { dst: string; gateway?: string; dev?: string; type?: string; protocol?: string | number; flags?: string[]; nexthops?: { gateway: string; dev: string; weight?: number }[] }

function kernel(ns: Netns, family: 4 | 6 = 4): KernelRoute[] {
  return JSON.parse(ns.run('ip', ['-json', '-N', '-d', `-${family}`, 'route', 'show', 'table', 'main']) || '[]');
}
const find = (rs: KernelRoute[], dst: string) => rs.find((r) => r.dst === dst);

describe('RouteTable (real netns)', function () {
  this.timeout(20_000);
  let ns: Netns;
  let table: RouteTable;

  before(() => {
    ns = createNetns('rt');
    vethPair(ns, 'tveth0', ns, 'tveth1');
    ns.run('ip', ['addr', 'add', '10.99.0.1/24', 'dev', 'tveth0']);
    ns.run('ip', ['addr', 'add', 'fd99::1/64', 'dev', 'tveth0', 'nodad']);
    // A route some other owner put there; it must survive everything we do.
    ns.run('ip', ['route', 'add', '10.50.0.0/16', 'via', '10.99.0.9', 'proto', 'static']);
    table = new RouteTable({ protocol: PROTO, netns: ns.name });
  });
  after(() => ns?.delete());

  it('programs unicast, blackhole, ECMP, onlink and IPv6 routes with our protocol', async () => {
    const routes: Route[] = [
      { dst: '10.1.0.0/24', nexthops: [{ via: '10.99.0.2', dev: 'tveth0' }] },
      { dst: '10.2.0.0/26', type: 'blackhole', nexthops: [] },
      { dst: '10.3.0.0/24', nexthops: [{ via: '10.99.0.2', dev: 'tveth0' }, { via: '10.99.0.3', dev: 'tveth0' }] },
      { dst: '10.4.0.0/24', nexthops: [{ via: '192.168.77.1', dev: 'tveth0', onlink: true }] },
      { dst: 'fd00:1::/64', nexthops: [{ via: 'fd99::2', dev: 'tveth0' }] },
      // Workload routes as felix writes them, for both families (IPv6 keeps no scope).
      { dst: '10.5.0.1/32', nexthops: [{ dev: 'tveth0' }], scope: 'link' },
      { dst: 'fd00:5::1/128', nexthops: [{ dev: 'tveth0' }], scope: 'link' },
    ];
    table.setRoutes(routes);
    const r = await table.apply();
    expect(r.failures).to.deep.equal([]);
    expect(r.replaced).to.equal(7);
    const k = kernel(ns);
    expect(find(k, '10.1.0.0/24')).to.include({ gateway: '10.99.0.2', dev: 'tveth0', protocol: String(PROTO) });
    expect(find(k, '10.2.0.0/26')).to.include({ type: '6', protocol: String(PROTO) });
    expect(find(k, '10.3.0.0/24')!.nexthops!.map((h) => h.gateway).sort()).to.deep.equal(['10.99.0.2', '10.99.0.3']);
    expect(find(k, '10.4.0.0/24')!.flags).to.include('onlink');
    expect(find(kernel(ns, 6), 'fd00:1::/64')).to.include({ gateway: 'fd99::2', protocol: String(PROTO) });
    expect(find(k, '10.5.0.1')).to.include({ dev: 'tveth0', scope: '253' }); // 253: link
    expect(find(kernel(ns, 6), 'fd00:5::1')).to.include({ dev: 'tveth0', protocol: String(PROTO) });
    expect(find(k, '10.50.0.0/16'), 'foreign route untouched').to.include({ gateway: '10.99.0.9' });
  });

  it('a second apply with nothing changed writes nothing', async () => {
    const r = await table.apply();
    expect(r).to.deep.equal({ replaced: 0, deleted: 0, failures: [] });
  });

  it('reads its own routes back identically after a resync (no spurious rewrites)', async () => {
    table.queueResync();
    const r = await table.apply();
    expect(r).to.deep.equal({ replaced: 0, deleted: 0, failures: [] });
  });

  it('removes routes no longer desired, and only ours', async () => {
    table.remove('10.1.0.0/24');
    table.remove('fd00:1::/64');
    const r = await table.apply();
    expect(r.deleted).to.equal(2);
    expect(find(kernel(ns), '10.1.0.0/24')).to.equal(undefined);
    expect(find(kernel(ns, 6), 'fd00:1::/64')).to.equal(undefined);
    expect(find(kernel(ns), '10.50.0.0/16')).to.not.equal(undefined);
  });

  it('repairs drift on resync: a deleted route comes back, a stray one of ours goes', async () => {
    ns.run('ip', ['route', 'del', '10.2.0.0/26']);
    ns.run('ip', ['route', 'add', '10.8.0.0/24', 'via', '10.99.0.2', 'proto', String(PROTO)]);
    expect((await table.apply()).replaced, 'cached view does not see drift').to.equal(0);
    table.queueResync();
    const r = await table.apply();
    expect(r).to.include({ replaced: 1, deleted: 1 });
    expect(find(kernel(ns), '10.2.0.0/26')).to.include({ type: '6' });
    expect(find(kernel(ns), '10.8.0.0/24')).to.equal(undefined);
  });

  it('reports a failing route by line and still applies the others', async () => {
    table.upsert({ dst: '10.5.0.0/24', nexthops: [{ via: '172.31.0.1', dev: 'tveth0' }] }); // unreachable gateway, no onlink
    table.upsert({ dst: '10.6.0.0/24', nexthops: [{ via: '10.99.0.2', dev: 'tveth0' }] });
    const r = await table.apply();
    expect(r.failures).to.have.length(1);
    expect(r.failures[0]!.command).to.include('10.5.0.0/24');
    expect(r.failures[0]!.error).to.match(/gateway|unreachable|Nexthop/i);
    expect(find(kernel(ns), '10.6.0.0/24')).to.include({ gateway: '10.99.0.2' });
    table.remove('10.5.0.0/24');
    expect((await table.apply()).failures).to.deep.equal([]);
  });

  it('refuses batch tokens that could smuggle extra commands', async () => {
    let err: Error | undefined;
    try {
      await ipBatch([['route', 'add', '10.7.0.0/24 dev lo']], { netns: ns.name });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/contains whitespace/);
  });
});

// confd -> bgpd: BGPConfiguration communities/prefixAdvertisements, BGPFilter and BGPPeer
// filters, rendered (unit) and followed from a real etcd (daemon).
import { expect } from 'chai';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { BGPFilter } from '@tabby/api';
import { parseConfig } from '@tabby/bgpd';
import { EtcdDatastore, type Datastore } from '@tabby/datastore';
import { createLogger } from '@tabby/log';
import { eventually, startEtcd, tmpDir, type EtcdServer } from '@tabby/test-support';
import { Confd, bgpdConfigFromPlan, bgpdYaml, planBgp, renderOnce, renderTarget } from '@tabby/confd';
import { affinity, bgpConfig, input, node, peer, pool } from './fixtures.js';

const filter = (name: string, spec: BGPFilter['spec']): BGPFilter => ({ apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: { name }, spec });

const base = () => input('a', {
  nodes: [node('a', '10.0.0.1/24'), node('b', '10.0.0.2/24')],
  ipPools: [pool('pods', { cidr: '10.244.0.0/16' }), pool('pods6', { cidr: 'fd10::/64' })],
  blockAffinities: [affinity('a', '10.244.1.0/26'), affinity('a', '10.244.9.0/26')],
  bgpConfigurations: [bgpConfig('default', {
    communities: [{ name: 'gold', value: '65000:100' }, { name: 'big', value: '65000:1:2' }],
    prefixAdvertisements: [{ cidr: '10.244.0.0/16', communities: ['gold'] }, { cidr: '10.244.1.0/24', communities: ['big', '65000:7'] }],
  })],
  bgpPeers: [peer('tor', { peerIP: '10.0.0.254', asNumber: 65000, filters: ['no-9', 'missing'] })],
  bgpFilters: [
    filter('no-9', {
      exportV4: [{ cidr: '10.244.9.0/26', matchOperator: 'Equal', action: 'Reject' }],
      importV4: [{ cidr: '10.0.0.0/8', matchOperator: 'In', prefixLength: { min: 16, max: 24 }, source: 'RemotePeers', action: 'Accept' }, { action: 'Reject' }],
      importV6: [{ cidr: 'fd00::/8', matchOperator: 'NotIn', action: 'Reject', asPathPrefix: [65000] }],
    }),
    filter('unused', { exportV4: [{ action: 'Reject' }] }),
  ],
});

describe('confd -> bgpd: communities and BGPFilters', () => {
  it('renders prefixAdvertisements communities per originated prefix, filters and peer filter lists, which bgpd accepts', () => {
    const { config, warnings } = bgpdConfigFromPlan(planBgp(base()));
    expect(config.originate).to.deep.equal([
      { prefix: '10.244.1.0/26', blackhole: true, communities: ['65000:100', '65000:1:2', '65000:7'] },
      { prefix: '10.244.9.0/26', blackhole: true, communities: ['65000:100'] },
    ]);
    const tor = config.peers.find((p) => p.address === '10.0.0.254')!;
    expect(tor.filters).to.deep.equal(['no-9']);
    expect(config.peers.find((p) => p.address === '10.0.0.2')!.filters).to.equal(undefined);
    expect(Object.keys(config.filters!)).to.deep.equal(['no-9']);
    expect(config.filters!['no-9']).to.deep.equal({
      exportV4: [{ action: 'Reject', cidr: '10.244.9.0/26', matchOperator: 'Equal' }],
      importV4: [{ action: 'Accept', cidr: '10.0.0.0/8', matchOperator: 'In', prefixLength: { min: 16, max: 24 }, source: 'RemotePeers' }, { action: 'Reject' }],
    });
    expect(warnings.join('\n')).to.match(/BGPFilter missing does not exist/);
    expect(warnings.join('\n')).to.match(/no-9 importV6\[0\]: asPathPrefix/);
    // What confd writes is what bgpd loads.
    const cfg = parseConfig(parse(bgpdYaml(config, 'a')));
    expect(cfg.filters!['no-9']!.importV4).to.have.length(2);
    expect(cfg.peers.find((p) => p.address === '10.0.0.254')!.filters).to.deep.equal(['no-9']);
    expect(cfg.originate[0]!.communities).to.deep.equal(['65000:100', '65000:1:2', '65000:7']);
  });

  it("the node's own BGPConfiguration prefixAdvertisements replace the default's; unknown names are warned about", () => {
    const inp = base();
    inp.bgpConfigurations = [...inp.bgpConfigurations, bgpConfig('node.a', { prefixAdvertisements: [{ cidr: '10.244.9.0/26', communities: ['gold', 'nosuch'] }] })];
    const plan = planBgp(inp);
    expect(plan.originate.map((o) => [o.prefix, o.communities])).to.deep.equal([['10.244.1.0/26', undefined], ['10.244.9.0/26', ['65000:100']]]);
    expect(plan.warnings.join('\n')).to.match(/community "nosuch" is neither defined/);
  });

  it('the BIRD target says filters and communities are not rendered for it', () => {
    const { warnings } = renderTarget(base(), 'bird');
    expect(warnings.join('\n')).to.match(/BGPFilters \(no-9\) are rendered for bgpd only/);
    expect(warnings.join('\n')).to.match(/communities are rendered for bgpd only/);
  });
});

describe('confd with etcd: BGPFilter and prefixAdvertisements changes', function () {
  this.timeout(60_000);
  let etcd: EtcdServer;
  let ds: Datastore;
  let dir: string;
  const log = createLogger('confd-test', { level: 'error' });

  before(async () => {
    etcd = await startEtcd();
    ds = new EtcdDatastore({ endpoints: [etcd.endpoint] });
    dir = tmpDir('tabby-confd-policy-');
    const b = base();
    for (const r of [...b.nodes, ...b.ipPools, ...b.blockAffinities, ...b.bgpConfigurations, ...b.bgpFilters!]) await ds.create(r);
    await ds.create(peer('tor', { peerIP: '10.0.0.254', asNumber: 65000, filters: ['no-9'] }));
  });
  after(async () => {
    await ds?.close();
    await etcd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the daemon renders them and follows BGPFilter, BGPPeer filters and BGPConfiguration changes', async () => {
    const out = join(dir, 'bgpd.yaml');
    const readCfg = () => parseConfig(parse(readFileSync(out, 'utf8')));
    const confd = new Confd({ nodeName: 'a', datastore: ds, out, target: 'bgpd', reload: { kind: 'none' }, log, debounceMs: 50 });
    try {
      confd.start();
      await eventually(() => existsSync(out), 20_000, 'the first render');
      let cfg = readCfg();
      expect(cfg.filters!['no-9']!.exportV4[0]!.cidr).to.equal('10.244.9.0/26');
      expect(cfg.peers.find((p) => p.address === '10.0.0.254')!.filters).to.deep.equal(['no-9']);
      expect(cfg.originate.find((o) => o.prefix === '10.244.9.0/26')!.communities).to.deep.equal(['65000:100']);

      const f = await ds.get('BGPFilter', 'no-9');
      await ds.update({ ...f, spec: { exportV4: [{ cidr: '10.244.1.0/26', matchOperator: 'Equal', action: 'Reject' }] } });
      await eventually(() => readCfg().filters?.['no-9']?.exportV4[0]?.cidr === '10.244.1.0/26', 20_000, 'the filter change');
      cfg = readCfg();
      expect(cfg.filters!['no-9']!.importV4).to.deep.equal([]);

      const c = await ds.get('BGPConfiguration', 'default');
      await ds.update({ ...c, spec: { ...c.spec, communities: [{ name: 'gold', value: '65000:200' }, { name: 'big', value: '65000:1:2' }] } });
      await eventually(() => readCfg().originate.find((o) => o.prefix === '10.244.9.0/26')?.communities?.[0] === '65000:200', 20_000, 'the community change');

      const p = await ds.get('BGPPeer', 'tor');
      await ds.update({ ...p, spec: { ...p.spec, filters: [] } });
      await eventually(() => readCfg().filters === undefined && readCfg().peers.every((x) => !x.filters), 20_000, 'the peer without filters');
    } finally {
      await confd.close();
    }
  });

  it('a datastore that does not serve BGPFilter (a cluster without that CRD) still renders, without filters', async () => {
    // The same etcd, except that BGPFilter fails the way the Kubernetes datastore fails for a missing CRD.
    const bare = new Proxy(ds, {
      get(target, prop) {
        const v = Reflect.get(target, prop) as unknown;
        if ((prop === 'watch' || prop === 'list') && typeof v === 'function') {
          return (kind: string, ...rest: unknown[]) => (kind === 'BGPFilter'
            ? Promise.reject(new Error('the Kubernetes API at http://127.0.0.1:1 does not serve /apis/crd.projectcalico.org/v1/bgpfilters'))
            : (v as (...a: unknown[]) => unknown).call(target, kind, ...rest));
        }
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const p = await ds.get('BGPPeer', 'tor');
    await ds.update({ ...p, spec: { ...p.spec, filters: ['no-9'] } });
    const out = join(dir, 'bare.yaml');
    const confd = new Confd({ nodeName: 'a', datastore: bare, out, target: 'bgpd', reload: { kind: 'none' }, log, debounceMs: 50, retryMs: 100 });
    try {
      confd.start();
      await eventually(() => existsSync(out), 20_000, 'a render without BGPFilter');
      const cfg = parseConfig(parse(readFileSync(out, 'utf8')));
      expect(cfg.filters).to.equal(undefined);
      expect(cfg.peers.find((x) => x.address === '10.0.0.254')!.filters).to.equal(undefined);
    } finally {
      await confd.close();
    }
    const once = join(dir, 'once.yaml');
    await renderOnce({ nodeName: 'a', datastore: bare, out: once, target: 'bgpd', reload: { kind: 'none' }, log });
    expect(parseConfig(parse(readFileSync(once, 'utf8'))).peers.length).to.be.greaterThan(0);
  });
});

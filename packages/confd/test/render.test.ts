import { expect } from 'chai';
import { parse } from 'yaml';
import { parseConfig } from '@tabby/bgpd';
import { bgpdConfigFromPlan, bgpdYaml, NoRouterIdError, planBgp, render, type ConfdInput } from '@tabby/confd';
import { affinity, bgpConfig, block, input, node, peer, pool } from './fixtures.js';

/** Renders and checks the result passes bgpd's own validation (unchanged by it apart from defaults). */
function renderValid(i: ConfdInput) {
  const cfg = render(i);
  const parsed = parseConfig(parse(bgpdYaml(cfg, i.nodeName)));
  expect(parsed.peers.map((p) => p.address)).to.deep.equal(cfg.peers.map((p) => p.address));
  return cfg;
}

const three = [node('a', '10.0.0.1/24'), node('b', '10.0.0.2/24'), node('c', '10.0.0.3/24')];

describe('confd renderer (bgpd target)', () => {
  describe('node-to-node mesh', () => {
    it('peers with every other node; the side whose address sorts higher waits (passive)', () => {
      const cfg = renderValid(input('b', { nodes: three }));
      expect(cfg.routerId).to.equal('10.0.0.2');
      expect(cfg.asNumber).to.equal(64512);
      expect(cfg.peers).to.deep.equal([
        { address: '10.0.0.1', asNumber: 64512, type: 'mesh', passive: false, sourceAddress: '10.0.0.2', addPaths: true },
        { address: '10.0.0.3', asNumber: 64512, type: 'mesh', passive: true, sourceAddress: '10.0.0.2', addPaths: true },
      ]);
    });

    it('compares addresses as strings, as Calico does (10.0.0.10 < 10.0.0.9)', () => {
      const cfg = renderValid(input('n9', { nodes: [node('n9', '10.0.0.9/24'), node('n10', '10.0.0.10/24')] }));
      expect(cfg.peers[0]).to.include({ address: '10.0.0.10', passive: false });
      const other = renderValid(input('n10', { nodes: [node('n9', '10.0.0.9/24'), node('n10', '10.0.0.10/24')] }));
      expect(other.peers[0]).to.include({ address: '10.0.0.9', passive: true });
    });

    it('exactly one side of every mesh pair is passive', () => {
      const nodes = ['10.1.2.3', '10.1.2.30', '10.11.0.1', '192.168.0.1', '9.9.9.9'].map((ip, i) => node(`n${i}`, `${ip}/16`));
      const sessions = new Map<string, boolean[]>();
      for (const n of nodes) {
        for (const p of renderValid(input(n.metadata.name, { nodes })).peers) {
          const me = n.spec.bgp!.ipv4Address!.split('/')[0]!;
          const key = [me, p.address].sort().join('-');
          sessions.set(key, [...(sessions.get(key) ?? []), p.passive]);
        }
      }
      expect(sessions.size).to.equal(10);
      for (const [k, sides] of sessions) expect(sides.sort(), k).to.deep.equal([false, true]);
    });

    it('adds IPv6 sessions between nodes that both have IPv6 addresses', () => {
      const nodes = [node('a', '10.0.0.1/24', { v6: 'fd00::1/64' }), node('b', '10.0.0.2/24', { v6: 'fd00::2/64' }), node('c', '10.0.0.3/24')];
      const cfg = renderValid(input('a', { nodes }));
      expect(cfg.peers.map((p) => [p.address, p.passive, p.sourceAddress])).to.deep.equal([
        ['10.0.0.2', true, '10.0.0.1'], ['10.0.0.3', true, '10.0.0.1'], ['fd00::2', true, 'fd00::1'],
      ]);
    });

    it('skips nodes without a BGP address and refuses to render a node without one', () => {
      const cfg = renderValid(input('a', { nodes: [node('a', '10.0.0.1/24'), node('b')] }));
      expect(cfg.peers).to.deep.equal([]);
      expect(() => render(input('b', { nodes: [node('a', '10.0.0.1/24'), node('b')] }))).to.throw(NoRouterIdError, /no IPv4 BGP address/);
      expect(() => render(input('zz', { nodes: three }))).to.throw(NoRouterIdError, /no Node resource/);
    });

    it('takes CALICO_ROUTER_ID as the router ID when given', () => {
      expect(renderValid({ ...input('a', { nodes: three }), routerId: '1.2.3.4' }).routerId).to.equal('1.2.3.4');
    });

    it('renders no mesh when nodeToNodeMeshEnabled is false', () => {
      const cfg = renderValid(input('a', { nodes: three, bgpConfigurations: [bgpConfig('default', { nodeToNodeMeshEnabled: false })] }));
      expect(cfg.peers).to.deep.equal([]);
    });
  });

  describe('AS numbers', () => {
    it('uses the node override, else the default BGPConfiguration, else 64512', () => {
      const nodes = [node('a', '10.0.0.1/24', { as: 65001 }), node('b', '10.0.0.2/24'), node('c', '10.0.0.3/24', { as: 65003 })];
      const withDefault = [bgpConfig('default', { asNumber: '1.10' })];
      expect(renderValid(input('a', { nodes })).asNumber).to.equal(65001);
      const b = renderValid(input('b', { nodes, bgpConfigurations: withDefault }));
      expect(b.asNumber).to.equal(65536 + 10);
      expect(b.peers.map((p) => [p.address, p.asNumber])).to.deep.equal([['10.0.0.1', 65001], ['10.0.0.3', 65003]]);
      expect(renderValid(input('b', { nodes })).asNumber).to.equal(64512);
    });
  });

  describe('explicit BGPPeers', () => {
    const noMesh = bgpConfig('default', { nodeToNodeMeshEnabled: false });

    it('global peers apply to every node; node peers only to the named or selected nodes', () => {
      const nodes = [node('a', '10.0.0.1/24', { labels: { rack: 'r1' } }), node('b', '10.0.0.2/24', { labels: { rack: 'r2' } })];
      const bgpPeers = [
        peer('tor-global', { peerIP: '10.0.0.254', asNumber: 65000 }),
        peer('a-only', { node: 'a', peerIP: '10.0.0.253', asNumber: 65000 }),
        peer('rack2', { nodeSelector: "rack == 'r2'", peerIP: '[fd00::fe]:1179', asNumber: 65002, sourceAddress: 'None' }),
      ];
      const a = renderValid(input('a', { nodes, bgpPeers, bgpConfigurations: [noMesh] }));
      expect(a.peers).to.deep.equal([
        { address: '10.0.0.254', asNumber: 65000, type: 'global', passive: false, sourceAddress: '10.0.0.1', addPaths: true },
        { address: '10.0.0.253', asNumber: 65000, type: 'node', passive: false, sourceAddress: '10.0.0.1', addPaths: true },
      ]);
      const b = renderValid(input('b', { nodes, bgpPeers, bgpConfigurations: [noMesh] }));
      expect(b.peers).to.deep.equal([
        { address: '10.0.0.254', asNumber: 65000, type: 'global', passive: false, sourceAddress: '10.0.0.2', addPaths: true },
        { address: 'fd00::fe', asNumber: 65002, type: 'node', passive: false, port: 1179, addPaths: true },
      ]);
    });

    it('expands peerSelector to the matching nodes (their AS) and peers back from them (reverse peering)', () => {
      const nodes = [node('a', '10.0.0.1/24'), node('b', '10.0.0.2/24', { as: 65002, labels: { edge: 'yes' } }), node('c', '10.0.0.3/24', { labels: { edge: 'yes' } })];
      const bgpPeers = [peer('to-edge', { node: 'a', peerSelector: "edge == 'yes'" })];
      const a = renderValid(input('a', { nodes, bgpPeers, bgpConfigurations: [noMesh] }));
      expect(a.peers.map((p) => [p.address, p.asNumber, p.type, p.passive])).to.deep.equal([['10.0.0.2', 65002, 'node', true], ['10.0.0.3', 64512, 'node', true]]);
      const b = renderValid(input('b', { nodes, bgpPeers, bgpConfigurations: [noMesh] }));
      expect(b.peers.map((p) => [p.address, p.asNumber, p.type, p.passive])).to.deep.equal([['10.0.0.1', 64512, 'node', false]]);
      const manual = [peer('to-edge', { node: 'a', peerSelector: "edge == 'yes'", reversePeering: 'Manual' })];
      expect(renderValid(input('b', { nodes, bgpPeers: manual, bgpConfigurations: [noMesh] })).peers).to.deep.equal([]);
    });

    it('drops a node-scoped peering identical to a global one, and a peering with ourselves', () => {
      const bgpPeers = [peer('g', { peerIP: '10.0.0.254', asNumber: 65000 }), peer('n', { node: 'a', peerIP: '10.0.0.254', asNumber: 65000 }), peer('self', { peerIP: '10.0.0.1', asNumber: 64512 })];
      const plan = planBgp(input('a', { nodes: three.slice(0, 1), bgpPeers }));
      expect(plan.peers.map((p) => [p.name, p.kind])).to.deep.equal([['Global_10_0_0_254', 'global']]);
      expect(plan.warnings).to.deep.equal([]);
    });

    it('maps keepalive, local AS, source address, graceful restart time, next hop, allowed local AS and GTSM; warns about the password', () => {
      const bgpPeers = [peer('tor', {
        peerIP: '10.0.0.254', asNumber: 65000, localASNumber: 65100, keepaliveTime: '40s', maxRestartTime: '2m',
        numAllowedLocalASNumbers: 2, keepOriginalNextHop: true, ttlSecurity: 2, password: { secretKeyRef: { name: 's', key: 'k' } },
      })];
      const plan = planBgp(input('a', { nodes: three.slice(0, 1), bgpPeers }));
      expect(plan.peers[0]).to.include({ keepaliveTime: 40, restartTime: 120, allowLocalAs: 2, nextHop: 'keep', localAsNumber: 65100 });
      const { config, warnings } = bgpdConfigFromPlan(plan);
      expect(config.peers).to.deep.equal([{
        address: '10.0.0.254', asNumber: 65000, type: 'global', passive: false, holdTime: 120, keepaliveTime: 40, sourceAddress: '10.0.0.1', localAsNumber: 65100,
        gracefulRestart: { enabled: true, restartTime: 120 }, nextHop: 'keep', allowLocalAs: 2, ttlSecurity: 2, addPaths: true,
      }]);
      expect(warnings.join('\n')).to.match(/passwords are not supported yet \(confd cannot read the secretKeyRef secret\)/);
      expect(warnings.join('\n')).to.not.match(/does not support/);
      expect(warnings.join('\n')).to.not.match(/graceful restart/);
      parseConfig(parse(bgpdYaml(config, 'a')));
    });

    it('skips malformed peers with a warning instead of failing the whole render', () => {
      const bgpPeers = [peer('bad-ip', { peerIP: '10.0.0', asNumber: 1 }), peer('no-as', { peerIP: '10.0.0.9' }), peer('bad-sel', { peerSelector: 'a ==' })];
      const plan = planBgp(input('a', { nodes: three, bgpPeers, bgpConfigurations: [noMesh] }));
      expect(plan.peers).to.deep.equal([]);
      expect(plan.warnings).to.have.length(3);
    });
  });

  describe('route reflectors', () => {
    const nodes = [
      node('rr1', '10.0.0.10/24', { rr: '224.0.0.1', labels: { rr: 'true' } }),
      node('a', '10.0.0.1/24'), node('b', '10.0.0.2/24'),
    ];
    const bgpPeers = [peer('to-rr', { peerSelector: 'has(rr)' })];

    it('route reflectors leave the mesh; clients reach them through the peerSelector BGPPeer', () => {
      const a = renderValid(input('a', { nodes, bgpPeers }));
      expect(a.peers.map((p) => [p.address, p.type, p.passive])).to.deep.equal([['10.0.0.2', 'mesh', true], ['10.0.0.10', 'global', true]]);
    });

    it('the reflector peers with every client (reverse peering) as its route reflector clients, with the cluster ID', () => {
      const plan = planBgp(input('rr1', { nodes, bgpPeers }));
      expect(plan.peers.map((p) => [p.address, p.kind, p.rrClusterId, p.passive])).to.deep.equal([
        // String order: 10.0.0.1 < 10.0.0.10 < 10.0.0.2.
        ['10.0.0.1', 'global', '224.0.0.1', false], ['10.0.0.2', 'global', '224.0.0.1', true],
      ]);
      const { config, warnings } = bgpdConfigFromPlan(plan);
      expect(config.peers.map((p) => [p.address, p.routeReflectorClient])).to.deep.equal([['10.0.0.1', true], ['10.0.0.2', true]]);
      expect(config.clusterId).to.equal('224.0.0.1');
      expect(warnings.filter((w) => /route reflection/.test(w))).to.deep.equal([]);
      const parsed = parseConfig(parse(bgpdYaml(config, 'rr1')));
      expect(parsed.clusterId).to.equal('224.0.0.1');
      expect(parsed.peers.every((p) => p.routeReflectorClient)).to.equal(true);
    });

    it('reflectors of the same cluster peer as plain iBGP', () => {
      const rrs = [...nodes, node('rr2', '10.0.0.11/24', { rr: '224.0.0.1', labels: { rr: 'true' } })];
      const plan = planBgp(input('rr1', { nodes: rrs, bgpPeers }));
      const rr2 = plan.peers.find((p) => p.address === '10.0.0.11')!;
      expect(rr2.rrClusterId).to.equal(undefined);
      expect(plan.peers.find((p) => p.address === '10.0.0.1')!.rrClusterId).to.equal('224.0.0.1');
    });
  });

  describe('pools and blocks', () => {
    const pools = [
      pool('ipip', { cidr: '10.244.0.0/16', ipipMode: 'Always' }),
      pool('vxlan', { cidr: '10.245.0.0/16', vxlanMode: 'CrossSubnet' }),
      pool('plain', { cidr: '10.246.0.0/16' }),
      pool('noexport', { cidr: '10.247.0.0/16', disableBGPExport: true }),
      pool('v6', { cidr: 'fd10::/48' }),
    ];

    it('turns pool encapsulation into kernel rules', () => {
      const cfg = renderValid(input('a', { nodes: three, ipPools: pools }));
      expect(cfg.kernel).to.deep.equal({
        enabled: true,
        routes: [
          { prefix: '10.244.0.0/16', install: true, device: 'tunl0', onlink: true },
          { prefix: '10.245.0.0/16', install: false },
        ],
      });
    });

    it('warns that IPIP CrossSubnet is rendered as Always', () => {
      const { config, warnings } = bgpdConfigFromPlan(planBgp(input('a', { nodes: three, ipPools: [pool('x', { cidr: '10.244.0.0/16', ipipMode: 'CrossSubnet' })] })));
      expect(config.kernel.routes).to.deep.equal([{ prefix: '10.244.0.0/16', install: true, device: 'tunl0', onlink: true }]);
      expect(warnings.join()).to.match(/CrossSubnet/);
    });

    it('originates confirmed affine blocks as blackholed aggregates, not pending ones, others\' or unexportable ones', () => {
      const blockAffinities = [
        affinity('a', '10.246.1.0/26'), affinity('a', '10.244.0.64/26'), affinity('a', 'fd10::/122'),
        affinity('a', '10.246.2.0/26', 'pending'), affinity('b', '10.246.3.0/26'), affinity('a', '10.247.0.0/26'),
        affinity('a', '172.16.0.0/26'), affinity('a', '10.246.9.9/32'),
      ];
      const cfg = renderValid(input('a', { nodes: three, ipPools: pools, blockAffinities }));
      expect(cfg.originate).to.deep.equal([
        { prefix: '10.244.0.64/26', blackhole: true },
        { prefix: '10.246.1.0/26', blackhole: true },
        { prefix: '10.246.9.9/32', blackhole: false },
        { prefix: 'fd10::/122', blackhole: true },
      ]);
    });

    it('originates borrowed addresses (this node\'s pods in other nodes\' blocks) as host routes', () => {
      const ipamBlocks = [block('10.246.3.0/26', 'b', [0, 5], 'a'), block('10.246.4.0/26', 'b', [1], 'b'), block('10.246.1.0/26', 'a', [2], 'a')];
      const cfg = renderValid(input('a', { nodes: three, ipPools: pools, blockAffinities: [affinity('a', '10.246.1.0/26')], ipamBlocks }));
      expect(cfg.originate).to.deep.equal([
        { prefix: '10.246.1.0/26', blackhole: true },
        { prefix: '10.246.3.0/32', blackhole: false },
        { prefix: '10.246.3.5/32', blackhole: false },
      ]);
    });
  });

  describe('BGPConfiguration', () => {
    it('listens on the IPv6 wildcard once there is an IPv6 peer (bgpd defaults to 0.0.0.0), keeping a set port', () => {
      const nodes = [node('a', '10.0.0.1/24', { v6: 'fd00::1/64' }), node('b', '10.0.0.2/24', { v6: 'fd00::2/64' })];
      expect(renderValid(input('a', { nodes })).listen).to.deep.equal({ address: '::' });
      expect(renderValid(input('a', { nodes, bgpConfigurations: [bgpConfig('default', { listenPort: 1790 })] })).listen).to.deep.equal({ address: '::', port: 1790 });
      expect(renderValid(input('a', { nodes: [node('a', '10.0.0.1/24', { v6: 'fd00::1/64' }), node('b', '10.0.0.2/24')] })).listen).to.equal(undefined);
      expect(renderValid(input('a', { nodes, bgpConfigurations: [bgpConfig('default', { bindMode: 'NodeIP' })] })).listen).to.deep.equal({ address: '10.0.0.1' });
    });

    it('listenPort and bindMode NodeIP shape listen; node.<name> overrides the port', () => {
      expect(renderValid(input('a', { nodes: three })).listen).to.equal(undefined);
      const cfgs = [bgpConfig('default', { listenPort: 1790, bindMode: 'NodeIP' }), bgpConfig('node.a', { listenPort: 1791 })];
      expect(renderValid(input('a', { nodes: three, bgpConfigurations: cfgs })).listen).to.deep.equal({ address: '10.0.0.1', port: 1791 });
      expect(renderValid(input('b', { nodes: three, bgpConfigurations: cfgs })).listen).to.deep.equal({ address: '10.0.0.2', port: 1790 });
    });

    it('the same input always renders byte-identical text, whatever the input order', () => {
      const i = input('a', { nodes: three, bgpPeers: [peer('x', { peerIP: '10.9.0.1', asNumber: 1 }), peer('y', { peerIP: '10.9.0.2', asNumber: 2 })] });
      const j = { ...i, nodes: [...three].reverse(), bgpPeers: [...i.bgpPeers].reverse() };
      expect(bgpdYaml(render(j), 'a')).to.equal(bgpdYaml(render(i), 'a'));
    });
  });
});

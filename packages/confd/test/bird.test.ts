// The BIRD 2 target: every rendered config must be accepted by `bird -p` (parse only).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '@tabby/test-support';
import { renderBird, type ConfdInput } from '@tabby/confd';
import { affinity, bgpConfig, input, node, peer, pool } from './fixtures.js';

function birdParse(dir: string, text: string): { status: number | null; stderr: string } {
  const file = join(dir, 'bird.conf');
  writeFileSync(file, text);
  const r = spawnSync('bird', ['-p', '-c', file], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stderr: r.stderr };
}

const nodes = [
  node('a', '10.0.0.1/24', { v6: 'fd00::1/64', labels: { rack: 'r1' } }),
  node('b', '10.0.0.2/24', { v6: 'fd00::2/64', as: 65002 }),
  node('rr', '10.0.0.10/24', { rr: '224.0.0.1', labels: { rr: 'true' } }),
];
const pools = [
  pool('ipip', { cidr: '10.244.0.0/16', ipipMode: 'Always' }),
  pool('cross', { cidr: '10.243.0.0/16', ipipMode: 'CrossSubnet' }),
  pool('vxlan', { cidr: '10.245.0.0/16', vxlanMode: 'Always' }),
  pool('noexport', { cidr: '10.247.0.0/16', disableBGPExport: true }),
  pool('v6', { cidr: 'fd10::/48' }),
];

const cases: [string, ConfdInput][] = [
  ['a mesh node with IPv4 and IPv6 blocks, global and node peers', input('a', {
    nodes, ipPools: pools,
    blockAffinities: [affinity('a', '10.244.1.0/26'), affinity('a', 'fd10::/122'), affinity('a', '10.244.9.9/32')],
    bgpPeers: [
      peer('tor', { peerIP: '10.0.0.254', asNumber: 65000, keepaliveTime: '10s', maxRestartTime: '1m', numAllowedLocalASNumbers: 1, keepOriginalNextHop: true, ttlSecurity: 2 }),
      peer('rack', { nodeSelector: "rack == 'r1'", peerIP: '[fd00::fe]:1179', asNumber: 65000, localASNumber: 65100, nextHopMode: 'Self', sourceAddress: 'None' }),
      peer('to-rr', { peerSelector: 'has(rr)' }),
    ],
    bgpConfigurations: [bgpConfig('default', { logSeverityScreen: 'Debug', listenPort: 1790, bindMode: 'NodeIP', ignoredInterfaces: ['eth9', 'veth*'], nodeMeshMaxRestartTime: '30s' })],
  })],
  ['a route reflector', input('rr', { nodes, ipPools: pools, bgpPeers: [peer('to-rr', { peerSelector: 'has(rr)' })] })],
  ['mesh disabled, no pools, no peers', input('a', { nodes, bgpConfigurations: [bgpConfig('default', { nodeToNodeMeshEnabled: false, logSeverityScreen: 'Error' })] })],
];

describe('confd renderer (BIRD 2 target)', () => {
  let dir: string;
  before(() => { dir = tmpDir('tabby-confd-bird-'); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, i] of cases) {
    it(`bird -p accepts the config for ${name}`, () => {
      const text = renderBird(i);
      const r = birdParse(dir, text);
      expect(r.status, r.stderr).to.equal(0);
    });
  }

  it('bird -p does reject a broken config (the check above can fail)', () => {
    const r = birdParse(dir, renderBird(cases[0]![1]).replace('router id', 'router idd'));
    expect(r.status).to.not.equal(0);
  });

  it('renders the Calico shape: protocol names, passive side, blackholes, per-pool kernel rules, RR clients', () => {
    const a = renderBird(cases[0]![1]);
    expect(a).to.match(/^router id 10\.0\.0\.1;$/m);
    expect(a).to.match(/protocol bgp Mesh_10_0_0_2 from tabby_bgp \{[^}]*neighbor 10\.0\.0\.2 as 65002;\n {2}strict bind;\n {2}passive on;\n {2}graceful restart time 30;/);
    expect(a).to.match(/protocol bgp Mesh_fd00__2 from tabby_bgp/);
    expect(a).to.not.match(/Mesh_10_0_0_10/);
    expect(a).to.match(/protocol bgp Global_10_0_0_254 from tabby_bgp \{[^}]*local 10\.0\.0\.1 port 1790 as 64512;[^}]*ttl security on;\n {2}multihop 2;\n {2}allow local as 1;/);
    expect(a).to.match(/protocol bgp Node_fd00__fe_port_1179 from tabby_bgp \{[^}]*local port 1790 as 65100;\n {2}neighbor fd00::fe port 1179 as 65000;/);
    expect(a).to.match(/route 10\.244\.1\.0\/26 blackhole;/);
    expect(a).to.not.match(/route 10\.244\.9\.9\/32 blackhole/);
    expect(a).to.match(/route fd10::\/122 blackhole;/);
    expect(a).to.match(/if \( net ~ 10\.245\.0\.0\/16 \) then reject;/);
    expect(a).to.match(/if \( net ~ 10\.244\.0\.0\/16 \) then \{ if \( source = RTS_BGP \) then ifname = "tunl0"; accept; \}/);
    expect(a).to.match(/bgp_next_hop ~ 10\.0\.0\.0\/24/);
    expect(a).to.match(/interface -"eth9", -"veth\*", -"cali\*"/);
    const rr = renderBird(cases[1]![1]);
    expect(rr).to.match(/This node is a route reflector/);
    expect(rr).to.match(/protocol bgp Global_10_0_0_1 from tabby_bgp \{[^}]*rr client;\n {2}rr cluster id 224\.0\.0\.1;/);
    expect(renderBird(cases[2]![1])).to.match(/# Node-to-node mesh disabled/).and.match(/# No IPv4 blocks for this host\./);
  });
});

// The plan as a BIRD 2 configuration, so real BIRD can run in place of bgpd. The shape follows
// Calico's bird.cfg (mesh/global/node protocols named as Calico names them, a static protocol
// with blackholes for affine blocks, a kernel protocol with per-pool rules), written for BIRD 2's
// channel syntax. Calico's fork-only `krt_tunnel` has no BIRD 2 equivalent: IPIP pool routes get
// `ifname = "tunl0"` (recursive next hops then resolve over the tunnel device).

import { planBgp, type BgpPlan, type ConfdInput, type PlannedPeer } from './plan.js';

type Family = 4 | 6;

const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

function exportFunction(plan: BgpPlan, f: Family): string[] {
  const blocks = plan.originate.filter((o) => o.family === f && o.blackhole).map((o) => o.prefix);
  const pools = plan.pools.filter((p) => p.family === f);
  const out = [`# Routes this node advertises (IPv${f}): its blocks, and addresses it holds in other nodes' blocks.`,
    `function tabby_export_v${f}(bool internal_peer) {`];
  for (const p of pools.filter((x) => !x.exportable)) out.push(`  if ( net ~ ${p.cidr} ) then return false;`);
  // Tunnel routes felix programs are not ours to advertise to other Calico nodes.
  out.push(`  if ( internal_peer && defined(ifname) && (ifname ~ "*.cali" || ifname ~ "vxlan.calico" || ifname ~ "wireguard.cali") ) then return false;`);
  for (const b of blocks) {
    out.push(`  if ( net = ${b} ) then return true;`);
    out.push(`  if ( net ~ ${b} ) then return false;`);
  }
  for (const p of pools.filter((x) => x.exportable)) out.push(`  if ( net ~ ${p.cidr} ) then return true;`);
  out.push('  return false;', '}', '');
  return out;
}

function kernelFilter(plan: BgpPlan, f: Family): string[] {
  const out = [`filter tabby_kernel_v${f} {`, '  if ( source = RTS_DEVICE ) then reject;'];
  for (const p of plan.pools.filter((x) => x.family === f)) {
    switch (p.encap) {
      case 'vxlan':
        out.push(`  if ( net ~ ${p.cidr} ) then reject;  # VXLAN pool: felix programs these routes`);
        break;
      case 'ipip':
        out.push(`  if ( net ~ ${p.cidr} ) then { if ( source = RTS_BGP ) then ifname = "tunl0"; accept; }`);
        break;
      case 'ipip-crosssubnet':
        if (plan.ipv4Network) {
          out.push(`  if ( net ~ ${p.cidr} ) then { if ( source = RTS_BGP && !(bgp_next_hop ~ ${plan.ipv4Network}) ) then ifname = "tunl0"; accept; }`);
        } else {
          out.push(`  if ( net ~ ${p.cidr} ) then { if ( source = RTS_BGP ) then ifname = "tunl0"; accept; }`);
        }
        break;
      case 'none':
        out.push(`  if ( net ~ ${p.cidr} ) then accept;`);
        break;
    }
  }
  out.push('  accept;', '}', '');
  return out;
}

function peerProtocol(plan: BgpPlan, p: PlannedPeer): string[] {
  const f = p.family;
  const localAs = p.localAsNumber ?? plan.asNumber;
  const internal = p.asNumber === localAs;
  const out = [`protocol bgp ${p.name} from tabby_bgp {`];
  out.push(`  description ${quote(`${p.kind} peer${p.calicoNode ? ' (Calico node)' : ''}`)};`);
  const port = plan.listen?.port && plan.listen.port !== 179 ? ` port ${plan.listen.port}` : '';
  out.push(`  local${p.sourceAddress ? ` ${p.sourceAddress}` : ''}${port} as ${localAs};`);
  out.push(`  neighbor ${p.address}${p.port && p.port !== 179 ? ` port ${p.port}` : ''} as ${p.asNumber};`);
  // bindMode NodeIP: listen on the node address only (BIRD 2 binds per protocol, to `local`).
  if (plan.listen?.address && p.sourceAddress) out.push('  strict bind;');
  if (p.passive) out.push('  passive on;');
  if (p.keepaliveTime !== undefined) out.push(`  hold time ${Math.min(65535, Math.max(240, 3 * p.keepaliveTime))};`, `  keepalive time ${p.keepaliveTime};`);
  if (p.restartTime !== undefined) out.push(`  graceful restart time ${p.restartTime};`);
  if (p.ttlSecurityHops) out.push('  ttl security on;', `  multihop ${p.ttlSecurityHops};`);
  else if (p.kind === 'mesh' || internal) out.push('  multihop;');
  if (p.allowLocalAs) out.push(`  allow local as ${p.allowLocalAs};`);
  if (p.rrClusterId) out.push('  rr client;', `  rr cluster id ${p.rrClusterId};`);
  out.push(`  ipv${f} {`);
  out.push('    import all;');
  if (p.nextHop) out.push(`    next hop ${p.nextHop};`);
  out.push(`    export filter { if tabby_export_v${f}(${internal}) then accept; reject; };`);
  out.push('  };', '}', '');
  return out;
}

export function birdConfigFromPlan(plan: BgpPlan): string {
  const out: string[] = [
    `# Written by tabby confd for node ${plan.nodeName}; do not edit (it is rewritten on every change).`,
    `router id ${plan.routerId};`,
    '',
  ];
  if (plan.logLevel === 'debug') out.push('debug protocols all;', '');
  out.push('protocol device {', '  scan time 10;', '}', '');
  const ignored = [...plan.ignoredInterfaces, 'cali*', 'kube-ipvs*'].map((i) => `-${quote(i)}`);
  out.push('# Interface routes, so next hops of multihop sessions resolve (never exported).',
    'protocol direct {', '  ipv4;', '  ipv6;', `  interface ${[...ignored, '"*"'].join(', ')};`, '}', '');
  for (const f of [4, 6] as const) {
    out.push(...exportFunction(plan, f), ...kernelFilter(plan, f));
    out.push(`protocol kernel kernel_v${f} {`,
      `  ipv${f} { import all; export filter tabby_kernel_v${f}; };`,
      '  learn;', '  persist;', '  scan time 10;', '  graceful restart;', '  merge paths on;', '}', '');
    const statics = plan.originate.filter((o) => o.family === f && o.blackhole);
    if (statics.length === 0) out.push(`# No IPv${f} blocks for this host.`, '');
    else out.push(`protocol static static_v${f} {`, `  ipv${f};`, ...statics.map((o) => `  route ${o.prefix} blackhole;`), '}', '');
  }
  out.push('template bgp tabby_bgp {',
    `  local as ${plan.asNumber};`,
    plan.logLevel === 'debug' ? '  debug all;' : plan.logLevel === 'info' ? '  debug { states };' : '  debug off;',
    '  graceful restart;', '  connect delay time 2;', '  connect retry time 5;', '  error wait time 5, 30;',
    '}', '');
  if (!plan.meshEnabled) out.push('# Node-to-node mesh disabled', '');
  else if (plan.rrClusterId) out.push(`# This node is a route reflector (cluster ${plan.rrClusterId}): no mesh sessions`, '');
  for (const p of plan.peers) out.push(...peerProtocol(plan, p));
  if (!plan.peers.some((p) => p.kind === 'global')) out.push('# No global peers configured.', '');
  if (!plan.peers.some((p) => p.kind === 'node')) out.push('# No node-specific peers configured.', '');
  return out.join('\n');
}

export function renderBird(input: ConfdInput): string {
  return birdConfigFromPlan(planBgp(input));
}

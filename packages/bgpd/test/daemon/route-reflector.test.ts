// Route reflection (RFC 4456) on one L2 segment: bgpd as the reflector, BIRD 2 and a second
// bgpd as its clients, all in AS 65000. Client routes reach the other client with the next hop
// unchanged, ORIGINATOR_ID and CLUSTER_LIST added; a route carrying our cluster ID is refused.
import { expect } from 'chai';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, tmpDir, startInNetns, startBird, eventually, hostRun, type Netns, type Daemon, type Bird } from '@tabby/test-support';
import { request } from '@tabby/bgpd';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));

describe('bgpd: route reflector with BIRD 2 and bgpd clients (netns)', function () {
  this.timeout(90_000);
  let sw: Netns, r: Netns, c1: Netns, c2: Netns, dir: string;
  let rr: Daemon | undefined, cl: Daemon | undefined, bird: Bird | undefined;
  const kernel = (ns: Netns) => JSON.parse(ns.run('ip', ['-j', 'route', 'show', 'proto', '201'])) as { dst: string; gateway?: string }[];
  const rrRoutes = async () => ((await request(join(dir, 'rr.ctl'), { cmd: 'routes' })) as { prefix: string }[]).map((x) => x.prefix);

  function attach(ns: Netns, ifname: string, ip: string): void {
    hostRun(['ip', 'link', 'add', ifname, 'netns', ns.name, 'type', 'veth', 'peer', 'name', `s-${ifname}`, 'netns', sw.name]);
    sw.run('ip', ['link', 'set', `s-${ifname}`, 'master', 'br0', 'up']);
    ns.run('ip', ['addr', 'add', `${ip}/24`, 'dev', ifname]);
    ns.run('ip', ['link', 'set', ifname, 'up']);
  }

  before(async () => {
    dir = tmpDir('tabby-rr-');
    sw = createNetns('rrsw');
    r = createNetns('rr');
    c1 = createNetns('rrc1');
    c2 = createNetns('rrc2');
    sw.run('ip', ['link', 'add', 'br0', 'type', 'bridge']);
    sw.run('ip', ['link', 'set', 'br0', 'up']);
    attach(r, 'rr0', '10.206.0.1');
    attach(c1, 'c10', '10.206.0.2');
    attach(c2, 'c20', '10.206.0.3');
    writeFileSync(join(dir, 'rr.yaml'), `routerId: 10.206.0.1
asNumber: 65000
clusterId: 1.1.1.1
listen: { address: 10.206.0.1, port: 179 }
peers:
  - { address: 10.206.0.2, asNumber: 65000, holdTime: 9, routeReflectorClient: true, passive: true }
  - { address: 10.206.0.3, asNumber: 65000, holdTime: 9, routeReflectorClient: true, passive: true }
`);
    writeFileSync(join(dir, 'c2.yaml'), `routerId: 10.206.0.3
asNumber: 65000
listen: null
peers:
  - { address: 10.206.0.1, asNumber: 65000, holdTime: 9, connectRetryTime: 1 }
originate:
  - { prefix: 10.94.2.0/24 }
`);
    rr = startInNetns(r, [process.execPath, BGPD, '--config', join(dir, 'rr.yaml'), '--socket', join(dir, 'rr.ctl')]);
    cl = startInNetns(c2, [process.execPath, BGPD, '--config', join(dir, 'c2.yaml'), '--socket', join(dir, 'c2.ctl')]);
    mkdirSync(join(dir, 'bird'));
    bird = startBird(c1, join(dir, 'bird'), `router id 10.206.0.2;
protocol device {}
protocol static srcs { ipv4; route 10.94.1.0/24 blackhole; route 10.94.9.0/24 blackhole; }
protocol bgp toreflector {
  local 10.206.0.2 as 65000; neighbor 10.206.0.1 as 65000;
  hold time 9; connect retry time 1; error wait time 1, 5;
  ipv4 {
    import all;
    export filter {
      if proto != "srcs" then reject;
      if net = 10.94.9.0/24 then bgp_cluster_list = add(bgp_cluster_list, 1.1.1.1);
      accept;
    };
  };
}
`);
  });

  after(async () => {
    await rr?.stop();
    await cl?.stop();
    await bird?.stop();
    for (const ns of [r, c1, c2, sw]) ns?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('brings up both client sessions', async () => {
    try {
      await eventually(async () => ((await request(join(dir, 'rr.ctl'), { cmd: 'status' })) as { state: string }[]).every((p) => p.state === 'up'), 30_000, 'sessions up');
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- rr:\n${rr?.output()}\n--- client:\n${cl?.output()}\n--- bird:\n${bird?.output()}\n${JSON.stringify(await request(join(dir, 'rr.ctl'), { cmd: 'status' }).catch((x: Error) => x.message))}`);
    }
  });

  it("reflects the bgpd client's route to BIRD with ORIGINATOR_ID and CLUSTER_LIST, next hop unchanged", async () => {
    const out = await eventually(() => { const o = bird!.birdc('show', 'route', '10.94.2.0/24', 'all'); return o.includes('10.94.2.0/24') ? o : undefined; }, 30_000, `BIRD learns 10.94.2.0/24; rr: ${rr?.output()}`);
    expect(out).to.match(/BGP\.next_hop: 10\.206\.0\.3/);
    expect(out).to.match(/BGP\.originator_id: 10\.206\.0\.3/);
    expect(out).to.match(/BGP\.cluster_list: 1\.1\.1\.1/);
  });

  it("reflects BIRD's route to the bgpd client, which installs it via BIRD's address", async () => {
    const route = await eventually(() => kernel(c2).find((x) => x.dst === '10.94.1.0/24'), 30_000, 'client kernel route');
    expect(route!.gateway).to.equal('10.206.0.2');
  });

  it('refuses a route that carries its own cluster ID (reflection loop)', async () => {
    await eventually(async () => (await rrRoutes()).includes('10.94.1.0/24'), 10_000, 'the reflector has the good route');
    expect(bird!.birdc('show', 'route', 'export', 'toreflector'), 'BIRD did send it').to.include('10.94.9.0/24');
    expect(await rrRoutes()).to.not.include('10.94.9.0/24');
    expect(kernel(c2).map((x) => x.dst)).to.not.include('10.94.9.0/24');
  });

  it('does not send a client its own route back', async () => {
    const o = bird!.birdc('show', 'route', '10.94.1.0/24', 'protocol', 'toreflector');
    expect(o).to.not.match(/10\.94\.1\.0\/24 .*\[toreflector /);
  });
});

// Two bgpd daemons in namespaces: how learned routes land in the kernel — per-prefix rules
// (device + onlink, install: false), blackholes for originated prefixes, reload of the kernel
// section, drift repair, and removal on shutdown.
import { expect } from 'chai';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request, type PeerStatus } from '@tabby/bgpd';
import { linkedNetns, tmpDir, startInNetns, eventually, type Netns, type Daemon } from '@tabby/test-support';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));

interface KRoute { dst: string; gateway?: string; dev?: string; flags?: string[]; type?: string; protocol?: string }

function kernelRoutes(ns: Netns): KRoute[] {
  return JSON.parse(ns.run('ip', ['-j', 'route', 'show', 'proto', '201'])) as KRoute[];
}

describe('bgpd kernel export (two daemons)', function () {
  this.timeout(60_000);
  let a: Netns, b: Netns, dir: string, da: Daemon | undefined, db: Daemon | undefined;
  const path = (n: string) => join(dir, n);
  const since = async () => ((await request(path('a.ctl'), { cmd: 'status' })) as PeerStatus[])[0]!.since;

  const configA = (rules: string) => 'routerId: 10.202.0.1\nasNumber: 64512\nlisten: { address: 10.202.0.1, port: 179 }\npeers:\n' +
    '  - { address: 10.202.0.2, asNumber: 64512, type: mesh, passive: true, holdTime: 9, connectRetryTime: 1 }\n' +
    `kernel:\n  enabled: true\n  routes:\n${rules}`;
  const configB = 'routerId: 10.202.0.2\nasNumber: 64512\nlisten: null\npeers:\n' +
    '  - { address: 10.202.0.1, asNumber: 64512, type: mesh, holdTime: 9, connectRetryTime: 1 }\n' +
    'originate:\n' +
    '  - { prefix: 10.244.1.0/26, blackhole: true }\n' +
    '  - { prefix: 10.245.1.0/26, blackhole: true }\n' +
    '  - { prefix: 10.246.1.0/26 }\n';
  const rules1 = '    - { prefix: 10.244.0.0/16, device: ka, onlink: true }\n    - { prefix: 10.245.0.0/16, install: false }\n';

  before(() => {
    dir = tmpDir('tabby-bgpd-kernel-');
    [a, b] = linkedNetns({ tag: 'kra', dev: 'ka', addr: '10.202.0.1/24' }, { tag: 'krb', dev: 'kb', addr: '10.202.0.2/24' });
    writeFileSync(path('a.yaml'), configA(rules1));
    writeFileSync(path('b.yaml'), configB);
    da = startInNetns(a, [process.execPath, BGPD, '--config', path('a.yaml'), '--socket', path('a.ctl')]);
    db = startInNetns(b, [process.execPath, BGPD, '--config', path('b.yaml'), '--socket', path('b.ctl')]);
  });

  after(async () => {
    await da?.stop();
    await db?.stop();
    a?.delete();
    b?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs routes per the most specific rule: dev + onlink, not at all, or plain', async () => {
    const routes = await eventually(() => {
      const r = kernelRoutes(a);
      return r.some((x) => x.dst === '10.246.1.0/26') && r.some((x) => x.dst === '10.244.1.0/26') ? r : undefined;
    }, 20_000, `routes from B on A; A: ${da?.output()} B: ${db?.output()}`) as KRoute[];
    const onlink = routes.find((x) => x.dst === '10.244.1.0/26')!;
    expect(onlink.gateway).to.equal('10.202.0.2');
    expect(onlink.dev).to.equal('ka');
    expect(onlink.flags ?? []).to.include('onlink');
    const plain = routes.find((x) => x.dst === '10.246.1.0/26')!;
    expect(plain.gateway).to.equal('10.202.0.2');
    expect(plain.flags ?? []).to.not.include('onlink');
    expect(routes.map((x) => x.dst), 'install: false keeps the route out of the kernel').to.not.include('10.245.1.0/26');
  });

  it('the originating side has its blackholes and no routes of its own as learned', () => {
    const routes = kernelRoutes(b);
    expect(routes.filter((x) => x.type === 'blackhole').map((x) => x.dst).sort()).to.deep.equal(['10.244.1.0/26', '10.245.1.0/26']);
    expect(routes.filter((x) => x.type !== 'blackhole')).to.deep.equal([]);
  });

  it('a reload that changes the rules re-derives the installed routes without resetting the session', async () => {
    const before = await since();
    writeFileSync(path('a.yaml'), configA('    - { prefix: 10.245.0.0/16, device: ka, onlink: true }\n'));
    da!.signal('SIGHUP');
    const routes = await eventually(() => {
      const r = kernelRoutes(a);
      const r245 = r.find((x) => x.dst === '10.245.1.0/26');
      const r244 = r.find((x) => x.dst === '10.244.1.0/26');
      return r245?.flags?.includes('onlink') && r244 && !r244.flags?.includes('onlink') ? r : undefined;
    }, 20_000, 'routes re-derived after reload') as KRoute[];
    expect(await since(), 'the session was not reset').to.equal(before);
    expect(routes.find((x) => x.dst === '10.244.1.0/26')!.gateway).to.equal('10.202.0.2');
  });

  it('repairs a route deleted behind its back on the next resync (SIGHUP forces one)', async () => {
    a.run('ip', ['route', 'del', '10.246.1.0/26']);
    expect(kernelRoutes(a).map((x) => x.dst)).to.not.include('10.246.1.0/26');
    da!.signal('SIGHUP');
    await eventually(() => kernelRoutes(a).some((x) => x.dst === '10.246.1.0/26'), 20_000, 'route restored');
  });

  it('removes its kernel routes when the peer goes away and when it stops', async () => {
    await db!.stop();
    db = undefined;
    await eventually(() => kernelRoutes(a).length === 0, 20_000, 'learned routes withdrawn after the peer stopped');
    expect(kernelRoutes(b), "B's blackholes removed on shutdown").to.deep.equal([]);
  });
});

// `ctl node status` against real bgpd daemons peering with each other in namespaces.
import { expect } from 'chai';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linkedNetns, tmpDir, startInNetns, eventually, type Netns, type Daemon } from '@tabby/test-support';
import { renderNodeStatus } from '@tabby/ctl';
import { ctl } from './helpers.js';

const BGPD = fileURLToPath(new URL('../../../bgpd/bin/bgpd.js', import.meta.url));

describe('ctl node status (rendering)', () => {
  it("prints calicoctl's bordered table per family and 'No IPv6 peers found.'", () => {
    const now = new Date(2026, 10, 22, 23, 40, 0);
    const since = new Date(2026, 10, 22, 23, 30, 4).toISOString();
    const out = renderNodeStatus([{ address: '172.17.8.102', asNumber: 64512, type: 'mesh', fsmState: 'Established', state: 'up', since, info: '', routerId: '', prefixesReceived: 1, prefixesAdvertised: 1 }], now);
    expect(out).to.equal([
      'Tabby process is running.',
      '',
      'IPv4 BGP status',
      '+--------------+-------------------+-------+----------+-------------+',
      '| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |    INFO     |',
      '+--------------+-------------------+-------+----------+-------------+',
      '| 172.17.8.102 | node-to-node mesh | up    | 23:30:04 | Established |',
      '+--------------+-------------------+-------+----------+-------------+',
      '',
      'IPv6 BGP status',
      'No IPv6 peers found.',
      '',
      '',
    ].join('\n'));
  });
});

describe('ctl node status (rendering BFD)', () => {
  it("adds the peer's BFD state to Info when BFD is enabled for it", () => {
    const since = new Date(2026, 10, 22, 23, 30, 4).toISOString();
    const peer = { address: '10.0.0.1', asNumber: 64512, type: 'global', fsmState: 'Idle', state: 'down' as const, since, info: 'BFD down', routerId: '', prefixesReceived: 0, prefixesAdvertised: 0 };
    expect(renderNodeStatus([{ ...peer, bfd: 'Down' }])).to.include('| Idle BFD down (BFD Down) |');
    expect(renderNodeStatus([peer])).to.include('| Idle BFD down |');
  });
});

describe('ctl node status (live bgpd)', function () {
  this.timeout(40_000);
  let a: Netns, b: Netns, dir: string, da: Daemon, db: Daemon;

  const write = (name: string, body: string) => { const p = join(dir, name); writeFileSync(p, body); return p; };

  before(() => {
    dir = tmpDir('tabby-nodestatus-');
    [a, b] = linkedNetns({ tag: 'nsa', dev: 'ns-a', addr: '10.201.0.1/24' }, { tag: 'nsb', dev: 'ns-b', addr: '10.201.0.2/24' });
    // A's mesh peer B (B connects: the higher IP string is passive, as in Calico's mesh), a
    // ToR that does not exist, and an IPv6 peer that is not there either.
    const ca = write('a.yaml', 'routerId: 10.201.0.1\nasNumber: 64512\nlisten: { address: 0.0.0.0, port: 179 }\npeers:\n' +
      '  - { address: 10.201.0.2, asNumber: 64512, type: mesh, passive: true }\n' +
      '  - { address: 10.201.0.99, asNumber: 65000, type: global, connectRetryTime: 1 }\n' +
      '  - { address: fd00:201::99, asNumber: 65000, type: node }\n' +
      'originate:\n  - { prefix: 10.244.0.0/26, blackhole: true }\n');
    const cb = write('b.yaml', 'routerId: 10.201.0.2\nasNumber: 64512\nlisten: null\npeers:\n' +
      '  - { address: 10.201.0.1, asNumber: 64512, type: mesh }\n' +
      'originate:\n  - { prefix: 10.244.1.0/26, blackhole: true }\n');
    da = startInNetns(a, [process.execPath, BGPD, '--config', ca, '--socket', join(dir, 'a.ctl')]);
    db = startInNetns(b, [process.execPath, BGPD, '--config', cb, '--socket', join(dir, 'b.ctl')]);
  });

  after(async () => {
    await da?.stop();
    await db?.stop();
    a?.delete();
    b?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the mesh session up and the missing peers not', async () => {
    const sock = join(dir, 'a.ctl');
    const out = await eventually(() => {
      const r = ctl(['node', 'status', '--socket', sock]);
      return r.code === 0 && r.stdout.includes('| 10.201.0.2   | node-to-node mesh | up ') ? r.stdout : '';
    }, 20_000, `mesh up; bgpd A: ${da.output()} B: ${db.output()}`);
    expect(out).to.match(/^Tabby process is running\.\n\nIPv4 BGP status\n\+-+\+/);
    expect(out).to.match(/\| 10\.201\.0\.2 +\| node-to-node mesh \| up +\| \d\d:\d\d:\d\d \| Established +\|/);
    expect(out).to.match(/\| 10\.201\.0\.99 +\| global +\| start +\| \d\d:\d\d:\d\d \| (Connect|Active)[^|]*\|/);
    expect(out).to.match(/IPv6 BGP status\n\+-+/);
    expect(out).to.match(/\| fd00:201::99 +\| node specific +\| start +\|/);
  });

  it('the mesh peers exchanged their blocks into each other\'s kernel', async () => {
    await eventually(() => a.run('ip', ['route', 'show', '10.244.1.0/26']).includes('via 10.201.0.2'), 10_000, 'B block on A');
    await eventually(() => b.run('ip', ['route', 'show', '10.244.0.0/26']).includes('via 10.201.0.1'), 10_000, 'A block on B');
  });

  it('says clearly when bgpd is not running', () => {
    const r = ctl(['node', 'status', '--socket', join(dir, 'nope.ctl')]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.include('Tabby process is not running: bgpd is not running (no control socket at');
  });
});

// End to end: two network namespaces, confd-rendered configs for two nodes, two real bgpd
// daemons that mesh and exchange their blocks; a new block reaches the other node after a
// re-render and the reload (SIGHUP) confd would send.
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, eventually, startInNetns, tmpDir, vethPair, type Daemon, type Netns } from '@tabby/test-support';
import { bgpdYaml, render, writeIfChanged, type ConfdInput } from '@tabby/confd';
import { affinity, input, node, pool } from './fixtures.js';

const BGPD = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bgpd/bin/bgpd.js');

describe('confd + two bgpd daemons (network namespaces)', function () {
  this.timeout(60_000);
  const made: Netns[] = [];
  const daemons: Daemon[] = [];
  let dir: string;

  before(function () {
    if (process.getuid?.() !== 0) this.skip();
  });
  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.stop()));
    for (const ns of made.splice(0)) ns.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the nodes mesh, learn each other\'s blocks, and a new block arrives after re-render + SIGHUP', async () => {
    dir = tmpDir('tabby-confd-e2e-');
    const a = createNetns('cfa');
    made.push(a);
    const b = createNetns('cfb');
    made.push(b);
    vethPair(a, 'eth0', b, 'eth0');
    a.run('ip', ['addr', 'add', '10.0.0.1/24', 'dev', 'eth0']);
    b.run('ip', ['addr', 'add', '10.0.0.2/24', 'dev', 'eth0']);

    const cluster = (extra: ReturnType<typeof affinity>[] = []): Omit<ConfdInput, 'nodeName'> => input('', {
      nodes: [node('a', '10.0.0.1/24'), node('b', '10.0.0.2/24')],
      ipPools: [pool('pods', { cidr: '10.244.0.0/16' })],
      blockAffinities: [affinity('a', '10.244.1.0/26'), affinity('b', '10.244.2.0/26'), ...extra],
    });
    const write = (name: string, rest: Omit<ConfdInput, 'nodeName'>) => writeIfChanged(join(dir, `${name}.yaml`), bgpdYaml(render({ ...rest, nodeName: name }), name));
    expect(await write('a', cluster())).to.equal(true);
    expect(await write('b', cluster())).to.equal(true);
    const bgpdA = startInNetns(a, [process.execPath, BGPD, '--config', join(dir, 'a.yaml'), '--socket', join(dir, 'a.ctl')]);
    daemons.push(bgpdA);
    daemons.push(startInNetns(b, [process.execPath, BGPD, '--config', join(dir, 'b.yaml'), '--socket', join(dir, 'b.ctl')]));

    const route = (ns: Netns, prefix: string) => ns.run('ip', ['route', 'show', prefix]);
    await eventually(() => route(b, '10.244.1.0/26').includes('via 10.0.0.1'), 30_000, 'b to learn a\'s block');
    await eventually(() => route(a, '10.244.2.0/26').includes('via 10.0.0.2'), 30_000, 'a to learn b\'s block');

    // a claims another block: confd re-renders a's file (b's is unchanged) and reloads a.
    const next = cluster([affinity('a', '10.244.3.0/26')]);
    expect(await write('b', next)).to.equal(false);
    expect(await write('a', next)).to.equal(true);
    bgpdA.signal('SIGHUP');
    await eventually(() => route(b, '10.244.3.0/26').includes('via 10.0.0.1'), 30_000, `b to learn the new block\n${bgpdA.output()}`);
  });
});

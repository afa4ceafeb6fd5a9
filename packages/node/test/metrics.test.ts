// The node agent's /metrics with a real supervisor and real child processes: up/restarts follow
// a child that exits, the probe gauges follow a real probe (bgpd's socket: absent, then answering).
import { expect } from 'chai';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { get, type Server } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@tabby/log';
import { tmpDir, eventually, freePort } from '@tabby/test-support';
import { Supervisor, NodeMetrics, serveNodeMetrics, bgpdLive, configFromEnv } from '@tabby/node';

function scrape(port: number, path = '/metrics'): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    get({ host: '127.0.0.1', port, path }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => (body += d));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    }).on('error', rej);
  });
}

/** The value of one sample (`name{child="x"} 1`), undefined when absent. */
async function sample(port: number, name: string, label?: string): Promise<number | undefined> {
  const { body } = await scrape(port);
  const want = label ? `${name}{${label}}` : name;
  const line = body.split('\n').find((l) => l.startsWith(want + ' '));
  return line === undefined ? undefined : Number(line.slice(want.length + 1));
}

describe('node agent: metrics', function () {
  this.timeout(30_000);
  const log = createLogger('metrics-test', { level: 'error' });
  let dir: string;
  let sup: Supervisor | undefined;
  let srv: Server | undefined;
  let fakeBgpd: NetServer | undefined;
  beforeEach(() => { dir = tmpDir('tabby-node-metrics-'); });
  afterEach(async () => {
    await sup?.stop();
    await new Promise<void>((r) => (srv ? srv.close(() => r()) : r()));
    await new Promise<void>((r) => (fakeBgpd ? fakeBgpd.close(() => r()) : r()));
    sup = undefined; srv = undefined; fakeBgpd = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports each child up, its restarts after it exits, and the probe results', async () => {
    sup = new Supervisor(log, { initialBackoffMs: 300, maxBackoffMs: 300 });
    const stop = join(dir, 'stop');
    sup.add({ name: 'steady', argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'] });
    // Exits whenever the file `stop` exists (removed by the test once counted).
    sup.add({ name: 'flaky', argv: [process.execPath, '-e', `const fs = require('fs'); setInterval(() => { if (fs.existsSync(${JSON.stringify(stop)})) process.exit(1); }, 50)`] });
    const socket = join(dir, 'bgpd.ctl');
    const s = sup;
    const metrics = new NodeMetrics({ children: () => s.status(), live: () => bgpdLive(socket) });
    const port = await freePort();
    srv = await serveNodeMetrics(metrics.registry, port, '127.0.0.1');

    await eventually(async () => (await sample(port, 'tabby_node_child_up', 'child="flaky"')) === 1, 10_000, 'flaky up');
    expect(await sample(port, 'tabby_node_child_up', 'child="steady"')).to.equal(1);
    expect(await sample(port, 'tabby_node_child_restarts_total', 'child="flaky"')).to.equal(0);
    expect(await sample(port, 'tabby_node_child_start_time_seconds', 'child="steady"')).to.be.closeTo(Date.now() / 1000, 30);
    expect(await sample(port, 'tabby_node_live'), 'no bgpd socket: not live').to.equal(0);
    expect(await sample(port, 'tabby_node_ready'), 'no readiness probe given: no gauge').to.equal(undefined);

    writeFileSync(stop, '');
    await eventually(async () => ((await sample(port, 'tabby_node_child_restarts_total', 'child="flaky"')) ?? 0) >= 1, 10_000, 'a restart counted');
    rmSync(stop);
    await eventually(async () => (await sample(port, 'tabby_node_child_up', 'child="flaky"')) === 1, 10_000, 'flaky up again');
    expect(await sample(port, 'tabby_node_child_restarts_total', 'child="steady"')).to.equal(0);

    // A control socket that answers bgpd's status request makes the liveness probe pass.
    fakeBgpd = createNetServer((c) => c.on('data', () => c.end('{"ok":true,"result":[]}\n')));
    await new Promise<void>((r) => fakeBgpd!.listen(socket, r));
    expect((await bgpdLive(socket)).ok, 'the stand-in socket answers').to.equal(true);
    expect(await sample(port, 'tabby_node_live')).to.equal(1);

    expect((await scrape(port, '/nope')).status).to.equal(404);
    expect(await sample(port, 'process_resident_memory_bytes')).to.be.above(0);
  });

  it('is off unless TABBY_NODE_METRICS_PORT is set, and refuses a bad port', () => {
    expect(configFromEnv({ NODENAME: 'n1' }).metricsPort).to.equal(0);
    expect(configFromEnv({ NODENAME: 'n1', TABBY_NODE_METRICS_PORT: '9096' }).metricsPort).to.equal(9096);
    expect(() => configFromEnv({ NODENAME: 'n1', TABBY_NODE_METRICS_PORT: 'x' })).to.throw(/TABBY_NODE_METRICS_PORT/);
  });
});

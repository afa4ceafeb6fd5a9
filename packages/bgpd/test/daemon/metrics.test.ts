// bgpd's Prometheus endpoint: two bgpd daemons peer over loopback; one originates a prefix, then
// stops originating it (SIGHUP with a new config), and /metrics on both sides is scraped for
// session state, prefix counts, UPDATE counters and the RIB size.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpDir, freePort, eventually } from '@tabby/test-support';
import { metricsPortOf, request } from '@tabby/bgpd';

const BGPD = fileURLToPath(new URL('../../../bin/bgpd.js', import.meta.url));
const A = '127.0.0.11', B = '127.0.0.12';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format: one sample per line (comments skipped). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function scrape(port: number, path = '/metrics'): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    get({ host: '127.0.0.1', port, path }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => (body += d));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    }).on('error', rej);
  });
}

async function metric(port: number, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const samples = parseExposition((await scrape(port)).body);
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('bgpd: Prometheus metrics', function () {
  this.timeout(90_000);
  let dir: string;
  const daemons: ChildProcess[] = [];
  let logs = '';
  let portA: number, portB: number, metricsA: number, metricsB: number;
  let a: ChildProcess, b: ChildProcess;

  const configA = (originate: string[]) => `routerId: 10.207.0.1
asNumber: 65001
listen: { address: ${A}, port: ${portA} }
peers:
  - { address: ${B}, asNumber: 65002, port: ${portB}, sourceAddress: ${A}, connectRetryTime: 1 }
kernel: { enabled: false }
${originate.length ? `originate:\n${originate.map((p) => `  - { prefix: ${p}, blackhole: false }`).join('\n')}\n` : ''}`;

  function start(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
    const d = spawn(process.execPath, [BGPD, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    for (const st of [d.stdout!, d.stderr!]) st.on('data', (x: Buffer) => { logs = (logs + `[${name}] ` + x).slice(-30000); });
    daemons.push(d);
    return d;
  }

  before(async () => {
    dir = tmpDir('tabby-bgpd-metrics-');
    [portA, portB, metricsA, metricsB] = [await freePort(), await freePort(), await freePort(), await freePort()];
    writeFileSync(join(dir, 'a.yaml'), configA(['10.207.1.0/26']));
    writeFileSync(join(dir, 'b.yaml'), `routerId: 10.207.0.2
asNumber: 65002
listen: { address: ${B}, port: ${portB} }
peers:
  - { address: ${A}, asNumber: 65001, port: ${portA}, sourceAddress: ${B}, connectRetryTime: 1 }
kernel: { enabled: false }
`);
    // A through the flag, B through the environment.
    a = start('a', ['--config', join(dir, 'a.yaml'), '--socket', join(dir, 'a.ctl'), '--metrics-port', String(metricsA), '--metrics-host', '127.0.0.1']);
    b = start('b', ['--config', join(dir, 'b.yaml'), '--socket', join(dir, 'b.ctl')], { ...process.env, TABBY_BGPD_METRICS_PORT: String(metricsB), TABBY_BGPD_METRICS_HOST: '127.0.0.1' });
  });

  after(async () => {
    for (const d of daemons) {
      if (d.exitCode !== null || d.signalCode !== null) continue;
      const gone = new Promise((r) => d.once('exit', r));
      d.kill('SIGTERM');
      await gone;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports each session as Established once it is, on both sides', async () => {
    await eventually(async () => (await metric(metricsA, 'bgpd_peer_established', { peer: B })) === 1, 30_000, `A's session with B established; ${logs}`);
    await eventually(async () => (await metric(metricsB, 'bgpd_peer_established', { peer: A })) === 1, 30_000, `B's session with A established; ${logs}`);
    const states = parseExposition((await scrape(metricsB)).body).filter((s) => s.name === 'bgpd_peer_state' && s.labels['peer'] === A);
    expect(states.map((s) => s.labels['state']).sort()).to.deep.equal(['Active', 'Connect', 'Established', 'Idle', 'OpenConfirm', 'OpenSent']);
    expect(states.filter((s) => s.value === 1).map((s) => s.labels['state'])).to.deep.equal(['Established']);
    expect(states[0]!.labels['peer_as']).to.equal('65001');
  });

  it('counts the announced prefix as received, advertised and in the RIB, and the UPDATEs that carried it', async () => {
    await eventually(async () => (await metric(metricsB, 'bgpd_peer_prefixes_received', { peer: A })) === 1, 20_000, `B received A's prefix; ${logs}`);
    expect(await metric(metricsA, 'bgpd_peer_prefixes_advertised', { peer: B })).to.equal(1);
    expect(await metric(metricsB, 'bgpd_rib_prefixes')).to.equal(1);
    expect(await metric(metricsA, 'bgpd_rib_prefixes')).to.equal(1);
    expect(await metric(metricsB, 'bgpd_peer_updates_received_total', { peer: A })).to.be.at.least(1);
    expect(await metric(metricsA, 'bgpd_peer_updates_sent_total', { peer: B })).to.be.at.least(1);
    expect(await metric(metricsB, 'bgpd_peer_messages_received_total', { peer: A })).to.be.at.least(3); // OPEN, KEEPALIVE, UPDATE
  });

  it('follows a withdrawal: received and advertised drop to 0, the UPDATE counters grow', async () => {
    const updatesBefore = (await metric(metricsB, 'bgpd_peer_updates_received_total', { peer: A }))!;
    const sentBefore = (await metric(metricsA, 'bgpd_peer_updates_sent_total', { peer: B }))!;
    writeFileSync(join(dir, 'a.yaml'), configA([]));
    a.kill('SIGHUP');
    await eventually(async () => (await metric(metricsB, 'bgpd_peer_prefixes_received', { peer: A })) === 0, 20_000, `B saw the withdrawal; ${logs}`);
    expect(await metric(metricsA, 'bgpd_peer_prefixes_advertised', { peer: B })).to.equal(0);
    expect(await metric(metricsB, 'bgpd_rib_prefixes')).to.equal(0);
    expect(await metric(metricsB, 'bgpd_peer_updates_received_total', { peer: A })).to.be.above(updatesBefore);
    expect(await metric(metricsA, 'bgpd_peer_updates_sent_total', { peer: B })).to.be.above(sentBefore);
  });

  it('serves the event-loop delay and process metrics; other paths are 404', async () => {
    const names = new Set(parseExposition((await scrape(metricsA)).body).map((s) => s.name));
    for (const n of ['bgpd_event_loop_delay_max_seconds', 'nodejs_eventloop_lag_p99_seconds', 'process_resident_memory_bytes']) expect(names, n).to.include(n);
    expect((await scrape(metricsA, '/')).status).to.equal(404);
  });

  it('reports the session down when the peer goes away', async () => {
    const gone = new Promise((r) => b.once('exit', r));
    b.kill('SIGTERM');
    await gone;
    await eventually(async () => (await metric(metricsA, 'bgpd_peer_established', { peer: B })) === 0, 20_000, `A noticed B is gone; ${logs}`);
    expect(await metric(metricsA, 'bgpd_peer_state', { peer: B, state: 'Established' })).to.equal(0);
  });

  it('keeps running BGP when its metrics port is taken (logged, not fatal)', async () => {
    writeFileSync(join(dir, 'c.yaml'), 'routerId: 10.207.0.3\nasNumber: 65003\nlisten: null\npeers: []\nkernel: { enabled: false }\n');
    const before = logs.length;
    const c = start('c', ['--config', join(dir, 'c.yaml'), '--socket', join(dir, 'c.ctl'), '--metrics-port', String(metricsA), '--metrics-host', '127.0.0.1']);
    await eventually(() => logs.slice(before).includes('cannot serve metrics'), 20_000, `c logs the taken port; ${logs}`);
    expect(await request(join(dir, 'c.ctl'), { cmd: 'status' })).to.deep.equal([]);
    expect(c.exitCode).to.equal(null);
  });

  it('refuses a bad metrics port with a message naming where it came from', () => {
    expect(metricsPortOf(undefined, {})).to.equal(undefined);
    expect(metricsPortOf(undefined, { TABBY_BGPD_METRICS_PORT: '0' })).to.equal(undefined);
    expect(metricsPortOf('9095', { TABBY_BGPD_METRICS_PORT: '1' })).to.equal(9095);
    expect(() => metricsPortOf(undefined, { TABBY_BGPD_METRICS_PORT: 'x' })).to.throw(/TABBY_BGPD_METRICS_PORT="x"/);
    expect(() => metricsPortOf('70000', {})).to.throw(/--metrics-port="70000"/);
    const r = spawnSync(process.execPath, [BGPD, '--config', join(dir, 'a.yaml'), '--metrics-port', 'abc'], { encoding: 'utf8' });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/--metrics-port="abc": must be a port/);
  });
});

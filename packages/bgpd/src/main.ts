// `bgpd --config FILE [--socket PATH]` runs the daemon; `bgpd ctl [--socket PATH] status|routes [--json]`
// talks to a running one. SIGHUP reloads the config (the old one stays if the new one is bad).

import { parseArgs } from 'node:util';
import { createLogger } from '@tabby/log';
import { loadConfig } from './config/load.js';
import { Speaker, type PeerStatus } from './speaker.js';
import { DEFAULT_SOCKET, serveControl, type ControlRequest } from './control/server.js';
import { request } from './control/client.js';
import { BgpdMetrics, metricsPortOf, serveMetrics } from './metrics.js';

async function daemon(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, socket: { type: 'string', short: 's' }, 'log-level': { type: 'string' }, 'metrics-port': { type: 'string' }, 'metrics-host': { type: 'string' } }, strict: true });
  const log = createLogger('bgpd', values['log-level'] ? { level: values['log-level'] } : {});
  if (!values.config) {
    process.stderr.write('usage: bgpd --config FILE [--socket PATH] [--metrics-port PORT [--metrics-host ADDR]]\n');
    return 2;
  }
  const file = values.config;
  let cfg;
  let metricsPort: number | undefined;
  try {
    metricsPort = metricsPortOf(values['metrics-port'], process.env);
    cfg = await loadConfig(file);
  } catch (e) {
    process.stderr.write(`bgpd: ${(e as Error).message}\n`);
    return 1;
  }
  const speaker = new Speaker(cfg, { log });
  await speaker.start();
  const control = await serveControl(values.socket ?? DEFAULT_SOCKET, speaker);
  // Metrics are not worth a BGP outage: a port already in use is logged and BGP runs on.
  const metrics = metricsPort === undefined ? undefined : await serveMetrics(new BgpdMetrics(speaker).registry, metricsPort, values['metrics-host'] ?? process.env['TABBY_BGPD_METRICS_HOST']).then(
    (srv) => { log.info('metrics served', { port: metricsPort }); return srv; },
    (e: Error) => { log.error('cannot serve metrics; running without them', { port: metricsPort, error: e.message }); return undefined; },
  );
  log.info('bgpd started', { routerId: cfg.routerId, as: cfg.asNumber, peers: cfg.peers.length });
  process.on('SIGHUP', () => {
    loadConfig(file).then(
      (next) => {
        speaker.reload(next);
        log.info('configuration reloaded', { peers: next.peers.length });
      },
      (e: Error) => log.error('reload rejected; keeping the running configuration', { error: e.message }),
    );
  });
  await new Promise<void>((res) => {
    process.once('SIGTERM', res);
    process.once('SIGINT', res);
  });
  log.info('bgpd stopping');
  // Peers with graceful restart keep our routes, and the kernel keeps theirs, until we are back.
  await speaker.stop({ graceful: true });
  control.close();
  metrics?.close();
  return 0;
}

function statusTable(rows: PeerStatus[]): string {
  if (!rows.length) return 'No peers configured.\n';
  const head = ['PEER', 'AS', 'TYPE', 'STATE', 'SINCE', 'INFO', 'RECEIVED', 'ADVERTISED'];
  const body = rows.map((r) => [r.address, String(r.asNumber), r.type, r.state, r.since, r.fsmState + (r.info ? ` ${r.info}` : ''), String(r.prefixesReceived), String(r.prefixesAdvertised)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

async function ctl(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { socket: { type: 'string', short: 's' }, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  const cmd = positionals[0] ?? 'status';
  if (cmd !== 'status' && cmd !== 'routes' && cmd !== 'stats' && cmd !== 'bfd' && cmd !== 'refresh') {
    process.stderr.write(`bgpd ctl: unknown command ${cmd} (status, routes, stats, bfd, refresh in|out [PEER])\n`);
    return 2;
  }
  const direction = positionals[1];
  if (cmd === 'refresh' && direction !== 'in' && direction !== 'out') {
    process.stderr.write('bgpd ctl: usage: refresh in|out [PEER]\n');
    return 2;
  }
  try {
    const req: ControlRequest = cmd === 'refresh' ? { cmd, direction: direction as 'in' | 'out', ...(positionals[2] ? { peer: positionals[2] } : {}) } : { cmd };
    const result = await request(values.socket ?? DEFAULT_SOCKET, req);
    if (values.json || cmd !== 'status') process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else process.stdout.write(statusTable(result as PeerStatus[]));
    return 0;
  } catch (e) {
    process.stderr.write(`bgpd ctl: ${(e as Error).message}\n`);
    return 1;
  }
}

export async function main(argv: string[]): Promise<void> {
  const args = argv.slice(2);
  let code: number;
  try {
    code = args[0] === 'ctl' ? await ctl(args.slice(1)) : await daemon(args);
  } catch (e) {
    process.stderr.write(`bgpd: ${(e as Error).message}\n`);
    code = 1;
  }
  process.exit(code);
}

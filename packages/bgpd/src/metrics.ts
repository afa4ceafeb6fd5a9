// Prometheus metrics for bgpd. Everything is read from the speaker when Prometheus scrapes
// (collect callbacks), so the BGP code paths carry no metric hooks: peer state, prefix counts
// and the RIB size come from status()/stats(), message counts from the peers' own counters.
// Own registry, so tests can run several speakers in one process.

import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { PeerCounters } from './session/peer.js';
import type { FsmStateName } from './session/fsm.js';
import type { PeerStatus, SpeakerStats } from './speaker.js';

/** bgpd's default metrics port (felix 9091, Typha 9093, kube-controllers 9094 are Calico's). */
export const DEFAULT_METRICS_PORT = 9095;

/** What the metrics read from a speaker (Speaker implements it). */
export interface MetricsSource {
  status(): PeerStatus[];
  stats(): SpeakerStats;
  peerCounters(): { address: string; counters: Readonly<PeerCounters> }[];
}

const FSM_STATES: readonly FsmStateName[] = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

/** Counters are cumulative per configured peer; on each scrape they are set to the peers' totals. */
function setCounter(c: Counter<'peer'>, values: [string, number][]): void {
  c.reset();
  for (const [peer, v] of values) c.inc({ peer }, v);
}

export class BgpdMetrics {
  readonly registry = new Registry();

  constructor(source: MetricsSource, opts: { defaults?: boolean } = {}) {
    const registers = [this.registry];
    new Gauge({
      name: 'bgpd_peer_state', labelNames: ['peer', 'peer_as', 'type', 'state'], registers,
      help: 'BGP session FSM state per peer: 1 for the state the session is in, 0 for the others.',
      collect() {
        this.reset();
        for (const p of source.status()) {
          for (const st of FSM_STATES) this.set({ peer: p.address, peer_as: String(p.asNumber), type: p.type, state: st }, p.fsmState === st ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'bgpd_peer_established', labelNames: ['peer', 'peer_as', 'type'], registers,
      help: 'Whether the BGP session with the peer is Established (1) or not (0).',
      collect() {
        this.reset();
        for (const p of source.status()) this.set({ peer: p.address, peer_as: String(p.asNumber), type: p.type }, p.fsmState === 'Established' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'bgpd_peer_prefixes_received', labelNames: ['peer'], registers,
      help: 'Prefixes the peer announced that are held in the RIB (after AS-path and reflection loop checks).',
      collect() {
        this.reset();
        for (const p of source.status()) this.set({ peer: p.address }, p.prefixesReceived);
      },
    });
    new Gauge({
      name: 'bgpd_peer_prefixes_advertised', labelNames: ['peer'], registers,
      help: 'Prefixes currently advertised to the peer (Adj-RIB-Out).',
      collect() {
        this.reset();
        for (const p of source.status()) this.set({ peer: p.address }, p.prefixesAdvertised);
      },
    });
    const counter = (name: string, help: string, field: keyof PeerCounters) =>
      new Counter({
        name, help, labelNames: ['peer'], registers,
        collect() { setCounter(this, source.peerCounters().map((p) => [p.address, p.counters[field]])); },
      });
    counter('bgpd_peer_updates_received_total', 'UPDATE messages received from the peer.', 'updatesIn');
    counter('bgpd_peer_updates_sent_total', 'UPDATE messages sent to the peer.', 'updatesOut');
    counter('bgpd_peer_messages_received_total', 'BGP messages of any type received from the peer.', 'messagesIn');
    counter('bgpd_peer_messages_sent_total', 'BGP messages of any type sent to the peer.', 'messagesOut');
    counter('bgpd_peer_updates_treated_as_withdraw_total', 'Malformed UPDATEs handled as withdrawals (RFC 7606).', 'treatedAsWithdraw');
    const stat = (name: string, help: string, read: (s: SpeakerStats) => number) =>
      new Gauge({ name, help, registers, collect() { this.set(read(source.stats())); } });
    stat('bgpd_rib_prefixes', 'Prefixes in the Loc-RIB (learned and originated).', (s) => s.prefixes);
    stat('bgpd_rib_attribute_sets', 'Distinct interned path attribute sets.', (s) => s.attributeSets);
    stat('bgpd_rib_paths', 'Distinct shared path objects (source x path id x attribute set).', (s) => s.pathObjects);
    stat('bgpd_event_loop_delay_max_seconds', 'Worst event-loop delay since start, as the speaker measures it (keepalives wait this long at worst).', (s) => s.eventLoopDelayMaxMs / 1000);
    // nodejs_eventloop_lag_*, process_* and nodejs_heap_* from prom-client.
    if (opts.defaults !== false) collectDefaultMetrics({ register: this.registry });
  }
}

/** Serves GET /metrics; resolves once listening. Errors on other paths are 404. */
export function serveMetrics(registry: Registry, port: number, host?: string): Promise<Server> {
  const srv = createServer((req, res) => {
    if ((req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found: try /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e: Error) => res.writeHead(500).end(`${e.message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host || undefined, () => {
      srv.off('error', reject);
      resolve(srv);
    });
  });
}

/**
 * The metrics port from `--metrics-port` or TABBY_BGPD_METRICS_PORT: undefined = metrics off
 * (the default), otherwise 1..65535. Throws naming the source of a bad value.
 */
export function metricsPortOf(flag: string | undefined, env: NodeJS.ProcessEnv): number | undefined {
  const [where, raw] = flag !== undefined ? ['--metrics-port', flag] : ['TABBY_BGPD_METRICS_PORT', env['TABBY_BGPD_METRICS_PORT']];
  if (raw === undefined || raw === '' || raw === '0') return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 65535) throw new Error(`${where}=${JSON.stringify(raw)}: must be a port from 1 to 65535 (0 or unset: no metrics)`);
  return n;
}

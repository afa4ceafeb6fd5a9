// Prometheus metrics of the node agent: whether each child (felix, bgpd, confd) runs, how often
// it was restarted, and the agent's liveness/readiness as its probes see them. Read at scrape
// time from the supervisor and the probes. Own registry (tests run several in one process).

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ChildStatus } from './supervisor.js';
import type { ProbeResult } from './probes.js';

/** The agent's default metrics port when enabled (felix 9091, bgpd 9095). */
export const DEFAULT_NODE_METRICS_PORT = 9096;

export interface NodeMetricsSource {
  children(): ChildStatus[];
  live?(): Promise<ProbeResult>;
  ready?(): Promise<ProbeResult>;
}

export class NodeMetrics {
  readonly registry = new Registry();

  constructor(source: NodeMetricsSource, opts: { defaults?: boolean } = {}) {
    const registers = [this.registry];
    new Gauge({
      name: 'tabby_node_child_up', labelNames: ['child'], registers,
      help: 'Whether the supervised child process (felix, bgpd, confd) is running (1) or not (0).',
      collect() {
        this.reset();
        for (const c of source.children()) this.set({ child: c.name }, c.running ? 1 : 0);
      },
    });
    new Counter({
      name: 'tabby_node_child_restarts_total', labelNames: ['child'], registers,
      help: 'Times the agent restarted the child after it exited.',
      collect() {
        this.reset();
        for (const c of source.children()) this.inc({ child: c.name }, c.restarts);
      },
    });
    new Gauge({
      name: 'tabby_node_child_start_time_seconds', labelNames: ['child'], registers,
      help: 'Unix time the child was last started.',
      collect() {
        this.reset();
        for (const c of source.children()) if (c.startedAt) this.set({ child: c.name }, Date.parse(c.startedAt) / 1000);
      },
    });
    const probe = (name: string, help: string, run: (() => Promise<ProbeResult>) | undefined) => {
      if (!run) return;
      new Gauge({ name, help, registers, async collect() { this.set((await run()).ok ? 1 : 0); } });
    };
    probe('tabby_node_live', 'The agent\'s liveness probe (felix live, bgpd answering): 1 healthy, 0 not.', source.live?.bind(source));
    probe('tabby_node_ready', 'The agent\'s readiness probe (felix ready, every BGP session Established): 1 ready, 0 not.', source.ready?.bind(source));
    if (opts.defaults !== false) collectDefaultMetrics({ register: this.registry });
  }
}

/** Serves GET /metrics on port/host; resolves once listening (the same server bgpd uses). */
export { serveMetrics as serveNodeMetrics } from '@tabby/bgpd';

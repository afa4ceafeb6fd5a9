// Prometheus metrics (prom-client, own registry so tests can run several daemons in one process).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class FelixMetrics {
  readonly registry = new Registry();
  readonly applyDuration = new Histogram({
    name: 'felix_int_dataplane_apply_time_seconds', help: 'Time to apply one batch of changes to the dataplane, by part.',
    labelNames: ['part'], buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry],
  });
  readonly applyFailures = new Counter({
    name: 'felix_int_dataplane_failures', help: 'Dataplane apply attempts that failed.', registers: [this.registry],
  });
  readonly resyncs = new Counter({
    name: 'felix_resyncs_started', help: 'Full dataplane resyncs started, by kind (iptables, routes).', labelNames: ['kind'], registers: [this.registry],
  });
  readonly localEndpoints = new Gauge({
    name: 'felix_active_local_endpoints', help: 'Workload endpoints on this node.', registers: [this.registry],
  });
  readonly rules = new Gauge({
    name: 'felix_iptables_rules', help: 'iptables rules felix programs, by table.', labelNames: ['table'], registers: [this.registry],
  });
  readonly chains = new Gauge({
    name: 'felix_iptables_chains', help: 'iptables chains felix programs, by table.', labelNames: ['table'], registers: [this.registry],
  });
  readonly routes = new Gauge({
    name: 'felix_routes', help: 'Routes felix programs in the main table.', registers: [this.registry],
  });
  readonly datastoreErrors = new Counter({
    name: 'felix_datastore_errors', help: 'Errors reported by datastore watches.', registers: [this.registry],
  });

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }
}

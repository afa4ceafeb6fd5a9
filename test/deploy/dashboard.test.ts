// deploy/grafana-dashboard.json names only metrics the daemons really export: the metric names are
// taken from the PromQL of every panel and checked against the registries of felix, bgpd and the
// node agent, built here from their metrics modules.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { FelixMetrics } from '@tabby/felix';
import { BgpdMetrics } from '@tabby/bgpd';
import { NodeMetrics } from '@tabby/node';
import { ROOT } from './lib.js';

/** Every series name a registry exposes (histograms as _bucket/_sum/_count). */
async function exposed(reg: Registry): Promise<Set<string>> {
  const names = new Set<string>();
  for (const m of await reg.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    if (String(m.type) === 'summary') for (const s of ['_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

const PROMQL_WORDS = new Set([
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset',
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'histogram_quantile', 'abs', 'clamp_min', 'clamp_max',
  'label_values', 'time', 'vector', 'scalar', 'avg_over_time', 'max_over_time', 'min_over_time', 'changes', 'resets', 'absent',
]);

/**
 * Metric names in a PromQL expression: identifiers left after removing string literals, label
 * matchers ({...}), grouping label lists (by/without/on/ignoring (...)), range selectors, numbers
 * and PromQL's own words.
 */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  const out: string[] = [];
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    if (!PROMQL_WORDS.has(m[0])) out.push(m[0]);
  }
  return out;
}

describe('deploy: Grafana dashboard', () => {
  let exported: Set<string>;
  const dash = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana-dashboard.json'), 'utf8')) as {
    panels: { title: string; targets?: { expr: string }[] }[];
    templating?: { list: { query?: unknown }[] };
  };

  before(async () => {
    const none = { status: () => [], stats: () => ({ prefixes: 0, attributeSets: 0, pathObjects: 0, eventLoopDelayMaxMs: 0, eventLoopDelayP99Ms: 0, rssBytes: 0 }), peerCounters: () => [] };
    const regs = [
      new FelixMetrics(true).registry,
      new BgpdMetrics(none).registry,
      new NodeMetrics({ children: () => [], live: async () => ({ ok: true, detail: '' }), ready: async () => ({ ok: true, detail: '' }) }).registry,
    ];
    exported = new Set();
    for (const r of regs) for (const n of await exposed(r)) exported.add(n);
  });

  it('finds metric names in PromQL (and only them)', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, part) (rate(felix_x_bucket{instance=~"$instance"}[5m])))')).to.deep.equal(['felix_x_bucket']);
    expect(metricNames('bgpd_a{peer="x"} == 0 and on (peer) bgpd_b')).to.deep.equal(['bgpd_a', 'bgpd_b']);
  });

  it('shows BGP sessions, routes, UPDATE rates, felix apply times, resyncs and endpoint/rule counts', () => {
    const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const m of ['bgpd_peer_state', 'bgpd_peer_prefixes_received', 'bgpd_peer_updates_received_total', 'felix_int_dataplane_apply_time_seconds_bucket', 'felix_resyncs_started', 'felix_active_local_endpoints', 'felix_iptables_rules']) {
      expect(exprs, m).to.include(m);
    }
  });

  it('every PromQL expression names only metrics that felix, bgpd or the node agent export', () => {
    const used: { panel: string; metric: string }[] = [];
    for (const p of dash.panels) {
      expect(p.targets?.length, `panel "${p.title}" has queries`).to.be.above(0);
      for (const t of p.targets!) for (const metric of metricNames(t.expr)) used.push({ panel: p.title, metric });
    }
    for (const v of dash.templating?.list ?? []) {
      const q = typeof v.query === 'string' ? v.query : '';
      const inner = /label_values\(([^,)]+)/.exec(q)?.[1];
      if (inner) used.push({ panel: 'variable', metric: inner.trim() });
    }
    expect(used.length).to.be.above(10);
    const unknown = used.filter((u) => !exported.has(u.metric)).map((u) => `${u.panel}: ${u.metric}`);
    expect(unknown, 'metrics no daemon exports').to.deep.equal([]);
  });
});

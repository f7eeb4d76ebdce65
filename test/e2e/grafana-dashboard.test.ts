// The Grafana dashboard shipped in contrib/grafana/ reads only metrics the
// daemon really serves: every query of every panel (and of the template
// variables) is parsed as PromQL and each metric it names must be in a
// scrape of the real daemon's endpoint over HTTP.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import t from 'tap';
import { packageRoot } from '../../lib/util/paths.js';
import { grafanaQueryMetricNames, promqlMetricNames } from '../helpers/promql.js';
import { Topology, basicConfig } from '../helpers/topology.js';

interface Target { expr?: string; refId?: string }
interface Panel { title?: string; type: string; targets?: Target[]; panels?: Panel[]; datasource?: { uid?: string } }
interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string | { query: string } }> };
}

const dashboard = JSON.parse(readFileSync(resolve(packageRoot, 'contrib', 'grafana', 'xdpfw.json'), 'utf8')) as Dashboard;

/** Every query of the dashboard, with where it is. */
function queries(): Array<{ where: string; names: string[] }> {
  const out: Array<{ where: string; names: string[] }> = [];
  const walk = (panels: Panel[]): void => {
    for (const p of panels) {
      for (const target of p.targets ?? []) {
        if (target.expr !== undefined) out.push({ where: `panel "${p.title}" ${target.refId}`, names: promqlMetricNames(target.expr) });
      }
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels);
  for (const v of dashboard.templating.list) {
    if (v.type !== 'query' || v.query === undefined) continue;
    out.push({ where: `variable $${v.name}`, names: grafanaQueryMetricNames(typeof v.query === 'string' ? v.query : v.query.query) });
  }
  return out;
}

t.test('the PromQL reader finds the metrics inside functions, aggregations and binary expressions, nothing else', async (t) => {
  t.same(promqlMetricNames('sum by (stage, reason) (rate(xdpfw_drops_total{instance=~"$instance",stage="xdp"}[$__rate_interval])) > 0'),
    ['xdpfw_drops_total']);
  t.same(promqlMetricNames('sum(rate(a_total{path="slow"}[5m])) / ignoring(path) group_left sum(rate(b_total[1m] offset 1h)) * 8'), ['a_total', 'b_total']);
  t.same(promqlMetricNames('topk(10, max without (le) (c)) or on(instance) {__name__="d", x="rate(e)"}'), ['c', 'd']);
  t.same(grafanaQueryMetricNames('label_values(xdpfw_sessions_active, instance)'), ['xdpfw_sessions_active']);
});

t.test('the dashboard is importable: the data source is a variable every panel uses', async (t) => {
  t.ok(dashboard.templating.list.some((v) => v.type === 'datasource' && v.name === 'datasource'), 'a datasource variable');
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  t.ok(panels.length >= 10, `${panels.length} panels`);
  t.same(panels.filter((p) => p.datasource?.uid !== '${datasource}').map((p) => p.title), [], 'every panel reads ${datasource}');
  for (const topic of [/path/i, /drops by stage/i, /session rate/i, /slow-path load/i, /shedding/i, /generated vs sent/i, /AF_XDP ring/i]) {
    t.ok(panels.some((p) => topic.test(p.title ?? '')), `a panel on ${topic.source}`);
  }
});

t.test('every metric a dashboard query names is served by the real daemon', async (t) => {
  const topo = await Topology.create();
  t.teardown(() => topo.destroy());
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(basicConfig())]);
  t.equal(r.code, 0, r.stderr);
  const scrape = await topo.traffic<{ status: number; body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  t.equal(scrape.status, 200);
  const served = new Set(parsePrometheusTextFormat(scrape.body).map((f) => f.name));
  const all = queries();
  t.ok(all.length >= 30, `${all.length} queries`);
  const missing = all.flatMap((q) => q.names.filter((n) => !served.has(n)).map((n) => `${q.where}: ${n}`));
  t.same(missing, [], 'no query names a metric the daemon does not serve');
  t.same(all.filter((q) => q.names.length === 0).map((q) => q.where), [], 'every query reads a metric');
});

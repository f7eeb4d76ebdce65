// Prometheus metrics scraped over HTTP from the real daemon, parsed by a
// real exposition-format parser, moving as traffic flows.
import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format';
import t from 'tap';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';

let topo: Topology;
t.before(async () => {
  topo = await Topology.create();
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(basicConfig())]);
  if (r.code !== 0) throw new Error(r.stderr);
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
});
t.teardown(() => topo?.destroy());

async function scrape(): Promise<Map<string, PromFamily>> {
  const r = await topo.traffic<{ status: number; contentType: string; body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  if (r.status !== 200) throw new Error(`scrape answered ${r.status}`);
  return new Map(parsePrometheusTextFormat(r.body).map((f) => [f.name, f]));
}

function value(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number {
  const fam = families.get(name);
  if (!fam) throw new Error(`no metric ${name}`);
  const sample = fam.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return sample ? Number(sample.value) : 0;
}

t.test('the exposition names are prefixed, counters end in _total, types are right', async (t) => {
  const m = await scrape();
  for (const [name, fam] of m) {
    if (name.startsWith('nodejs_') || name.startsWith('process_')) continue;
    t.ok(name.startsWith('xdpfw_'), `${name} is prefixed xdpfw_`);
    if (fam.type === 'COUNTER') t.ok(name.endsWith('_total'), `counter ${name} ends in _total`);
  }
  t.equal(m.get('xdpfw_sessions_active')?.type, 'GAUGE');
  t.equal(value(m, 'xdpfw_xdp_attach_mode', { interface: 'trust0', mode: 'native' }), 1, 'attach mode per interface');
  t.ok(m.has('xdpfw_afxdp_rx_dropped_total'), 'AF_XDP socket statistics exported');
});

t.test('counters move with traffic', async (t) => {
  const before = await scrape();
  const r = await topo.traffic<{ ok: boolean; received: number }>('client', ['tcp-send', '--host', ADDR.server4, '--port', '5001', '--bytes', String(5 << 20)]);
  t.ok(r.ok);
  const denied = await topo.traffic<{ ok: boolean }>('server', ['tcp-send', '--host', ADDR.client4, '--port', '5001', '--bytes', '1', '--timeout', '1500']);
  t.notOk(denied.ok);
  const after = await scrape();
  const delta = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
  t.ok(delta('xdpfw_packets_total', { path: 'fast' }) > 3000, `fast path packets grew by ${delta('xdpfw_packets_total', { path: 'fast' })}`);
  t.ok(delta('xdpfw_bytes_total', { path: 'fast' }) > 5 << 20, 'fast path bytes grew by more than the payload');
  t.ok(delta('xdpfw_packets_total', { path: 'slow' }) >= 2, 'slow path saw the SYNs');
  t.equal(delta('xdpfw_sessions_created_total'), 1, 'one session created');
  t.ok(delta('xdpfw_drops_total', { stage: 'slowpath', reason: 'policy_deny' }) >= 1, 'the denied SYN is a drop by reason');
});

// What is lost or held back on the way, seen by an operator of the real
// daemon: a flood of packets through a logged filter term of an established
// flow writes at most the configured event rate per second into the ring, the
// rest counted as suppressed, in `show counters` (human and --json) and in
// the metrics scraped over HTTP; the AF_XDP rings' losses beside them. And
// the metrics endpoint where `system services metrics` puts it, moved by a
// reload, kept (with the reason) when the new place cannot be bound.
import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format';
import t from 'tap';
import type { CountersReport, ReloadReport } from '../../lib/daemon/reports.js';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';
import { type UdpResult, firewallCounter, udp } from '../helpers/filters.js';

const ECHO = 5002;
const SPORT = 43101;
const RATE = 10;
const FLOOD = 3000;
const PORTS = { first: 9555, moved: 9556, taken: 9557 } as const;

function config(metrics: string): string {
  return basicConfig(`
system {
    syslog { rate-limit ${RATE}; }
    services { metrics { ${metrics} } }
}
firewall {
    family inet {
        filter in-inet {
            term logged { from { protocol udp; source-port ${SPORT}; } then { log; count logged; accept; } }
            term rest { then accept; }
        }
    }
}
interfaces { trust0 { unit 0 { family inet { filter { input in-inet; } } } } }`);
}

let topo: Topology;
t.before(async () => {
  topo = await Topology.create();
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(config(`port ${PORTS.first};`))]);
  if (r.code !== 0) throw new Error(r.stderr);
  await topo.startTraffic('server', ['udp-echo', '--port', String(ECHO)]);
});
t.teardown(() => topo?.destroy());

interface HttpResult { status: number; body?: string; error?: string }

function get(port: number): Promise<HttpResult> {
  return topo.traffic<HttpResult>('fw', ['http-get', '--host', `http://127.0.0.1:${port}/metrics`]);
}

async function scrape(port: number): Promise<Map<string, PromFamily>> {
  const r = await get(port);
  if (r.status !== 200) throw new Error(`scrape of port ${port}: ${r.status} ${r.error ?? ''}`);
  return new Map(parsePrometheusTextFormat(r.body ?? '').map((f) => [f.name, f]));
}

function value(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number {
  const fam = families.get(name);
  if (!fam) throw new Error(`no metric ${name}`);
  const sample = fam.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!sample) throw new Error(`no sample of ${name} with ${JSON.stringify(labels)}`);
  return Number(sample.value);
}

const counters = () => topo.xdpfwJson<CountersReport>(['show', 'counters']);

t.test('a flood of logged packets of an established flow: at most the event rate per second, the rest counted suppressed', async (t) => {
  // The first packet makes the session (logged by the slow path); the flood is then XDP's alone.
  const first = await udp(topo, 'client', ADDR.server4, ECHO, SPORT, 1);
  t.equal(first.received, 1, 'the flow is established');
  const before = await counters();
  const started = Date.now();
  const flood = await topo.traffic<UdpResult>('client', ['udp-ping', '--host', ADDR.server4, '--port', String(ECHO), '--sport', String(SPORT),
    '--count', String(FLOOD), '--interval', '0', '--timeout', '2000']);
  const seconds = Math.ceil((Date.now() - started) / 1000) + 1;
  t.ok(flood.received > 0, `echoed: ${flood.received} of ${FLOOD}`);
  const logged = (await firewallCounter(topo, 'in-inet', 'logged'))!.packets - 1;
  // The daemon drains the ring in the background: wait until what XDP wrote has been read.
  let after = await counters();
  const delta = (c: CountersReport) => ({
    generated: c.events['filter-log']!.generated - before.events['filter-log']!.generated,
    suppressed: c.losses.xdpEvents.suppressed['filter-log'] - before.losses.xdpEvents.suppressed['filter-log'],
    ringFull: c.losses.xdpEvents.ringFull - before.losses.xdpEvents.ringFull,
  });
  for (let tries = 0; tries < 100; tries++) {
    const d = delta(after);
    if (d.generated + d.suppressed + d.ringFull >= logged) break;
    await new Promise((r) => setTimeout(r, 100));
    after = await counters();
  }
  const { generated, suppressed, ringFull } = delta(after);
  const judgedBySlowPath = after.slowPathPackets - before.slowPathPackets;
  t.ok(logged > RATE * seconds, `more logged packets (${logged}) than the budget lets through in ${seconds} s`);
  t.ok(generated <= judgedBySlowPath + RATE * seconds, `events from XDP within the budget: ${generated} (slow path judged ${judgedBySlowPath})`);
  t.equal(generated + suppressed + ringFull, logged, 'every logged packet is an event, suppressed, or lost to a full ring');
  t.ok(suppressed > 0, `suppressed: ${suppressed}`);
  t.equal(after.losses.xdpEvents.undecodable, 0, 'every record read was decoded');

  const m = await scrape(PORTS.first);
  t.equal(value(m, 'xdpfw_xdp_events_suppressed_total', { kind: 'filter-log' }), after.losses.xdpEvents.suppressed['filter-log'],
    'the metric says what show counters says');
  t.equal(value(m, 'xdpfw_xdp_events_lost_total', { reason: 'ring_full' }), after.losses.xdpEvents.ringFull);
  t.equal(value(m, 'xdpfw_xdp_events_lost_total', { reason: 'undecodable' }), 0);

  const human = await topo.xdpfw(['show', 'counters']);
  t.match(human.stdout, new RegExp(`XDP events suppressed: filter-log ${after.losses.xdpEvents.suppressed['filter-log']} `), 'and the human form');
});

t.test('every AF_XDP socket ring loss, per interface and queue, in show counters and the metrics', async (t) => {
  const c = await counters();
  const m = await scrape(PORTS.first);
  const names = new Set(c.losses.afxdp.map((q) => q.interface));
  t.same([...names].sort(), ['trust0', 'untrust0'], 'one entry per queue of every interface');
  for (const q of c.losses.afxdp) {
    const labels = { interface: q.interface, queue: String(q.queue) };
    t.equal(value(m, 'xdpfw_afxdp_rx_dropped_total', labels), q.rxDropped, `${q.interface}/${q.queue} rx dropped`);
    t.equal(value(m, 'xdpfw_afxdp_rx_ring_full_total', labels), q.rxRingFull);
    t.equal(value(m, 'xdpfw_afxdp_fill_ring_empty_total', labels), q.fillRingEmpty);
    t.equal(value(m, 'xdpfw_afxdp_rx_invalid_total', labels), q.rxInvalid);
    t.equal(value(m, 'xdpfw_afxdp_tx_ring_full_total', labels), q.txRingFull, `${q.interface}/${q.queue} tx ring full`);
  }
  const human = await topo.xdpfw(['show', 'counters']);
  t.match(human.stdout, /AF_XDP queue\s+Rx dropped\s+Rx ring full\s+Fill ring empty\s+Rx invalid\s+Tx ring full\n(trust0|untrust0)\/0 /);
});

t.test('the metrics endpoint is where the configuration puts it, and a reload moves it', async (t) => {
  t.equal((await get(9420)).status, 0, 'nothing on the default port');
  t.equal((await get(PORTS.first)).status, 200, `served on port ${PORTS.first}`);

  const reload = async (metrics: string) => {
    const r = await topo.xdpfw(['reload', '-c', topo.writeConfig(config(metrics)), '--json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as ReloadReport;
  };
  const moved = await reload(`listen-address 127.0.0.1; port ${PORTS.moved};`);
  t.same(moved.metrics, { listening: `127.0.0.1:${PORTS.moved}` });
  t.equal((await get(PORTS.moved)).status, 200, 'served on the new port');
  t.equal((await get(PORTS.first)).status, 0, 'and no longer on the old one');

  // A port something else holds: the reload applies, the endpoint stays and says why.
  await topo.startTraffic('fw', ['tcp-sink', '--port', String(PORTS.taken), '--listen', '127.0.0.1']);
  const kept = await reload(`port ${PORTS.taken};`);
  t.match(kept.metrics, { listening: `127.0.0.1:${PORTS.moved}`, error: new RegExp(`cannot listen on 127.0.0.1:${PORTS.taken}: .*EADDRINUSE`) });
  t.equal((await get(PORTS.moved)).status, 200, 'still served where it was');
  const human = await topo.xdpfw(['reload', '-c', topo.writeConfig(config(`port ${PORTS.taken};`))]);
  t.equal(human.code, 0);
  t.match(human.stdout, `warning: metrics: cannot listen on 127.0.0.1:${PORTS.taken}`);

  // A bad address is a configuration error with its place; the running endpoint stays.
  const bad = await topo.xdpfw(['reload', '-c', topo.writeConfig(config('listen-address 300.1.1.1;'))]);
  t.not(bad.code, 0);
  t.match(bad.stderr, /xdpfw\.conf:\d+:\d+: invalid metrics listen-address '300\.1\.1\.1'/);
  t.equal((await get(PORTS.moved)).status, 200);

  const off = await reload('disable;');
  t.same(off.metrics, { listening: null });
  t.equal((await get(PORTS.moved)).status, 0, 'disabled: nothing served');
  const back = await reload(`port ${PORTS.first};`);
  t.same(back.metrics, { listening: `127.0.0.1:${PORTS.first}` });
  t.equal((await get(PORTS.first)).status, 200, 'enabled again');
});

// Prometheus exposition of the daemon's counters. Every value is read at
// scrape time from its owner (per-CPU XDP counters summed, slow path and
// session statistics, AF_XDP socket statistics): nothing on the packet path
// does any work for metrics, and a scrape does no I/O beyond reading a few
// small maps.
import { type Server, createServer } from 'node:http';
import type { DnsCounters } from '../dns-names/addresses.js';
import type { RouteWatchStats } from '../routes/route-watch.js';
import type { QueueWorkerStats } from '../workers/pool.js';
import { registerQueueWorkerMetrics } from '../workers/metrics.js';
import { Counter, Gauge, Registry } from 'prom-client';
import type { XdpMode } from '../dataplane/dataplane.js';
import type { KindCounters } from '../events/producer.js';
import type { ScreenCounts, ScreenStatsReport } from '../screens/stats.js';
import type { FirewallReport } from '../filter/report.js';
import type { SessionTableStats } from '../session/table.js';
import type { QueueSocketStats } from '../slowpath/receiver.js';
import type { SlowPathStats } from '../slowpath/slowpath.js';
import type { AfXdpLosses, LossesReport } from '../daemon/losses.js';
import { registerHaMetrics } from '../ha/metrics.js';
import type { HaStatus } from '../ha/roles.js';

export interface MetricsSource {
  xdpCounters(): Map<string, { packets: bigint; bytes: bigint }>;
  slowPath(): SlowPathStats;
  controlRequestsRejected(): number;
  sessions(): { active: number; stats: SessionTableStats };
  queues(): QueueSocketStats[];
  /** The slow path's threads, one per RX queue. */
  queueWorkers?(): QueueWorkerStats[];
  interfaces(): Array<{ name: string; mode: XdpMode }>;
  policyHits(): Array<{ policy: string; fromZone: string; toZone: string; hits: number }>;
  events(): Record<string, KindCounters>;
  /** Per zone and screen: what the XDP screens and the slow path's session limits did. */
  screens(): ScreenStatsReport;
  /** Firewall filters with their `count` counters (slow path and XDP together). */
  firewall(): FirewallReport;
  /** Events and frames lost or held back on the way. */
  losses(): LossesReport;
  /** The start-up checks' warnings as last checked (status, or the daemon's periodic check). */
  linkWarnings(): Array<{ interface: string; check: string }>;
  /** Lookups of dns-name addresses (lib/dns-names/). */
  dnsNames?(): DnsCounters;
  routeWatch?(): RouteWatchStats | null;
  /** The pair's roles (lib/ha/); null on a single box. */
  ha?(): HaStatus | null;
}

/** XDP counters by the path their packets took. */
const PATHS: Record<string, string[]> = {
  fast: ['FAST_FORWARD', 'FAST_KERNEL', 'ICMP_ERROR_FORWARD'],
  local: ['FAST_LOCAL', 'INJECT_LOCAL', 'ICMP_ERROR_LOCAL'],
  slow: ['SLOW_PATH', 'MTU_EXCEEDED'],
};

type Labels = Record<string, string>;

/** A counter whose value is owned elsewhere and copied in at scrape time. */
function mirroredCounter(registry: Registry, name: string, help: string, labelNames: string[], read: () => Array<[Labels, number]>): void {
  new Counter({
    name, help, labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

function mirroredGauge(registry: Registry, name: string, help: string, labelNames: string[], read: () => Array<[Labels, number]>): void {
  new Gauge({
    name, help, labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.set(labels, value);
    },
  });
}

export function createRegistry(src: MetricsSource): Registry {
  const r = new Registry();
  const sum = (names: string[], field: 'packets' | 'bytes') => {
    const c = src.xdpCounters();
    return names.reduce((n, k) => n + Number(c.get(k)?.[field] ?? 0n), 0);
  };
  const byPath = (field: 'packets' | 'bytes') => () =>
    Object.entries(PATHS).map(([path, names]): [Labels, number] => [{ path }, sum(names, field)]);

  mirroredCounter(r, 'xdpfw_packets_total', 'Packets by the path that handled them', ['path'], byPath('packets'));
  mirroredCounter(r, 'xdpfw_bytes_total', 'Bytes by the path that handled them', ['path'], byPath('bytes'));
  mirroredCounter(r, 'xdpfw_xdp_verdicts_total', 'Packets per XDP program verdict counter', ['counter'],
    () => [...src.xdpCounters()].map(([k, v]): [Labels, number] => [{ counter: k.toLowerCase() }, Number(v.packets)]));
  mirroredCounter(r, 'xdpfw_drops_total', 'Dropped packets by stage and reason', ['stage', 'reason'], () => {
    const out: Array<[Labels, number]> = [];
    for (const [k, v] of src.xdpCounters()) {
      if (k.startsWith('DROP_') || k === 'INJECT_MISS' || k.startsWith('SLOW_PATH_SHED_') || k === 'DENY_CACHE_HIT') out.push([{ stage: 'xdp', reason: k.toLowerCase() }, Number(v.packets)]);
    }
    for (const [reason, n] of src.slowPath().drops) out.push([{ stage: 'slowpath', reason }, n]);
    return out;
  });
  mirroredCounter(r, 'xdpfw_slowpath_packets_total', 'Packets the slow path received', [], () => [[{}, src.slowPath().received]]);
  mirroredCounter(r, 'xdpfw_slowpath_batches_total', 'Receive batches the slow path judged together, by size range', ['size'],
    () => Object.entries(src.slowPath().batches.report().bySize).map(([size, n]): [Labels, number] => [{ size }, n]));
  mirroredCounter(r, 'xdpfw_slowpath_wakeups_total', 'Receive batches by how long their first frame waited from XDP to the slow path (µs)', ['wait_us'],
    () => Object.entries(src.slowPath().batches.report().byWakeUs).map(([wait, n]): [Labels, number] => [{ wait_us: wait }, n]));
  mirroredCounter(r, 'xdpfw_slowpath_batch_calls_total', 'Kernel calls shared by a whole receive batch, by kind', ['kind'],
    () => [[{ kind: 'route' }, src.slowPath().batches.routeRuns], [{ kind: 'session_write' }, src.slowPath().batches.installWrites]]);
  mirroredCounter(r, 'xdpfw_slowpath_injected_total', 'Packets the slow path re-injected into the fast path', [],
    () => [[{}, src.slowPath().injected]]);
  mirroredCounter(r, 'xdpfw_slow_path_errors_total', 'Errors inside the daemon input loops by stage (the frame hit is dropped)', ['stage'],
    () => Object.entries(src.slowPath().faults.byStage()).map(([stage, n]): [Labels, number] => [{ stage }, n]));
  mirroredCounter(r, 'xdpfw_dns_name_lookups_total', 'Lookups of dns-name addresses by outcome (failed: the last good addresses stayed)', ['outcome'], () => {
    const c = src.dnsNames?.() ?? { answered: 0, failures: 0, changes: 0 };
    return [[{ outcome: 'answered' }, c.answered], [{ outcome: 'failed' }, c.failures]];
  });
  mirroredCounter(r, 'xdpfw_dns_name_changes_total', 'Answers that changed the addresses of a dns-name address (applied to the policies at once)', [],
    () => [[{}, src.dnsNames?.().changes ?? 0]]);
  mirroredCounter(r, 'xdpfw_route_changes_total', 'Route, neighbour, link or address changes applied to the egress XDP keeps per session (each a new route generation)', [],
    () => [[{}, src.routeWatch?.()?.bumps ?? 0]]);
  mirroredCounter(r, 'xdpfw_route_listener_exits_total', 'Times the route change listener stopped (every packet looked up until it ran again)', [],
    () => [[{}, src.routeWatch?.()?.listenerExits ?? 0]]);
  mirroredGauge(r, 'xdpfw_route_egress_kept', 'Whether established packets leave by the egress kept in their session (1) or are each looked up (0)', [],
    () => [[{}, src.routeWatch?.()?.leased ? 1 : 0]]);
  registerQueueWorkerMetrics(r, () => src.queueWorkers?.() ?? []);
  mirroredCounter(r, 'xdpfw_control_requests_rejected_total', 'Control requests refused as malformed', [], () => [[{}, src.controlRequestsRejected()]]);
  mirroredCounter(r, 'xdpfw_reject_replies_total', 'Reject replies (RST, ICMP unreachable) by outcome', ['outcome'], () => {
    const c = src.slowPath().rejects;
    return [[{ outcome: 'sent' }, c.sent], [{ outcome: 'partial_quote' }, c.partialQuote], [{ outcome: 'rate_limited' }, c.rateLimited],
      [{ outcome: 'not_due' }, c.notDue], [{ outcome: 'too_large' }, c.tooLarge], [{ outcome: 'tx_full' }, src.slowPath().rejectTxFull]];
  });
  mirroredCounter(r, 'xdpfw_too_big_replies_total', 'Fragmentation-needed / packet-too-big replies to packets too big for their egress link, by outcome',
    ['outcome'], () => {
      const c = src.slowPath().tooBig;
      return [[{ outcome: 'sent' }, c.sent], [{ outcome: 'rate_limited' }, c.rateLimited], [{ outcome: 'not_due' }, c.notDue],
        [{ outcome: 'too_large' }, c.tooLarge], [{ outcome: 'tx_full' }, src.slowPath().tooBigTxFull]];
    });
  mirroredGauge(r, 'xdpfw_sessions_active', 'Sessions in the session table', [], () => [[{}, src.sessions().active]]);
  mirroredCounter(r, 'xdpfw_sessions_created_total', 'Sessions created', [], () => [[{}, src.sessions().stats.created]]);
  mirroredCounter(r, 'xdpfw_sessions_closed_total', 'Sessions closed, by reason', ['reason'],
    () => [...src.sessions().stats.closed].map(([reason, n]): [Labels, number] => [{ reason }, n]));
  mirroredCounter(r, 'xdpfw_sessions_refused_total', 'New sessions refused because the table was full', [],
    () => [[{}, src.sessions().stats.refusedFull]]);
  mirroredCounter(r, 'xdpfw_policy_hits_total', 'Sessions permitted or packets denied, by policy', ['policy', 'from_zone', 'to_zone'],
    () => src.policyHits().map((p): [Labels, number] => [{ policy: p.policy, from_zone: p.fromZone, to_zone: p.toZone }, p.hits]));
  mirroredCounter(r, 'xdpfw_events_total', 'Security events by kind and outcome (generated = sent + the drop outcomes)', ['kind', 'outcome'], () =>
    Object.entries(src.events()).flatMap(([kind, c]) => (Object.entries(c) as Array<[string, number]>)
      .map(([outcome, n]): [Labels, number] => [{ kind, outcome: outcome.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`) }, n])));
  const perScreen = (field: keyof ScreenCounts) => () =>
    src.screens().zones.flatMap((z) => (Object.entries(z.screens) as Array<[string, ScreenCounts]>)
      .map(([screen, n]): [Labels, number] => [{ zone: z.zone, screen }, n[field]]));
  mirroredCounter(r, 'xdpfw_screen_drops_total', 'Packets (or, for the session limits, new sessions) a screen dropped, by zone and screen',
    ['zone', 'screen'], perScreen('drops'));
  mirroredCounter(r, 'xdpfw_screen_alarms_total', 'Screen hits let through by alarm-without-drop, by zone and screen',
    ['zone', 'screen'], perScreen('alarms'));
  const perFilterCounter = (field: 'packets' | 'bytes') => (): Array<[Labels, number]> =>
    src.firewall().filters.flatMap((f) => f.counters.map((c): [Labels, number] => [{ filter: f.name, family: f.family, counter: c.name }, c[field]]));
  mirroredCounter(r, 'xdpfw_filter_counter_packets_total', 'Packets counted by a firewall filter `count` action, by filter, family and counter',
    ['filter', 'family', 'counter'], perFilterCounter('packets'));
  mirroredCounter(r, 'xdpfw_filter_counter_bytes_total', 'IP bytes counted by a firewall filter `count` action, by filter, family and counter',
    ['filter', 'family', 'counter'], perFilterCounter('bytes'));
  const perPolicer = (field: 'packets' | 'bytes') => (): Array<[Labels, number]> =>
    src.firewall().filters.flatMap((f) => f.policers.map((p): [Labels, number] => [{ filter: f.name, family: f.family, policer: p.name }, p[field]]));
  mirroredCounter(r, 'xdpfw_filter_policer_dropped_packets_total', 'Packets a firewall filter term\'s policer discarded (beyond its limits), by filter, family and policer-term',
    ['filter', 'family', 'policer'], perPolicer('packets'));
  mirroredCounter(r, 'xdpfw_filter_policer_dropped_bytes_total', 'IP bytes a firewall filter term\'s policer discarded, by filter, family and policer-term',
    ['filter', 'family', 'policer'], perPolicer('bytes'));
  mirroredGauge(r, 'xdpfw_filter_programs', 'Residual programs of per-packet filter terms in the XDP table', [],
    () => [[{}, src.firewall().programs?.used ?? 0]]);
  mirroredCounter(r, 'xdpfw_filter_programs_table_full_total', 'Flow directions whose per-packet filter terms found no free XDP program slot (judged in the slow path)',
    [], () => [[{}, src.firewall().programs?.tableFull ?? 0]]);
  mirroredCounter(r, 'xdpfw_screen_events_suppressed_total', 'Screen events not logged past the per-second budget of the zone and screen',
    ['zone', 'screen'], perScreen('eventsSuppressed'));
  const perQueue = (field: keyof Pick<QueueSocketStats, 'rxDropped' | 'rxRingFull' | 'fillRingEmptyDescs' | 'rxInvalidDescs'>) => () =>
    src.queues().map((q): [Labels, number] => [{ interface: q.ifname, queue: String(q.queue) }, q[field]]);
  mirroredCounter(r, 'xdpfw_afxdp_rx_dropped_total', 'Frames the AF_XDP socket dropped (no room in the rx ring)', ['interface', 'queue'], perQueue('rxDropped'));
  mirroredCounter(r, 'xdpfw_afxdp_rx_ring_full_total', 'Times the AF_XDP rx ring was full', ['interface', 'queue'], perQueue('rxRingFull'));
  mirroredCounter(r, 'xdpfw_afxdp_fill_ring_empty_total', 'Times the AF_XDP fill ring was empty', ['interface', 'queue'], perQueue('fillRingEmptyDescs'));
  mirroredCounter(r, 'xdpfw_afxdp_rx_invalid_total', 'Invalid AF_XDP rx descriptors', ['interface', 'queue'], perQueue('rxInvalidDescs'));
  lossMetrics(r, src);
  mirroredGauge(r, 'xdpfw_link_warnings', 'What would silently lose traffic on an interface, by check (1 while it lasts)', ['interface', 'check'],
    () => src.linkWarnings().map((w): [Labels, number] => [{ interface: w.interface, check: w.check }, 1]));
  mirroredGauge(r, 'xdpfw_xdp_attach_mode', 'XDP attach mode per interface (1 for the mode in use)', ['interface', 'mode'],
    () => src.interfaces().map((i): [Labels, number] => [{ interface: i.name, mode: i.mode }, 1]));
  registerHaMetrics(r, () => src.ha?.() ?? null);
  return r;
}

/** What lib/daemon/losses.ts reports; the AF_XDP rx drops are the xdpfw_afxdp_* counters above. */
function lossMetrics(r: Registry, src: MetricsSource): void {
  mirroredCounter(r, 'xdpfw_xdp_events_lost_total', 'Events from XDP lost: ring buffer full (never written) or not decodable by the daemon',
    ['reason'], () => {
      const e = src.losses().xdpEvents;
      return [[{ reason: 'ring_full' }, e.ringFull], [{ reason: 'undecodable' }, e.undecodable]];
    });
  mirroredCounter(r, 'xdpfw_xdp_events_suppressed_total', 'Events XDP did not write, over the per-second budget of their kind and zone',
    ['kind'], () => Object.entries(src.losses().xdpEvents.suppressed).map(([kind, n]): [Labels, number] => [{ kind }, n]));
  mirroredCounter(r, 'xdpfw_packet_drop_monitor_total', 'Drops seen while a monitor packet-drop watcher was attached: shown, or not shown (over its budget, ring full)',
    ['outcome'], () => {
      const m = src.losses().packetDropMonitor;
      return [[{ outcome: 'shown' }, m.shown], [{ outcome: 'over_budget' }, m.overBudget], [{ outcome: 'ring_full' }, m.ringFull]];
    });
  const perQueue = (field: 'txRingFull') => () =>
    src.losses().afxdp.map((q: AfXdpLosses): [Labels, number] => [{ interface: q.interface, queue: String(q.queue) }, q[field]]);
  mirroredCounter(r, 'xdpfw_afxdp_tx_ring_full_total', 'Frames the slow path could not send: the AF_XDP tx ring was full',
    ['interface', 'queue'], perQueue('txRingFull'));
}

export interface MetricsEndpoint {
  address: string;
  port: number;
}

/** Serves GET /metrics; anything else is 404. */
export function serveMetrics(registry: Registry, at: MetricsEndpoint): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(`${err.message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.address, () => {
      server.removeListener('error', reject);
      server.on('error', (err) => void process.stderr.write(`xdpfw: metrics: ${err.message}\n`));
      resolve(server);
    });
  });
}

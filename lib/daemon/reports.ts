// The shapes `xdpfw status` and `xdpfw show counters` print (and their --json).
import type { CommitOutcome, CommitStatus } from '../commit/commits.js';
import type { HaStatus } from '../ha/roles.js';
import type { DnsCounters } from '../dns-names/addresses.js';
import type { RouteWatchStats } from '../routes/route-watch.js';
import type { XdpMode } from '../dataplane/dataplane.js';
import type { LinkWarning } from '../dataplane/link-checks.js';
import type { KindCounters } from '../events/producer.js';
import type { SinkStats } from '../events/sinks/sink.js';
import type { QueueSocketStats } from '../slowpath/receiver.js';
import type { RejectCounters } from '../slowpath/reject.js';
import type { SlowPathStats } from '../slowpath/slowpath.js';
import type { SlowPathBatchesReport } from '../slowpath/batch-stats.js';
import type { SessionTableStats } from '../session/table.js';
import type { LossesReport } from './losses.js';
import type { MetricsEndpointState } from '../metrics/endpoint.js';
import type { QueueWorkerStats } from '../workers/pool.js';

export interface StatusReport {
  pid: number;
  config: string;
  stateDir: string;
  uptimeSeconds: number;
  interfaces: Array<{ name: string; ifindex: number; xdpMode: XdpMode; zone: string | null; queues: QueueSocketStats[] }>;
  sessions: { active: number; max: number };
  /** What would silently lose traffic on the attached interfaces (veth peers, MTU), checked at each status. */
  warnings: LinkWarning[];
  /** What the running config has that is not applied (`file:line:column: <path> not supported`, ...). */
  configWarnings: string[];
  /** The running commit and a pending confirm deadline (lib/commit/). */
  commit?: CommitStatus;
  /** The pair (lib/ha/): configured groups and the roles keepalived reported; absent on a single box. */
  ha?: HaStatus;
}

export interface CountersReport {
  /** Packets decided entirely in XDP (forwarded, delivered locally, or handed to the kernel). */
  fastPathPackets: number;
  fastPathBytes: number;
  /** Packets delivered to the TypeScript slow path. */
  slowPathPackets: number;
  /** Packets the slow path re-injected (first packets, SYN/FIN/RST). */
  slowPathInjected: number;
  /** Receive batches of the slow path by size, and the kernel calls they shared. */
  slowPathBatches: SlowPathBatchesReport;
  drops: Record<string, number>;
  sessions: { created: number; closed: Record<string, number>; refusedFull: number };
  /** Security events by kind: generated = sent + rateLimited + queueFull + sinkFailed. */
  events: Record<string, KindCounters>;
  sinks: SinkStats[];
  /** Reject replies sent, rate-limited, not due (e.g. to ICMP errors), too large to send, lost to a full tx ring. */
  rejects: RejectCounters & { txFull: number };
  /** Fragmentation-needed / packet-too-big replies to packets too big for their egress link (counted as rejects are). */
  tooBig: RejectCounters & { txFull: number };
  /** Errors inside the daemon's input loops, by stage: each frame hit is dropped as slow_path_error. */
  slowPathErrors: Record<string, number>;
  /** Control requests refused as malformed. */
  controlRequestsRejected: number;
  /** Every XDP counter, by name. */
  xdp: Record<string, { packets: number; bytes: number }>;
  /** Events and frames lost or held back on the way (lib/daemon/losses.ts). */
  losses: LossesReport;
  /** Lookups of dns-name addresses (lib/dns-names/). */
  dnsNames: DnsCounters;
  /** The route watch behind the egress XDP keeps per session (lib/routes/route-watch.ts); absent without a daemon. */
  routeWatch?: RouteWatchStats;
  /** The slow path's threads, one per RX queue (empty: the sockets are served by the main thread). */
  queueWorkers: QueueWorkerStats[];
}

const FAST_PATH = ['FAST_FORWARD', 'FAST_LOCAL', 'FAST_KERNEL', 'ICMP_ERROR_FORWARD', 'ICMP_ERROR_LOCAL'];

/** XDP drop counters, reported under these names in `drops`. */
export const XDP_DROPS: Record<string, string> = {
  DROP_MALFORMED: 'malformed',
  DROP_SCREEN: 'screen',
  DROP_FRAGMENT: 'fragment',
  DROP_NO_SOCKET: 'no_slow_path_socket',
  DROP_NO_ROUTE: 'no_route_established',
  DROP_FILTER: 'filter_discard_established',
  DROP_PBR_KERNEL: 'pbr_not_forwardable',
  INJECT_MISS: 'inject_no_session',
  DROP_TOO_BIG: 'too_big_for_slow_path',
  DROP_FRAGMENT_NO_FIRST: 'fragment_no_first',
  DROP_FRAGMENT_NO_SESSION: 'fragment_no_session',
  DROP_TCP_OUT_OF_WINDOW: 'tcp_out_of_window',
  DROP_TCP_RST_INEXACT: 'tcp_rst_inexact',
  DROP_TCP_SYN_CHECK: 'tcp_syn_check',
  DROP_TCP_INVALID: 'tcp_invalid',
  DROP_WRONG_INTERFACE: 'session_wrong_interface',
  DROP_NEIGHBOR: 'neighbor_discovery_not_for_box',
  DROP_NON_IP: 'non_ip_ethertype',
  DROP_REROUTED: 'rerouted_again',
  DROP_ICMP_ERROR_NO_SESSION: 'icmp_error_no_session',
  DROP_ICMP_ERROR_INCONSISTENT: 'icmp_error_inconsistent',
  DROP_MTU_EXCEEDED_OVER_BUDGET: 'mtu_exceeded_over_budget',
  DROP_FILTER_TABLE: 'filter_table_changed_established',
  DROP_VLAN_UNKNOWN: 'vlan_no_unit',
  DROP_POLICER: 'filter_policer',
  SLOW_PATH_SHED_SOURCE: 'slow_path_shed_source',
  SLOW_PATH_SHED_SYN: 'slow_path_shed_syn',
  SLOW_PATH_SHED_NEW_FLOW: 'slow_path_shed_new_flow',
  SLOW_PATH_SHED_EXCEPTION: 'slow_path_shed_exception',
  DENY_CACHE_HIT: 'deny_cache_hit',
  DROP_VLAN_TAG: 'vlan_tag_no_room',
  DROP_PROXY_NO_ROOM: 'proxy_answer_no_room',
  DROP_NAT_NO_TRANSLATION: 'nat_no_translation',
  DROP_NAT_SLOW_PATH: 'nat_slow_path',
};

function camel(name: string): string {
  return name.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function countersReport(
  xdp: Map<string, { packets: bigint; bytes: bigint }>,
  slow: SlowPathStats,
  sessions: SessionTableStats,
  events: { counters: Record<string, KindCounters>; sinks: SinkStats[] },
  losses: LossesReport,
  control: { rejected: number } = { rejected: 0 },
  dnsNames: DnsCounters = { answered: 0, failures: 0, changes: 0 },
  routeWatch?: RouteWatchStats,
  queueWorkers: QueueWorkerStats[] = [],
): CountersReport {
  const get = (n: string) => xdp.get(n) ?? { packets: 0n, bytes: 0n };
  const drops: Record<string, number> = {};
  for (const [counter, reason] of Object.entries(XDP_DROPS)) drops[reason] = Number(get(counter).packets);
  for (const [reason, n] of slow.drops) drops[reason] = n;
  return {
    fastPathPackets: FAST_PATH.reduce((sum, n) => sum + Number(get(n).packets), 0),
    fastPathBytes: FAST_PATH.reduce((sum, n) => sum + Number(get(n).bytes), 0),
    slowPathPackets: slow.received,
    slowPathInjected: slow.injected,
    slowPathBatches: slow.batches.report(),
    drops,
    sessions: { created: sessions.created, closed: Object.fromEntries(sessions.closed), refusedFull: sessions.refusedFull },
    events: events.counters,
    sinks: events.sinks,
    rejects: { ...slow.rejects, txFull: slow.rejectTxFull },
    tooBig: { ...slow.tooBig, txFull: slow.tooBigTxFull },
    slowPathErrors: slow.faults.byStage(),
    controlRequestsRejected: control.rejected,
    xdp: Object.fromEntries([...xdp].map(([n, v]) => [camel(n), { packets: Number(v.packets), bytes: Number(v.bytes) }])),
    losses,
    dnsNames: { ...dnsNames },
    ...(routeWatch ? { routeWatch } : {}),
    queueWorkers,
  };
}

export interface ReloadReport {
  config: string;
  interfaces: { added: string[]; removed: string[] };
  sessions: { kept: number; relabelled: number; refiltered: number; closed: number };
  /** Where /metrics is served after the reload, and why not where configured if it could not move. */
  metrics?: MetricsEndpointState;
  /** The archive entry this apply became, and the confirm deadline if any. */
  commit?: CommitOutcome;
}

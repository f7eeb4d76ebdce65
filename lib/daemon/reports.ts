// The shapes `xdpfw status` and `xdpfw show counters` print (and their --json).
import type { XdpMode } from '../dataplane/dataplane.js';
import type { LinkWarning } from '../dataplane/link-checks.js';
import type { KindCounters } from '../events/producer.js';
import type { SinkStats } from '../events/sinks/sink.js';
import type { QueueSocketStats } from '../slowpath/receiver.js';
import type { SlowPathStats } from '../slowpath/slowpath.js';
import type { SessionTableStats } from '../session/table.js';

export interface StatusReport {
  pid: number;
  config: string;
  stateDir: string;
  uptimeSeconds: number;
  interfaces: Array<{ name: string; ifindex: number; xdpMode: XdpMode; zone: string | null; queues: QueueSocketStats[] }>;
  sessions: { active: number; max: number };
  /** What would silently lose traffic on the attached interfaces (veth peers, MTU), checked at each status. */
  warnings: LinkWarning[];
}

export interface CountersReport {
  /** Packets decided entirely in XDP (forwarded, delivered locally, or handed to the kernel). */
  fastPathPackets: number;
  fastPathBytes: number;
  /** Packets delivered to the TypeScript slow path. */
  slowPathPackets: number;
  /** Packets the slow path re-injected (first packets, SYN/FIN/RST). */
  slowPathInjected: number;
  drops: Record<string, number>;
  sessions: { created: number; closed: Record<string, number>; refusedFull: number };
  /** Security events by kind: generated = sent + rateLimited + queueFull + sinkFailed. */
  events: Record<string, KindCounters>;
  /** Events lost in XDP to a full ring buffer. */
  eventRingLost: number;
  sinks: SinkStats[];
  /** Reject replies sent, rate-limited, not due (e.g. to ICMP errors), lost to a full tx ring. */
  rejects: { sent: number; rateLimited: number; notDue: number; txFull: number };
  /** Every XDP counter, by name. */
  xdp: Record<string, { packets: number; bytes: number }>;
}

const FAST_PATH = ['FAST_FORWARD', 'FAST_LOCAL', 'FAST_KERNEL'];

/** XDP drop counters, reported under these names in `drops`. */
const XDP_DROPS: Record<string, string> = {
  DROP_MALFORMED: 'malformed',
  DROP_SCREEN: 'screen',
  DROP_FRAGMENT: 'fragment',
  DROP_NO_SOCKET: 'no_slow_path_socket',
  DROP_NO_ROUTE: 'no_route_established',
  DROP_FILTER: 'filter_discard_established',
  DROP_PBR_KERNEL: 'pbr_not_forwardable',
  INJECT_MISS: 'inject_no_session',
  DROP_TOO_BIG: 'too_big_for_slow_path',
};

function camel(name: string): string {
  return name.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function countersReport(
  xdp: Map<string, { packets: bigint; bytes: bigint }>,
  slow: SlowPathStats,
  sessions: SessionTableStats,
  events: { counters: Record<string, KindCounters>; sinks: SinkStats[] },
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
    drops,
    sessions: { created: sessions.created, closed: Object.fromEntries(sessions.closed), refusedFull: sessions.refusedFull },
    events: events.counters,
    eventRingLost: Number(get('EVENT_RESERVE_FAIL').packets),
    sinks: events.sinks,
    rejects: { ...slow.rejects, txFull: slow.rejectTxFull },
    xdp: Object.fromEntries([...xdp].map(([n, v]) => [camel(n), { packets: Number(v.packets), bytes: Number(v.bytes) }])),
  };
}

export interface ReloadReport {
  config: string;
  interfaces: { added: string[]; removed: string[] };
  sessions: { kept: number; relabelled: number; refiltered: number; closed: number };
}

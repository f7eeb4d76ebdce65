// Every place an event or a frame can be lost on its way, in one report for
// `show counters` (and its --json) and the metrics: XDP events the ring had no
// room for, records the daemon could not decode, events XDP held back past
// their budget, and the AF_XDP sockets' ring drops.
import { EVENT_KINDS, type EventKind } from '../events/types.js';
import type { QueueSocketStats } from '../slowpath/receiver.js';

export interface AfXdpLosses {
  interface: string;
  queue: number;
  /** Frames the kernel dropped: no room in the socket's rx ring. */
  rxDropped: number;
  rxRingFull: number;
  /** Times the kernel found no frame in the fill ring to receive into. */
  fillRingEmpty: number;
  rxInvalid: number;
  /** Frames the slow path could not send: no room in the tx ring. */
  txRingFull: number;
}

export interface LossesReport {
  xdpEvents: {
    /** Not written: the ring buffer was full. */
    ringFull: number;
    /** Read from the ring but not decodable by this build. */
    undecodable: number;
    /** The last error polling the ring, if any. */
    ringError: string | null;
    /** Not written: over the per-second budget of their kind (bpf/events.h). */
    suppressed: Record<EventKind, number>;
  };
  afxdp: AfXdpLosses[];
  /** `monitor packet-drop`: drops shown to watchers, and those not shown (lib/monitor/drop-monitor.ts). */
  packetDropMonitor: PacketDropMonitorTotals;
}

export interface PacketDropMonitorTotals {
  shown: number;
  /** Over the per-second budget while a watcher was attached. */
  overBudget: number;
  /** Lost to a full record ring (or not decodable). */
  ringFull: number;
}

export function lossesReport(
  ringFull: number,
  source: { undecodable: number; error: string | null },
  suppressed: Record<EventKind, number>,
  queues: readonly QueueSocketStats[],
  packetDropMonitor: PacketDropMonitorTotals = { shown: 0, overBudget: 0, ringFull: 0 },
): LossesReport {
  return {
    xdpEvents: { ringFull, undecodable: source.undecodable, ringError: source.error, suppressed },
    afxdp: queues.map((q) => ({
      interface: q.ifname, queue: q.queue, rxDropped: q.rxDropped, rxRingFull: q.rxRingFull,
      fillRingEmpty: q.fillRingEmptyDescs, rxInvalid: q.rxInvalidDescs, txRingFull: q.txRingFull,
    })),
    packetDropMonitor,
  };
}

/** Before the XDP budgets are read (a daemon still starting). */
export function noneSuppressed(): Record<EventKind, number> {
  return Object.fromEntries(EVENT_KINDS.map((k) => [k, 0])) as Record<EventKind, number>;
}

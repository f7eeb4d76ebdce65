// `xdpfw monitor packet-drop` in the daemon: while at least one watcher is
// attached it turns on the XDP drop records (bpf/drop_monitor.h) and the
// slow path's drop tap, each within a budget of records per second, and hands
// every drop that matches a watcher's query to it as one JSON line. With no
// watcher the XDP budget is 0 (one array lookup per XDP drop) and the slow
// path's tap is a flag test per drop: nothing else runs.
import { RingBuffer, mapLookup, mapUpdate } from '../dataplane/native.js';
import { realtimeOffsetNs } from '../events/record.js';
import { DROP_BUDGET, DROP_CAPTURE, DROP_WATCH, type DropEntry, type IngressNames, decodeDropRecord, dropEntry } from './drop-entry.js';
import { type DropPredicate, type DropQuery, dropPredicate } from './drop-filter.js';
import type { SlowPathDropTap } from './slow-path-tap.js';
import type { PacketDropMonitorTotals } from '../daemon/losses.js';

/** Records per second (per CPU in XDP; in all for the slow path) when a watcher names none. */
export const DEFAULT_DROPS_PER_SECOND = 100;
const SUMMARY_INTERVAL_MS = 1000;

/** What a watcher is told besides the drops: how many it did not see, since the last summary. */
export interface NotShown {
  notShown: number;
  /** Over the per-second budget (XDP and slow path). */
  overBudget: number;
  /** Lost to a full record ring. */
  ringFull: number;
}

interface Watcher {
  matches: DropPredicate;
  perSecond: number;
  send(line: string): void;
}

/** The slow path's stage of a drop, by its reason. */
function slowPathStage(reason: string, stage: string): string {
  if (reason.startsWith('policy_') || reason === 'route_change_denied') return 'policy';
  if (reason.startsWith('filter_')) return 'filter';
  if (reason === 'host_inbound_denied') return 'host-inbound';
  if (reason.startsWith('session_')) return reason === 'session_wrong_interface_slow_path' ? 'session' : 'install';
  if (reason === 'no_route' || reason === 'no_zone' || reason === 'mtu_exceeded') return 'route';
  if (reason === 'tcp_not_syn') return 'tcp';
  return stage;
}

export class DropMonitor implements SlowPathDropTap {
  private readonly watchers = new Set<Watcher>();
  private ring: RingBuffer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private perSecond = 0;
  /** The slow path's budget: this second's records, and those over it. */
  private slowSecond = 0;
  private slowUsed = 0;
  private slowOverBudget = 0;
  private undecodable = 0;
  /** Since the daemon started: records delivered, and the slow path's drops over budget and undecodable records. */
  private shown = 0;
  private slowOverBudgetTotal = 0;
  private undecodableTotal = 0;
  /** XDP's not-shown totals at the last summary. */
  private lastXdp = { overBudget: 0, ringFull: 0 };

  constructor(
    private readonly maps: { watch: number; budget: number; ring: number },
    private readonly cpus: number,
    private readonly counterNames: ReadonlyMap<number, string>,
    private readonly screenNames: ReadonlyMap<number, string>,
    private readonly names: IngressNames,
  ) {
    this.writeWatch(0); // left on by a daemon that died while watched
  }

  get active(): boolean {
    return this.perSecond !== 0;
  }

  /** Attaches a watcher; returns how to detach it. Throws on a bad query (nothing attached). */
  subscribe(query: DropQuery, perSecond: number | undefined, send: (line: string) => void): () => void {
    const w: Watcher = { matches: dropPredicate(query), perSecond: perSecond ?? DEFAULT_DROPS_PER_SECOND, send };
    this.watchers.add(w);
    this.update();
    return () => {
      if (this.watchers.delete(w)) this.update();
    };
  }

  /** A drop in the slow path (frame: at least its first bytes). */
  note(frame: Uint8Array, length: number, ifindex: number, stage: string, reason: string, rule: string | null): void {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.slowSecond) {
      this.slowSecond = second;
      this.slowUsed = 0;
    }
    if (this.slowUsed >= this.perSecond) {
      this.slowOverBudget++;
      this.slowOverBudgetTotal++;
      return;
    }
    this.slowUsed++;
    try {
      const head = frame.length > DROP_CAPTURE ? frame.subarray(0, DROP_CAPTURE) : frame;
      this.deliver(dropEntry(head, length, ifindex, this.names, {
        time: new Date(), path: 'slow-path', stage: slowPathStage(reason, stage), reason, rule,
      }));
    } catch {
      // Showing a drop never costs the packet path: it is counted as not shown.
      this.undecodable++;
      this.undecodableTotal++;
    }
  }

  close(): void {
    this.watchers.clear();
    this.update();
  }

  /** For show counters and the metrics: XDP's counts live in the (pinned) budget map. */
  totals(): PacketDropMonitorTotals {
    const xdp = this.xdpNotShown();
    return { shown: this.shown, overBudget: xdp.overBudget + this.slowOverBudgetTotal, ringFull: xdp.ringFull + this.undecodableTotal };
  }

  private deliver(entry: DropEntry): void {
    this.shown++;
    let line: string | null = null;
    for (const w of this.watchers) {
      if (!w.matches(entry)) continue;
      line ??= JSON.stringify(entry);
      w.send(line);
    }
  }

  /** Budget and ring on while anyone watches, off otherwise. */
  private update(): void {
    const perSecond = Math.max(0, ...[...this.watchers].map((w) => w.perSecond));
    if (perSecond !== this.perSecond) this.writeWatch(perSecond);
    this.perSecond = perSecond;
    if (perSecond && !this.ring) {
      this.lastXdp = this.xdpNotShown();
      this.slowOverBudget = 0;
      this.ring = new RingBuffer(this.maps.ring, (records) => this.onRecords(records));
      this.timer = setInterval(() => this.summarize(), SUMMARY_INTERVAL_MS);
    } else if (!perSecond && this.ring) {
      this.ring.close();
      this.ring = null;
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    }
  }

  private writeWatch(perSecond: number): void {
    const v = Buffer.alloc(DROP_WATCH.size);
    v.writeUInt32LE(perSecond, DROP_WATCH.offset.per_second);
    mapUpdate(this.maps.watch, Buffer.alloc(4), v);
  }

  private onRecords(records: Buffer[]): void {
    const offset = realtimeOffsetNs();
    for (const r of records) {
      try {
        this.deliver(decodeDropRecord(r, offset, this.counterNames, this.screenNames, this.names));
      } catch {
        this.undecodable++;
        this.undecodableTotal++;
      }
    }
  }

  /** XDP's drops not recorded, summed over CPUs. */
  private xdpNotShown(): { overBudget: number; ringFull: number } {
    const stride = DROP_BUDGET.size;
    const v = Buffer.alloc(stride * this.cpus);
    let overBudget = 0;
    let ringFull = 0;
    if (mapLookup(this.maps.budget, Buffer.alloc(4), v)) {
      for (let cpu = 0; cpu < this.cpus; cpu++) {
        overBudget += Number(v.readBigUInt64LE(cpu * stride + DROP_BUDGET.offset.over_budget));
        ringFull += Number(v.readBigUInt64LE(cpu * stride + DROP_BUDGET.offset.ring_full));
      }
    }
    return { overBudget, ringFull };
  }

  /** Tells every watcher how many drops it did not see in the last interval (when any). */
  private summarize(): void {
    const now = this.xdpNotShown();
    const overBudget = now.overBudget - this.lastXdp.overBudget + this.slowOverBudget;
    const ringFull = now.ringFull - this.lastXdp.ringFull + this.undecodable;
    this.lastXdp = now;
    this.slowOverBudget = 0;
    this.undecodable = 0;
    if (overBudget + ringFull === 0) return;
    const line = JSON.stringify({ notShown: overBudget + ringFull, overBudget, ringFull } satisfies NotShown);
    for (const w of this.watchers) w.send(line);
  }
}

// What every sink shares: a bounded queue the producer offers events to
// without ever waiting, drained on the sink's own time (formatting included),
// and exact counters. For each kind, at every moment:
//   accepted = written + failed + queued + in flight,
// and every offer is either accepted or counted as queueFull (or refused
// because the sink is closed).
import { BoundedQueue } from '../queue.js';
import type { Formatter } from '../formats/context.js';
import { EVENT_KINDS, KIND_INDEX, type EventKind, type SecurityEvent } from '../types.js';

export type OfferResult = 'queued' | 'full' | 'closed';

export interface SinkKindCounters {
  /** Taken into the queue. */
  accepted: number;
  /** Handed to the transport: the kernel took the datagram or the bytes. */
  written: number;
  /** Refused: the queue was full. */
  queueFull: number;
  /** Accepted but lost: a failed write, a dropped connection, formatting failed, or still queued at close. */
  failed: number;
}

export interface SinkStats {
  name: string;
  queued: number;
  /** Handed to the transport, outcome not known yet. */
  inFlight: number;
  /** A stream sink's connection (or file) is open; a datagram sink's socket is. */
  connected: boolean;
  /** Times the connection or file was lost and reopened. */
  reconnects: number;
  kinds: Record<EventKind, SinkKindCounters>;
}

export interface EventSink {
  readonly name: string;
  /** Never blocks and never throws. */
  offer(ev: SecurityEvent): OfferResult;
  stats(): SinkStats;
  /** Stops the sink; events still queued are counted as failed. */
  close(): Promise<void>;
}

function zeros(): number[] {
  return EVENT_KINDS.map(() => 0);
}

export abstract class QueuedSink implements EventSink {
  protected readonly queue: BoundedQueue<SecurityEvent>;
  protected inFlight = 0;
  protected closed = false;
  private scheduled = false;
  private readonly accepted = zeros();
  private readonly written = zeros();
  private readonly queueFull = zeros();
  private readonly failed = zeros();

  constructor(
    readonly name: string,
    private readonly format: Formatter,
    capacity: number,
  ) {
    this.queue = new BoundedQueue(capacity);
  }

  offer(ev: SecurityEvent): OfferResult {
    if (this.closed) return 'closed';
    const k = KIND_INDEX[ev.kind];
    if (!this.queue.push(ev)) {
      this.queueFull[k]++;
      return 'full';
    }
    this.accepted[k]++;
    this.schedule();
    return 'queued';
  }

  /** Writes what the transport takes now; called again when it can take more. */
  protected abstract drain(): void;

  protected abstract connected(): boolean;

  protected abstract reconnects(): number;

  /** Drains soon, outside the caller's stack: offering never waits for I/O or formatting. */
  protected schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.closed) this.drain();
    });
  }

  /** The event as a line, or null (counted as failed) if formatting threw: a bad name never stops the sink. */
  protected render(ev: SecurityEvent): string | null {
    try {
      return this.format(ev);
    } catch {
      this.failed[KIND_INDEX[ev.kind]]++;
      return null;
    }
  }

  /** Records the outcome of events handed to the transport. */
  protected settle(events: readonly SecurityEvent[], ok: boolean): void {
    for (const ev of events) this.settleOne(ev, ok);
  }

  protected settleOne(ev: SecurityEvent, ok: boolean): void {
    (ok ? this.written : this.failed)[KIND_INDEX[ev.kind]]++;
    this.inFlight--;
  }

  /** Marks the sink closed and counts what it will never send. */
  protected stop(): void {
    this.closed = true;
    for (let ev = this.queue.shift(); ev !== undefined; ev = this.queue.shift()) this.failed[KIND_INDEX[ev.kind]]++;
  }

  abstract close(): Promise<void>;

  stats(): SinkStats {
    const kinds = {} as Record<EventKind, SinkKindCounters>;
    for (const kind of EVENT_KINDS) {
      const k = KIND_INDEX[kind];
      kinds[kind] = { accepted: this.accepted[k], written: this.written[k], queueFull: this.queueFull[k], failed: this.failed[k] };
    }
    return {
      name: this.name,
      queued: this.queue.size,
      inFlight: this.inFlight,
      connected: this.connected(),
      reconnects: this.reconnects(),
      kinds,
    };
  }
}

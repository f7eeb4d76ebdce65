// The one way into the event pipeline. emit() decides an event's fate at
// once and never waits: it is called from the packet path. Per kind, at every
// moment:
//   generated = sent + rateLimited + queueFull + sinkFailed
// where
//   rateLimited  the (kind, ingress zone) token bucket was empty;
//   sent         at least one sink queued it (with no sink configured: it
//                went to the recent log and the subscribers, its only readers);
//   queueFull    no sink queued it and at least one refused for a full queue;
//   sinkFailed   no sink queued it because every sink is closed.
// What happens after a sink queued an event (written, lost with a
// connection) is in that sink's own counters (EventSink.stats). Each sink has
// its own bounded queue, the queue budget, so a stalled collector fills only
// its own queue and never slows the caller or the other sinks.
import { RecentWindow } from './queue.js';
import { DEFAULT_EVENT_RATES, RateLimiter, type EventRates } from './rate-limit.js';
import type { EventSink, SinkStats } from './sinks/sink.js';
import { EVENT_KINDS, KIND_INDEX, type EventKind, type SecurityEvent } from './types.js';

export type EmitOutcome = 'sent' | 'rate-limited' | 'queue-full' | 'sink-failed';

export interface KindCounters {
  generated: number;
  sent: number;
  rateLimited: number;
  queueFull: number;
  sinkFailed: number;
}

export interface ProducerOptions {
  rates?: EventRates;
  /** Events kept for `show log`. */
  recentCapacity?: number;
  /** Monotonic milliseconds; injectable for tests. */
  now?: () => number;
}

export type EventListener = (ev: SecurityEvent) => void;

interface Subscriber {
  listener: EventListener;
  /** null: every kind. */
  kinds: ReadonlySet<EventKind> | null;
}

export class EventProducer {
  private sinks: readonly EventSink[] = [];
  private limiter: RateLimiter;
  private readonly now: () => number;
  private readonly recentEvents: RecentWindow<SecurityEvent>;
  private readonly subscribers = new Set<Subscriber>();
  private exported: (ev: SecurityEvent) => boolean = () => true;
  private readonly generated = EVENT_KINDS.map(() => 0);
  private readonly sent = EVENT_KINDS.map(() => 0);
  private readonly rateLimited = EVENT_KINDS.map(() => 0);
  private readonly queueFull = EVENT_KINDS.map(() => 0);
  private readonly sinkFailed = EVENT_KINDS.map(() => 0);

  constructor(opts: ProducerOptions = {}) {
    this.now = opts.now ?? (() => performance.now());
    this.limiter = new RateLimiter(opts.rates ?? DEFAULT_EVENT_RATES, this.now);
    this.recentEvents = new RecentWindow(opts.recentCapacity ?? 1000);
  }

  /** Replaces the sinks (on a configuration change); the caller closes the old ones. */
  setSinks(sinks: readonly EventSink[]): void {
    this.sinks = sinks;
  }

  /**
   * Which events leave the box through the sinks; the others stay in the local log (recent
   * events, subscribers), which is where they are sent. Junos keeps a filter term's `log` on
   * the box and sends only `syslog` to the collectors.
   */
  setExported(exported: (ev: SecurityEvent) => boolean): void {
    this.exported = exported;
  }

  /** New rates start with full buckets. */
  setRates(rates: EventRates): void {
    this.limiter = new RateLimiter(rates, this.now);
  }

  emit(ev: SecurityEvent): EmitOutcome {
    const k = KIND_INDEX[ev.kind];
    this.generated[k]++;
    if (!this.limiter.take(ev.kind, ev.ingressZone)) {
      this.rateLimited[k]++;
      return 'rate-limited';
    }
    this.recentEvents.push(ev);
    this.notify(ev);
    if (this.sinks.length === 0 || !this.exported(ev)) {
      this.sent[k]++;
      return 'sent';
    }
    let queued = false;
    let full = false;
    for (const sink of this.sinks) {
      const r = sink.offer(ev);
      if (r === 'queued') queued = true;
      else if (r === 'full') full = true;
    }
    if (queued) {
      this.sent[k]++;
      return 'sent';
    }
    if (full) {
      this.queueFull[k]++;
      return 'queue-full';
    }
    this.sinkFailed[k]++;
    return 'sink-failed';
  }

  counters(): Record<EventKind, KindCounters> {
    const out = {} as Record<EventKind, KindCounters>;
    for (const kind of EVENT_KINDS) {
      const k = KIND_INDEX[kind];
      out[kind] = {
        generated: this.generated[k],
        sent: this.sent[k],
        rateLimited: this.rateLimited[k],
        queueFull: this.queueFull[k],
        sinkFailed: this.sinkFailed[k],
      };
    }
    return out;
  }

  sinkStats(): SinkStats[] {
    return this.sinks.map((s) => s.stats());
  }

  /** The last events that passed the rate limits, oldest first, optionally of some kinds only. */
  recent(kinds?: ReadonlySet<EventKind>): SecurityEvent[] {
    const all = this.recentEvents.toArray();
    return kinds ? all.filter((ev) => kinds.has(ev.kind)) : all;
  }

  /**
   * Calls `listener` with every event that passes the rate limits (of `kinds`
   * only, if given), synchronously from emit(): it must not block. A listener
   * that throws is dropped. Returns the unsubscribe function.
   */
  subscribe(listener: EventListener, kinds?: ReadonlySet<EventKind>): () => void {
    const sub: Subscriber = { listener, kinds: kinds ?? null };
    this.subscribers.add(sub);
    return () => this.subscribers.delete(sub);
  }

  private notify(ev: SecurityEvent): void {
    for (const sub of this.subscribers) {
      if (sub.kinds !== null && !sub.kinds.has(ev.kind)) continue;
      try {
        sub.listener(ev);
      } catch {
        this.subscribers.delete(sub);
      }
    }
  }
}

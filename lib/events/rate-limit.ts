// Token buckets per (kind, zone): each refills continuously at its kind's
// rate, so limits hold at any time scale, and holds at most one second's
// worth (at least one event), so a quiet zone may burst that much at once.
import { EVENT_KINDS, KIND_INDEX, type EventKind } from './types.js';

/** Events per second per zone, by kind; Infinity: unlimited. */
export type EventRates = Readonly<Record<EventKind, number>>;

/**
 * Defaults: session logs are bounded by the session setup rate already;
 * denies, screens and filter logs can be per-packet storms from one source.
 */
export const DEFAULT_EVENT_RATES: EventRates = {
  'session-create': 5000,
  'session-close': 5000,
  'policy-deny': 1000,
  'screen-drop': 100,
  'filter-log': 100,
};

interface Bucket {
  tokens: number;
  /** now() of the last refill, in ms. */
  at: number;
}

const ZONES = 0x10000; // zone ids are u16

export class RateLimiter {
  /** Tokens per ms and bucket sizes, by kind index. */
  private readonly perMs: number[];
  private readonly burst: number[];
  private readonly buckets = new Map<number, Bucket>();

  constructor(rates: EventRates, private readonly now: () => number) {
    for (const kind of EVENT_KINDS) {
      const r = rates[kind];
      if (!(r > 0)) throw new RangeError(`rate for ${kind} must be positive, not ${r}`);
    }
    this.perMs = EVENT_KINDS.map((k) => rates[k] / 1000);
    this.burst = EVENT_KINDS.map((k) => Math.max(1, rates[k]));
  }

  /** Takes one token of (kind, zone); false when the bucket is empty. */
  take(kind: EventKind, zone: number): boolean {
    const k = KIND_INDEX[kind];
    const perMs = this.perMs[k];
    if (perMs === Infinity) return true;
    const burst = this.burst[k];
    const now = this.now();
    const key = k * ZONES + zone;
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: burst, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + (now - b.at) * perMs);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

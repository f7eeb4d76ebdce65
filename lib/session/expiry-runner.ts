// Runs session expiry in short slices with the event loop free between them.
// Thousands of sessions can fall due in one second (a connection rate of
// thousands per second ends as many); looking at each costs map lookups and
// deletes, and done in one go that is milliseconds during which first packets
// wait in the AF_XDP ring. A slice is bounded, the next one runs from
// setImmediate, after the loop has polled its sockets.
export const EXPIRY_SLICE = 64;
/** Sessions one tick looks at, at most (the rest stay due for the next tick). */
export const EXPIRY_TICK_BUDGET = 20_000;

export interface Expirable {
  /** Looks at up to `budget` due sessions. */
  expire(budget: number): unknown;
  /** Sessions are still due. */
  hasDue(): boolean;
}

export class ExpiryRunner {
  private running = false;
  private stopped = false;
  /** Slices run, for tests and diagnostics. */
  slices = 0;

  constructor(private readonly table: Expirable, private readonly onError: (err: unknown) => void,
    private readonly slice = EXPIRY_SLICE, private readonly tickBudget = EXPIRY_TICK_BUDGET) {}

  /** Starts a tick unless one is still running. */
  tick(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.step(this.tickBudget);
  }

  private step(left: number): void {
    if (this.stopped) return;
    let more = false;
    try {
      this.slices++;
      this.table.expire(Math.min(this.slice, left));
      more = left > this.slice && this.table.hasDue();
    } catch (err) {
      this.onError(err);
    }
    if (!more) {
      this.running = false;
      return;
    }
    setImmediate(() => this.step(left - this.slice));
  }

  /** Ends a tick in progress and every later one: their slices do nothing. */
  stop(): void {
    this.stopped = true;
  }
}

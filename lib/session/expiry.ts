// When each session is next worth looking at for expiry: buckets of whole
// seconds on the monotonic clock. Expiry then reads only the sessions that
// are due (two map lookups each) instead of dumping the whole session map
// every second, which at a million sessions would cost more than the
// packets. A session is re-scheduled when it is found still active, or when
// its timeout shrinks (a TCP close); stale bucket entries are skipped.
/** Id → the second it is due at; a Map, or the session table's own slots. */
export interface DueIndex {
  get(id: number): number | undefined;
  set(id: number, second: number): void;
  delete(id: number): void;
  readonly size: number;
}

export class ExpirySchedule {
  /** Second → ids of sessions due then (possibly stale). */
  private readonly buckets = new Map<number, number[]>();
  /** Buckets before this second have been handled. */
  private cursor: number;

  constructor(nowSecond: number, private readonly dueAt: DueIndex = new Map<number, number>()) {
    this.cursor = nowSecond;
  }

  get size(): number {
    return this.dueAt.size;
  }

  /** Due at `second` (never before the next unhandled one). */
  schedule(id: number, second: number): void {
    const at = Math.max(Math.ceil(second), this.cursor);
    this.dueAt.set(id, at);
    const bucket = this.buckets.get(at);
    if (bucket) bucket.push(id);
    else this.buckets.set(at, [id]);
  }

  /** Due no later than `second`: moved earlier if it was due after. */
  advance(id: number, second: number): void {
    const at = this.dueAt.get(id);
    if (at === undefined || at > Math.ceil(second)) this.schedule(id, second);
  }

  forget(id: number): void {
    this.dueAt.delete(id);
  }

  /**
   * Takes up to `max` ids due by `nowSecond`, oldest first; they leave the schedule until
   * scheduled again. What the budget leaves stays due for the next call.
   */
  take(nowSecond: number, max: number): number[] {
    const out: number[] = [];
    while (this.cursor <= nowSecond && out.length < max) {
      const bucket = this.buckets.get(this.cursor);
      if (bucket) {
        while (bucket.length > 0 && out.length < max) {
          const id = bucket.pop()!;
          if (this.dueAt.get(id) !== this.cursor) continue; // rescheduled or forgotten
          this.dueAt.delete(id);
          out.push(id);
        }
        if (bucket.length > 0) break;
        this.buckets.delete(this.cursor);
      }
      this.cursor++;
    }
    return out;
  }

  /** Whether a call of take(nowSecond, ...) could return ids (stale entries may make it say so once). */
  hasDue(nowSecond: number): boolean {
    for (let at = this.cursor; at <= nowSecond; at++) if (this.buckets.has(at)) return true;
    return false;
  }
}

// How the slow path's receive batches went: how many, how large (a power-of-two
// histogram), the kernel calls they shared (one route run, one session write
// per batch that needed them), and how long the frame that woke each batch
// waited between XDP sending it up and the slow path taking it (wake-up and
// event loop: the part of a first packet's latency that is not judging it).

/** Upper bounds of the size buckets: 1, 2-3, 4-7, ..., 32-63, 64 and more. */
export const BATCH_SIZE_BUCKETS = [1, 3, 7, 15, 31, 63, Infinity] as const;

/** A bucket's label: its size range. */
export function bucketLabel(i: number): string {
  const low = i === 0 ? 1 : BATCH_SIZE_BUCKETS[i - 1]! + 1;
  const high = BATCH_SIZE_BUCKETS[i]!;
  if (high === Infinity) return `${low}+`;
  return low === high ? `${low}` : `${low}-${high}`;
}

/** Upper bounds (µs) of the wake-up delay buckets. */
export const WAKE_US_BUCKETS = [8, 16, 32, 64, 128, 256, 512, 1024, 4096, Infinity] as const;

/** A wake-up bucket's label: up to its bound ('<=8', ..., '>4096'). */
export function wakeLabel(i: number): string {
  const high = WAKE_US_BUCKETS[i]!;
  return high === Infinity ? `>${WAKE_US_BUCKETS[i - 1]!}` : `<=${high}`;
}

export interface SlowPathBatchesReport {
  batches: number;
  frames: number;
  largest: number;
  routeRuns: number;
  installWrites: number;
  /** Batches by size range ('1', '2-3', ..., '64+'). */
  bySize: Record<string, number>;
  /** Batches by how long their first frame waited from XDP to the slow path (µs: '<=8', ..., '>4096'). */
  byWakeUs: Record<string, number>;
  /** Sum of those waits (µs), for a mean. */
  wakeUsTotal: number;
}

export class BatchStats {
  batches = 0;
  frames = 0;
  /** The largest batch seen. */
  largest = 0;
  readonly bySize = new Array<number>(BATCH_SIZE_BUCKETS.length).fill(0);
  /** Route lookups made for a whole batch with one run. */
  routeRuns = 0;
  /** Batched writes of the sessions a batch installed. */
  installWrites = 0;
  readonly byWakeUs = new Array<number>(WAKE_US_BUCKETS.length).fill(0);
  wakeUsTotal = 0;

  record(n: number): void {
    this.batches++;
    this.frames += n;
    if (n > this.largest) this.largest = n;
    let i = 0;
    while (n > BATCH_SIZE_BUCKETS[i]!) i++;
    this.bySize[i]!++;
  }

  /** The wait of a batch's first frame from XDP to the slow path; a clock that went backwards counts as 0. */
  recordWake(us: number): void {
    const wait = us > 0 ? us : 0;
    this.wakeUsTotal += wait;
    let i = 0;
    while (wait > WAKE_US_BUCKETS[i]!) i++;
    this.byWakeUs[i]!++;
  }

  /** For `show counters --json` and the text form: batches by size range. */
  report(): SlowPathBatchesReport {
    const bySize: Record<string, number> = {};
    this.bySize.forEach((n, i) => { bySize[bucketLabel(i)] = n; });
    const byWakeUs: Record<string, number> = {};
    this.byWakeUs.forEach((n, i) => { byWakeUs[wakeLabel(i)] = n; });
    return {
      batches: this.batches, frames: this.frames, largest: this.largest, routeRuns: this.routeRuns, installWrites: this.installWrites, bySize,
      byWakeUs, wakeUsTotal: Math.round(this.wakeUsTotal),
    };
  }
}

/** The text form of the wake-up waits: mean, and the batches in each bucket that has any. */
export function wakeSummary(r: SlowPathBatchesReport): string {
  const woken = Object.values(r.byWakeUs).reduce((a, b) => a + b, 0);
  if (woken === 0) return '-';
  const buckets = Object.entries(r.byWakeUs).filter(([, n]) => n > 0).map(([b, n]) => `${b}: ${n}`).join(', ');
  return `mean ${(r.wakeUsTotal / woken).toFixed(1)} µs from XDP to the slow path (batches by µs ${buckets})`;
}

// How the slow path's receive batches went: how many, how large (a power-of-two
// histogram), and the kernel calls they shared (one route run, one session
// write per batch that needed them).

/** Upper bounds of the size buckets: 1, 2-3, 4-7, ..., 32-63, 64 and more. */
export const BATCH_SIZE_BUCKETS = [1, 3, 7, 15, 31, 63, Infinity] as const;

/** A bucket's label: its size range. */
export function bucketLabel(i: number): string {
  const low = i === 0 ? 1 : BATCH_SIZE_BUCKETS[i - 1]! + 1;
  const high = BATCH_SIZE_BUCKETS[i]!;
  if (high === Infinity) return `${low}+`;
  return low === high ? `${low}` : `${low}-${high}`;
}

export interface SlowPathBatchesReport {
  batches: number;
  frames: number;
  largest: number;
  routeRuns: number;
  installWrites: number;
  /** Batches by size range ('1', '2-3', ..., '64+'). */
  bySize: Record<string, number>;
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

  record(n: number): void {
    this.batches++;
    this.frames += n;
    if (n > this.largest) this.largest = n;
    let i = 0;
    while (n > BATCH_SIZE_BUCKETS[i]!) i++;
    this.bySize[i]!++;
  }

  /** For `show counters --json` and the text form: batches by size range. */
  report(): SlowPathBatchesReport {
    const bySize: Record<string, number> = {};
    this.bySize.forEach((n, i) => { bySize[bucketLabel(i)] = n; });
    return { batches: this.batches, frames: this.frames, largest: this.largest, routeRuns: this.routeRuns, installWrites: this.installWrites, bySize };
  }
}

import type { Family } from '../config/family.js';
import type { AddressRange } from './types.js';

/** A pool's addresses numbered 0..size-1 across its ranges, in order. */
export class AddressIndex {
  readonly family: Family;
  readonly size: number;
  private readonly starts: number[] = [];

  constructor(private readonly ranges: readonly AddressRange[], limit: number) {
    if (ranges.length === 0) throw new Error('a pool without addresses');
    this.family = ranges[0].family;
    let total = 0n;
    for (const r of ranges) {
      this.starts.push(Number(total));
      total += r.last - r.first + 1n;
    }
    if (total > BigInt(limit)) throw new Error(`a pool of ${total} addresses: at most ${limit} are allocated from`);
    this.size = Number(total);
  }

  /** The address numbered `i` (pools have few ranges: a short scan). */
  at(i: number): bigint {
    let k = this.starts.length - 1;
    while (this.starts[k] > i) k--;
    return this.ranges[k].first + BigInt(i - this.starts[k]);
  }

  /** The number of `addr`, or -1 when the pool does not have it. */
  indexOf(addr: bigint): number {
    for (let k = 0; k < this.ranges.length; k++) {
      const r = this.ranges[k];
      if (addr >= r.first && addr <= r.last) return this.starts[k] + Number(addr - r.first);
    }
    return -1;
  }
}

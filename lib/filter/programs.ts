// The interned residual filter programs (bpf/filter_terms.h xdpfw_filter_programs): one slot per
// distinct program, shared by every flow direction that has it. Slots are reclaimed by sweeping:
// when none is free, every slot no session refers to and not interned since the last sweep is
// freed (a program interned for a session being installed is not in the table yet). After a
// restart nothing is known of the pinned slots, so the first intern sweeps: the slots adopted
// sessions name stay theirs.
import { FILTER_PROGRAM_SLOW_PATH, MAX_FILTER_PROGRAMS } from '../dataplane/layout.js';

/** Where programs go: the BPF array (or, in tests, anything that keeps them). */
export interface ProgramStore {
  write(index: number, program: Buffer): void;
}

export interface ProgramStats {
  /** Slots holding a program some flow may use. */
  used: number;
  capacity: number;
  /** Programs that found no free slot: their flows are judged in the slow path. */
  tableFull: number;
  sweeps: number;
}

export class FilterPrograms {
  private readonly byKey = new Map<string, number>();
  /** Key of each slot's program; undefined: free or unknown (after a restart). */
  private readonly keys: Array<string | undefined>;
  /** Sweep generation in which each slot was last interned. */
  private readonly epoch: Uint32Array;
  private free: number[] = [];
  private generation = 1;
  private readonly stats = { tableFull: 0, sweeps: 0 };

  /** `live` lists the program indexes the sessions refer to. `capacity` counts slot 0, which is never used. */
  constructor(
    private readonly store: ProgramStore,
    private readonly live: () => Iterable<number>,
    private readonly capacity = MAX_FILTER_PROGRAMS,
  ) {
    this.keys = new Array<string | undefined>(capacity);
    this.epoch = new Uint32Array(capacity);
  }

  /** The slot of this program, written on first use; FILTER_PROGRAM_SLOW_PATH when none is free. */
  intern(program: Buffer): number {
    const key = program.toString('base64');
    const known = this.byKey.get(key);
    if (known !== undefined) {
      this.epoch[known] = this.generation;
      return known;
    }
    if (this.free.length === 0) this.sweep();
    const slot = this.free.pop();
    if (slot === undefined) {
      this.stats.tableFull++;
      return FILTER_PROGRAM_SLOW_PATH;
    }
    this.store.write(slot, program);
    this.keys[slot] = key;
    this.byKey.set(key, slot);
    this.epoch[slot] = this.generation;
    return slot;
  }

  report(): ProgramStats {
    return { used: this.byKey.size, capacity: this.capacity - 1, ...this.stats };
  }

  private sweep(): void {
    this.stats.sweeps++;
    const inUse = new Set<number>();
    for (const i of this.live()) inUse.add(i);
    const free: number[] = [];
    // Highest first: pop() hands out low slots first.
    for (let slot = this.capacity - 1; slot >= 1; slot--) {
      if (inUse.has(slot) || (this.keys[slot] !== undefined && this.epoch[slot] === this.generation)) continue;
      const key = this.keys[slot];
      if (key !== undefined) this.byKey.delete(key);
      this.keys[slot] = undefined;
      free.push(slot);
    }
    this.free = free;
    this.generation++;
  }
}

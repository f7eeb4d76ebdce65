import { PrefixTable } from './prefix-table.js';

/**
 * Rule ordinals attached to prefixes (aligned power-of-two blocks) of a key space. Any two
 * prefixes are nested or disjoint, so the prefixes containing a key are the longest one and
 * its ancestors: a lookup yields at most `depth` sorted ordinal lists, whatever the number
 * of rules, and finding the longest prefix costs a few hash probes (see PrefixTable).
 */

/** Ordinal that sorts after every real one: "no more candidates". */
export const NONE = 0x7fffffff;

interface Block {
  start: bigint;
  length: number;
  end: bigint;
  ordinals: number[];
}

export class PrefixIndex {
  /** 32-bit words per key: 1 for keys of up to 32 bits, 4 for IPv6. */
  readonly words: number;
  private readonly table: PrefixTable;
  /** Innermost other block containing each block, -1 if none. */
  readonly parent: Int32Array;
  /** Ordinals of block b are members[offsets[b]..offsets[b+1]), ascending. */
  readonly offsets: Int32Array;
  readonly members: Int32Array;
  /** Ordinals in each block and its ancestors together: the candidates a lookup yields. */
  readonly chainCount: Int32Array;
  /** Longest ancestor chain: the most lists one lookup can yield. */
  readonly depth: number;

  /** `entries` are (key, prefix length, ordinal) with keys of `width` bits, added in ascending ordinal order. */
  constructor(width: number, entries: Iterable<readonly [bigint, number, number]>) {
    this.words = width > 32 ? 4 : 1;
    const byPrefix = new Map<string, Block>();
    for (const [key, length, ordinal] of entries) {
      const span = (1n << BigInt(width - length)) - 1n;
      const start = key & ~span;
      const id = `${start}/${length}`;
      let b = byPrefix.get(id);
      if (!b) byPrefix.set(id, (b = { start, length, end: start | span, ordinals: [] }));
      if (b.ordinals.at(-1) !== ordinal) b.ordinals.push(ordinal);
    }
    // Outer blocks before the blocks they contain, so a stack of open blocks yields parents.
    const blocks = [...byPrefix.values()].sort((a, b) => (a.start !== b.start ? (a.start < b.start ? -1 : 1) : a.length - b.length));
    this.parent = new Int32Array(blocks.length);
    this.chainCount = new Int32Array(blocks.length);
    const depthOf = new Int32Array(blocks.length);
    const open: number[] = [];
    let depth = 0;
    blocks.forEach((b, i) => {
      while (open.length > 0 && blocks[open[open.length - 1]].end < b.start) open.pop();
      const p = (this.parent[i] = open.length > 0 ? open[open.length - 1] : -1);
      depthOf[i] = p < 0 ? 1 : depthOf[p] + 1;
      this.chainCount[i] = b.ordinals.length + (p < 0 ? 0 : this.chainCount[p]);
      depth = Math.max(depth, depthOf[i]);
      open.push(i);
    });
    this.depth = depth;
    this.table = new PrefixTable(width, blocks, this.parent);
    this.offsets = new Int32Array(blocks.length + 1);
    blocks.forEach((b, i) => (this.offsets[i + 1] = this.offsets[i] + b.ordinals.length));
    this.members = new Int32Array(this.offsets[blocks.length]);
    blocks.forEach((b, i) => this.members.set(b.ordinals, this.offsets[i]));
  }

  /** Innermost block containing the one-word key `v` (unsigned), or -1. */
  find1(v: number): number {
    return this.table.find1(v);
  }

  /** Innermost block containing the four-word key `k[at..at+3]`, or -1. */
  find4(k: Uint32Array, at: number): number {
    return this.table.find4(k, at);
  }
}

/**
 * The ordinals a key's blocks hold, merged on the fly: `seek(x)` returns the least one >= x.
 * Positions only move forward, so walking a lookup's candidates costs one pass over them.
 */
export class Candidates {
  private readonly members: Int32Array;
  private readonly pos: Int32Array;
  private readonly end: Int32Array;
  private lists = 0;
  /** How many ordinals the loaded lists hold together. */
  count = 0;

  constructor(private readonly index: PrefixIndex) {
    this.members = index.members;
    this.pos = new Int32Array(index.depth);
    this.end = new Int32Array(index.depth);
  }

  /** Loads the chain of `block` (from PrefixIndex.find*); false when it holds nothing. */
  load(block: number): boolean {
    const { parent, offsets } = this.index;
    let n = 0;
    for (let b = block; b >= 0; b = parent[b]) {
      this.pos[n] = offsets[b];
      this.end[n++] = offsets[b + 1];
    }
    this.lists = n;
    this.count = block < 0 ? 0 : this.index.chainCount[block];
    return n > 0;
  }

  seek(x: number): number {
    const m = this.members;
    let best = NONE;
    for (let i = 0; i < this.lists; i++) {
      let p = this.pos[i];
      const e = this.end[i];
      if (p < e && m[p] < x) {
        // Gallop, then binary search: cheap for short steps, logarithmic for long ones.
        let step = 1;
        while (p + step < e && m[p + step] < x) {
          p += step;
          step <<= 1;
        }
        let lo = p + 1;
        let hi = Math.min(p + step, e);
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (m[mid] < x) lo = mid + 1;
          else hi = mid;
        }
        p = lo;
        this.pos[i] = p;
      }
      if (p < e && m[p] < best) best = m[p];
    }
    return best;
  }
}

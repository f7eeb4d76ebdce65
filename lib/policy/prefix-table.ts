/**
 * Longest-prefix match by binary search over the distinct prefix lengths, one hash probe per
 * step (Waldvogel, Varghese, Turner, Plattner, "Scalable High Speed IP Routing Lookups",
 * SIGCOMM 1997). Markers left on the search path of longer prefixes steer the search toward
 * them; every entry carries the best match for its own range, which a later failed step falls
 * back to. A lookup costs at most log2(distinct lengths) + 1 probes, whatever the number of
 * prefixes: 6 for IPv4, 8 for IPv6, 5 for 24-bit keys.
 */

export interface TablePrefix {
  start: bigint;
  length: number;
}

/** The `words` 32-bit words of a key of up to 32 * `words` bits, most significant first. */
function split(x: bigint, words: number): number[] {
  return Array.from({ length: words }, (_, w) => Number((x >> BigInt(32 * (words - 1 - w))) & 0xffffffffn) | 0);
}

function mix(h: number, w: number): number {
  h = Math.imul(h ^ w, 0x85ebca6b);
  return h ^ (h >>> 15);
}

function finish(h: number): number {
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 13);
}

export class PrefixTable {
  private readonly words: number;
  private readonly lengths: number;
  /** Mask words of each distinct length, shortest first. */
  private readonly masks: Int32Array;
  private readonly slotMask: number;
  /** Open addressing: length index per slot (-1: empty), key words, best match. */
  private readonly slotLength: Int32Array;
  private readonly slotKey: Int32Array;
  private readonly slotBest: Int32Array;

  /**
   * `prefixes[i]` of `width`-bit keys, nested or disjoint, `parent[i]` the index of the
   * innermost other prefix containing it (-1 if none).
   */
  constructor(width: number, prefixes: readonly TablePrefix[], parent: Int32Array) {
    const words = (this.words = width > 32 ? 4 : 1);
    const lengths = [...new Set(prefixes.map((p) => p.length))].sort((a, b) => a - b);
    this.lengths = lengths.length;
    const maskOf = lengths.map((l) => ((1n << BigInt(l)) - 1n) << BigInt(width - l));
    this.masks = Int32Array.from(maskOf.flatMap((m) => split(m, words)));

    const entries = new Map<string, { length: number; key: number[]; best: number }>();
    const add = (j: number, start: bigint, from: number): void => {
      const key = start & maskOf[j];
      const id = `${j}/${key}`;
      if (entries.has(id)) return;
      // The innermost prefix no longer than this entry that contains `from` contains the
      // entry's whole range: it is the best match for anything the search finds here.
      let best = from;
      while (best >= 0 && prefixes[best].length > lengths[j]) best = parent[best];
      entries.set(id, { length: j, key: split(key, words), best });
    };
    prefixes.forEach((p, i) => {
      for (let lo = 0, hi = lengths.length - 1; lo <= hi; ) {
        const mid = (lo + hi) >>> 1;
        if (lengths[mid] > p.length) {
          hi = mid - 1;
          continue;
        }
        add(mid, p.start, i);
        if (lengths[mid] === p.length) break;
        lo = mid + 1;
      }
    });

    let slots = 2;
    while (slots < 2 * entries.size) slots *= 2;
    this.slotMask = slots - 1;
    this.slotLength = new Int32Array(slots).fill(-1);
    this.slotKey = new Int32Array(slots * words);
    this.slotBest = new Int32Array(slots);
    for (const e of entries.values()) {
      let s = this.hash(e.length, e.key, 0);
      while (this.slotLength[s] >= 0) s = (s + 1) & this.slotMask;
      this.slotLength[s] = e.length;
      this.slotKey.set(e.key, s * words);
      this.slotBest[s] = e.best;
    }
  }

  private hash(length: number, key: ArrayLike<number>, at: number): number {
    let h = Math.imul(length + 1, 0x9e3779b1);
    for (let w = 0; w < this.words; w++) h = mix(h, key[at + w]);
    return finish(h) & this.slotMask;
  }

  /** Index of the longest prefix containing the one-word key `v`, or -1. */
  find1(v: number): number {
    let best = -1;
    for (let lo = 0, hi = this.lengths - 1; lo <= hi; ) {
      const mid = (lo + hi) >>> 1;
      const k = v & this.masks[mid];
      let s = finish(mix(Math.imul(mid + 1, 0x9e3779b1), k)) & this.slotMask;
      let l: number;
      while ((l = this.slotLength[s]) >= 0 && (l !== mid || this.slotKey[s] !== k)) s = (s + 1) & this.slotMask;
      if (l >= 0) {
        best = this.slotBest[s];
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return best;
  }

  /** Index of the longest prefix containing the four-word key `key[at..at+3]`, or -1. */
  find4(key: Uint32Array, at: number): number {
    const m = this.masks;
    const keys = this.slotKey;
    let best = -1;
    for (let lo = 0, hi = this.lengths - 1; lo <= hi; ) {
      const mid = (lo + hi) >>> 1;
      const k0 = key[at] & m[4 * mid];
      const k1 = key[at + 1] & m[4 * mid + 1];
      const k2 = key[at + 2] & m[4 * mid + 2];
      const k3 = key[at + 3] & m[4 * mid + 3];
      let s = finish(mix(mix(mix(mix(Math.imul(mid + 1, 0x9e3779b1), k0), k1), k2), k3)) & this.slotMask;
      let l: number;
      while ((l = this.slotLength[s]) >= 0 && (l !== mid || keys[4 * s] !== k0 || keys[4 * s + 1] !== k1 || keys[4 * s + 2] !== k2 || keys[4 * s + 3] !== k3)) {
        s = (s + 1) & this.slotMask;
      }
      if (l >= 0) {
        best = this.slotBest[s];
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return best;
  }
}

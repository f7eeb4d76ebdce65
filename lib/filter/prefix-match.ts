import type { FilterPrefix } from '../config/filters.js';
import { maskWords } from '../config/ip.js';
import type { Family } from '../config/types.js';
import { PrefixTable, type TablePrefix } from '../policy/prefix-table.js';

/** Conditions with at most this many prefixes are checked one by one, longest first. */
const LINEAR_MAX = 8;

/**
 * One address condition of a filter term (Junos semantics): the longest listed prefix that
 * contains the address decides, matching unless it is `except`; no prefix containing it is no
 * match. Short lists are checked longest first; long ones by one longest-prefix lookup
 * (PrefixTable, a few hash probes). Matching allocates nothing.
 */
export class PrefixMatcher {
  private readonly v6: boolean;
  /** Linear form: (network, mask) words per entry, longest prefix first. */
  private readonly nets: Int32Array;
  private readonly masks: Int32Array;
  /** Per entry (linear form) or per table prefix: 1 for `except`. */
  private readonly except: Uint8Array;
  private readonly table: PrefixTable | null;

  constructor(entries: readonly FilterPrefix[], family: Family, linearMax = LINEAR_MAX) {
    this.v6 = family === 'inet6';
    const words = this.v6 ? 4 : 1;
    // One entry per prefix; a prefix both listed and excepted is excepted.
    const byKey = new Map<string, FilterPrefix>();
    for (const e of entries) {
      if (e.prefix.family !== family) continue;
      const key = `${e.prefix.words.join('.')}/${e.mask ? e.mask.join('.') : e.prefix.length}`;
      const prev = byKey.get(key);
      if (!prev || (e.except && !prev.except)) byKey.set(key, e);
    }
    const unique = [...byKey.values()];
    // Wildcard (non-contiguous) masks: checked one by one, most mask bits first.
    if (unique.length <= linearMax || unique.some((e) => e.mask)) {
      unique.sort((a, b) => b.prefix.length - a.prefix.length);
      this.nets = new Int32Array(unique.length * words);
      this.masks = new Int32Array(unique.length * words);
      this.except = Uint8Array.from(unique.map((e) => (e.except ? 1 : 0)));
      unique.forEach((e, i) => {
        const mask = e.mask ?? maskWords(family, e.prefix.length);
        for (let w = 0; w < words; w++) {
          this.nets[i * words + w] = e.prefix.words[w] | 0;
          this.masks[i * words + w] = mask[w] | 0;
        }
      });
      this.table = null;
      return;
    }
    const width = 32 * words;
    const blocks = unique
      .map((e) => ({ start: e.prefix.words.reduce((acc, w) => (acc << 32n) | BigInt(w >>> 0), 0n), length: e.prefix.length, except: e.except }))
      .sort((a, b) => (a.start !== b.start ? (a.start < b.start ? -1 : 1) : a.length - b.length));
    // Outer prefixes sort before the ones they contain: a stack of open prefixes yields parents.
    const parent = new Int32Array(blocks.length);
    const open: number[] = [];
    blocks.forEach((b, i) => {
      const end = (p: TablePrefix): bigint => p.start | ((1n << BigInt(width - p.length)) - 1n);
      while (open.length > 0 && end(blocks[open[open.length - 1]]) < b.start) open.pop();
      parent[i] = open.length > 0 ? open[open.length - 1] : -1;
      open.push(i);
    });
    this.table = new PrefixTable(width, blocks, parent);
    this.except = Uint8Array.from(blocks.map((b) => (b.except ? 1 : 0)));
    this.nets = new Int32Array(0);
    this.masks = new Int32Array(0);
  }

  /** Whether the address in `addr[at..]` (one unsigned word for IPv4, four for IPv6) matches. */
  matches(addr: Uint32Array, at: number): boolean {
    const t = this.table;
    if (t !== null) {
      const i = this.v6 ? t.find4(addr, at) : t.find1(addr[at]);
      return i >= 0 && this.except[i] === 0;
    }
    const n = this.nets;
    const m = this.masks;
    const ex = this.except;
    if (!this.v6) {
      const a = addr[at];
      for (let i = 0; i < ex.length; i++) if ((a & m[i]) === n[i]) return ex[i] === 0;
      return false;
    }
    const a0 = addr[at];
    const a1 = addr[at + 1];
    const a2 = addr[at + 2];
    const a3 = addr[at + 3];
    for (let i = 0, k = 0; i < ex.length; i++, k += 4) {
      if ((a0 & m[k]) === n[k] && (a1 & m[k + 1]) === n[k + 1] && (a2 & m[k + 2]) === n[k + 2] && (a3 & m[k + 3]) === n[k + 3]) return ex[i] === 0;
    }
    return false;
  }
}

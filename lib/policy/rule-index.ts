import type { AddressMatch, Family, PolicyMatch } from '../config/types.js';
import { Candidates, NONE, PrefixIndex } from './prefix-index.js';

type Entry = readonly [bigint, number, number];

/** Application keys: the protocol in the top 8 of 24 bits, the destination port below. */
const APP_WIDTH = 24;

function popcount(w: number): number {
  let n = 0;
  for (let v = w >>> 0; v !== 0; v &= v - 1) n++;
  return n;
}

/** (key, length) of each prefix of `m` in `family`; masks are contiguous, as the compiler builds them. */
function prefixes(m: AddressMatch, family: Family): [bigint, number][] {
  const out: [bigint, number][] = [];
  const v = family === 'inet' ? m.v4 : m.v6;
  const words = family === 'inet' ? 1 : 4;
  for (let i = 0; i < v.length; i += 2 * words) {
    let key = 0n;
    let length = 0;
    let hostBits = false;
    for (let w = 0; w < words; w++) {
      const net = v[i + w];
      const mask = v[i + words + w];
      // A network with bits outside its mask never matches: leave it out, as the linear check would.
      hostBits ||= (net & ~mask) !== 0;
      key = (key << 32n) | BigInt(net >>> 0);
      length += popcount(mask);
    }
    if (!hostBits) out.push([key, length]);
  }
  return out;
}

/** The prefixes of 16 bits that cover [low, high] exactly, as (value, length). */
function portPrefixes(low: number, high: number): [number, number][] {
  const out: [number, number][] = [];
  for (let at = Math.max(low, 0); at <= Math.min(high, 0xffff); ) {
    let size = at === 0 ? 0x10000 : at & -at;
    while (at + size - 1 > high) size >>>= 1;
    out.push([at, 16 - Math.log2(size)]);
    at += size;
  }
  return out;
}

const SRC = 0;
const DST = 1;
const APP = 2;
/** Rules with at most this many prefixes or terms in a field are checked directly, not searched for. */
const DIRECT_MAX = 8;

/**
 * Candidate rules of one rule set for one family: those whose source and destination
 * prefixes contain the query's addresses and whose applications admit its protocol and
 * destination port. The caller still checks each candidate's application terms in full
 * (source port, ICMP type and code). Ordinals are positions in the set.
 *
 * A lookup walks the candidates of its most selective field in order and confirms each in
 * the other fields, directly for a rule with few prefixes or terms, else by seeking that
 * field's candidates (a leapfrog join).
 */
export class RuleIndex {
  private readonly v6: boolean;
  private readonly indexes: readonly PrefixIndex[];
  /** Cursors over each field's candidates, reused by every lookup. */
  private readonly cursors: readonly Candidates[];
  /** Fields by candidate count, fewest first. */
  private readonly order = new Int8Array(3);
  /** Per ordinal: the family's (network, mask) words of the source and destination. */
  private readonly prefixes: readonly (readonly Int32Array[])[];
  private readonly apps: readonly PolicyMatch['application'][];
  /** The current query (see begin). */
  private addr: Uint32Array = new Uint32Array(0);
  private protocol = 0;
  private port = 0;

  constructor(rules: readonly PolicyMatch[], family: Family) {
    this.v6 = family === 'inet6';
    const entries: Entry[][] = [[], [], []];
    rules.forEach((r, ordinal) => {
      const s = prefixes(r.source, family);
      const d = prefixes(r.destination, family);
      if (s.length === 0 || d.length === 0) return;
      for (const [key, length] of s) entries[SRC].push([key, length, ordinal]);
      for (const [key, length] of d) entries[DST].push([key, length, ordinal]);
      if (r.application.any) entries[APP].push([0n, 0, ordinal]);
      for (const t of r.application.terms) {
        if (t.protocol < 0 || t.protocol > 0xff) continue;
        for (const [port, length] of portPrefixes(t.destinationPortLow, t.destinationPortHigh)) {
          entries[APP].push([BigInt((t.protocol << 16) | port), 8 + length, ordinal]);
        }
      }
    });
    const width = this.v6 ? 128 : 32;
    this.indexes = [new PrefixIndex(width, entries[SRC]), new PrefixIndex(width, entries[DST]), new PrefixIndex(APP_WIDTH, entries[APP])];
    this.cursors = this.indexes.map((i) => new Candidates(i));
    this.prefixes = [rules.map((r) => (this.v6 ? r.source.v6 : r.source.v4)), rules.map((r) => (this.v6 ? r.destination.v6 : r.destination.v4))];
    this.apps = rules.map((r) => r.application);
  }

  /**
   * Loads the candidates of a query: addresses as unsigned words, source at `addr[0..]`,
   * destination at `addr[4..]` (kept, not copied). False when no rule can match.
   */
  begin(addr: Uint32Array, protocol: number, destinationPort: number): boolean {
    this.addr = addr;
    this.protocol = protocol;
    this.port = destinationPort;
    const i = this.indexes;
    const c = this.cursors;
    // Masking keeps any key inside the 24-bit space; terms are still checked exactly.
    const loaded =
      c[SRC].load(this.v6 ? i[SRC].find4(addr, 0) : i[SRC].find1(addr[0])) &&
      c[DST].load(this.v6 ? i[DST].find4(addr, 4) : i[DST].find1(addr[4])) &&
      c[APP].load(i[APP].find1(((protocol & 0xff) << 16) | (destinationPort & 0xffff)));
    if (!loaded) return false;
    const o = this.order;
    o[0] = SRC;
    o[1] = DST;
    o[2] = APP;
    for (let k = 1; k < 3; k++) {
      for (let j = k; j > 0 && c[o[j]].count < c[o[j - 1]].count; j--) {
        const f = o[j];
        o[j] = o[j - 1];
        o[j - 1] = f;
      }
    }
    return true;
  }

  /** The least ordinal >= `from` that is a candidate in every field, or -1. */
  next(from: number): number {
    const o = this.order;
    const c = this.cursors;
    let x = from;
    for (;;) {
      x = c[o[0]].seek(x);
      if (x === NONE) return -1;
      // y: x if every field admits it, else the least ordinal still worth trying.
      let y = x;
      for (let j = 1; j < 3 && y === x; j++) {
        const f = o[j];
        y = this.direct(f, x) ? (this.admits(f, x) ? x : x + 1) : c[f].seek(x);
      }
      if (y === x) return x;
      if (y === NONE) return -1;
      x = y;
    }
  }

  private direct(f: number, x: number): boolean {
    if (f === APP) return this.apps[x].any || this.apps[x].terms.length <= DIRECT_MAX;
    return this.prefixes[f][x].length <= (this.v6 ? 8 : 2) * DIRECT_MAX;
  }

  /** Whether rule x's field f admits the query, checked against the rule itself. */
  private admits(f: number, x: number): boolean {
    if (f === APP) {
      const app = this.apps[x];
      if (app.any) return true;
      for (const t of app.terms) {
        if (t.protocol === this.protocol && this.port >= t.destinationPortLow && this.port <= t.destinationPortHigh) return true;
      }
      return false;
    }
    const m = this.prefixes[f][x];
    const a = this.addr;
    const at = 4 * f;
    if (!this.v6) {
      for (let i = 0; i < m.length; i += 2) if ((a[at] & m[i + 1]) === m[i]) return true;
      return false;
    }
    for (let i = 0; i < m.length; i += 8) {
      if ((a[at] & m[i + 4]) === m[i] && (a[at + 1] & m[i + 5]) === m[i + 1] && (a[at + 2] & m[i + 6]) === m[i + 2] && (a[at + 3] & m[i + 7]) === m[i + 3]) {
        return true;
      }
    }
    return false;
  }
}

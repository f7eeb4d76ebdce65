// The daemon's memory of sessions without a JavaScript object per session:
// one slot per session in typed arrays (struct of arrays, grown by doubling),
// an open-addressing index from each direction's key to its slot, and small
// intern tables for what many sessions share (zone and policy names, filter
// verdicts). A Session object is built only when someone asks for one, and
// lives as long as that caller holds it.
//
// Slots are appended in id order (ids only grow; adoption adds them sorted),
// so id order is slot order: listings page by id, and an id is found by
// binary search. A removed slot stays as a hole until holes outnumber the
// live slots; then the live ones move down (compaction) and the index is
// rebuilt, an amortised O(1) per removal that keeps id order without a
// free list.
import { SESSION_KEY } from '../dataplane/layout.js';
import type { FilterDescriptor } from '../filter/descriptor.js';
import { describeKey } from './flow-key.js';
import type { TcpStateName } from './tcp.js';
import type { Session, SessionFilters } from './types.js';

/** What the store keeps of a session: all but the tuple (derived from the key). */
export type StoredSession = Omit<Session, 'tuple'>;

const LIVE = 1;
const LOCAL = 2;
const BOX_CONNECTION = 4;
const LOG_CLOSE = 8;
const EMPTY = -1;
const DELETED = -2;
/** No inactivity-timeout of its own (the protocol's applies). */
const NO_TIMEOUT = -1;
const INITIAL_SLOTS = 1024;
const PROTOCOL_OFFSET = SESSION_KEY.offset.protocol;

/** Values many sessions share, stored once and named by a small number. */
class Intern<T> {
  private readonly byName = new Map<string, number>();
  readonly values: T[] = [];

  index(value: T, name: string): number {
    let i = this.byName.get(name);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(value);
      this.byName.set(name, i);
    }
    return i;
  }
}

function descriptorName(d: FilterDescriptor): string {
  return `${d.filterId},${d.termId},${d.counter},${d.tableId},${d.action},${d.flags},${d.rejectReason},${d.program}`;
}

export class SessionStore {
  private capacity = 0;
  /** Slots in use, holes included. */
  private used = 0;
  private live = 0;
  private scheduled = 0;
  /** Bumped by every compaction: a walk in progress finds its place again by id. */
  epoch = 0;
  private ids = new Float64Array(0);
  private keys = new Uint8Array(0);
  private reverses = new Uint8Array(0);
  private createdNs = new BigUint64Array(0);
  private createdAtMs = new Float64Array(0);
  private zoneIds = new Uint16Array(0);
  private policyIds = new Uint32Array(0);
  private ifindexes = new Uint32Array(0);
  /** fromZone, toZone, policyName: indexes into `strings`. */
  private names = new Uint32Array(0);
  private bits = new Uint8Array(0);
  /** TCP state as an index into `strings`; 0: not TCP. */
  private tcp = new Uint32Array(0);
  /** icmpType, first packet's tcpFlags, icmpCode, dscp. */
  private small = new Uint8Array(0);
  private timeouts = new Int32Array(0);
  /** client input, client output, server input, server output: indexes into `descriptors`. */
  private filters = new Uint32Array(0);
  /** The row of xdpfw_verdict_rows the session's entries name (lib/session/verdict-rows.ts). */
  private verdictRows = new Uint32Array(0);
  /** The second the session is next due for an expiry look; 0: not scheduled. */
  private due = new Float64Array(0);
  /** Open addressing: slot * 2 + direction (0 the key, 1 the reverse), or EMPTY / DELETED. */
  private index = new Int32Array(0);
  private indexUsed = 0;
  private readonly strings = new Intern<string | null>();
  private readonly descriptors = new Intern<FilterDescriptor>();
  /** Descriptor objects seen before, by identity (new ones are interned by name, as equal ones share an index). */
  private readonly descriptorIndex = new WeakMap<FilterDescriptor, number>();

  constructor(private readonly keySize: number, initialSlots = INITIAL_SLOTS) {
    this.strings.index(null, '\0null');
    this.grow(initialSlots);
  }

  get size(): number {
    return this.live;
  }

  /** Slots of the key index (grows with the live sessions, not with churn). */
  get indexSlots(): number {
    return this.index.length;
  }

  /** Makes room for `n` sessions in all (one growth instead of many doublings). */
  reserve(n: number): void {
    let c = this.capacity;
    while (c < n) c *= 2;
    if (c > this.capacity) this.grow(c);
  }

  /** Remembers a session (its id above every id held); returns its slot. */
  add(s: StoredSession): number {
    if (this.used > 0 && s.id <= this.ids[this.used - 1]!) throw new RangeError(`session id ${s.id} is not above the last id held`);
    if (this.used === this.capacity) {
      if (this.live * 2 <= this.used) this.compact();
      else this.grow(this.capacity * 2);
    }
    const slot = this.used++;
    this.live++;
    this.ids[slot] = s.id;
    // Byte by byte: a view (subarray) per key cost more than the copy.
    const k = this.keySize;
    const at = slot * k;
    for (let i = 0; i < k; i++) {
      this.keys[at + i] = s.key[i]!;
      this.reverses[at + i] = s.reverse[i]!;
    }
    this.createdNs[slot] = s.createdNs;
    this.createdAtMs[slot] = s.createdAtMs;
    this.bits[slot] = LIVE | (s.local ? LOCAL : 0) | (s.boxConnection ? BOX_CONNECTION : 0) | (s.logClose ? LOG_CLOSE : 0);
    this.small[slot * 4] = s.icmpType;
    this.small[slot * 4 + 1] = s.first.tcpFlags;
    this.small[slot * 4 + 2] = s.first.icmpCode;
    this.small[slot * 4 + 3] = s.first.dscp;
    this.timeouts[slot] = s.inactivityTimeout ?? NO_TIMEOUT;
    this.due[slot] = 0;
    this.verdictRows[slot] = 0;
    this.update(slot, s);
    this.setTcp(slot, s.tcp);
    this.indexInsert(slot * 2);
    if (!s.local) this.indexInsert(slot * 2 + 1);
    return slot;
  }

  /** Writes what can change of a held session (labels, route, filters, TCP state) from `s`. */
  update(slot: number, s: StoredSession): void {
    this.zoneIds[slot * 2] = s.fromZoneId;
    this.zoneIds[slot * 2 + 1] = s.toZoneId;
    this.policyIds[slot] = s.policyId;
    this.ifindexes[slot * 2] = s.ingressIfindex;
    this.ifindexes[slot * 2 + 1] = s.egressIfindex;
    this.names[slot * 3] = this.strings.index(s.fromZone, s.fromZone);
    this.names[slot * 3 + 1] = this.strings.index(s.toZone, s.toZone);
    this.names[slot * 3 + 2] = this.strings.index(s.policyName, s.policyName);
    const f = s.filters;
    this.filters[slot * 4] = this.descriptor(f.client.input);
    this.filters[slot * 4 + 1] = this.descriptor(f.client.output);
    this.filters[slot * 4 + 2] = this.descriptor(f.server.input);
    this.filters[slot * 4 + 3] = this.descriptor(f.server.output);
  }

  setVerdictRow(slot: number, row: number): void {
    this.verdictRows[slot] = row;
  }

  verdictRowOf(slot: number): number {
    return this.verdictRows[slot]!;
  }

  setTcp(slot: number, state: TcpStateName | null): void {
    this.tcp[slot] = state === null ? 0 : this.strings.index(state, state);
  }

  tcpOf(slot: number): TcpStateName | null {
    return this.strings.values[this.tcp[slot]!] as TcpStateName | null;
  }

  protocolOf(slot: number): number {
    return this.keys[slot * this.keySize + PROTOCOL_OFFSET]!;
  }

  inactivityTimeoutOf(slot: number): number | null {
    const t = this.timeouts[slot]!;
    return t === NO_TIMEOUT ? null : t;
  }

  idOf(slot: number): number {
    return this.ids[slot]!;
  }

  dueOf(slot: number): number {
    return this.due[slot]!;
  }

  setDue(slot: number, second: number): void {
    this.scheduled += (second !== 0 ? 1 : 0) - (this.due[slot] !== 0 ? 1 : 0);
    this.due[slot] = second;
  }

  /** Sessions with a due second. */
  get scheduledCount(): number {
    return this.scheduled;
  }

  private descriptor(d: FilterDescriptor): number {
    // The filter engines hand out the same descriptor objects again: their index, without a name built.
    let i = this.descriptorIndex.get(d);
    if (i === undefined) {
      i = this.descriptors.index(d, descriptorName(d));
      this.descriptorIndex.set(d, i);
    }
    return i;
  }

  /** A Session object of the slot, the caller's own (changing it changes nothing here). */
  view(slot: number): Session {
    const k = slot * this.keySize;
    const key = Buffer.from(this.keys.subarray(k, k + this.keySize));
    const d = this.descriptors.values;
    const filters: SessionFilters = {
      client: { input: d[this.filters[slot * 4]!]!, output: d[this.filters[slot * 4 + 1]!]! },
      server: { input: d[this.filters[slot * 4 + 2]!]!, output: d[this.filters[slot * 4 + 3]!]! },
    };
    const bits = this.bits[slot]!;
    const names = this.strings.values;
    // One literal with every field in a fixed order, as install builds it: views share one shape.
    return {
      fromZone: names[this.names[slot * 3]!]!, fromZoneId: this.zoneIds[slot * 2]!,
      toZone: names[this.names[slot * 3 + 1]!]!, toZoneId: this.zoneIds[slot * 2 + 1]!,
      policyId: this.policyIds[slot]!, policyName: names[this.names[slot * 3 + 2]!]!,
      ingressIfindex: this.ifindexes[slot * 2]!, egressIfindex: this.ifindexes[slot * 2 + 1]!,
      local: (bits & LOCAL) !== 0, boxConnection: (bits & BOX_CONNECTION) !== 0, logClose: (bits & LOG_CLOSE) !== 0,
      icmpType: this.small[slot * 4]!,
      inactivityTimeout: this.inactivityTimeoutOf(slot),
      first: { tcpFlags: this.small[slot * 4 + 1]!, icmpCode: this.small[slot * 4 + 2]!, dscp: this.small[slot * 4 + 3]! },
      filters,
      id: this.ids[slot]!,
      key,
      reverse: Buffer.from(this.reverses.subarray(k, k + this.keySize)),
      tuple: describeKey(key),
      createdNs: this.createdNs[slot]!,
      createdAtMs: this.createdAtMs[slot]!,
      tcp: this.tcpOf(slot),
    };
  }

  /** The slot of a held session by id; -1 if none. */
  slotOfId(id: number): number {
    let lo = 0;
    let hi = this.used - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.ids[mid]!;
      if (at === id) return (this.bits[mid]! & LIVE) !== 0 ? mid : -1;
      if (at < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The first live slot whose id is above `id`; -1 if none. */
  slotAfterId(id: number): number {
    let lo = 0;
    let hi = this.used;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid]! <= id) lo = mid + 1;
      else hi = mid;
    }
    return this.nextLive(lo);
  }

  /** The first live slot at or after `slot`; -1 if none. */
  nextLive(slot: number): number {
    for (let i = slot; i < this.used; i++) if ((this.bits[i]! & LIVE) !== 0) return i;
    return -1;
  }

  /** The slot of the session one of whose directions has this key; -1 if none. */
  slotOfKey(key: Uint8Array): number {
    const e = this.findEntry(key);
    return e < 0 ? -1 : e >> 1;
  }

  /** Forgets a slot's session (its slot becomes a hole). */
  remove(slot: number): void {
    if ((this.bits[slot]! & LIVE) === 0) return;
    this.indexRemove(slot * 2);
    if ((this.bits[slot]! & LOCAL) === 0) this.indexRemove(slot * 2 + 1);
    this.bits[slot] = 0;
    this.setDue(slot, 0);
    this.live--;
    // The newest slot removed (a refused install): the id order holds without it.
    if (slot === this.used - 1) this.used--;
  }

  // ------------------------------------------------------------------ index

  private hash(bytes: Uint8Array, at: number): number {
    // FNV-1a over the key, then a final mix: flows differ in few bytes (ports, the address's low bytes).
    let h = 0x811c9dc5;
    for (let i = 0; i < this.keySize; i++) h = Math.imul(h ^ bytes[at + i]!, 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return h >>> 0;
  }

  private entryBytes(entry: number): { bytes: Uint8Array; at: number } {
    return { bytes: (entry & 1) === 0 ? this.keys : this.reverses, at: (entry >> 1) * this.keySize };
  }

  private findEntry(key: Uint8Array): number {
    const mask = this.index.length - 1;
    for (let i = this.hash(key, 0) & mask; ; i = (i + 1) & mask) {
      const e = this.index[i]!;
      if (e === EMPTY) return -1;
      if (e === DELETED) continue;
      const bytes = (e & 1) === 0 ? this.keys : this.reverses;
      const at = (e >> 1) * this.keySize;
      let same = true;
      for (let j = 0; j < this.keySize; j++) {
        if (bytes[at + j] !== key[j]) {
          same = false;
          break;
        }
      }
      if (same) return e;
    }
  }

  private indexInsert(entry: number): void {
    if ((this.indexUsed + 1) * 2 > this.index.length) this.rebuildIndex();
    const { bytes, at } = this.entryBytes(entry);
    const mask = this.index.length - 1;
    let i = this.hash(bytes, at) & mask;
    while (this.index[i]! >= 0) i = (i + 1) & mask;
    if (this.index[i] === EMPTY) this.indexUsed++;
    this.index[i] = entry;
  }

  private indexRemove(entry: number): void {
    const { bytes, at } = this.entryBytes(entry);
    const mask = this.index.length - 1;
    for (let i = this.hash(bytes, at) & mask; this.index[i] !== EMPTY; i = (i + 1) & mask) {
      if (this.index[i] === entry) {
        // A deleted mark keeps the probe chains through it whole; rebuilds drop the marks.
        this.index[i] = DELETED;
        return;
      }
    }
  }

  /**
   * Re-inserts every live entry (deleted marks dropped) into a table sized by the live
   * sessions: at most a third full after, so the next rebuild is many inserts away, and a
   * table with churn but few sessions stays small.
   */
  private rebuildIndex(): void {
    let n = 2 * INITIAL_SLOTS;
    while (n < 6 * this.live + 16) n *= 2;
    this.index = new Int32Array(n).fill(EMPTY);
    this.indexUsed = 0;
    const mask = n - 1;
    for (let slot = 0; slot < this.used; slot++) {
      const bits = this.bits[slot]!;
      if ((bits & LIVE) === 0) continue;
      for (let dir = 0; dir < ((bits & LOCAL) === 0 ? 2 : 1); dir++) {
        const entry = slot * 2 + dir;
        const { bytes, at } = this.entryBytes(entry);
        let i = this.hash(bytes, at) & mask;
        while (this.index[i] !== EMPTY) i = (i + 1) & mask;
        this.index[i] = entry;
        this.indexUsed++;
      }
    }
  }

  // ------------------------------------------------------------------ room

  private grow(capacity: number): void {
    const k = this.keySize;
    const more = <T extends Float64Array | Uint8Array | Uint16Array | Uint32Array | Int32Array | BigUint64Array>(old: T, per: number, make: new (n: number) => T): T => {
      const next = new make(capacity * per);
      next.set(old as never);
      return next;
    };
    this.ids = more(this.ids, 1, Float64Array);
    this.keys = more(this.keys, k, Uint8Array);
    this.reverses = more(this.reverses, k, Uint8Array);
    this.createdNs = more(this.createdNs, 1, BigUint64Array);
    this.createdAtMs = more(this.createdAtMs, 1, Float64Array);
    this.zoneIds = more(this.zoneIds, 2, Uint16Array);
    this.policyIds = more(this.policyIds, 1, Uint32Array);
    this.ifindexes = more(this.ifindexes, 2, Uint32Array);
    this.names = more(this.names, 3, Uint32Array);
    this.bits = more(this.bits, 1, Uint8Array);
    this.tcp = more(this.tcp, 1, Uint32Array);
    this.small = more(this.small, 4, Uint8Array);
    this.timeouts = more(this.timeouts, 1, Int32Array);
    this.filters = more(this.filters, 4, Uint32Array);
    this.verdictRows = more(this.verdictRows, 1, Uint32Array);
    this.due = more(this.due, 1, Float64Array);
    this.capacity = capacity;
    if (this.index.length === 0) this.rebuildIndex();
  }

  /** Moves the live slots down over the holes, in order, and rebuilds the index. */
  private compact(): void {
    const k = this.keySize;
    let to = 0;
    for (let from = 0; from < this.used; from++) {
      if ((this.bits[from]! & LIVE) === 0) continue;
      if (to !== from) {
        this.ids[to] = this.ids[from]!;
        this.keys.copyWithin(to * k, from * k, (from + 1) * k);
        this.reverses.copyWithin(to * k, from * k, (from + 1) * k);
        this.createdNs[to] = this.createdNs[from]!;
        this.createdAtMs[to] = this.createdAtMs[from]!;
        this.zoneIds.copyWithin(to * 2, from * 2, from * 2 + 2);
        this.policyIds[to] = this.policyIds[from]!;
        this.ifindexes.copyWithin(to * 2, from * 2, from * 2 + 2);
        this.names.copyWithin(to * 3, from * 3, from * 3 + 3);
        this.bits[to] = this.bits[from]!;
        this.tcp[to] = this.tcp[from]!;
        this.small.copyWithin(to * 4, from * 4, from * 4 + 4);
        this.timeouts[to] = this.timeouts[from]!;
        this.filters.copyWithin(to * 4, from * 4, from * 4 + 4);
        this.verdictRows[to] = this.verdictRows[from]!;
        this.due[to] = this.due[from]!;
      }
      to++;
    }
    this.bits.fill(0, to, this.used);
    this.used = to;
    this.epoch++;
    this.rebuildIndex();
  }
}

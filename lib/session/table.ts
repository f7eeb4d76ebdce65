// The slow path's record of sessions, kept in step with the BPF session map
// (one entry per session, found by both directions: lib/session/entry.ts). The BPF map is the truth for
// counters, last-seen times and TCP state (XDP tracks TCP, bpf/tcp_state.h);
// this table adds what people read (zones, policy names) and owns
// installation, expiry and closing. It keeps no object per session (the
// typed arrays of store.ts): a Session it hands out is built on demand and
// is the caller's; sessions are compared by id.
import { FLOW_KEY, SESSION, SESSION_KEY, TCP_CONN, TCP_DIR } from '../dataplane/layout.js';
import { ENTRY, FROM_CLIENT, FROM_SERVER, clearKeptEgress, clientTupleOf, flowKeyOf } from './entry.js';
import { type MapDump, mapDelete, mapDump, mapLookup, mapUpdate, mapUpdateBatch, monotonicNs } from '../dataplane/native.js';
import {
  IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, describeKey, reverseKey,
} from './flow-key.js';
import { NO_FILTER } from '../filter/descriptor.js';
import { TCP_SYN, TcpStates, type TcpStateName, isClosed, timeoutClass } from './tcp.js';
import { ExpirySchedule } from './expiry.js';
import { SessionStore, type StoredSession } from './store.js';
import type { VerdictRows } from './verdict-rows.js';
import type { TcpCodes } from '../dataplane/layout.js';
import type { CloseReason, DirectionTotals, FirstPacket, Session, SessionFacts, SessionFilters } from './types.js';

export interface Timeouts {
  tcp: number;
  tcpInitial: number;
  tcpClosing: number;
  udp: number;
  icmp: number;
  other: number;
}

/** What a session ends with and its records; defined in types.ts, re-exported for the table's users. */
export type { CloseReason, DirectionFilters, FirstPacket, Session, SessionFacts, SessionFilters } from './types.js';

export const NO_FILTERS: SessionFilters = Object.freeze({
  client: Object.freeze({ input: NO_FILTER, output: NO_FILTER }),
  server: Object.freeze({ input: NO_FILTER, output: NO_FILTER }),
});

/** For sessions adopted from the pinned map, whose first packet is not known. */
export const FIRST_PACKET_UNKNOWN: FirstPacket = Object.freeze({ tcpFlags: TCP_SYN, icmpCode: 0, dscp: 0 });

export interface SessionView {
  sessionId: number;
  family: string;
  protocol: string;
  sourceAddress: string;
  sourcePort: number;
  destinationAddress: string;
  destinationPort: number;
  fromZone: string;
  toZone: string;
  policy: string;
  policyId: number;
  local: boolean;
  state: string;
  packetsFromClient: number;
  bytesFromClient: number;
  packetsFromServer: number;
  bytesFromServer: number;
  ageSeconds: number;
  idleSeconds: number;
  timeoutSeconds: number;
}

/**
 * A TCP session taken over from the peer (lib/ha/adopt.ts) mid-stream: XDP starts it in this
 * state with both sides picked up liberally (windows learnt, not enforced), as conntrack does.
 */
export interface AdoptedTcp {
  state: TcpStateName;
  /** Window scale of the client, of the server; 0xff: unknown (0 is used). */
  wscale: readonly [number, number];
}

export type SessionInstallRefusal = 'session_table_full' | 'session_map_error';
export type InstallResult = { ok: true; session: Session } | { ok: false; reason: SessionInstallRefusal };
/** Sessions one batch of installs holds (the slow path's receive batch). */
export const INSTALL_BATCH_MAX = 64;

export interface SessionTableStats {
  created: number;
  closed: Map<CloseReason, number>;
  refusedFull: number;
}

/** Resolves zone and policy names of sessions found in the pinned map at start-up. */
export interface NameResolver {
  zoneName(id: number): string;
  policyName(id: number): string;
  logsClose(policyId: number): boolean;
}

/**
 * Told of every session that ends, whatever ends it, with its final counters; `logged`: XDP
 * already wrote its SESSION_CLOSE record (the listener must not log it again).
 */
export type CloseListener = (session: Session, reason: CloseReason, totals: DirectionTotals, logged: boolean) => void;

const BPF_ANY = 0;
const BPF_EXIST = 2;
const S = SESSION.offset;
/** Offsets of the TCP connection's fields within an entry. */
const T = { state: ENTRY.tcpState, closeReason: ENTRY.tcpCloseReason, clientFlags: ENTRY.tcpClientFlags };

interface DirectionCounters {
  packets: number;
  bytes: number;
  lastSeenNs: bigint;
}

/** What the entry says of the session's end (TCP only). */
export interface SessionEnd {
  state: TcpStateName;
  /** Why XDP closed it; null while open. */
  reason: CloseReason | null;
  /** XDP wrote the SESSION_CLOSE record. */
  logged: boolean;
}

interface SessionCounters {
  client: DirectionCounters;
  server: DirectionCounters | null;
  end: SessionEnd | null;
  /** Counted by the syn-ack-ack-proxy screen: the client completed the handshake and sent nothing since. */
  handshakeOnly?: boolean;
}

export class SessionTable {
  private readonly store = new SessionStore(SESSION_KEY.size);
  /** The Session objects handed out last (a bounded few, by id), given again while they are. */
  private readonly recent = new Map<number, Session>();
  /** The map as adopt() read it, for the orphan sweep that follows (then dropped). */
  private adoptedDump: MapDump | null = null;
  /** lookup()'s key when given as a string. */
  private readonly lookupKey = Buffer.alloc(SESSION_KEY.size);
  private nextId = 1;
  /** Key and value of a new session's entry. */
  private readonly entryKey = Buffer.alloc(FLOW_KEY.size);
  private readonly entryValue = Buffer.alloc(SESSION.size);
  /** The entry key of the session read or written last. */
  private readonly scratchKey = Buffer.alloc(FLOW_KEY.size);
  /** The open batch of installs (beginBatch .. commitBatch); null: each install writes at once. */
  private batch: { keys: Buffer; values: Buffer; entries: number; sessions: Session[] } | null = null;
  /** The batch's buffers, kept between batches. */
  private batchRoom: { keys: Buffer; values: Buffer; entries: number; sessions: Session[] } | null = null;
  readonly stats: SessionTableStats = { created: 0, closed: new Map(), refusedFull: 0 };
  private readonly closeListeners: CloseListener[] = [];
  /** Sessions installed translated (XDPFW_SESS_NAT in their entries: lib/nat/nat-sessions.ts holds the rest). */
  private readonly translated = new Set<number>();
  /** A session XDP still counted as handshake-only is removed (lib/screens/syn-ack-ack-proxy.ts gives its place back). */
  onHandshakeOnlyRemoved: ((session: Session) => void) | null = null;
  /** When each session is next due is kept in its slot (no Map entry per session). */
  private readonly expiry = scheduleIn(this.store);
  private readonly scratch = Buffer.alloc(SESSION.size);
  private readonly tcpStates: TcpStates;
  /** enum xdpfw_close_reason values XDP writes, as the table names them. */
  private readonly xdpCloseReasons: Map<number, CloseReason>;

  constructor(
    private readonly mapFd: number,
    private readonly flags: { local: number; boxConnection: number; nat?: number },
    private timeouts: Timeouts,
    private maxSessions: number,
    private readonly tcpCodes: TcpCodes,
    /** The rows of cached filter verdicts the entries name (xdpfw_verdict_rows). */
    private readonly verdictRows: VerdictRows,
  ) {
    this.tcpStates = new TcpStates(tcpCodes.states);
    this.xdpCloseReasons = new Map([
      [tcpCodes.closeReasons.XDPFW_CLOSE_TCP_FIN ?? -1, 'TCP FIN'],
      [tcpCodes.closeReasons.XDPFW_CLOSE_TCP_RST ?? -1, 'TCP RST'],
    ]);
  }

  get size(): number {
    return this.store.size;
  }

  onClose(listener: CloseListener): void {
    this.closeListeners.push(listener);
  }

  /** New timeouts apply at each session's next check; one that shrank is checked by then. */
  configure(timeouts: Timeouts, maxSessions: number): void {
    const shorter = (Object.keys(timeouts) as Array<keyof Timeouts>).some((k) => timeouts[k] < this.timeouts[k]);
    this.timeouts = timeouts;
    this.maxSessions = maxSessions;
    if (shorter) for (const s of this.sessions()) this.expiry.advance(s.id, nowSecond() + this.timeoutFor(s));
  }

  /** The session one of whose directions has this key (the key's bytes, or its keyId()). */
  lookup(key: string | Uint8Array): Session | undefined {
    if (typeof key === 'string') this.lookupKey.write(key, 'latin1');
    const slot = this.store.slotOfKey(typeof key === 'string' ? this.lookupKey : key);
    return slot < 0 ? undefined : this.viewOf(slot, true);
  }

  /**
   * The object of a session: the one handed out lately if it is among the few kept (so what
   * the table learns reaches it), else a new one, kept if `keep`.
   */
  private viewOf(slot: number, keep: boolean): Session {
    const id = this.store.idOf(slot);
    const known = this.recent.get(id);
    if (known) return known;
    const session = this.store.view(slot);
    if (keep) this.keepRecent(session);
    return session;
  }

  private keepRecent(session: Session): void {
    this.recent.set(session.id, session);
    if (this.recent.size > RECENT_VIEWS) this.recent.delete(this.recent.keys().next().value!);
  }

  /** The session is still open (sessions are compared by id: each look builds a new object). */
  holds(session: Session): boolean {
    return this.store.slotOfId(session.id) >= 0;
  }

  /** Installs the session's entry in the BPF map; the first packet may then be re-injected. */
  install(key: Uint8Array, facts: SessionFacts, protocol: number, adopted?: AdoptedTcp): InstallResult {
    const id = this.nextId;
    this.adopting = adopted ?? null;
    try {
      const result = this.installEntry(key, facts, protocol);
      if (!result.ok) this.translated.delete(id);
      return result;
    } finally {
      this.adopting = null;
    }
  }

  /** The install() under way is of an adopted TCP session (encodeEntry starts its tracking so). */
  private adopting: AdoptedTcp | null = null;

  /** The id the next installed session gets: NAT writes its entries under it before install(). */
  get nextSessionId(): number {
    return this.nextId;
  }

  /** The next install() is of a translated session (its XDP entry says so). */
  markTranslated(sessionId: number): void {
    this.translated.add(sessionId);
  }

  private installEntry(key: Uint8Array, facts: SessionFacts, protocol: number): InstallResult {
    if (this.store.size >= this.maxSessions) {
      this.stats.refusedFull++;
      return { ok: false, reason: 'session_table_full' };
    }
    // Its filters' row first: without one the entries could not name their verdicts.
    let row: number | null;
    try {
      row = this.verdictRows.acquire(facts.filters);
    } catch {
      return { ok: false, reason: 'session_map_error' };
    }
    if (row === null) {
      this.stats.refusedFull++;
      return { ok: false, reason: 'session_table_full' };
    }
    const now = monotonicNs();
    // Pooled allocations filled in place: a view (subarray) per key cost more than the copy.
    const fwd = Buffer.allocUnsafe(SESSION_KEY.size);
    for (let i = 0; i < SESSION_KEY.size; i++) fwd[i] = key[i]!;
    const rev = reverseKey(fwd, Buffer.allocUnsafe(SESSION_KEY.size)) as Buffer;
    // One literal with every field in a fixed order: Session objects share one shape.
    const session: Session = {
      fromZone: facts.fromZone, fromZoneId: facts.fromZoneId, toZone: facts.toZone, toZoneId: facts.toZoneId,
      policyId: facts.policyId, policyName: facts.policyName,
      ingressIfindex: facts.ingressIfindex, egressIfindex: facts.egressIfindex,
      local: facts.local, boxConnection: facts.boxConnection, logClose: facts.logClose, icmpType: facts.icmpType,
      inactivityTimeout: facts.inactivityTimeout ?? null,
      first: facts.first, filters: facts.filters,
      id: this.nextId++,
      key: fwd,
      reverse: rev,
      tuple: describeKey(fwd),
      createdNs: now,
      createdAtMs: Date.now(),
      tcp: protocol === IPPROTO_TCP ? this.adopting?.state ?? 'none' : null,
    };
    // In a batch the entries are written by commitBatch(), before the first packet goes on.
    if (this.batch && this.batch.sessions.length < INSTALL_BATCH_MAX) {
      this.encodeEntry(session, row, now, this.batch.entries, this.batch.keys, this.batch.values);
      this.batch.entries += 1;
      this.batch.sessions.push(session);
    } else {
      const refused = this.writeOrRefuse(session, row, now);
      if (refused) {
        this.verdictRows.release(row);
        return refused;
      }
    }
    this.store.setVerdictRow(this.remember(session), row);
    this.keepRecent(session);
    this.stats.created++;
    return { ok: true, session };
  }

  /** Writes a session's entries now; the refusal if the map took them not. */
  private writeOrRefuse(session: Session, row: number, now: bigint): InstallResult | null {
    try {
      this.writeEntries(session, row, now);
      return null;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'E2BIG' || code === 'ENOSPC' || code === 'ENOMEM') {
        this.stats.refusedFull++;
        return { ok: false, reason: 'session_table_full' };
      }
      return { ok: false, reason: 'session_map_error' };
    }
  }

  /**
   * From now until commitBatch(), install() remembers sessions at once but leaves the writing of
   * their entries to commitBatch(), which writes them all with one batched map update.
   */
  beginBatch(): void {
    this.batchRoom ??= {
      keys: Buffer.alloc(INSTALL_BATCH_MAX * FLOW_KEY.size), values: Buffer.alloc(INSTALL_BATCH_MAX * SESSION.size),
      entries: 0, sessions: [],
    };
    this.batch = this.batchRoom;
    this.batch.entries = 0;
    this.batch.sessions.length = 0;
  }

  /** Sessions of the open batch whose entries are not written yet. */
  pendingInBatch(session: Session): boolean {
    return this.batch !== null && this.batch.sessions.some((s) => s.id === session.id);
  }

  /**
   * Writes the entries of every session installed since beginBatch() with one syscall (a partial
   * write is finished entry by entry, to learn each refusal). Sessions the map refused are
   * forgotten again, as if never installed (close listeners do not hear of them); returns them
   * with the reason, the others are in the map.
   */
  commitBatch(): Array<{ session: Session; reason: SessionInstallRefusal }> {
    const batch = this.batch;
    this.batch = null;
    if (!batch || batch.sessions.length === 0) return [];
    const refused: Array<{ session: Session; reason: SessionInstallRefusal }> = [];
    let done = 0;
    try {
      done = mapUpdateBatch(this.mapFd, batch.keys, batch.values, batch.entries, BPF_ANY);
    } catch {
      done = 0;
    }
    let entry = 0;
    for (const session of batch.sessions) {
      entry += 1;
      if (entry <= done) continue;
      const slot = this.store.slotOfId(session.id);
      const failed = this.writeOrRefuse(session, slot < 0 ? 0 : this.store.verdictRowOf(slot), session.createdNs);
      if (!failed || failed.ok) continue;
      this.forget(session);
      this.stats.created--;
      refused.push({ session, reason: failed.reason });
    }
    batch.entries = 0;
    batch.sessions.length = 0;
    return refused;
  }

  /** Drops a session the map never held from the table's memory. */
  private forget(session: Session): void {
    this.recent.delete(session.id);
    this.translated.delete(session.id);
    this.expiry.forget(session.id);
    const slot = this.store.slotOfId(session.id);
    if (slot < 0) return;
    this.verdictRows.release(this.store.verdictRowOf(slot));
    this.store.remove(slot);
  }

  /** Returns the session's slot. */
  private remember(session: StoredSession): number {
    const slot = this.store.add(session);
    this.expiry.schedule(session.id, nowSecond() + this.timeoutFor(session));
    return slot;
  }

  /**
   * Writes a new session's entry. BPF_ANY, as the batch writes: the table mirrors the map and
   * was asked first, so an entry of this key could only be an orphan the sweep has not removed.
   */
  private writeEntries(session: Session, row: number, lastSeen: bigint): void {
    this.encodeEntry(session, row, lastSeen, 0, this.entryKey, this.entryValue);
    mapUpdate(this.mapFd, this.entryKey, this.entryValue, BPF_ANY);
  }

  /**
   * Entry `slot` of keys / values (FLOW_KEY.size and SESSION.size each); `row`: the row of
   * xdpfw_verdict_rows holding the session's filters (VerdictRows.acquire).
   */
  private encodeEntry(session: Session, row: number, lastSeen: bigint, slot: number, keys: Buffer, values: Buffer): void {
    const clientIsFirst = flowKeyOf(session.key, keys.subarray(slot * FLOW_KEY.size, (slot + 1) * FLOW_KEY.size));
    // Written at offsets into the batch's buffer: no view per entry.
    const v = values;
    const at = slot * SESSION.size;
    v.fill(0, at, at + SESSION.size);
    v.writeBigUInt64LE(BigInt(session.id), at + S.session_id);
    v.writeUInt32LE(Number(session.createdNs / 1_000_000_000n), at + S.created_s);
    v.writeBigUInt64LE(lastSeen, at + S.last_seen_ns);
    v.writeUInt32LE(session.policyId, at + S.policy_id);
    v.writeUInt32LE(session.ingressIfindex, at + ENTRY.ingressIfindex(FROM_CLIENT));
    v.writeUInt32LE(session.local ? 0 : session.egressIfindex, at + ENTRY.ingressIfindex(FROM_SERVER));
    v.writeUInt16LE(session.fromZoneId, at + ENTRY.zone(FROM_CLIENT));
    v.writeUInt16LE(session.toZoneId, at + ENTRY.zone(FROM_SERVER));
    const f = this.flags;
    v[at + S.flags] = (session.local ? f.local : 0) | (session.boxConnection ? f.boxConnection : 0) |
      (this.translated.has(session.id) ? f.nat ?? 0 : 0);
    v[at + S.client_is_first] = clientIsFirst ? 1 : 0;
    // TCP state none: the first packet, run through xdpfw_inject_new, starts the tracking.
    v[at + T.state] = this.tcpStates.value('none');
    if (this.adopting && session.tcp) {
      v[at + T.state] = this.tcpStates.value(this.adopting.state);
      for (let d = 0; d < 2; d++) {
        const side = at + S.tcp + TCP_CONN.offset.dir + d * TCP_DIR.size;
        const scale = this.adopting.wscale[d]!;
        v[side + TCP_DIR.offset.td_scale] = scale <= 14 ? scale : 0;
        v[side + TCP_DIR.offset.flags] = this.tcpCodes.liberal;
      }
    }
    v.writeUInt32LE(row, at + S.verdicts);
  }

  /** The entry key of a session (into a scratch buffer, valid until the next call). */
  private keyOf(session: Session): Buffer {
    flowKeyOf(session.key, this.scratchKey);
    return this.scratchKey;
  }

  /**
   * XDP closed the session (its SESSION_CLOSE record arrived): it is removed once the closing
   * wait is over. Returns the session, or undefined if it is already gone.
   */
  closedInDataplane(sessionId: number): Session | undefined {
    const slot = this.store.slotOfId(sessionId);
    if (slot < 0 || this.store.tcpOf(slot) === null) return undefined;
    const session = this.viewOf(slot, true);
    session.tcp = this.endOf(session)?.state ?? session.tcp;
    this.store.setTcp(slot, session.tcp);
    this.expiry.advance(session.id, nowSecond() + this.timeoutFor(session));
    return session;
  }

  /** The TCP state XDP wrote for the session, and why it closed it; null for other protocols. */
  endOf(session: Session): SessionEnd | null {
    if (!session.tcp) return null;
    const v = this.readEntry(session, this.scratch);
    return v ? this.decodeEnd(v, 0) : null;
  }

  /** The session's entry as the map holds it now, read into `into` (SESSION.size); null if it is gone. */
  readSessionEntry(session: Session, into: Buffer<ArrayBuffer>): Buffer | null {
    return this.readEntry(session, into);
  }

  /** What an entry says of the TCP connection's end (see SessionEnd). */
  endOfEntry(owner: Buffer): SessionEnd {
    return this.decodeEnd(owner, 0);
  }

  private decodeEnd(v: Buffer, at: number): SessionEnd {
    const state = this.tcpStates.name(v.readUInt8(at + T.state));
    return {
      state,
      reason: isClosed(state) ? this.xdpCloseReasons.get(v.readUInt8(at + T.closeReason)) ?? 'TCP RST' : null,
      logged: (v.readUInt8(at + S.close_flags) & this.tcpCodes.closeEventWritten) !== 0,
    };
  }

  private isHandshakeOnly(v: Buffer, at: number): boolean {
    return (v.readUInt8(at + T.clientFlags) & this.tcpCodes.handshakeOnly) !== 0;
  }

  /** Another policy or zone now permits the session (after a reload). */
  relabel(session: Session, facts: Pick<SessionFacts, 'policyId' | 'policyName' | 'fromZone' | 'fromZoneId' | 'toZone' | 'toZoneId'>): void {
    Object.assign(session, facts);
    this.keep(session);
    this.rewriteEntry(session, (v) => {
      v.writeUInt32LE(facts.policyId, S.policy_id);
      v.writeUInt16LE(facts.fromZoneId, ENTRY.zone(FROM_CLIENT));
      v.writeUInt16LE(facts.toZoneId, ENTRY.zone(FROM_SERVER));
    });
  }

  /**
   * The session's route moved and its policy was checked for the new zone pair: its entry takes
   * the new interfaces (each direction's ingress is the other's egress), zones, policy and the
   * filters of the new interfaces; its kept next hops are forgotten.
   */
  reroute(
    session: Session,
    facts: Pick<SessionFacts, 'ingressIfindex' | 'egressIfindex' | 'policyId' | 'policyName' | 'fromZone' | 'fromZoneId' | 'toZone' | 'toZoneId' | 'filters'>,
  ): void {
    const row = this.swapVerdictRow(session, facts.filters);
    if (row === null) return;
    Object.assign(session, facts);
    this.keep(session);
    this.rewriteEntry(session, (v) => {
      v.writeUInt32LE(facts.ingressIfindex, ENTRY.ingressIfindex(FROM_CLIENT));
      v.writeUInt32LE(session.local ? 0 : facts.egressIfindex, ENTRY.ingressIfindex(FROM_SERVER));
      v.writeUInt32LE(facts.policyId, S.policy_id);
      v.writeUInt16LE(facts.fromZoneId, ENTRY.zone(FROM_CLIENT));
      v.writeUInt16LE(facts.toZoneId, ENTRY.zone(FROM_SERVER));
      v.writeUInt32LE(row.next, S.verdicts);
      clearKeptEgress(v);
    });
    this.verdictRows.release(row.old);
  }

  /** The filters now decide otherwise for the session (after a reload). */
  setFilters(session: Session, filters: SessionFilters): void {
    const row = this.swapVerdictRow(session, filters);
    if (row === null) return;
    session.filters = filters;
    this.keep(session);
    // Another row may name another routing table: the kept next hops go too.
    this.rewriteEntry(session, (v) => {
      v.writeUInt32LE(row.next, S.verdicts);
      clearKeptEgress(v);
    });
    this.verdictRows.release(row.old);
  }

  /**
   * The row of the session's new filters, counted, and its old row (the caller names the new
   * one in the entries, then releases the old). With no row free the session cannot carry its
   * new verdicts (or the map refused the row): it is closed (never left on verdicts that no
   * longer hold), and null returned.
   */
  private swapVerdictRow(session: Session, filters: SessionFilters): { old: number; next: number } | null {
    const slot = this.store.slotOfId(session.id);
    if (slot < 0) return null;
    let next: number | null;
    try {
      next = this.verdictRows.acquire(filters);
    } catch {
      next = null;
    }
    if (next === null) {
      this.close(session, 'policy change');
      return null;
    }
    const old = this.store.verdictRowOf(slot);
    this.store.setVerdictRow(slot, next);
    return { old, next };
  }

  /** Stores the labels, route and filters of a session changed by its caller. */
  private keep(session: Session): void {
    // Another object of this session handed out before is stale now: not given again.
    if (this.recent.get(session.id) !== session) this.recent.delete(session.id);
    const slot = this.store.slotOfId(session.id);
    if (slot >= 0) this.store.update(slot, session);
  }

  /**
   * The map has no partial update: the entry is read, edited and written
   * back, so what the fast path counts between the read and the write is
   * the only thing that can be lost.
   */
  private rewriteEntry(session: Session, edit: (value: Buffer) => void): void {
    const value = this.readEntry(session);
    if (!value) return;
    edit(value);
    try {
      mapUpdate(this.mapFd, this.keyOf(session), value, BPF_EXIST);
    } catch {
      // Entry vanished meanwhile (expired): nothing to record.
    }
  }

  private readEntry(session: Session, into = Buffer.alloc(SESSION.size)): Buffer | null {
    return mapLookup(this.mapFd, this.keyOf(session), into) ? into : null;
  }

  /** Ends a session: its BPF entry goes, listeners hear of it with the final counters. */
  close(session: Session, reason: CloseReason, known?: SessionCounters): void {
    const slot = this.store.slotOfId(session.id);
    if (slot < 0) return;
    // Read before the entries go.
    const counters = this.closeListeners.length > 0 ? known ?? this.countersOf(session) : null;
    const totals = counters ? totalsOf(counters) : null;
    // XDP's record stands for its own reason only: a session cleared before XDP closed it is logged here.
    const logged = counters?.end?.logged === true && counters.end.reason === reason;
    mapDelete(this.mapFd, this.keyOf(session));
    this.translated.delete(session.id);
    this.verdictRows.release(this.store.verdictRowOf(slot));
    this.expiry.forget(session.id);
    this.recent.delete(session.id);
    this.store.remove(slot);
    this.stats.closed.set(reason, (this.stats.closed.get(reason) ?? 0) + 1);
    if (counters?.handshakeOnly) this.onHandshakeOnlyRemoved?.(session);
    if (!totals) return;
    // Every listener hears of it (one gives a session-limit place back), even if another throws.
    let failure: { err: unknown } | null = null;
    for (const listener of this.closeListeners) {
      try {
        listener(session, reason, totals, logged);
      } catch (err) {
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  }

  private countersOf(session: Session): SessionCounters {
    const v = this.readEntry(session, this.scratch);
    if (!v) return { client: { packets: 0, bytes: 0, lastSeenNs: 0n }, end: null, handshakeOnly: false, server: session.local ? null : { packets: 0, bytes: 0, lastSeenNs: 0n } };
    // One last-seen time for both directions: the entry's.
    const lastSeenNs = v.readBigUInt64LE(S.last_seen_ns);
    const direction = (d: 0 | 1): DirectionCounters => ({
      packets: Number(v.readBigUInt64LE(ENTRY.packets(d))), bytes: Number(v.readBigUInt64LE(ENTRY.bytes(d))), lastSeenNs,
    });
    const end = session.tcp ? this.decodeEnd(v, 0) : null;
    const handshakeOnly = end !== null && this.isHandshakeOnly(v, 0);
    return { client: direction(FROM_CLIENT), end, handshakeOnly, server: session.local ? null : direction(FROM_SERVER) };
  }

  clear(): number {
    const ids: number[] = [];
    for (let slot = this.store.nextLive(0); slot >= 0; slot = this.store.nextLive(slot + 1)) ids.push(this.store.idOf(slot));
    for (const id of ids) {
      const slot = this.store.slotOfId(id);
      if (slot >= 0) this.close(this.viewOf(slot, false), 'cleared');
    }
    return ids.length;
  }

  /** The idle timeout of a session of this protocol in this TCP state, without an application's own. */
  timeoutOf(protocol: number, tcp: TcpStateName | null): number {
    const key = Buffer.alloc(SESSION_KEY.size);
    key[SESSION_KEY.offset.protocol] = protocol;
    return this.timeoutFor({ inactivityTimeout: null, tcp, key } as Pick<StoredSession, 'inactivityTimeout' | 'tcp' | 'key'> as StoredSession);
  }

  timeoutFor(session: StoredSession): number {
    const t = this.timeouts;
    // An application's inactivity-timeout replaces the protocol's idle timeout (not the TCP handshake's or close's).
    const app = session.inactivityTimeout ?? null;
    if (session.tcp) {
      switch (timeoutClass(session.tcp)) {
        case 'initial': return t.tcpInitial;
        case 'closing': return t.tcpClosing;
        default: return app ?? t.tcp;
      }
    }
    if (app !== null) return app;
    switch (session.key[SESSION_KEY.offset.protocol]) {
      case IPPROTO_UDP: return t.udp;
      case IPPROTO_ICMP:
      case IPPROTO_ICMPV6: return t.icmp;
      default: return t.other;
    }
  }

  /**
   * Closes the sessions due for a look that are idle past their timeout, and TCP sessions
   * whose closing wait is over; looks at no more than `budget` sessions (the rest stay due).
   * Returns the closed ones. A session whose look fails is due again a second later (it must
   * not escape expiry); the error goes to `onError`, or is thrown once the others were seen.
   */
  expire(budget = EXPIRY_BUDGET, onError?: (err: unknown, session: Session) => void): Array<{ session: Session; reason: CloseReason }> {
    const now = monotonicNs();
    const closed: Array<{ session: Session; reason: CloseReason }> = [];
    let failure: { err: unknown } | null = null;
    for (const id of this.expiry.take(nowSecond(), budget)) {
      const slot = this.store.slotOfId(id);
      if (slot < 0) continue;
      const session = this.viewOf(slot, false);
      try {
        const c = this.countersOf(session);
        if (session.tcp && c.end) {
          session.tcp = c.end.state;
          this.store.setTcp(slot, session.tcp);
        }
        const last = maxBig(session.createdNs, c.client.lastSeenNs, c.server?.lastSeenNs ?? 0n);
        const timeout = this.timeoutFor(session);
        const idleSeconds = Number(now - last) / 1e9;
        if (idleSeconds < timeout) {
          this.expiry.schedule(id, Number(last) / 1e9 + timeout);
          continue;
        }
        const reason: CloseReason = c.end?.reason ?? (session.tcp === 'last-ack' ? 'TCP FIN' : 'idle Timeout');
        this.close(session, reason, c);
        closed.push({ session, reason });
      } catch (err) {
        if (this.holds(session)) this.expiry.schedule(id, nowSecond() + 1);
        if (onError) onError(err, session);
        else failure ??= { err };
      }
    }
    if (failure) throw failure.err;
    return closed;
  }

  /** Sessions are due for a look by expire(). */
  hasDue(): boolean {
    return this.expiry.hasDue(nowSecond());
  }

  /** Removes map entries no session owns (left by a daemon killed while installing one); returns how many. */
  sweepOrphans(): number {
    // Right after adopt(), its read of the map serves (a million sessions: one dump fewer).
    const { keys, values, count } = this.adoptedDump ?? mapDump(this.mapFd, FLOW_KEY.size, SESSION.size);
    this.adoptedDump = null;
    let swept = 0;
    for (let i = 0; i < count; i++) {
      if (this.store.slotOfId(Number(values.readBigUInt64LE(i * SESSION.size + S.session_id))) >= 0) continue;
      mapDelete(this.mapFd, keys.subarray(i * FLOW_KEY.size, (i + 1) * FLOW_KEY.size));
      swept++;
    }
    return swept;
  }

  /**
   * Rebuilds the table from the pinned BPF map after a restart: each session's
   * entry carries everything needed.
   */
  adopt(names: NameResolver, wallClockOffsetMs: number): number {
    const dump = mapDump(this.mapFd, FLOW_KEY.size, SESSION.size);
    const { keys, values, count } = dump;
    // Entries, taken in id order as installs are: listings page by id and stop early.
    const owners: number[] = [];
    for (let i = 0; i < count; i++) owners.push(i);
    const idAt = (i: number): number => Number(values.readBigUInt64LE(i * SESSION.size + S.session_id));
    const ids = Float64Array.from(owners, idAt);
    const order = Uint32Array.from(owners.keys()).sort((a, b) => ids[a]! - ids[b]!);
    this.store.reserve(this.store.size + owners.length);
    let adopted = 0;
    let lastId = 0;
    for (const o of order) {
      const i = owners[o]!;
      const id = ids[o]!;
      if (id <= lastId) continue; // a second entry claiming an id already taken: left to the orphan sweep
      const at = i * SESSION.size;
      const flags = values.readUInt8(at + S.flags);
      const flowKey = keys.subarray(i * FLOW_KEY.size, (i + 1) * FLOW_KEY.size);
      const key = clientTupleOf(flowKey, values.readUInt8(at + S.client_is_first) !== 0, Buffer.alloc(SESSION_KEY.size)) as Buffer;
      const local = (flags & this.flags.local) !== 0;
      const boxConnection = (flags & this.flags.boxConnection) !== 0;
      const reverse = reverseKey(key, Buffer.alloc(SESSION_KEY.size)) as Buffer;
      const fromZoneId = values.readUInt16LE(at + ENTRY.zone(FROM_CLIENT));
      const toZoneId = values.readUInt16LE(at + ENTRY.zone(FROM_SERVER));
      const policyId = values.readUInt32LE(at + S.policy_id);
      const createdNs = BigInt(values.readUInt32LE(at + S.created_s)) * 1_000_000_000n;
      const protocol = key[SESSION_KEY.offset.protocol];
      // Its verdicts' row, counted; a row outside the table: not adopted (the orphan sweep removes it).
      const row = values.readUInt32LE(at + S.verdicts);
      const filters = this.verdictRows.adopt(row);
      if (!filters) continue;
      // Built to be copied into the store and dropped: the store keeps no object of it.
      const session: StoredSession = {
        fromZone: names.zoneName(fromZoneId), fromZoneId,
        toZone: local ? 'junos-host' : names.zoneName(toZoneId), toZoneId,
        policyId, policyName: local ? localAdmission(boxConnection) : names.policyName(policyId),
        ingressIfindex: values.readUInt32LE(at + ENTRY.ingressIfindex(FROM_CLIENT)),
        egressIfindex: local ? 0 : values.readUInt32LE(at + ENTRY.ingressIfindex(FROM_SERVER)),
        local, boxConnection,
        logClose: !local && names.logsClose(policyId),
        icmpType: protocol === IPPROTO_ICMP ? 8 : protocol === IPPROTO_ICMPV6 ? 128 : 0,
        inactivityTimeout: null, // not in the entry: after a restart, the protocol's timeout
        first: FIRST_PACKET_UNKNOWN,
        filters,
        id, key, reverse, createdNs,
        createdAtMs: Math.round(Number(createdNs) / 1e6 + wallClockOffsetMs),
        tcp: protocol === IPPROTO_TCP ? this.tcpStates.name(values.readUInt8(at + T.state)) : null,
      };
      this.store.setVerdictRow(this.remember(session), row);
      this.nextId = Math.max(this.nextId, id + 1);
      lastId = id;
      adopted++;
    }
    this.adoptedDump = dump;
    return adopted;
  }

  /**
   * Every session (with an id above `afterId`), in id order (oldest first), each a new object;
   * safe to hold across closes and installs (sessions installed meanwhile come last).
   */
  *sessions(afterId = 0): IterableIterator<Session> {
    const store = this.store;
    let epoch = store.epoch;
    for (let slot = store.slotAfterId(afterId); slot >= 0;) {
      const session = this.viewOf(slot, false);
      yield session;
      // Slots moved (compaction), or this one was freed and taken again: go on from its id.
      if (store.epoch !== epoch || store.idOf(slot) !== session.id) {
        epoch = store.epoch;
        slot = store.slotAfterId(session.id);
      } else slot = store.nextLive(slot + 1);
    }
  }

  /** The session of an id, if it is still open (a new object; compare sessions by id). */
  byIdOf(id: number): Session | undefined {
    const slot = this.store.slotOfId(id);
    return slot < 0 ? undefined : this.viewOf(slot, true);
  }
}

/** An expiry schedule that keeps each session's due second in its slot (no Map entry per session). */
function scheduleIn(store: SessionStore): ExpirySchedule {
  return new ExpirySchedule(nowSecond(), {
    get: (id) => {
      const slot = store.slotOfId(id);
      const at = slot < 0 ? 0 : store.dueOf(slot);
      return at === 0 ? undefined : at;
    },
    set: (id, at) => {
      const slot = store.slotOfId(id);
      if (slot >= 0) store.setDue(slot, at);
    },
    delete: (id) => {
      const slot = store.slotOfId(id);
      if (slot >= 0) store.setDue(slot, 0);
    },
    get size() {
      return store.scheduledCount;
    },
  });
}

/** Session objects the table keeps handing out the same (the ones in use right now; not one per session). */
const RECENT_VIEWS = 1024;

/** Sessions expire() looks at per call at most: a bounded cost per tick, whatever the table's size. */
const EXPIRY_BUDGET = 20_000;

/** CLOCK_MONOTONIC in whole seconds, the clock of the BPF entries' timestamps. */
function nowSecond(): number {
  return Math.floor(Number(monotonicNs()) / 1e9);
}

/** The policy name of a session to the box: what admitted it. */
export function localAdmission(boxConnection: boolean): string {
  return boxConnection ? 'box-connection' : 'host-inbound-traffic';
}

function maxBig(...xs: bigint[]): bigint {
  return xs.reduce((a, b) => (b > a ? b : a));
}

function totalsOf(c: Pick<SessionCounters, 'client' | 'server'>): DirectionTotals {
  return {
    packetsFromClient: c.client.packets,
    bytesFromClient: c.client.bytes,
    packetsFromServer: c.server?.packets ?? 0,
    bytesFromServer: c.server?.bytes ?? 0,
  };
}

// Finding, summing up and clearing sessions by filter, at any table size:
// the table is walked in slices that yield to the event loop (the slow path
// runs between them), the map is read only for the sessions shown, and a
// listing is handed out in chunks, page by page (session ids ascending; a
// cursor is the last id shown), so memory stays bounded by the chunk and not
// by the table.
import { FILTER_PROGRAM_SLOW_PATH, SESSION, SESSION_KEY, TCP_CONN, TCP_DIR } from '../dataplane/layout.js';
import { ENTRY, FROM_CLIENT, FROM_SERVER, type Direction } from './entry.js';
import { monotonicNs } from '../dataplane/native.js';
import { FILTER_ACTION_CODE, FILTER_FLAG_LOG, FILTER_FLAG_SYSLOG, type FilterDescriptor } from '../filter/descriptor.js';
import { protocolName } from './flow-key.js';
import type { FlowFacts, FlowPredicate } from './filter-spec.js';
import type { SessionTable, SessionView } from './table.js';
import type { Session } from './types.js';

/** Sessions looked at per slice before the walk yields to the event loop. */
export const SLICE = 4096;
/** What a matching session costs in a slice, in sessions looked at: it is read from the map or closed. */
const MATCH_COST = 16;
/** Sessions per chunk handed to the writer. */
export const CHUNK = 256;

const S = SESSION.offset;
const K = SESSION_KEY.offset;

/** What the query needs besides the table: names for ids. */
export interface QueryNames {
  interfaceName(ifindex: number): string;
  filterName(filterId: number): string | null;
  termName(filterId: number, termId: number): string | null;
  /** enum xdpfw_tcp_dir_flags members (C names to bits). */
  tcpDirFlags: Record<string, number>;
}

export interface PageOptions {
  /** At most this many sessions (all when absent). */
  limit?: number;
  /** Only sessions with a larger id (the `nextCursor` of the previous page). */
  cursor?: number;
}

export interface PageEnd {
  shown: number;
  /** Pass as `cursor` to get the next page; null: nothing more matched. */
  nextCursor: number | null;
}

/** A cached filter verdict as people read it; null where the direction has no filter. */
export interface FilterVerdictView {
  filter: string;
  filterId: number;
  term: string | null;
  termId: number;
  action: string;
  log: boolean;
  syslog: boolean;
  /** Per-packet terms run in XDP for this flow (a residual program), or judged by the slow path. */
  perPacket: 'none' | 'xdp-program' | 'slow-path';
}

export interface TcpDirectionView {
  /** enum xdpfw_tcp_dir_flags set, lower case without the prefix. */
  flags: string[];
  end: number;
  maxEnd: number;
  maxWindow: number;
  maxAck: number;
  windowScale: number;
}

/** One direction of a session, as its entry holds it. */
export interface DirectionView {
  /** Where this direction's packets arrive and leave by (the entry is bound to the first). */
  ingressInterface: string;
  ingressIfindex: number;
  egressInterface: string;
  egressIfindex: number;
  packets: number;
  bytes: number;
  idleSeconds: number | null;
  inputFilter: FilterVerdictView | null;
  outputFilter: FilterVerdictView | null;
}

export interface ExtensiveSessionView extends SessionView {
  createdAt: string;
  timeLeftSeconds: number;
  flags: string[];
  tcp: { state: string; closeReason: string | null; client: TcpDirectionView; server: TcpDirectionView } | null;
  client: DirectionView;
  server: DirectionView | null;
  /** Address translations of the session (none are made yet). */
  translation: null;
}

export interface SessionSummary {
  total: number;
  byState: Record<string, number>;
  byProtocol: Record<string, number>;
  byFamily: Record<string, number>;
  byZonePair: Array<{ fromZone: string; toZone: string; sessions: number }>;
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Refills `into` with the flow facts of a session for the filters (no allocation). */
export function sessionFacts(s: Session, names: Pick<QueryNames, 'interfaceName'>, into: FlowFacts): FlowFacts {
  into.family = s.tuple.family;
  into.protocol = s.tuple.protocol;
  into.addresses = s.key;
  into.sourcePort = s.tuple.sourcePort;
  into.destinationPort = s.tuple.destinationPort;
  into.fromZone = s.fromZone;
  into.toZone = s.toZone;
  into.policy = s.policyName;
  into.ingressInterface = names.interfaceName(s.ingressIfindex);
  into.egressInterface = s.egressIfindex ? names.interfaceName(s.egressIfindex) : null;
  return into;
}

function blankFacts(): FlowFacts {
  return {
    family: 'inet', protocol: 0, addresses: new Uint8Array(0), sourceOffset: K.src_addr, destinationOffset: K.dst_addr, sourcePort: 0,
    destinationPort: 0, fromZone: '', toZone: '', policy: '', ingressInterface: '', egressInterface: null,
  };
}

/**
 * Walks the sessions matching `match` with an id above `after`, in id order, a slice at a
 * time; calls `visit` for each until it returns false.
 */
async function walk(table: SessionTable, names: QueryNames, match: FlowPredicate, after: number, visit: (s: Session) => boolean | Promise<boolean>): Promise<void> {
  let looked = 0;
  const facts = blankFacts();
  // Started past `after` (a page's cursor): the sessions before it are not even looked at.
  for (const s of table.sessions(after)) {
    if (++looked >= SLICE) {
      looked = 0;
      await yieldToLoop();
      // Closed while we were away: the iterator skips deleted entries, but this one was taken before.
      if (!table.holds(s)) continue;
    }
    if (s.id <= after || !match(sessionFacts(s, names, facts))) continue;
    // Awaited only when the visitor waits (a chunk handed to its reader): one session costs no microtask.
    const go = visit(s);
    if (go instanceof Promise ? !(await go) : !go) return;
    looked += MATCH_COST;
  }
}

/**
 * The matching sessions, a chunk at a time, then how to go on. `write` takes each chunk and
 * resolves when the reader has room for more (its backpressure pauses the walk).
 */
export async function listSessions(
  table: SessionTable, names: QueryNames, match: FlowPredicate, page: PageOptions, extensive: boolean,
  write: (chunk: Array<SessionView | ExtensiveSessionView>) => Promise<void>,
): Promise<PageEnd> {
  const limit = page.limit ?? Infinity;
  const viewer = new SessionViewer(table, names);
  let chunk: Array<SessionView | ExtensiveSessionView> = [];
  let shown = 0;
  let lastId = 0;
  let more = false;
  await walk(table, names, match, page.cursor ?? 0, (s) => {
    if (shown >= limit) {
      more = true;
      return false;
    }
    chunk.push(extensive ? viewer.extensive(s) : viewer.brief(s));
    shown++;
    lastId = s.id;
    if (chunk.length < CHUNK) return true;
    const out = chunk;
    chunk = [];
    return write(out).then(() => true);
  });
  if (chunk.length > 0) await write(chunk);
  return { shown, nextCursor: more ? lastId : null };
}

/** Counts of the matching sessions by state, protocol, family and zone pair. */
export async function summarizeSessions(table: SessionTable, names: QueryNames, match: FlowPredicate): Promise<SessionSummary> {
  const byState = new Map<string, number>();
  const byProtocol = new Map<string, number>();
  const byFamily = new Map<string, number>();
  const byZonePair = new Map<string, { fromZone: string; toZone: string; sessions: number }>();
  const entry = Buffer.alloc(SESSION.size);
  let total = 0;
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  await walk(table, names, match, 0, (s) => {
    total++;
    let state = 'active';
    if (s.tcp) {
      const e = table.readSessionEntry(s, entry);
      state = e ? table.endOfEntry(e).state : s.tcp;
    }
    bump(byState, state);
    bump(byProtocol, protocolName(s.tuple.protocol));
    bump(byFamily, s.tuple.family);
    const pair = `${s.fromZone}\u0000${s.toZone}`;
    const z = byZonePair.get(pair);
    if (z) z.sessions++;
    else byZonePair.set(pair, { fromZone: s.fromZone, toZone: s.toZone, sessions: 1 });
    return true;
  });
  const sorted = (m: Map<string, number>): Record<string, number> => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]));
  return {
    total,
    byState: sorted(byState),
    byProtocol: sorted(byProtocol),
    byFamily: sorted(byFamily),
    byZonePair: [...byZonePair.values()].sort((a, b) => b.sessions - a.sessions),
  };
}

/**
 * Closes the matching sessions (reason `cleared`, with their close events), a slice at a time;
 * the others stay as they are. Returns how many were closed.
 */
export async function clearSessions(table: SessionTable, names: QueryNames, match: FlowPredicate, onError: (err: unknown, s: Session) => void): Promise<number> {
  let cleared = 0;
  await walk(table, names, match, 0, (s) => {
    try {
      table.close(s, 'cleared');
      cleared++;
    } catch (err) {
      // The entries are gone and the session forgotten; a listener failed (recorded).
      if (!table.holds(s)) cleared++;
      onError(err, s);
    }
    return true;
  });
  return cleared;
}

/** Reads sessions' entries into views; one buffer reused for all. */
class SessionViewer {
  private readonly entry = Buffer.alloc(SESSION.size);
  private readonly now = monotonicNs();
  private readonly actions = new Map(Object.entries(FILTER_ACTION_CODE).map(([name, code]) => [code, name]));
  private readonly dirFlags: Array<[string, number]>;

  constructor(private readonly table: SessionTable, private readonly names: QueryNames) {
    this.dirFlags = Object.entries(names.tcpDirFlags).map(([n, bit]) => [n.replace(/^XDPFW_TCP_DIR_/, '').toLowerCase().replace(/_/g, '-'), bit]);
  }

  brief(s: Session): SessionView {
    return this.briefFrom(s, this.table.readSessionEntry(s, this.entry));
  }

  private briefFrom(s: Session, entry: Buffer | null): SessionView {
    const seen = entry ? entry.readBigUInt64LE(S.last_seen_ns) : 0n;
    const last = seen > s.createdNs ? seen : s.createdNs;
    const state = s.tcp ? (entry ? this.table.endOfEntry(entry).state : s.tcp) : 'active';
    return {
      sessionId: s.id,
      family: s.tuple.family,
      protocol: protocolName(s.tuple.protocol),
      sourceAddress: s.tuple.sourceAddress,
      sourcePort: s.tuple.sourcePort,
      destinationAddress: s.tuple.destinationAddress,
      destinationPort: s.tuple.destinationPort,
      fromZone: s.fromZone,
      toZone: s.toZone,
      policy: s.policyName,
      policyId: s.policyId,
      local: s.local,
      state,
      packetsFromClient: entry ? Number(entry.readBigUInt64LE(ENTRY.packets(FROM_CLIENT))) : 0,
      bytesFromClient: entry ? Number(entry.readBigUInt64LE(ENTRY.bytes(FROM_CLIENT))) : 0,
      packetsFromServer: entry && !s.local ? Number(entry.readBigUInt64LE(ENTRY.packets(FROM_SERVER))) : 0,
      bytesFromServer: entry && !s.local ? Number(entry.readBigUInt64LE(ENTRY.bytes(FROM_SERVER))) : 0,
      ageSeconds: Math.floor(Number(this.now - s.createdNs) / 1e9),
      idleSeconds: Math.floor(Number(this.now - last) / 1e9),
      timeoutSeconds: this.table.timeoutFor({ ...s, tcp: s.tcp ? (state as Session['tcp']) : null }),
    };
  }

  extensive(s: Session): ExtensiveSessionView {
    const entry = this.table.readSessionEntry(s, this.entry);
    const brief = this.briefFrom(s, entry);
    const flags = [s.local ? 'local' : null, s.boxConnection ? 'box-connection' : null, s.logClose ? 'log-close' : null]
      .filter((f): f is string => f !== null);
    let tcp: ExtensiveSessionView['tcp'] = null;
    if (s.tcp && entry) {
      const end = this.table.endOfEntry(entry);
      tcp = {
        state: end.state,
        closeReason: end.reason,
        client: this.tcpDirection(entry, 0),
        server: this.tcpDirection(entry, 1),
      };
    }
    return {
      ...brief,
      createdAt: new Date(s.createdAtMs).toISOString(),
      timeLeftSeconds: Math.max(0, brief.timeoutSeconds - brief.idleSeconds),
      flags,
      tcp,
      client: this.direction(entry, FROM_CLIENT, s.ingressIfindex, s.egressIfindex, s.filters.client),
      server: s.local ? null : this.direction(entry, FROM_SERVER, s.egressIfindex, s.ingressIfindex, s.filters.server),
      translation: null,
    };
  }

  private direction(entry: Buffer | null, d: Direction, ingress: number, egress: number, filters: Session['filters']['client']): DirectionView {
    // One last-seen time for the session: the entry keeps no time per direction.
    const seen = entry && entry.readBigUInt64LE(ENTRY.packets(d)) > 0n ? entry.readBigUInt64LE(S.last_seen_ns) : 0n;
    const inIf = entry ? entry.readUInt32LE(ENTRY.ingressIfindex(d)) : ingress;
    // Each direction leaves by the other's ingress (0 for a session to the box: local).
    const outIf = entry ? entry.readUInt32LE(ENTRY.ingressIfindex(d === FROM_CLIENT ? FROM_SERVER : FROM_CLIENT)) : egress;
    return {
      ingressInterface: this.names.interfaceName(inIf),
      ingressIfindex: inIf,
      // A session to the box leaves by no interface: the host's stack takes it.
      egressInterface: outIf ? this.names.interfaceName(outIf) : 'local',
      egressIfindex: outIf,
      packets: entry ? Number(entry.readBigUInt64LE(ENTRY.packets(d))) : 0,
      bytes: entry ? Number(entry.readBigUInt64LE(ENTRY.bytes(d))) : 0,
      idleSeconds: seen > 0n ? Math.floor(Number(this.now - seen) / 1e9) : null,
      // The entry names a shared row of these verdicts (lib/session/verdict-rows.ts), written from them.
      inputFilter: this.verdict(filters.input),
      outputFilter: this.verdict(filters.output),
    };
  }

  private verdict(d: FilterDescriptor): FilterVerdictView | null {
    if (d.filterId === 0) return null;
    return {
      filter: this.names.filterName(d.filterId) ?? `filter-${d.filterId}`,
      filterId: d.filterId,
      term: this.names.termName(d.filterId, d.termId),
      termId: d.termId,
      action: this.actions.get(d.action) ?? 'none',
      log: (d.flags & FILTER_FLAG_LOG) !== 0,
      syslog: (d.flags & FILTER_FLAG_SYSLOG) !== 0,
      perPacket: d.program === 0 ? 'none' : d.program === FILTER_PROGRAM_SLOW_PATH ? 'slow-path' : 'xdp-program',
    };
  }

  private tcpDirection(owner: Buffer, side: 0 | 1): TcpDirectionView {
    const at = S.tcp + TCP_CONN.offset.dir + side * TCP_DIR.size;
    const D = TCP_DIR.offset;
    const bits = owner.readUInt8(at + D.flags);
    return {
      flags: this.dirFlags.filter(([, bit]) => (bits & bit) !== 0).map(([n]) => n),
      end: owner.readUInt32LE(at + D.td_end),
      maxEnd: owner.readUInt32LE(at + D.td_maxend),
      maxWindow: owner.readUInt32LE(at + D.td_maxwin),
      maxAck: owner.readUInt32LE(at + D.td_maxack),
      windowScale: owner.readUInt8(at + D.td_scale),
    };
  }
}

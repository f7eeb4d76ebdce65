// A session's one entry as the slow path writes it (key: both endpoints in a fixed order, value:
// both directions), and the cached verdicts it names, for BPF_PROG_RUN tests that install
// sessions directly into xdpfw_sessions.
import { DIRECTION_VERDICTS, FLOW_KEY, SESSION, TCP_CONN, TCP_DIR, VERDICT_ROW } from '../../lib/dataplane/layout.js';
import { btfEnum, mapLookup, mapUpdate } from '../../lib/dataplane/native.js';
import { encodeFilterDescriptor, type FilterDescriptor } from '../../lib/filter/descriptor.js';
import { ENTRY, type Direction, flowKeyOf } from '../../lib/session/entry.js';

export interface EntryFacts {
  /** The tuple of the client's packets (struct xdpfw_session_key): which endpoint is the client. */
  client: Buffer;
  /** Where the client's packets arrive, and where the policy saw them leave, which is where the server's arrive (0: to the box). */
  ingress: number;
  egress: number;
  tcp: boolean;
  sessionId?: bigint;
  /** enum xdpfw_session_flags */
  flags?: number;
  fromZone?: number;
  toZone?: number;
}

/** The entry key (struct xdpfw_flow_key) of the session a packet with this tuple belongs to, either direction. */
export function sessionKey(tuple: Buffer): Buffer {
  const key = Buffer.alloc(FLOW_KEY.size);
  flowKeyOf(tuple, key);
  return key;
}

/**
 * The value of a session's entry: bound to its interfaces; a TCP one established and picked up
 * mid-stream (windows learnt, not enforced; test/bpf/tcp-state.test.ts tracks TCP).
 */
export function sessionEntry(objectPath: string, facts: EntryFacts): Buffer {
  const v = Buffer.alloc(SESSION.size);
  v.writeBigUInt64LE(facts.sessionId ?? 1n, SESSION.offset.session_id);
  v.writeUInt8(facts.flags ?? 0, SESSION.offset.flags);
  v.writeUInt8(flowKeyOf(facts.client, Buffer.alloc(FLOW_KEY.size)) ? 1 : 0, SESSION.offset.client_is_first);
  v.writeUInt16LE(facts.fromZone ?? 0, ENTRY.zone(0));
  v.writeUInt16LE(facts.toZone ?? 0, ENTRY.zone(1));
  v.writeUInt32LE(facts.ingress, ENTRY.ingressIfindex(0));
  v.writeUInt32LE(facts.egress, ENTRY.ingressIfindex(1));
  if (facts.tcp) {
    const states = btfEnum(objectPath, 'xdpfw_tcp_state');
    const dirFlags = btfEnum(objectPath, 'xdpfw_tcp_dir_flags');
    const conn = SESSION.offset.tcp;
    v[conn + TCP_CONN.offset.state] = states.XDPFW_TCP_ESTABLISHED!;
    for (const side of [0, 1]) v[conn + TCP_CONN.offset.dir + side * TCP_DIR.size + TCP_DIR.offset.flags] = dirFlags.XDPFW_TCP_DIR_LIBERAL!;
  }
  return v;
}

/** Writes the session's entry into xdpfw_sessions (`sessionsFd`); returns its key. */
export function installSession(sessionsFd: number, objectPath: string, facts: EntryFacts, value = sessionEntry(objectPath, facts)): Buffer {
  const key = sessionKey(facts.client);
  mapUpdate(sessionsFd, key, value, 0);
  return key;
}

/** One direction's counters (0: from the client) of the session a packet with this tuple belongs to; null without one. */
export function directionCounters(sessionsFd: number, tuple: Buffer, dir: Direction): { packets: number; bytes: number; lastSeen: bigint } | null {
  const v = Buffer.alloc(SESSION.size);
  if (!mapLookup(sessionsFd, sessionKey(tuple), v)) return null;
  return {
    packets: Number(v.readBigUInt64LE(ENTRY.packets(dir))),
    bytes: Number(v.readBigUInt64LE(ENTRY.bytes(dir))),
    lastSeen: v.readBigUInt64LE(SESSION.offset.last_seen_ns),
  };
}

/**
 * Writes one direction's cached verdicts (0: the client's, 1: the server's) into row `row` of
 * xdpfw_verdict_rows, keeping the other direction's; an entry names the row in its `verdicts`.
 */
export function setDirectionVerdicts(rowsFd: number, row: number, dir: 0 | 1, input: FilterDescriptor, output: FilterDescriptor): void {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(row);
  const value = Buffer.alloc(VERDICT_ROW.size);
  mapLookup(rowsFd, key, value);
  const at = VERDICT_ROW.offset.dir + dir * DIRECTION_VERDICTS.size;
  encodeFilterDescriptor(input, value, at + DIRECTION_VERDICTS.offset.input);
  encodeFilterDescriptor(output, value, at + DIRECTION_VERDICTS.offset.output);
  mapUpdate(rowsFd, key, value, 0);
}

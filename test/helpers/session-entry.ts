// One direction's session entry as the slow path writes it, and the cached verdicts it names,
// for BPF_PROG_RUN tests that install sessions directly into xdpfw_sessions.
import { DIRECTION_VERDICTS, SESSION, TCP_CONN, TCP_DIR, VERDICT_ROW } from '../../lib/dataplane/layout.js';
import { btfEnum, mapLookup, mapUpdate } from '../../lib/dataplane/native.js';
import { encodeFilterDescriptor, type FilterDescriptor } from '../../lib/filter/descriptor.js';

export interface EntryFacts {
  /** Where this direction's packets arrive, and where the policy saw them leave (0: to the box). */
  ingress: number;
  egress: number;
  tcp: boolean;
  sessionId?: bigint;
  /** enum xdpfw_session_flags */
  flags?: number;
  fromZone?: number;
  toZone?: number;
}

/**
 * The value of one entry: bound to its interfaces; a TCP one established and picked up
 * mid-stream (windows learnt, not enforced; test/bpf/tcp-state.test.ts tracks TCP).
 */
export function sessionEntry(objectPath: string, facts: EntryFacts): Buffer {
  const v = Buffer.alloc(SESSION.size);
  v.writeBigUInt64LE(facts.sessionId ?? 1n, SESSION.offset.session_id);
  v.writeUInt8(facts.flags ?? 0, SESSION.offset.flags);
  v.writeUInt16LE(facts.fromZone ?? 0, SESSION.offset.from_zone);
  v.writeUInt16LE(facts.toZone ?? 0, SESSION.offset.to_zone);
  v.writeUInt32LE(facts.ingress, SESSION.offset.ingress_ifindex);
  v.writeUInt32LE(facts.egress, SESSION.offset.egress_ifindex);
  if (facts.tcp) {
    const states = btfEnum(objectPath, 'xdpfw_tcp_state');
    const dirFlags = btfEnum(objectPath, 'xdpfw_tcp_dir_flags');
    const conn = SESSION.offset.tcp;
    v[conn + TCP_CONN.offset.state] = states.XDPFW_TCP_ESTABLISHED!;
    for (const side of [0, 1]) v[conn + TCP_CONN.offset.dir + side * TCP_DIR.size + TCP_DIR.offset.flags] = dirFlags.XDPFW_TCP_DIR_LIBERAL!;
  }
  return v;
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

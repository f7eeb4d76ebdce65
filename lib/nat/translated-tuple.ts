// The tuples of a translated session as struct xdpfw_session_key bytes, and the two
// xdpfw_nat_sessions entries XDP translates its packets by (bpf/nat_session.h): under the flow
// key of the client's tuple, what the client's packets leave with; under the flow key of the
// translated reply tuple, what the server's packets leave with. Pure: no map access here.
import { FLOW_KEY, NAT_SESSION, NAT_TUPLE, SESSION_KEY } from '../dataplane/layout.js';
import { flowKeyOf, tupleSwapped } from '../session/entry.js';
import { reverseKey } from '../session/flow-key.js';

const K = SESSION_KEY.offset;
const N = NAT_SESSION.offset;
const T = NAT_TUPLE.offset;

/** A tuple (struct xdpfw_session_key) with its source (address bytes 4 or 16, port) replaced. */
export function withSource(tuple: Uint8Array, address: Uint8Array, port: number): Buffer {
  const out = Buffer.from(tuple.subarray(0, SESSION_KEY.size));
  out.fill(0, K.src_addr, K.src_addr + 16);
  out.set(address, K.src_addr);
  out.writeUInt16BE(port, K.src_port);
  return out;
}

/** A tuple with its destination replaced. */
export function withDestination(tuple: Uint8Array, address: Uint8Array, port: number): Buffer {
  const out = Buffer.from(tuple.subarray(0, SESSION_KEY.size));
  out.fill(0, K.dst_addr, K.dst_addr + 16);
  out.set(address, K.dst_addr);
  out.writeUInt16BE(port, K.dst_port);
  return out;
}

function writeTuple(value: Buffer, tuple: Uint8Array): void {
  const at = N.to;
  value.set(tuple.subarray(K.src_addr, K.src_addr + 16), at + T.src_addr);
  value.set(tuple.subarray(K.dst_addr, K.dst_addr + 16), at + T.dst_addr);
  // Ports in network order, as in the tuple.
  value.set(tuple.subarray(K.src_port, K.src_port + 2), at + T.src_port);
  value.set(tuple.subarray(K.dst_port, K.dst_port + 2), at + T.dst_port);
}

/** One xdpfw_nat_sessions entry: its key and value. */
export interface NatEntry {
  key: Buffer;
  value: Buffer;
}

function entry(sessionKey: Buffer, arriving: Uint8Array, leaving: Uint8Array, dir: 0 | 1): NatEntry {
  const key = Buffer.alloc(FLOW_KEY.size);
  flowKeyOf(arriving, key);
  const value = Buffer.alloc(NAT_SESSION.size);
  sessionKey.copy(value, N.session);
  writeTuple(value, leaving);
  value.writeUInt8(dir, N.dir);
  value.writeUInt8(tupleSwapped(arriving) ? 1 : 0, N.swapped);
  return { key, value };
}

/**
 * The two entries of a session whose client sent `original` and whose packets from the client
 * leave as `translated` (both struct xdpfw_session_key, the client's direction).
 */
export function natEntries(original: Uint8Array, translated: Uint8Array): [NatEntry, NatEntry] {
  const sessionKey = Buffer.alloc(FLOW_KEY.size);
  flowKeyOf(original, sessionKey);
  const replyArriving = reverseKey(translated, Buffer.alloc(SESSION_KEY.size));
  const replyLeaving = reverseKey(original, Buffer.alloc(SESSION_KEY.size));
  return [entry(sessionKey, original, translated, 0), entry(sessionKey, replyArriving, replyLeaving, 1)];
}

// A session's one entry in xdpfw_sessions (bpf/xdpfw.h struct xdpfw_flow_key and struct
// xdpfw_session): the key both directions' packets find it by, and where each direction's fields
// lie in its value. XDP builds the same key from every packet (bpf/session_entry.h).
import { FLOW_KEY, SESSION, SESSION_KEY, TCP_CONN, TCP_DIR } from '../dataplane/layout.js';

const K = SESSION_KEY.offset;
const F = FLOW_KEY.offset;
const S = SESSION.offset;

/** Index of a direction in the entry's per-direction arrays. */
export type Direction = 0 | 1;
export const FROM_CLIENT: Direction = 0;
export const FROM_SERVER: Direction = 1;

/**
 * Whether the tuple's destination endpoint sorts before its source: addresses byte by byte (as
 * on the wire), then ports as numbers (big-endian bytes, so byte by byte too).
 */
export function tupleSwapped(tuple: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) {
    const a = tuple[K.src_addr + i]!;
    const b = tuple[K.dst_addr + i]!;
    if (a !== b) return a > b;
  }
  for (let i = 0; i < 2; i++) {
    const a = tuple[K.src_port + i]!;
    const b = tuple[K.dst_port + i]!;
    if (a !== b) return a > b;
  }
  return false;
}

/**
 * Writes the entry key of the session whose client sent `tuple` (struct xdpfw_session_key) into
 * `out` (FLOW_KEY.size bytes); returns client_is_first, what the entry says of the client.
 */
export function flowKeyOf(tuple: Uint8Array, out: Uint8Array): boolean {
  const swapped = tupleSwapped(tuple);
  const first = swapped ? K.dst_addr : K.src_addr;
  const second = swapped ? K.src_addr : K.dst_addr;
  const firstPort = swapped ? K.dst_port : K.src_port;
  const secondPort = swapped ? K.src_port : K.dst_port;
  out[F.family] = tuple[K.family]!;
  out[F.protocol] = tuple[K.protocol]!;
  out[F.pad] = 0;
  out[F.pad + 1] = 0;
  out[F.port] = tuple[firstPort]!;
  out[F.port + 1] = tuple[firstPort + 1]!;
  out[F.port + 2] = tuple[secondPort]!;
  out[F.port + 3] = tuple[secondPort + 1]!;
  for (let i = 0; i < 16; i++) {
    out[F.addr + i] = tuple[first + i]!;
    out[F.addr + 16 + i] = tuple[second + i]!;
  }
  return !swapped;
}

/** Writes the client's tuple (struct xdpfw_session_key) of an entry key into `out`. */
export function clientTupleOf(flowKey: Uint8Array, clientIsFirst: boolean, out: Uint8Array): Uint8Array {
  const client = clientIsFirst ? 0 : 1;
  const server = 1 - client;
  out.fill(0, 0, SESSION_KEY.size);
  out[K.family] = flowKey[F.family]!;
  out[K.protocol] = flowKey[F.protocol]!;
  out[K.src_port] = flowKey[F.port + 2 * client]!;
  out[K.src_port + 1] = flowKey[F.port + 2 * client + 1]!;
  out[K.dst_port] = flowKey[F.port + 2 * server]!;
  out[K.dst_port + 1] = flowKey[F.port + 2 * server + 1]!;
  for (let i = 0; i < 16; i++) {
    out[K.src_addr + i] = flowKey[F.addr + 16 * client + i]!;
    out[K.dst_addr + i] = flowKey[F.addr + 16 * server + i]!;
  }
  return out;
}

/** Offsets of an entry's fields that have one element per direction. */
export const ENTRY = {
  packets: (d: Direction): number => S.packets + 8 * d,
  bytes: (d: Direction): number => S.bytes + 8 * d,
  ingressIfindex: (d: Direction): number => S.ingress_ifindex + 4 * d,
  zone: (d: Direction): number => S.zone + 2 * d,
  tcpState: S.tcp + TCP_CONN.offset.state,
  tcpCloseReason: S.tcp + TCP_CONN.offset.close_reason,
  tcpClosedS: S.tcp + TCP_CONN.offset.closed_s,
  /** enum xdpfw_tcp_dir_flags of the client's side. */
  tcpClientFlags: S.tcp + TCP_CONN.offset.dir + TCP_DIR.offset.flags,
} as const;

/** Forgets both kept next hops (bpf/egress_cache.h): done whenever the entry's route facts change. */
export function clearKeptEgress(value: Buffer): void {
  value.writeUInt8(0, S.egress_kept);
  value.writeUInt32LE(0, S.egress);
}

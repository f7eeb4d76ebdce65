// Fills the daemon's pinned session map with many sessions cheaply: copies of
// one real session's entry (as the daemon wrote it), each with its own client
// address and port and session id. A daemon started
// on the pins then adopts them as its own (its start-up code, as after any
// restart). For tests and benchmarks that need a large table in seconds.
import { statePaths } from '../../lib/daemon/state-paths.js';
import { FLOW_KEY, SESSION, SESSION_KEY } from '../../lib/dataplane/layout.js';
import { closeFd, getPinned, mapLookup, mapUpdateBatch } from '../../lib/dataplane/native.js';
import { ENTRY, flowKeyOf } from '../../lib/session/entry.js';
import type { SessionView } from '../../lib/session/table.js';
import { ipBytes } from './packets.js';

const PORTS_PER_ADDRESS = 50_000;

/** The client address of copy `i` (in `base`, a /16's first address as 32 bits) and its port. */
export function fillEndpoint(base: number, i: number): { address: string; port: number } {
  const a = (base + Math.floor(i / PORTS_PER_ADDRESS)) >>> 0;
  return { address: `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`, port: 10_000 + (i % PORTS_PER_ADDRESS) };
}

/**
 * Writes `count` copies of the IPv4 session `template` (its entry must be in the map), client addresses from `base` on (32-bit, e.g. 10.1.128.0), ports 10000-59999,
 * ids from `firstId`, counters zero.
 */
export function fillSessions(stateDir: string, template: SessionView, base: number, firstId: number, count: number): void {
  const fd = getPinned(`${statePaths(stateDir).mapPinDir}/xdpfw_sessions`);
  try {
    const K = SESSION_KEY.offset;
    const tuple = Buffer.alloc(SESSION_KEY.size);
    tuple[K.family] = 2;
    tuple[K.protocol] = template.protocol === 'tcp' ? 6 : 17;
    ipBytes(template.sourceAddress).copy(tuple, K.src_addr);
    ipBytes(template.destinationAddress).copy(tuple, K.dst_addr);
    tuple.writeUInt16BE(template.sourcePort, K.src_port);
    tuple.writeUInt16BE(template.destinationPort, K.dst_port);
    const entry = Buffer.alloc(SESSION.size);
    const templateKey = Buffer.alloc(FLOW_KEY.size);
    flowKeyOf(tuple, templateKey);
    if (!mapLookup(fd, templateKey, entry)) throw new Error('the template session is not in the map');
    const BATCH = 5000;
    const keys = Buffer.alloc(BATCH * FLOW_KEY.size);
    const values = Buffer.alloc(BATCH * SESSION.size);
    for (let done = 0; done < count; done += BATCH) {
      const n = Math.min(BATCH, count - done);
      for (let j = 0; j < n; j++) {
        const i = done + j;
        tuple.writeUInt32BE((base + Math.floor(i / PORTS_PER_ADDRESS)) >>> 0, K.src_addr);
        tuple.writeUInt16BE(10_000 + (i % PORTS_PER_ADDRESS), K.src_port);
        const clientIsFirst = flowKeyOf(tuple, keys.subarray(j * FLOW_KEY.size, (j + 1) * FLOW_KEY.size));
        const v = values.subarray(j * SESSION.size, (j + 1) * SESSION.size);
        entry.copy(v);
        v.writeBigUInt64LE(BigInt(firstId + i), SESSION.offset.session_id);
        for (const d of [0, 1] as const) {
          v.writeBigUInt64LE(0n, ENTRY.packets(d));
          v.writeBigUInt64LE(0n, ENTRY.bytes(d));
        }
        v.writeUInt8(clientIsFirst ? 1 : 0, SESSION.offset.client_is_first);
      }
      const written = mapUpdateBatch(fd, keys, values, n, 0);
      if (written !== n) throw new Error(`batch update wrote ${written} of ${n} entries`);
    }
  } finally {
    closeFd(fd);
  }
}

/** 10.1.128.0 as 32 bits: the /17 the e2e tests fill (nobody's address in their topology). */
export const FILL_BASE = ((10 << 24) | (1 << 16) | (128 << 8)) >>> 0;

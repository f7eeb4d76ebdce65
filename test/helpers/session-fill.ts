// Fills the daemon's pinned session map with many sessions cheaply: copies of
// one real session's two entries (as the daemon wrote them), each pair with
// its own client address and port, session id and peer keys. A daemon started
// on the pins then adopts them as its own (its start-up code, as after any
// restart). For tests and benchmarks that need a large table in seconds.
import { statePaths } from '../../lib/daemon/state-paths.js';
import { SESSION, SESSION_KEY } from '../../lib/dataplane/layout.js';
import { closeFd, getPinned, mapLookup, mapUpdateBatch } from '../../lib/dataplane/native.js';
import { reverseKey } from '../../lib/session/flow-key.js';
import type { SessionView } from '../../lib/session/table.js';
import { ipBytes } from './packets.js';

const PORTS_PER_ADDRESS = 50_000;

/** The client address of copy `i` (in `base`, a /16's first address as 32 bits) and its port. */
export function fillEndpoint(base: number, i: number): { address: string; port: number } {
  const a = (base + Math.floor(i / PORTS_PER_ADDRESS)) >>> 0;
  return { address: `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`, port: 10_000 + (i % PORTS_PER_ADDRESS) };
}

/**
 * Writes `count` copies of the IPv4 session `template` (its owner and reverse entries must be
 * in the map), client addresses from `base` on (32-bit, e.g. 10.1.128.0), ports 10000-59999,
 * ids from `firstId`, counters zero.
 */
export function fillSessions(stateDir: string, template: SessionView, base: number, firstId: number, count: number): void {
  const fd = getPinned(`${statePaths(stateDir).mapPinDir}/xdpfw_sessions`);
  try {
    const K = SESSION_KEY.offset;
    const key = Buffer.alloc(SESSION_KEY.size);
    key[K.family] = 2;
    key[K.protocol] = template.protocol === 'tcp' ? 6 : 17;
    ipBytes(template.sourceAddress).copy(key, K.src_addr);
    ipBytes(template.destinationAddress).copy(key, K.dst_addr);
    key.writeUInt16BE(template.sourcePort, K.src_port);
    key.writeUInt16BE(template.destinationPort, K.dst_port);
    const owner = Buffer.alloc(SESSION.size);
    const other = Buffer.alloc(SESSION.size);
    if (!mapLookup(fd, key, owner) || !mapLookup(fd, reverseKey(key, Buffer.alloc(SESSION_KEY.size)), other)) {
      throw new Error('the template session is not in the map');
    }
    const BATCH = 5000;
    const keys = Buffer.alloc(2 * BATCH * SESSION_KEY.size);
    const values = Buffer.alloc(2 * BATCH * SESSION.size);
    for (let done = 0; done < count; done += BATCH) {
      const n = Math.min(BATCH, count - done);
      for (let j = 0; j < n; j++) {
        const i = done + j;
        const k = keys.subarray(2 * j * SESSION_KEY.size, (2 * j + 1) * SESSION_KEY.size);
        const rk = keys.subarray((2 * j + 1) * SESSION_KEY.size, (2 * j + 2) * SESSION_KEY.size);
        key.copy(k);
        k.writeUInt32BE((base + Math.floor(i / PORTS_PER_ADDRESS)) >>> 0, K.src_addr);
        k.writeUInt16BE(10_000 + (i % PORTS_PER_ADDRESS), K.src_port);
        reverseKey(k, rk);
        const v = values.subarray(2 * j * SESSION.size, (2 * j + 1) * SESSION.size);
        const rv = values.subarray((2 * j + 1) * SESSION.size, (2 * j + 2) * SESSION.size);
        owner.copy(v);
        other.copy(rv);
        for (const [val, peer] of [[v, rk], [rv, k]] as const) {
          val.writeBigUInt64LE(BigInt(firstId + i), SESSION.offset.session_id);
          val.writeBigUInt64LE(0n, SESSION.offset.packets);
          val.writeBigUInt64LE(0n, SESSION.offset.bytes);
          peer.copy(val, SESSION.offset.peer);
        }
      }
      const written = mapUpdateBatch(fd, keys, values, 2 * n, 0);
      if (written !== 2 * n) throw new Error(`batch update wrote ${written} of ${2 * n} entries`);
    }
  } finally {
    closeFd(fd);
  }
}

/** 10.1.128.0 as 32 bits: the /17 the e2e tests fill (nobody's address in their topology). */
export const FILL_BASE = ((10 << 24) | (1 << 16) | (128 << 8)) >>> 0;

// The syn-ack-ack-proxy screen's counts (bpf/syn_ack_ack_proxy.h): XDP counts
// a source's handshake-only sessions and gives a place back when one sends
// data or ends. A session the slow path removes while XDP still counts it
// (idle timeout, `clear sessions`, a policy change) is given back here.
import type { Dataplane } from '../dataplane/dataplane.js';
import { PROXY_KEY, SESSION_KEY } from '../dataplane/layout.js';
import { BPF_EXIST, mapLookup, mapUpdate } from '../dataplane/native.js';

const K = PROXY_KEY.offset;
const SK = SESSION_KEY.offset;

export class HandshakeOnlyCounts {
  private readonly key = Buffer.alloc(PROXY_KEY.size);
  private readonly value = Buffer.alloc(8);

  constructor(private readonly fd: number) {}

  static of(dataplane: Dataplane): HandshakeOnlyCounts {
    return new HandshakeOnlyCounts(dataplane.mapFd('xdpfw_proxy_pending'));
  }

  /**
   * Gives back the place of a removed session of zone `zoneId` keyed `client` (struct
   * xdpfw_session_key, client to server). The count is written back, not added to: a
   * handshake completing from the same source at that instant may be lost, which only lets
   * the source through sooner. Never below zero.
   */
  release(zoneId: number, client: Uint8Array): void {
    this.keyOf(zoneId, client);
    if (!mapLookup(this.fd, this.key, this.value)) return;
    const n = this.value.readBigInt64LE(0);
    if (n <= 0n) return;
    this.value.writeBigInt64LE(n - 1n, 0);
    try {
      mapUpdate(this.fd, this.key, this.value, BPF_EXIST);
    } catch {
      // The LRU recycled the entry meanwhile: nothing left to give back.
    }
  }

  /** Handshake-only sessions the source of `client` holds in the zone (tests, `show`). */
  pending(zoneId: number, client: Uint8Array): number {
    this.keyOf(zoneId, client);
    return mapLookup(this.fd, this.key, this.value) ? Number(this.value.readBigInt64LE(0)) : 0;
  }

  private keyOf(zoneId: number, client: Uint8Array): void {
    this.key.fill(0);
    this.key.writeUInt16LE(zoneId, K.zone);
    this.key[K.family] = client[SK.family]!;
    this.key.set(client.subarray(SK.src_addr, SK.src_addr + 16), K.addr);
  }
}

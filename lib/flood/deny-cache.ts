// The deny cache (bpf/flood_meter.h): a flow the policy denied is written into XDP, so its
// repeats for the next deny-cache-timeout seconds are dropped there (counted as
// deny_cache_hit, logged within the XDP event budget if the policy logs) and never cost the
// slow path again. Rejects are not cached: each needs its answer.
import { mapUpdate, monotonicNs } from '../dataplane/native.js';
import { DENY_ENTRY, DENY_KEY } from './layout.js';

/** What a repeat's event says, as the slow path's POLICY_DENY did. */
export interface DeniedFlow {
  /** The packet's session key (struct xdpfw_session_key bytes). */
  key: Uint8Array;
  ingressIfindex: number;
  egressIfindex: number;
  fromZoneId: number;
  toZoneId: number;
  policyId: number;
  log: boolean;
}

export class DenyCache {
  private readonly k = Buffer.alloc(DENY_KEY.size);
  private readonly v = Buffer.alloc(DENY_ENTRY.size);
  /** Entries the map refused (it is an LRU, so only on a kernel error); the flow is just not cached. */
  failed = 0;

  constructor(private readonly fd: number, private readonly generation: () => number) {}

  remember(flow: DeniedFlow): void {
    const k = this.k;
    const v = this.v;
    k.fill(0);
    k.set(flow.key.subarray(0, DENY_KEY.offset.ifindex), DENY_KEY.offset.flow);
    k.writeUInt32LE(flow.ingressIfindex, DENY_KEY.offset.ifindex);
    v.fill(0);
    const o = DENY_ENTRY.offset;
    v.writeBigUInt64LE(monotonicNs(), o.denied_ns);
    v.writeUInt32LE(this.generation(), o.generation);
    v.writeUInt32LE(flow.policyId, o.policy_id);
    v.writeUInt32LE(flow.egressIfindex, o.egress_ifindex);
    v.writeUInt16LE(flow.fromZoneId, o.from_zone);
    v.writeUInt16LE(flow.toZoneId, o.to_zone);
    v.writeUInt8(flow.log ? 1 : 0, o.log);
    try {
      mapUpdate(this.fd, k, v);
    } catch {
      this.failed++;
    }
  }
}

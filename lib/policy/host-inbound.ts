import { HOST_PROTOCOLS, SYSTEM_SERVICES, type HostMatch } from '../config/host-inbound-services.js';
import type { Zone } from '../config/types.js';

/** Flattened admissions per zone, built on first use (zones are immutable once compiled). */
const admitted = new WeakMap<Zone, readonly HostMatch[]>();

function flatten(zone: Zone): readonly HostMatch[] {
  const out: HostMatch[] = [];
  for (const s of zone.hostInbound.services) out.push(...(SYSTEM_SERVICES.get(s) ?? []));
  for (const p of zone.hostInbound.protocols) out.push(...(HOST_PROTOCOLS.get(p) ?? []));
  return out;
}

/**
 * Whether the zone's `host-inbound-traffic` admits a packet addressed to the box itself.
 * `icmpType` is the ICMP/ICMPv6 type for protocols 1 and 58 (`ping` admits echo requests).
 * Packets of sessions the box opened are the session table's business, not this check's.
 */
export function hostInboundAllows(zone: Zone, protocol: number, destinationPort: number, icmpType?: number): boolean {
  let matches = admitted.get(zone);
  if (!matches) admitted.set(zone, (matches = flatten(zone)));
  for (const m of matches) {
    if (m.protocol !== protocol) continue;
    if (m.icmpType >= 0 ? m.icmpType === icmpType : destinationPort >= m.portLow && destinationPort <= m.portHigh) return true;
  }
  return false;
}

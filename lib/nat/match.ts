import { hasPorts, IPPROTO } from '../config/protocols.js';
import type { Family } from '../config/family.js';
import type { AddressRange, NatMatch, PortRange } from './types.js';

/** The facts of a flow's first packet that NAT rules match on. */
export interface NatFlow {
  family: Family;
  protocol: number;
  source: bigint;
  destination: bigint;
  /** For ICMP echo: the identifier (it plays the source port's part); 0 for protocols without ports. */
  sourcePort: number;
  destinationPort: number;
}

function inAny(ranges: readonly AddressRange[] | null, family: Family, addr: bigint): boolean {
  return ranges === null || ranges.some((r) => r.family === family && addr >= r.first && addr <= r.last);
}

/** Port conditions only match protocols that carry ports. */
function portIn(ranges: readonly PortRange[] | null, protocol: number, port: number): boolean {
  return ranges === null || (hasPorts(protocol) && ranges.some((r) => port >= r.low && port <= r.high));
}

function applicationMatches(m: NatMatch, f: NatFlow): boolean {
  if (m.applications === null) return true;
  return m.applications.some((t) => {
    if (t.protocol !== f.protocol && t.protocol !== 0) return false;
    if (!hasPorts(f.protocol)) return true;
    return f.sourcePort >= t.sourcePortLow && f.sourcePort <= t.sourcePortHigh && f.destinationPort >= t.destinationPortLow && f.destinationPort <= t.destinationPortHigh;
  });
}

/** Whether a rule's conditions all hold for a flow (an absent condition holds). */
export function ruleMatches(m: NatMatch, f: NatFlow): boolean {
  return (
    inAny(m.source, f.family, f.source) &&
    inAny(m.destination, f.family, f.destination) &&
    (m.protocols === null || m.protocols.includes(f.protocol)) &&
    portIn(m.sourcePorts, f.protocol, f.sourcePort) &&
    portIn(m.destinationPorts, f.protocol, f.destinationPort) &&
    applicationMatches(m, f)
  );
}

/** Protocols whose translated flows are told apart by a port (or the ICMP echo identifier). */
export function translatesPorts(protocol: number): boolean {
  return hasPorts(protocol) || protocol === IPPROTO.ICMP || protocol === IPPROTO.ICMPV6;
}

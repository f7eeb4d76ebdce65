// Security events about sessions, built from the session table's records.
// One place decides what goes into a flow event, whichever code path
// (slow path, expiry, reload, clear) ends or starts the session.
import { realtimeNs } from '../dataplane/native.js';
import type { CloseReason as EventCloseReason, FilterLogEvent, FilterLogSource, PolicyDenyEvent, ScreenDropEvent, SessionCloseEvent, SessionCreateEvent } from '../events/types.js';
import type { SessionLimitHit } from '../screens/session-limit.js';
import { type FlowTuple } from './flow-key.js';
import type { CloseReason, DirectionTotals, Session } from './types.js';

const CLOSE_REASONS: Record<CloseReason, EventCloseReason> = {
  'TCP FIN': 'tcp-fin',
  'TCP RST': 'tcp-rst',
  'idle Timeout': 'idle-timeout',
  cleared: 'cleared',
  'policy change': 'policy-change',
  'route change': 'route-change',
};

export type { DirectionTotals } from './types.js';

function base(tuple: FlowTuple, icmpType: number, ingressIfindex: number, ingressZone: number) {
  return {
    timestampNs: realtimeNs(),
    monotonicNs: 0n,
    family: tuple.family,
    protocol: tuple.protocol,
    sourceAddress: tuple.sourceAddress,
    sourcePort: tuple.sourcePort,
    destinationAddress: tuple.destinationAddress,
    destinationPort: tuple.destinationPort,
    icmpType,
    ingressIfindex,
    ingressZone,
  };
}

export function sessionCreateEvent(s: Session): SessionCreateEvent {
  return {
    kind: 'session-create',
    ...base(s.tuple, s.icmpType, s.ingressIfindex, s.fromZoneId),
    egressIfindex: s.egressIfindex,
    egressZone: s.toZoneId,
    sessionId: s.id,
    policyId: s.policyId,
  };
}

export function sessionCloseEvent(s: Session, reason: CloseReason, totals: DirectionTotals, nowNs: bigint): SessionCloseEvent {
  return {
    kind: 'session-close',
    ...base(s.tuple, s.icmpType, s.ingressIfindex, s.fromZoneId),
    egressIfindex: s.egressIfindex,
    egressZone: s.toZoneId,
    sessionId: s.id,
    policyId: s.policyId,
    reason: CLOSE_REASONS[reason],
    ...totals,
    elapsedSeconds: Math.max(0, Math.round(Number(nowNs - s.createdNs) / 1e9)),
  };
}

export function policyDenyEvent(
  tuple: FlowTuple, icmpType: number, ingress: { ifindex: number; zoneId: number }, egress: { ifindex: number; zoneId: number },
  action: 'deny' | 'reject', policyId: number,
): PolicyDenyEvent {
  return {
    kind: 'policy-deny',
    ...base(tuple, icmpType, ingress.ifindex, ingress.zoneId),
    egressIfindex: egress.ifindex,
    egressZone: egress.zoneId,
    action,
    policyId,
  };
}

/** A session refused (or, alarm-without-drop, admitted) by the zone's `limit-session` screen. */
export function sessionLimitEvent(tuple: FlowTuple, icmpType: number, ingress: { ifindex: number; zoneId: number }, hit: SessionLimitHit): ScreenDropEvent {
  return { kind: 'screen-drop', ...base(tuple, icmpType, ingress.ifindex, ingress.zoneId), screen: hit.screen, action: hit.action };
}

/** A firewall filter term that logs (`then log` / `syslog`) judged this packet; `action` is what was done to it. */
export function filterLogEvent(
  tuple: FlowTuple, icmpType: number, ingress: { ifindex: number; zoneId: number }, egress: { ifindex: number; zoneId: number },
  filter: { filterId: number; termId: number; action: FilterLogEvent['action'] }, source: FilterLogSource, sessionId: number,
): FilterLogEvent {
  return {
    kind: 'filter-log',
    ...base(tuple, icmpType, ingress.ifindex, ingress.zoneId),
    egressIfindex: egress.ifindex,
    egressZone: egress.zoneId,
    filterId: filter.filterId,
    termId: filter.termId,
    action: filter.action,
    source,
    sessionId,
  };
}

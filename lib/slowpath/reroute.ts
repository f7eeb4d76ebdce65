// A packet of an established session whose route now leaves by another
// interface than the one its policy was checked for (XDP hands it up,
// counted as session_rerouted): the session is judged again for the zone
// pair the new route makes, as a reload judges sessions. Permitted: the
// session takes the new interfaces (and zones, policy, filters) and the
// packet goes on. Not permitted: the session closes with reason
// 'route change' and the packet is dropped.
import type { Zone } from '../config/types.js';
import { filtersOf, judge } from '../daemon/recheck.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { Session, SessionTable } from '../session/table.js';
import type { FlowFilters } from './flow-filters.js';

export type RerouteOutcome = 'unchanged' | 'moved' | 'closed';

/**
 * `egress`: where the packet's route leaves now; `fromServer`: the packet is a reply. A reply
 * leaving elsewhere means the client side moved: the session's ingress is the new interface.
 */
export function reroute(
  session: Session, fromServer: boolean, egress: number,
  sessions: SessionTable, policies: PolicyEngine, zones: ReadonlyMap<number, Zone>, filters: FlowFilters,
): RerouteOutcome {
  const expected = fromServer ? session.ingressIfindex : session.egressIfindex;
  if (session.local || egress === 0 || egress === expected) return 'unchanged';
  const moved: Session = fromServer ? { ...session, ingressIfindex: egress } : { ...session, egressIfindex: egress };
  const verdict = judge(moved, policies, zones);
  if (verdict === null) {
    sessions.close(session, 'route change');
    return 'closed';
  }
  sessions.reroute(session, {
    ingressIfindex: moved.ingressIfindex, egressIfindex: moved.egressIfindex,
    policyId: verdict.policyId, policyName: verdict.policyName,
    fromZone: verdict.fromZone.name, fromZoneId: verdict.fromZone.id,
    toZone: verdict.toZoneName, toZoneId: verdict.toZoneId,
    filters: filtersOf(moved, filters),
  });
  return 'moved';
}

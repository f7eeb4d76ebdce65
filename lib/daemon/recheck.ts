// After a reload, every existing session is judged again under the new
// config: zones from its interfaces, then policy (or host-inbound-traffic and
// the `to-zone junos-host` rules for sessions to the box). Those no longer permitted are closed with the
// reason 'policy change'; the others keep forwarding, relabelled if another
// policy now permits them, with the verdicts of the new filters cached in
// their entries (so a filter that now discards a flow drops it in XDP), and
// with per-packet terms, the new filters' residual programs interned and named.
import type { Zone } from '../config/types.js';
import { SESSION_KEY } from '../dataplane/layout.js';
import type { PolicyEngine } from '../policy/engine.js';
import { hostInboundAllows } from '../policy/host-inbound.js';
import { JUNOS_HOST } from '../config/unsupported-report.js';
import { AF_INET, IPPROTO_ICMP, IPPROTO_ICMPV6 } from '../session/flow-key.js';
import type { DirectionFilters, Session, SessionFilters, SessionTable } from '../session/table.js';
import type { FilterDescriptor } from '../filter/descriptor.js';
import type { FlowFilters } from '../slowpath/flow-filters.js';

const ICMP_ECHO = 8;
const ICMPV6_ECHO = 128;

export interface RecheckResult {
  kept: number;
  relabelled: number;
  /** Sessions whose cached filter verdicts changed. */
  refiltered: number;
  closed: Session[];
}

/** What a recheck will do, computed without touching the table: a reload plans it before it switches anything. */
export interface RecheckPlan {
  kept: number;
  close: Session[];
  relabel: Array<{ session: Session; label: Parameters<SessionTable['relabel']>[1] }>;
  refilter: Array<{ session: Session; filters: SessionFilters }>;
}

export function planRecheck(
  sessions: SessionTable,
  policies: PolicyEngine,
  zoneByIfindex: ReadonlyMap<number, Zone>,
  filters: FlowFilters,
): RecheckPlan {
  const plan: RecheckPlan = { kept: 0, close: [], relabel: [], refilter: [] };
  for (const s of sessions.sessions()) {
    const verdict = judge(s, policies, zoneByIfindex);
    if (verdict === null) {
      plan.close.push(s);
      continue;
    }
    const cached = filtersOf(s, filters);
    // Another routing table may send the flow out of another interface, into another zone:
    // the session ends, and its next packet is judged as a new flow.
    if (cached.client.input.tableId !== s.filters.client.input.tableId ||
        cached.server.input.tableId !== s.filters.server.input.tableId) {
      plan.close.push(s);
      continue;
    }
    plan.kept++;
    if (verdict.policyId !== s.policyId || verdict.fromZone.id !== s.fromZoneId || verdict.toZoneId !== s.toZoneId) {
      plan.relabel.push({
        session: s,
        label: {
          policyId: verdict.policyId, policyName: verdict.policyName,
          fromZone: verdict.fromZone.name, fromZoneId: verdict.fromZone.id,
          toZone: verdict.toZoneName, toZoneId: verdict.toZoneId,
        },
      });
    }
    if (!sameFilters(cached, s.filters)) plan.refilter.push({ session: s, filters: cached });
  }
  return plan;
}

export function applyRecheck(sessions: SessionTable, plan: RecheckPlan): RecheckResult {
  for (const s of plan.close) sessions.close(s, 'policy change');
  for (const { session, label } of plan.relabel) sessions.relabel(session, label);
  for (const { session, filters } of plan.refilter) sessions.setFilters(session, filters);
  return { kept: plan.kept, relabelled: plan.relabel.length, refiltered: plan.refilter.length, closed: plan.close };
}

export function recheckSessions(
  sessions: SessionTable,
  policies: PolicyEngine,
  zoneByIfindex: ReadonlyMap<number, Zone>,
  filters: FlowFilters,
): RecheckResult {
  return applyRecheck(sessions, planRecheck(sessions, policies, zoneByIfindex, filters));
}

export function filtersOf(s: Session, filters: FlowFilters): SessionFilters {
  const len = s.key[SESSION_KEY.offset.family] === AF_INET ? 4 : 16;
  const src = SESSION_KEY.offset.src_addr;
  const dst = SESSION_KEY.offset.dst_addr;
  const t = s.tuple;
  return filters.sessionFilters({
    family: s.key[SESSION_KEY.offset.family]!, protocol: t.protocol,
    source: s.key.subarray(src, src + len), destination: s.key.subarray(dst, dst + len),
    sourcePort: t.sourcePort, destinationPort: t.destinationPort, icmpType: s.icmpType,
  }, s.first, s.ingressIfindex, s.egressIfindex, s.local);
}

function sameFilters(a: SessionFilters, b: SessionFilters): boolean {
  const dir = (x: DirectionFilters, y: DirectionFilters): boolean => same(x.input, y.input) && same(x.output, y.output);
  return dir(a.client, b.client) && dir(a.server, b.server);
}

function same(a: FilterDescriptor, b: FilterDescriptor): boolean {
  return a.filterId === b.filterId && a.termId === b.termId && a.counter === b.counter && a.tableId === b.tableId &&
    a.action === b.action && a.flags === b.flags && a.rejectReason === b.rejectReason && a.program === b.program;
}

export interface Verdict {
  policyId: number;
  policyName: string;
  fromZone: Zone;
  toZoneName: string;
  toZoneId: number;
}

export function judge(s: Session, policies: PolicyEngine, zones: ReadonlyMap<number, Zone>): Verdict | null {
  const fromZone = zones.get(s.ingressIfindex);
  if (!fromZone) return null;
  const t = s.tuple;
  const echoType = t.protocol === IPPROTO_ICMP ? ICMP_ECHO : t.protocol === IPPROTO_ICMPV6 ? ICMPV6_ECHO : undefined;
  const len = s.key[SESSION_KEY.offset.family] === AF_INET ? 4 : 16;
  const src = SESSION_KEY.offset.src_addr;
  const dst = SESSION_KEY.offset.dst_addr;
  const query = (toZone: string) => ({
    fromZone: fromZone.name, toZone, family: t.family, protocol: t.protocol,
    source: s.key.subarray(src, src + len), destination: s.key.subarray(dst, dst + len),
    sourcePort: t.sourcePort, destinationPort: t.destinationPort, icmpType: echoType, icmpCode: echoType === undefined ? undefined : 0,
  });
  if (s.local) {
    if (s.boxConnection) return { policyId: s.policyId, policyName: s.policyName, fromZone, toZoneName: s.toZone, toZoneId: s.toZoneId };
    if (!hostInboundAllows(fromZone, t.protocol, t.destinationPort, echoType)) return null;
    // The zone pair's `to-zone junos-host` rules, as for a first packet; none matching: admitted.
    const h = policies.lookupHost(query(JUNOS_HOST));
    if (h && h.action !== 'permit') return null;
    return { policyId: h?.policyId ?? 0, policyName: h?.policyName ?? 'host-inbound-traffic', fromZone, toZoneName: s.toZone, toZoneId: s.toZoneId };
  }
  const toZone = zones.get(s.egressIfindex);
  if (!toZone) return null;
  const d = policies.lookup(query(toZone.name));
  if (d.action !== 'permit') return null;
  return { policyId: d.policyId, policyName: d.policyName, fromZone, toZoneName: toZone.name, toZoneId: toZone.id };
}

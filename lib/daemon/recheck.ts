// After a reload, every existing session is judged again under the new
// config: zones from its interfaces, then policy (or host-inbound-traffic
// for sessions to the box). Those no longer permitted are closed with the
// reason 'policy change'; the others keep forwarding, relabelled if another
// policy now permits them.
import type { Zone } from '../config/types.js';
import { SESSION_KEY } from '../dataplane/layout.js';
import type { PolicyEngine } from '../policy/engine.js';
import { hostInboundAllows } from '../policy/host-inbound.js';
import { AF_INET, IPPROTO_ICMP, IPPROTO_ICMPV6 } from '../session/flow-key.js';
import type { Session, SessionTable } from '../session/table.js';

const ICMP_ECHO = 8;
const ICMPV6_ECHO = 128;

export interface RecheckResult {
  kept: number;
  relabelled: number;
  closed: Session[];
}

export function recheckSessions(
  sessions: SessionTable,
  policies: PolicyEngine,
  zoneByIfindex: ReadonlyMap<number, Zone>,
): RecheckResult {
  const result: RecheckResult = { kept: 0, relabelled: 0, closed: [] };
  for (const s of [...sessions.sessions()]) {
    const verdict = judge(s, policies, zoneByIfindex);
    if (verdict === null) {
      sessions.close(s, 'policy change');
      result.closed.push(s);
      continue;
    }
    result.kept++;
    if (verdict.policyId !== s.policyId || verdict.fromZone.id !== s.fromZoneId || verdict.toZoneId !== s.toZoneId) {
      sessions.relabel(s, {
        policyId: verdict.policyId, policyName: verdict.policyName,
        fromZone: verdict.fromZone.name, fromZoneId: verdict.fromZone.id,
        toZone: verdict.toZoneName, toZoneId: verdict.toZoneId,
      });
      result.relabelled++;
    }
  }
  return result;
}

interface Verdict {
  policyId: number;
  policyName: string;
  fromZone: Zone;
  toZoneName: string;
  toZoneId: number;
}

function judge(s: Session, policies: PolicyEngine, zones: ReadonlyMap<number, Zone>): Verdict | null {
  const fromZone = zones.get(s.ingressIfindex);
  if (!fromZone) return null;
  const t = s.tuple;
  const echoType = t.protocol === IPPROTO_ICMP ? ICMP_ECHO : t.protocol === IPPROTO_ICMPV6 ? ICMPV6_ECHO : undefined;
  if (s.local) {
    if (!hostInboundAllows(fromZone, t.protocol, t.destinationPort, echoType)) return null;
    return { policyId: s.policyId, policyName: s.policyName, fromZone, toZoneName: s.toZone, toZoneId: s.toZoneId };
  }
  const toZone = zones.get(s.egressIfindex);
  if (!toZone) return null;
  const len = s.key[SESSION_KEY.offset.family] === AF_INET ? 4 : 16;
  const src = SESSION_KEY.offset.src_addr;
  const dst = SESSION_KEY.offset.dst_addr;
  const d = policies.lookup({
    fromZone: fromZone.name, toZone: toZone.name, family: t.family, protocol: t.protocol,
    source: s.key.subarray(src, src + len), destination: s.key.subarray(dst, dst + len),
    sourcePort: t.sourcePort, destinationPort: t.destinationPort, icmpType: echoType, icmpCode: echoType === undefined ? undefined : 0,
  });
  if (d.action !== 'permit') return null;
  return { policyId: d.policyId, policyName: d.policyName, fromZone, toZoneName: toZone.name, toZoneId: toZone.id };
}

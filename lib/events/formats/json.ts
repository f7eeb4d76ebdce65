// One JSON object per event (JSON lines): every id with its name beside it
// (null when the id names nothing), the Junos tag, and for filter logs the
// filter, term and filter-log source the Junos line has no room for.
import { protocolName } from '../../session/flow-key.js';
import { SCREENS } from '../screens.js';
import type { SecurityEvent } from '../types.js';
import type { FormatContext } from './context.js';
import { CLOSE_REASON_TEXT, filterIfindex, header } from './junos.js';
import { isoTime } from './time.js';

export function formatJson(ev: SecurityEvent, ctx: FormatContext): string {
  const n = ctx.names;
  // Built by assignment in a fixed order, not by spreading: spread objects
  // stringify an order of magnitude slower.
  const o: Record<string, unknown> = {
    timestamp: isoTime(ev.timestampNs),
    // ns since the epoch, as a string: it does not fit a double.
    timestampNs: String(ev.timestampNs),
    hostname: ctx.hostname,
    kind: ev.kind,
    tag: header(ev).msgId,
    family: ev.family,
    protocol: ev.protocol,
    protocolName: protocolName(ev.protocol),
    sourceAddress: ev.sourceAddress,
    sourcePort: ev.sourcePort,
    destinationAddress: ev.destinationAddress,
    destinationPort: ev.destinationPort,
    icmpType: ev.icmpType,
    ingressIfindex: ev.ingressIfindex,
    ingressInterface: n.interface(ev.ingressIfindex),
    sourceZoneId: ev.ingressZone,
    sourceZone: n.zone(ev.ingressZone),
  };
  if (ev.kind === 'screen-drop') {
    o.screen = ev.screen;
    o.attackName = SCREENS[ev.screen].attackName;
    o.action = ev.action;
    return JSON.stringify(o);
  }
  o.egressIfindex = ev.egressIfindex;
  o.egressInterface = n.interface(ev.egressIfindex);
  o.destinationZoneId = ev.egressZone;
  o.destinationZone = n.zone(ev.egressZone);
  if (ev.kind === 'filter-log') {
    o.filterId = ev.filterId;
    o.filter = n.filter(ev.filterId);
    o.termId = ev.termId;
    o.term = n.term(ev.filterId, ev.termId);
    o.filterSource = ev.source;
    o.filterInterface = n.interface(filterIfindex(ev));
    o.action = ev.action;
    o.sessionId = ev.sessionId;
    return JSON.stringify(o);
  }
  if (ev.kind !== 'policy-deny') o.sessionId = ev.sessionId;
  // The Junos nat-* fields: the tuple as it leaves translated (absent: untranslated).
  if ((ev.kind === 'session-create' || ev.kind === 'session-close') && ev.nat) o.nat = ev.nat;
  o.policyId = ev.policyId;
  o.policy = n.policy(ev.policyId);
  o.policySet = n.policySet(ev.policyId);
  o.application = n.application(ev);
  if (ev.kind === 'policy-deny') {
    o.action = ev.action;
  } else if (ev.kind === 'session-close') {
    o.reason = ev.reason;
    o.reasonText = CLOSE_REASON_TEXT[ev.reason];
    o.packetsFromClient = ev.packetsFromClient;
    o.bytesFromClient = ev.bytesFromClient;
    o.packetsFromServer = ev.packetsFromServer;
    o.bytesFromServer = ev.bytesFromServer;
    o.elapsedSeconds = ev.elapsedSeconds;
  }
  return JSON.stringify(o);
}

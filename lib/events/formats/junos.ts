// The Junos vocabulary the syslog formats share: tags, priorities, reason
// texts and placeholders, as SRX devices write them (shared/REFERENCE.md).
import { SCREENS, type ScreenTag } from '../screens.js';
import type { CloseReason, EventKind, FilterLogEvent, FlowEvent, SecurityEvent } from '../types.js';
import type { FormatContext } from './context.js';

/**
 * SD-ID of every structured line. The last number is the platform's
 * jnxProductName OID (JUNIPER-CHASSIS-DEFINES-MIB: jnxProductNameVSRX is
 * 1.3.6.1.4.1.2636.1.1.1.2.129, as in pysnmp-mibs' copy of the MIB), and
 * real vSRX lines carry it: the RT_SCREEN_TCP samples of Elastic's
 * juniper_srx test-ids.log, the RT_FLOW_SESSION_CLOSE sample of syslog-ng's
 * app-parser tests. xdpfw presents itself as a vSRX.
 */
export const SD_ID = 'junos@2636.1.1.1.2.129';

/** APP-NAME (RFC 5424) / TAG (RFC 3164), PRI and MSGID of an event. */
export interface Header {
  app: string;
  pri: number;
  msgId: string;
}

// user.info for flow logs, user.err for screens (observed on SRX); local3.info
// for firewall filter logs, as in REFERENCE.md's PFE_FW_SYSLOG_IP line.
const flow = (msgId: string): Header => ({ app: 'RT_FLOW', pri: 14, msgId });
const ids = (msgId: ScreenTag): Header => ({ app: 'RT_IDS', pri: 11, msgId });
export const FILTER_TAG = 'PFE_FW_SYSLOG_IP';

const HEADERS = {
  'session-create': flow('RT_FLOW_SESSION_CREATE'),
  'session-close': flow('RT_FLOW_SESSION_CLOSE'),
  'policy-deny': flow('RT_FLOW_SESSION_DENY'),
  'filter-log': { app: 'PFE', pri: 158, msgId: FILTER_TAG },
} as const satisfies Record<Exclude<EventKind, 'screen-drop'>, Header>;

const SCREEN_HEADERS = Object.fromEntries(
  Object.values(SCREENS).map((s) => [s.tag, ids(s.tag)]),
) as Record<ScreenTag, Header>;

export function header(ev: SecurityEvent): Header {
  return ev.kind === 'screen-drop' ? SCREEN_HEADERS[SCREENS[ev.screen].tag] : HEADERS[ev.kind];
}

/** Junos's own words for why a session closed. */
export const CLOSE_REASON_TEXT: Readonly<Record<CloseReason, string>> = {
  'tcp-fin': 'TCP FIN',
  'tcp-rst': 'TCP RST',
  'idle-timeout': 'idle Timeout',
  cleared: 'CLI',
  'policy-change': 'policy delete',
  'route-change': 'route change',
};

export const NA = 'N/A';
export const UNKNOWN = 'UNKNOWN';
const NONE = 'None';

/** Names of a flow event's ids, with the placeholders Junos writes for missing ones. */
export interface FlowNames {
  service: string;
  policy: string;
  fromZone: string;
  toZone: string;
  ingress: string;
}

export function flowNames(ev: FlowEvent, ctx: FormatContext): FlowNames {
  const n = ctx.names;
  return {
    service: n.application(ev) ?? NONE,
    policy: n.policy(ev.policyId) ?? NA,
    fromZone: n.zone(ev.ingressZone) ?? NA,
    toZone: n.zone(ev.egressZone) ?? NA,
    ingress: n.interface(ev.ingressIfindex) ?? NA,
  };
}

/** The interface whose filter logged: the egress one for output filters. */
export function filterIfindex(ev: FilterLogEvent): number {
  return ev.source === 'output' || ev.source === 'cached-output' ? ev.egressIfindex : ev.ingressIfindex;
}

/** Junos's screen action words. */
export function screenAction(action: 'drop' | 'alarm'): string {
  return action === 'drop' ? 'drop' : 'alarm-without-drop';
}

// RFC 5424 with Junos structured data, as an SRX writes it with
// `structured-data brief`: header, one SD element, nothing after its `]`
// (parsers anchor on it). Parameter order follows real SRX lines: CREATE as in
// shared/REFERENCE.md, CLOSE and DENY as in the current-release samples of
// Elastic's juniper_srx test-flow.log, screens per tag as in its test-ids.log.
import { SCREENS } from '../screens.js';
import type {
  FilterLogEvent, PolicyDenyEvent, ScreenDropEvent, SecurityEvent, SessionCloseEvent, SessionCreateEvent,
} from '../types.js';
import type { FormatContext } from './context.js';
import { CLOSE_REASON_TEXT, NA, SD_ID, UNKNOWN, filterIfindex, flowNames, header, screenAction, type FlowNames } from './junos.js';
import { rfc5424Time } from './time.js';

const NEEDS_ESCAPE = /["\\\]]/;
const ESCAPED = /["\\\]]/g;

/** ` name="value"` with `"`, `\` and `]` escaped (RFC 5424 §6.3.3). */
function p(name: string, value: string | number): string {
  const v = typeof value === 'string' && NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, '\\$&') : value;
  return ` ${name}="${v}"`;
}

// Constant parts: xdpfw identifies no applications and users.
const APPLICATION = p('application', UNKNOWN) + p('nested-application', UNKNOWN);
const USER = p('username', NA) + p('roles', NA);
const APP_RISK = p('application-category', NA) + p('application-sub-category', NA) + p('application-risk', 1) + p('application-characteristics', NA);

export function formatStructured(ev: SecurityEvent, ctx: FormatContext): string {
  const h = header(ev);
  return `<${h.pri}>1 ${rfc5424Time(ev.timestampNs)} ${ctx.hostname} ${h.app} - ${h.msgId} [${SD_ID}${params(ev, ctx)}]`;
}

function params(ev: SecurityEvent, ctx: FormatContext): string {
  switch (ev.kind) {
    case 'session-create': {
      const n = flowNames(ev, ctx);
      return sessionHead(ev, n) + identity(n) + APPLICATION + p('encrypted', UNKNOWN) + APP_RISK;
    }
    case 'session-close': {
      const n = flowNames(ev, ctx);
      return p('reason', CLOSE_REASON_TEXT[ev.reason]) + sessionHead(ev, n) + counts(ev) + APPLICATION + identity(n) + p('encrypted', 'No') + APP_RISK;
    }
    case 'policy-deny':
      return deny(ev, flowNames(ev, ctx));
    case 'screen-drop':
      return screen(ev, ctx);
    case 'filter-log':
      return filterLog(ev, ctx);
  }
}

/** From the tuple to session-id-32: what CREATE and CLOSE share (no NAT: translated = original). */
function sessionHead(ev: SessionCreateEvent | SessionCloseEvent, n: FlowNames): string {
  const nat = ev.nat;
  return (
    p('source-address', ev.sourceAddress) + p('source-port', ev.sourcePort) +
    p('destination-address', ev.destinationAddress) + p('destination-port', ev.destinationPort) +
    p('connection-tag', 0) + p('service-name', n.service) +
    p('nat-source-address', nat?.sourceAddress ?? ev.sourceAddress) + p('nat-source-port', nat?.sourcePort ?? ev.sourcePort) +
    p('nat-destination-address', nat?.destinationAddress ?? ev.destinationAddress) +
    p('nat-destination-port', nat?.destinationPort ?? ev.destinationPort) +
    p('nat-connection-tag', 0) + p('src-nat-rule-type', nat?.sourceRuleType ?? NA) + p('src-nat-rule-name', nat?.sourceRuleName ?? NA) +
    p('dst-nat-rule-type', nat?.destinationRuleType ?? NA) + p('dst-nat-rule-name', nat?.destinationRuleName ?? NA) + p('protocol-id', ev.protocol) +
    p('policy-name', n.policy) + p('source-zone-name', n.fromZone) + p('destination-zone-name', n.toZone) +
    p('session-id-32', ev.sessionId)
  );
}

/** CREATE names the user and interface before the application, CLOSE after it. */
function identity(n: FlowNames): string {
  return USER + p('packet-incoming-interface', n.ingress);
}

function counts(ev: SessionCloseEvent): string {
  return (
    p('packets-from-client', ev.packetsFromClient) + p('bytes-from-client', ev.bytesFromClient) +
    p('packets-from-server', ev.packetsFromServer) + p('bytes-from-server', ev.bytesFromServer) +
    p('elapsed-time', ev.elapsedSeconds)
  );
}

function deny(ev: PolicyDenyEvent, n: FlowNames): string {
  return (
    p('source-address', ev.sourceAddress) + p('source-port', ev.sourcePort) +
    p('destination-address', ev.destinationAddress) + p('destination-port', ev.destinationPort) +
    p('connection-tag', 0) + p('service-name', n.service) + p('protocol-id', ev.protocol) + p('icmp-type', ev.icmpType) +
    p('policy-name', n.policy) + p('source-zone-name', n.fromZone) + p('destination-zone-name', n.toZone) +
    APPLICATION + identity(n) + p('encrypted', UNKNOWN) +
    p('reason', ev.action === 'deny' ? 'Denied by policy' : 'Rejected by policy') +
    // A denied flow never becomes a session.
    p('session-id-32', 0) + APP_RISK
  );
}

function screen(ev: ScreenDropEvent, ctx: FormatContext): string {
  const tag = SCREENS[ev.screen].tag;
  const ports = tag === 'RT_SCREEN_TCP' || tag === 'RT_SCREEN_UDP';
  return (
    p('attack-name', SCREENS[ev.screen].attackName) +
    p('source-address', ev.sourceAddress) + (ports ? p('source-port', ev.sourcePort) : '') +
    p('destination-address', ev.destinationAddress) + (ports ? p('destination-port', ev.destinationPort) : '') +
    (tag === 'RT_SCREEN_IP' ? p('protocol-id', ev.protocol) : '') +
    p('source-zone-name', ctx.names.zone(ev.ingressZone) ?? NA) +
    p('interface-name', ctx.names.interface(ev.ingressIfindex) ?? NA) + p('action', screenAction(ev.action))
  );
}

/** Junos's own PFE line has no structured form: these are its fields, then xdpfw's filter, term and source. */
function filterLog(ev: FilterLogEvent, ctx: FormatContext): string {
  const n = ctx.names;
  return (
    p('interface-name', n.interface(filterIfindex(ev)) ?? NA) + p('action', ev.action) + p('protocol-id', ev.protocol) +
    p('source-address', ev.sourceAddress) + p('destination-address', ev.destinationAddress) +
    p('source-port', ev.sourcePort) + p('destination-port', ev.destinationPort) + p('packet-count', 1) +
    p('filter-name', n.filter(ev.filterId) ?? NA) + p('term-name', n.term(ev.filterId, ev.termId) ?? NA) +
    p('filter-source', ev.source)
  );
}

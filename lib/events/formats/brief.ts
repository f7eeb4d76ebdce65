// The Junos brief text form (shared/REFERENCE.md): `TIMESTAMP HOST TAG: MSGID:
// text`, as an SRX writes it to its log files, fields in Junos's fixed order.
// Firewall filter logs are Junos's PFE_FW_SYSLOG_IP line, which has no room
// for the filter, term or filter-log source (the JSON and structured formats
// carry them).
import { protocolName } from '../../session/flow-key.js';
import { SCREENS } from '../screens.js';
import type { FilterLogEvent, PolicyDenyEvent, ScreenDropEvent, SecurityEvent, SessionCloseEvent, SessionCreateEvent } from '../types.js';
import type { FormatContext } from './context.js';
import { CLOSE_REASON_TEXT, FILTER_TAG, NA, UNKNOWN, filterIfindex, flowNames, header, screenAction, type FlowNames } from './junos.js';
import { bsdTime } from './time.js';

export function formatBrief(ev: SecurityEvent, ctx: FormatContext): string {
  const at = `${bsdTime(ev.timestampNs)} ${ctx.hostname}`;
  if (ev.kind === 'filter-log') return `${at} ${FILTER_TAG}: ${filterLog(ev, ctx)}`;
  const h = header(ev);
  return `${at} ${h.app}: ${h.msgId}: ${text(ev, ctx)}`;
}

function text(ev: Exclude<SecurityEvent, FilterLogEvent>, ctx: FormatContext): string {
  switch (ev.kind) {
    case 'session-create': {
      const n = flowNames(ev, ctx);
      return `session created ${session(ev, n)} N/A(N/A) ${n.ingress}`;
    }
    case 'session-close':
      return close(ev, flowNames(ev, ctx));
    case 'policy-deny':
      return deny(ev, ctx);
    case 'screen-drop':
      return screen(ev, ctx);
  }
}

function tuple(ev: Pick<SecurityEvent, 'sourceAddress' | 'sourcePort' | 'destinationAddress' | 'destinationPort'>): string {
  return `${ev.sourceAddress}/${ev.sourcePort}->${ev.destinationAddress}/${ev.destinationPort}`;
}

/** From the tuple to the session id: src->dst service nat-src->nat-dst src-nat-rule dst-nat-rule proto policy zones id. */
function session(ev: SessionCreateEvent | SessionCloseEvent, n: FlowNames): string {
  const t = tuple(ev);
  const nat = ev.nat;
  const translated = nat ? tuple(nat) : t;
  const src = nat?.sourceRuleName ? `${nat.sourceRuleType} ${nat.sourceRuleName}` : 'None';
  const dst = nat?.destinationRuleName ? `${nat.destinationRuleType} ${nat.destinationRuleName}` : 'None';
  return `${t} ${n.service} ${translated} ${src} ${dst} ${ev.protocol} ${n.policy} ${n.fromZone} ${n.toZone} ${ev.sessionId}`;
}

function close(ev: SessionCloseEvent, n: FlowNames): string {
  const counts = `${ev.packetsFromClient}(${ev.bytesFromClient}) ${ev.packetsFromServer}(${ev.bytesFromServer}) ${ev.elapsedSeconds}`;
  return `session closed ${CLOSE_REASON_TEXT[ev.reason]}: ${session(ev, n)} ${counts} ${UNKNOWN} ${UNKNOWN} N/A(N/A) ${n.ingress} No`;
}

function deny(ev: PolicyDenyEvent, ctx: FormatContext): string {
  const n = flowNames(ev, ctx);
  const set = ctx.names.policySet(ev.policyId) ?? NA;
  return (
    `session denied ${tuple(ev)} ${n.service} ${ev.protocol}(${ev.icmpType}) ${n.policy}(${set}) ${n.fromZone} ${n.toZone} ` +
    `${UNKNOWN} ${UNKNOWN} N/A(N/A) ${n.ingress} ${UNKNOWN} policy ${ev.action}`
  );
}

function screen(ev: ScreenDropEvent, ctx: FormatContext): string {
  const { attackName, tag } = SCREENS[ev.screen];
  const ports = tag === 'RT_SCREEN_TCP' || tag === 'RT_SCREEN_UDP';
  const src = ports ? `${ev.sourceAddress}:${ev.sourcePort}` : ev.sourceAddress;
  const dst = ports ? `${ev.destinationAddress}:${ev.destinationPort}` : ev.destinationAddress;
  const proto = tag === 'RT_SCREEN_IP' ? `, protocol-id: ${ev.protocol}` : '';
  const zone = ctx.names.zone(ev.ingressZone) ?? NA;
  const ifname = ctx.names.interface(ev.ingressIfindex) ?? NA;
  return `${attackName} source: ${src}, destination: ${dst}${proto}, zone name: ${zone}, interface name: ${ifname}, action: ${screenAction(ev.action)}`;
}

const ACTION_LETTER = { accept: 'A', discard: 'D', reject: 'R' } as const;

/** `FW: <interface, 12 wide> <A|D|R> <protocol, 4 wide> src dst <sport, 5 wide> <dport, 5 wide> (1 packets)`. */
function filterLog(ev: FilterLogEvent, ctx: FormatContext): string {
  const ifname = (ctx.names.interface(filterIfindex(ev)) ?? NA).padEnd(12);
  const proto = protocolName(ev.protocol).padStart(4);
  const ports = `${String(ev.sourcePort).padStart(5)} ${String(ev.destinationPort).padStart(5)}`;
  return `FW: ${ifname} ${ACTION_LETTER[ev.action]} ${proto} ${ev.sourceAddress} ${ev.destinationAddress} ${ports} (1 packets)`;
}

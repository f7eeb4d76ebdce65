// struct xdpfw_event <-> SecurityEvent. The layout is EVENT (checked against
// BTF by verifyLayouts); every enum value comes from the BTF of the compiled
// object, so C stays the single definition of the numbering.
import { EVENT } from '../dataplane/layout.js';
import { EnumCodec } from '../dataplane/enum-codec.js';
import { btfEnum, monotonicNs, realtimeNs } from '../dataplane/native.js';
import { AF_INET, AF_INET6, familyName } from '../session/flow-key.js';
import { formatAddress, writeAddress } from './address.js';
import { SCREEN_NAMES, type ScreenName } from './screens.js';
import {
  CLOSE_REASONS,
  EVENT_ACTIONS,
  EVENT_KINDS,
  FILTER_LOG_SOURCES,
  type CloseReason,
  type EventAction,
  type EventBase,
  type EventKind,
  type FilterLogSource,
  type SecurityEvent,
} from './types.js';

/** What the compiled object says about event records. */
export interface EventConstants {
  version: number;
  kinds: EnumCodec<EventKind>;
  actions: EnumCodec<EventAction>;
  closeReasons: EnumCodec<CloseReason>;
  filterSources: EnumCodec<FilterLogSource>;
  screens: EnumCodec<ScreenName>;
}

export function readEventConstants(objectPath: string): EventConstants {
  const version = btfEnum(objectPath, 'xdpfw_constants').XDPFW_EVENT_VERSION;
  if (version === undefined) throw new Error(`BPF object ${objectPath} lacks XDPFW_EVENT_VERSION`);
  return {
    version,
    kinds: new EnumCodec(objectPath, 'xdpfw_event_kind', 'XDPFW_EVENT_', EVENT_KINDS),
    actions: new EnumCodec(objectPath, 'xdpfw_event_action', 'XDPFW_ACTION_', EVENT_ACTIONS),
    closeReasons: new EnumCodec(objectPath, 'xdpfw_close_reason', 'XDPFW_CLOSE_', CLOSE_REASONS),
    filterSources: new EnumCodec(objectPath, 'xdpfw_filter_source', 'XDPFW_FILTER_', FILTER_LOG_SOURCES),
    screens: new EnumCodec(objectPath, 'xdpfw_screen', 'XDPFW_SCREEN_', SCREEN_NAMES),
  };
}

/** CLOCK_REALTIME - CLOCK_MONOTONIC now: what turns a BPF event's monotonic_ns into wall-clock time. */
export function realtimeOffsetNs(): bigint {
  return realtimeNs() - monotonicNs();
}

const O = EVENT.offset;

/** Encodes and decodes struct xdpfw_event (host byte order, except ports and addresses). */
export class EventCodec {
  constructor(private readonly c: EventConstants) {}

  /** Writes `ev` into the first EVENT.size bytes of `out`. */
  encode(ev: SecurityEvent, out: Buffer): void {
    const c = this.c;
    out.fill(0, 0, EVENT.size);
    out[O.version] = c.version;
    out[O.kind] = c.kinds.value(ev.kind);
    out[O.family] = ev.family === 'inet6' ? AF_INET6 : AF_INET;
    out[O.protocol] = ev.protocol;
    out[O.icmp_type] = ev.icmpType;
    out.writeUInt16BE(ev.sourcePort, O.src_port);
    out.writeUInt16BE(ev.destinationPort, O.dst_port);
    out.writeUInt16LE(ev.ingressZone, O.ingress_zone);
    out.writeUInt32LE(ev.ingressIfindex, O.ingress_ifindex);
    out.writeBigUInt64LE(ev.timestampNs, O.timestamp_ns);
    out.writeBigUInt64LE(ev.monotonicNs, O.monotonic_ns);
    writeAddress(ev.sourceAddress, ev.family, out, O.src_addr);
    writeAddress(ev.destinationAddress, ev.family, out, O.dst_addr);
    if (ev.kind !== 'screen-drop') {
      out.writeUInt16LE(ev.egressZone, O.egress_zone);
      out.writeUInt32LE(ev.egressIfindex, O.egress_ifindex);
    }
    if (ev.kind === 'session-create' || ev.kind === 'session-close') {
      out[O.action] = c.actions.value('permit');
      out.writeBigUInt64LE(BigInt(ev.sessionId), O.session_id);
      out.writeUInt32LE(ev.policyId, O.policy_id);
    }
    switch (ev.kind) {
      case 'session-create':
        break;
      case 'session-close':
        out[O.close_reason] = c.closeReasons.value(ev.reason);
        out.writeBigUInt64LE(BigInt(ev.packetsFromClient), O.packets_from_client);
        out.writeBigUInt64LE(BigInt(ev.bytesFromClient), O.bytes_from_client);
        out.writeBigUInt64LE(BigInt(ev.packetsFromServer), O.packets_from_server);
        out.writeBigUInt64LE(BigInt(ev.bytesFromServer), O.bytes_from_server);
        out.writeUInt32LE(ev.elapsedSeconds, O.elapsed_s);
        break;
      case 'policy-deny':
        out[O.action] = c.actions.value(ev.action);
        out.writeUInt32LE(ev.policyId, O.policy_id);
        break;
      case 'screen-drop':
        out[O.action] = c.actions.value(ev.action);
        out.writeUInt32LE(c.screens.value(ev.screen), O.screen_id);
        break;
      case 'filter-log':
        out[O.action] = c.actions.value(ev.action);
        out[O.filter_source] = c.filterSources.value(ev.source);
        out.writeUInt32LE(ev.filterId, O.filter_id);
        out.writeUInt32LE(ev.termId, O.term_id);
        out.writeBigUInt64LE(BigInt(ev.sessionId), O.session_id);
        break;
    }
  }

  /**
   * Reads one record. BPF records carry only monotonic time: `realtimeOffset`
   * (see realtimeOffsetNs) turns it into wall-clock time. Throws on a record
   * of another version or with values this build does not know.
   */
  decode(b: Buffer, realtimeOffset: bigint): SecurityEvent {
    const c = this.c;
    if (b.length < EVENT.size) throw new Error(`event record: ${b.length} bytes, expected ${EVENT.size}`);
    if (b[O.version] !== c.version) throw new Error(`event record: version ${b[O.version]}, expected ${c.version}`);
    if (b[O.family] !== AF_INET && b[O.family] !== AF_INET6) throw new Error(`event record: unknown family ${b[O.family]}`);
    const family = familyName(b[O.family]);
    const monotonic = b.readBigUInt64LE(O.monotonic_ns);
    const stamped = b.readBigUInt64LE(O.timestamp_ns);
    const base: EventBase = {
      timestampNs: stamped !== 0n ? stamped : monotonic + realtimeOffset,
      monotonicNs: monotonic,
      family,
      protocol: b[O.protocol],
      sourceAddress: formatAddress(b.subarray(O.src_addr, O.src_addr + 16), family),
      sourcePort: b.readUInt16BE(O.src_port),
      destinationAddress: formatAddress(b.subarray(O.dst_addr, O.dst_addr + 16), family),
      destinationPort: b.readUInt16BE(O.dst_port),
      icmpType: b[O.icmp_type],
      ingressIfindex: b.readUInt32LE(O.ingress_ifindex),
      ingressZone: b.readUInt16LE(O.ingress_zone),
    };
    const egress = { egressIfindex: b.readUInt32LE(O.egress_ifindex), egressZone: b.readUInt16LE(O.egress_zone) };
    const kind = c.kinds.name(b[O.kind], 'kind');
    const u64 = (at: number): number => Number(b.readBigUInt64LE(at));
    const action = <A extends EventAction>(allowed: readonly A[]): A => {
      const a = c.actions.name(b[O.action], 'action');
      if (!(allowed as readonly EventAction[]).includes(a)) throw new Error(`event record: action ${a} does not fit kind ${kind}`);
      return a as A;
    };
    switch (kind) {
      case 'session-create':
        return { kind, ...base, ...egress, sessionId: u64(O.session_id), policyId: b.readUInt32LE(O.policy_id) };
      case 'session-close':
        return {
          kind,
          ...base,
          ...egress,
          sessionId: u64(O.session_id),
          policyId: b.readUInt32LE(O.policy_id),
          reason: c.closeReasons.name(b[O.close_reason], 'close reason'),
          packetsFromClient: u64(O.packets_from_client),
          bytesFromClient: u64(O.bytes_from_client),
          packetsFromServer: u64(O.packets_from_server),
          bytesFromServer: u64(O.bytes_from_server),
          elapsedSeconds: b.readUInt32LE(O.elapsed_s),
        };
      case 'policy-deny':
        return { kind, ...base, ...egress, action: action(['deny', 'reject'] as const), policyId: b.readUInt32LE(O.policy_id) };
      case 'screen-drop':
        return { kind, ...base, screen: c.screens.name(b.readUInt32LE(O.screen_id), 'screen'), action: action(['drop', 'alarm'] as const) };
      case 'filter-log':
        return {
          kind,
          ...base,
          ...egress,
          filterId: b.readUInt32LE(O.filter_id),
          termId: b.readUInt32LE(O.term_id),
          source: c.filterSources.name(b[O.filter_source], 'filter-log source'),
          action: action(['accept', 'discard', 'reject'] as const),
          sessionId: u64(O.session_id),
        };
    }
  }
}

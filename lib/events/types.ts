// Security events as TypeScript sees them: one union member per kind, with
// exactly the facts that kind has. Ids, never names: formatters resolve names
// through a NameResolver when they write. The C record (struct xdpfw_event in
// bpf/xdpfw.h) defines the numbering; these lists name the enumerators
// (XDPFW_EVENT_SESSION_CREATE is 'session-create') and record.ts checks them
// against the BTF of the compiled object.
import type { FamilyName } from '../session/flow-key.js';
import type { ScreenName } from './screens.js';

export const EVENT_KINDS = ['session-create', 'session-close', 'policy-deny', 'screen-drop', 'filter-log'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const EVENT_ACTIONS = ['permit', 'deny', 'reject', 'accept', 'discard', 'alarm', 'drop'] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];

export const CLOSE_REASONS = ['tcp-fin', 'tcp-rst', 'idle-timeout', 'cleared', 'policy-change', 'route-change'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export const FILTER_LOG_SOURCES = ['input', 'output', 'pbr', 'lo0', 'cached-input', 'cached-output', 'cached-lo0'] as const;
export type FilterLogSource = (typeof FILTER_LOG_SOURCES)[number];

/** Dense index of each kind, for per-kind counters kept in arrays. */
export const KIND_INDEX: Readonly<Record<EventKind, number>> = {
  'session-create': 0,
  'session-close': 1,
  'policy-deny': 2,
  'screen-drop': 3,
  'filter-log': 4,
};

/** The packet or flow an event is about, and when and where it was seen. */
export interface EventBase {
  /** Wall clock, ns since the epoch. */
  timestampNs: bigint;
  /** CLOCK_MONOTONIC when a BPF program emitted the event; 0n from the slow path. */
  monotonicNs: bigint;
  family: FamilyName;
  protocol: number;
  sourceAddress: string;
  sourcePort: number;
  destinationAddress: string;
  destinationPort: number;
  /** ICMP/ICMPv6 type; 0 for other protocols. */
  icmpType: number;
  ingressIfindex: number;
  /** Zone id of the ingress interface (0: none). */
  ingressZone: number;
}

/** Where the flow goes: known once a route was looked up. */
interface Egress {
  /** 0: not known. */
  egressIfindex: number;
  /** 0: none (e.g. traffic to the box itself). */
  egressZone: number;
}

/** A translated session's tuple as it leaves toward the server, and the rules that translated it (Junos's nat-* fields). */
export interface EventNat {
  sourceAddress: string;
  sourcePort: number;
  destinationAddress: string;
  destinationPort: number;
  /** `source rule` when a source NAT rule translated it; null: none. */
  sourceRuleType: string | null;
  sourceRuleName: string | null;
  destinationRuleType: string | null;
  destinationRuleName: string | null;
}

export interface SessionCreateEvent extends EventBase, Egress {
  kind: 'session-create';
  sessionId: number;
  policyId: number;
  /** Absent: not translated (the nat-* fields repeat the tuple). */
  nat?: EventNat;
}

export interface SessionCloseEvent extends EventBase, Egress {
  kind: 'session-close';
  sessionId: number;
  policyId: number;
  nat?: EventNat;
  reason: CloseReason;
  packetsFromClient: number;
  bytesFromClient: number;
  packetsFromServer: number;
  bytesFromServer: number;
  elapsedSeconds: number;
}

export interface PolicyDenyEvent extends EventBase, Egress {
  kind: 'policy-deny';
  action: 'deny' | 'reject';
  policyId: number;
}

export interface ScreenDropEvent extends EventBase {
  kind: 'screen-drop';
  screen: ScreenName;
  /** 'alarm': alarm-without-drop, the packet went on. */
  action: 'drop' | 'alarm';
}

export interface FilterLogEvent extends EventBase, Egress {
  kind: 'filter-log';
  filterId: number;
  termId: number;
  source: FilterLogSource;
  action: 'accept' | 'discard' | 'reject';
  /** The session whose cached verdict was replayed (cached-* sources); 0 otherwise. */
  sessionId: number;
}

export type SecurityEvent = SessionCreateEvent | SessionCloseEvent | PolicyDenyEvent | ScreenDropEvent | FilterLogEvent;

/** Events about a flow that a policy judged. */
export type FlowEvent = SessionCreateEvent | SessionCloseEvent | PolicyDenyEvent;

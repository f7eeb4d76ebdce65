// Events and names shared by the events tests: the flows of
// shared/REFERENCE.md's examples (so those lines can be matched exactly), one
// event of every kind, and IPv6 twins.
import type { FormatContext, NameResolver } from '../../lib/events/formats/context.js';
import type {
  FilterLogEvent, FlowEvent, PolicyDenyEvent, ScreenDropEvent, SecurityEvent, SessionCloseEvent, SessionCreateEvent,
} from '../../lib/events/types.js';

/** 2026-03-02 at the given UTC time, in ns since the epoch. */
export function at(h: number, m: number, s: number, ms = 0): bigint {
  return BigInt(Date.UTC(2026, 2, 2, h, m, s, ms)) * 1_000_000n;
}

export const ALLOW_WEB = 0x10001;
export const DENY_DNS = 0xffff0001; // first rule of the global set

const flow = {
  monotonicNs: 0n,
  family: 'inet',
  protocol: 6,
  sourceAddress: '192.0.2.10',
  sourcePort: 40112,
  destinationAddress: '198.51.100.7',
  destinationPort: 443,
  icmpType: 0,
  ingressIfindex: 3,
  ingressZone: 1,
  egressIfindex: 4,
  egressZone: 2,
} as const;

export const CREATE: SessionCreateEvent = { kind: 'session-create', timestampNs: at(10, 15, 4, 120), ...flow, sessionId: 1042, policyId: ALLOW_WEB };

export const CLOSE: SessionCloseEvent = {
  kind: 'session-close',
  timestampNs: at(10, 16, 10),
  ...flow,
  sessionId: 1042,
  policyId: ALLOW_WEB,
  reason: 'tcp-fin',
  packetsFromClient: 12,
  bytesFromClient: 1804,
  packetsFromServer: 10,
  bytesFromServer: 9120,
  elapsedSeconds: 66,
};

export const DENY: PolicyDenyEvent = {
  kind: 'policy-deny',
  timestampNs: at(10, 16, 11),
  ...flow,
  protocol: 17,
  sourcePort: 53124,
  destinationAddress: '203.0.113.5',
  destinationPort: 53,
  action: 'deny',
  policyId: DENY_DNS,
};

export const SCREEN: ScreenDropEvent = {
  kind: 'screen-drop',
  timestampNs: at(10, 16, 30, 500),
  monotonicNs: 0n,
  family: 'inet',
  protocol: 6,
  sourceAddress: '198.51.100.99',
  sourcePort: 40001,
  destinationAddress: '192.0.2.10',
  destinationPort: 80,
  icmpType: 0,
  ingressIfindex: 4,
  ingressZone: 2,
  screen: 'syn-flood',
  action: 'drop',
};

export const FILTER: FilterLogEvent = {
  kind: 'filter-log',
  timestampNs: at(10, 17, 0),
  ...flow,
  sourcePort: 40500,
  destinationAddress: '203.0.113.9',
  destinationPort: 22,
  egressIfindex: 0,
  egressZone: 0,
  filterId: 1,
  termId: 2,
  source: 'input',
  action: 'discard',
  sessionId: 0,
};

export const ALL: readonly SecurityEvent[] = [CREATE, CLOSE, DENY, SCREEN, FILTER];

const v6 = { family: 'inet6', sourceAddress: '2001:db8::10', destinationAddress: '2001:db8:0:1::7' } as const;

export const CREATE6: SessionCreateEvent = { ...CREATE, ...v6 };
export const CLOSE6: SessionCloseEvent = { ...CLOSE, ...v6, reason: 'idle-timeout' };
export const DENY6: PolicyDenyEvent = { ...DENY, ...v6, protocol: 58, sourcePort: 0, destinationPort: 0, icmpType: 128, action: 'reject' };
export const SPOOF6: ScreenDropEvent = { ...SCREEN, ...v6, protocol: 17, screen: 'ip-spoofing', action: 'alarm' };
export const ICMP_FLOOD6: ScreenDropEvent = { ...SCREEN, ...v6, protocol: 58, sourcePort: 0, destinationPort: 0, icmpType: 128, screen: 'icmp-flood' };
export const FILTER6: FilterLogEvent = { ...FILTER, ...v6, protocol: 17, source: 'cached-output', action: 'reject', egressIfindex: 4, egressZone: 2, sessionId: 77 };

export const ALL6: readonly SecurityEvent[] = [CREATE6, CLOSE6, DENY6, SPOOF6, ICMP_FLOOD6, FILTER6];

function table<K extends number>(entries: Record<K, string>): (id: number) => string | null {
  return (id) => (entries as Record<number, string>)[id] ?? null;
}

export const NAMES: NameResolver = {
  zone: table({ 1: 'trust', 2: 'untrust' }),
  interface: table({ 3: 'trust0', 4: 'untrust0' }),
  policy: table({ [ALLOW_WEB]: 'allow-web', [DENY_DNS]: 'deny-dns' }),
  policySet: (id) => (id >>> 16 === 0xffff ? 'global' : null),
  filter: table({ 1: 'protect-in' }),
  term: (filterId, termId) => (filterId === 1 && termId === 2 ? 'ssh' : null),
  application: (ev: FlowEvent) =>
    ev.protocol === 6 && ev.destinationPort === 443 ? 'junos-https' : ev.protocol === 17 && ev.destinationPort === 53 ? 'junos-dns-udp' : null,
};

export const CTX: FormatContext = { hostname: 'fw1', names: NAMES };

/** Names with every character RFC 5424 makes us escape (and `[`, which it does not). */
export const AWKWARD: FormatContext = {
  hostname: 'fw1',
  names: {
    ...NAMES,
    zone: table({ 1: 'tr"ust', 2: 'un\\trust' }),
    interface: table({ 3: 'eth[0]', 4: 'eth]1' }),
    policy: table({ [ALLOW_WEB]: 'allow"web\\]', [DENY_DNS]: 'deny]dns' }),
    filter: table({ 1: 'f"1' }),
    term: () => 't\\2',
  },
};

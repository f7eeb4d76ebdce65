import type { NatConfig } from '../nat/types.js';
import type { Prefix } from './ip.js';
import type { Ipv6ExtensionHeader } from './screen-keywords.js';
import type { Pos, Statement } from './ast.js';
import type { Trunk } from '../interfaces/resolve.js';
import type { Family } from './family.js';
import type { FirewallConfig } from './filters/model.js';
import type { RoutingInstance } from './routing-instances.js';
import type { DnsNameSpec } from './dns-names.js';

/** Compiled configuration: the typed tables the daemon and the engines run on. */

export type { Family };

export interface Zone {
  /** 1-based position among `security-zone` statements, counting inactive ones, so deactivating a zone renumbers nothing. */
  id: number;
  name: string;
  interfaces: string[];
  /** Keywords admitted to the box itself; `all` is already expanded (minus `except` entries). */
  hostInbound: { services: Set<string>; protocols: Set<string> };
  /** `screen P;`: the name of the zone's `security screen ids-option` profile, or null. */
  screen: string | null;
}

/** Per-family settings of `interfaces <if> unit 0 family <f>`. */
export interface FamilySettings {
  inputFilter: string | null;
  outputFilter: string | null;
}

export interface InterfaceSettings {
  name: string;
  families: Map<Family, FamilySettings>;
}

/**
 * Prefixes as signed 32-bit words for allocation-free matching:
 * `v4` holds (network, mask) pairs, `v6` groups of eight (network[4], mask[4]).
 * `any` is a /0 of its family.
 */
export interface AddressMatch {
  v4: Int32Array;
  v6: Int32Array;
}

/** One protocol/port/ICMP combination of an application. Ranges are inclusive; -1 means any type/code. */
export interface ApplicationTerm {
  /** The application the term comes from (a member's name when matched through a set). */
  application: string;
  protocol: number;
  sourcePortLow: number;
  sourcePortHigh: number;
  destinationPortLow: number;
  destinationPortHigh: number;
  icmpType: number;
  icmpCode: number;
  /** `inactivity-timeout` of the application (or its term) in seconds; absent: the protocol's. */
  inactivityTimeout?: number;
}

export interface ApplicationMatch {
  /** `application any`. */
  any: boolean;
  terms: ApplicationTerm[];
}

export interface PolicyMatch {
  /** Names as written in the policy. */
  sourceAddresses: string[];
  destinationAddresses: string[];
  applications: string[];
  /** Expanded for matching. */
  source: AddressMatch;
  destination: AddressMatch;
  application: ApplicationMatch;
}

export type PolicyAction = 'permit' | 'deny' | 'reject';

export interface Policy {
  /**
   * `(setOrdinal << 16) | ruleOrdinal`. Zone-pair sets are numbered from 1 in order of first
   * appearance, the global set is GLOBAL_POLICY_SET; rules are numbered from 1 within their
   * set. Inactive sets and rules keep their numbers. Id 0 is the default policy, which has no
   * Policy object and is named DEFAULT_POLICY_NAME.
   */
  id: number;
  name: string;
  /** null for global policies. */
  fromZone: string | null;
  toZone: string | null;
  action: PolicyAction;
  logInit: boolean;
  logClose: boolean;
  count: boolean;
  match: PolicyMatch;
}

export interface FlowSettings {
  /** Idle timeouts in seconds. */
  timeouts: { tcp: number; tcpInitial: number; tcpClosing: number; udp: number; icmp: number; other: number };
  maxSessions: number;
  /** `security flow tcp-session`: the checks XDP makes of TCP. */
  tcpSession: { noSynCheck: boolean; noSequenceCheck: boolean };
  /** `security flow slow-path-budget`: what XDP lets up to the slow path (lib/flood/). */
  slowPathBudget: SlowPathBudget;
}

/** Packets per second XDP sends up to the slow path; 0: that budget is off. */
export interface SlowPathBudget {
  /** What the slow path judges per second; the defaults of the others are shares of it. */
  capacity: number;
  /** From one source address (IPv4 /32, IPv6 /64). */
  perSource: number;
  /** TCP SYNs opening connections. */
  tcpSyn: number;
  /** First packets of other flows (UDP, ICMP, other protocols). */
  newFlow: number;
  /** Packets of known flows the fast path hands up (cached rejects, held fragments, ...). */
  exception: number;
  /** How far a bucket may run ahead, in milliseconds of its rate: the burst it admits. */
  burstMs: number;
  /** Seconds a flow the policy denied is dropped in XDP without asking again; 0: never. */
  denyCacheTimeout: number;
}

export type SyslogTransport = 'udp' | 'tcp';
export type SyslogFormat = 'structured' | 'brief' | 'rfc3164';

/** `system syslog host ADDRESS { port P; transport T; format F; }`. */
export interface SyslogHost {
  /** An IPv4 or IPv6 address, as written. */
  address: string;
  port: number;
  transport: SyslogTransport;
  format: SyslogFormat;
}

/** `system { host-name N; syslog { ... } }`: where security events go. */
export interface SyslogSettings {
  /** `system host-name`; null: the machine's host name. */
  hostName: string | null;
  hosts: SyslogHost[];
  /** `system syslog file-json`: an absolute path for JSON lines, or null. */
  jsonFile: string | null;
  /** `system syslog rate-limit`: events per second per kind and zone; null: the per-kind defaults. */
  rateLimit: number | null;
}

/** `system services metrics`: the address and port of the Prometheus endpoint, or none (`disable`). */
export interface MetricsSettings {
  enabled: boolean;
  address: string;
  port: number;
}

/**
 * `tcp syn-flood { ... }`, in SYNs (segments with SYN and no ACK) per second, as Junos counts
 * them. Junos proxies the SYNs past the attack threshold; xdpfw has no SYN proxy and drops them.
 */
export interface SynFloodSettings {
  /** To one destination address and port. */
  attackThreshold: number;
  /** Past the attack threshold, how many more per second before they are logged. */
  alarmThreshold: number;
  /** From one source address, whatever the destination. */
  sourceThreshold: number;
  /** To one destination address, whatever the port. */
  destinationThreshold: number;
  /** Seconds a proxied half-open connection may wait: accepted for Junos compatibility, unused without a SYN proxy. */
  timeout: number;
  /** `white-list NAME { source-address ...; destination-address ...; }`, every list merged: SYNs from or to these are not counted. */
  whiteList: { source: Prefix[]; destination: Prefix[] };
}

/**
 * `security screen ids-option NAME { ... }`: what a zone's screens check. Floods are packets
 * per second to one destination address; the port scan and IP sweep thresholds are windows in
 * microseconds in which one source may reach 10 ports / addresses (Junos units); session limits
 * count concurrent sessions per address. null: that check is off.
 */
export type TunnelScreen =
  | 'tunnel-gre-4in4' | 'tunnel-gre-4in6' | 'tunnel-gre-6in4' | 'tunnel-gre-6in6'
  | 'tunnel-ipip-4in4' | 'tunnel-ipip-4in6' | 'tunnel-ipip-6in4' | 'tunnel-ipip-6in6'
  | 'tunnel-ipip-6over4' | 'tunnel-ipip-6to4relay' | 'tunnel-ipip-isatap' | 'tunnel-ipip-dslite'
  | 'tunnel-teredo' | 'tunnel-bad-inner-header';

export interface ScreenProfile {
  name: string;
  /** Log and count, never drop. */
  alarmWithoutDrop: boolean;
  icmp: { flood: number | null; fragment: boolean; ipSweep: number | null; pingDeath: boolean; large: boolean; icmpv6Malformed: boolean };
  ip: {
    sourceRoute: boolean;
    looseSourceRoute: boolean;
    strictSourceRoute: boolean;
    recordRoute: boolean;
    timestamp: boolean;
    security: boolean;
    stream: boolean;
    tearDrop: boolean;
    /** Reverse-path check of the source address against the ingress interface. */
    spoofing: boolean;
    badOption: boolean;
    blockFrag: boolean;
    unknownProtocol: boolean;
    /** `ipv6-extension-header`: the header types it drops; null without it. */
    ipv6ExtensionHeaders: Ipv6ExtensionHeader[] | null;
    /** Option types inside hop-by-hop / destination options headers, and header types, that ipv6-extension-header drops. */
    ipv6Options: Ipv6OptionTypes;
    /** `ipv6-extension-header-limit`: more extension headers are dropped; null without it. */
    /** RFC 8200 4.1 broken: a hop-by-hop options header anywhere but directly after the IPv6 header. */
    ipv6MalformedHeader: boolean;
    ipv6ExtensionHeaderLimit: number | null;
    /** `tunnel`: the checks it turns on, as their screen names (lib/events/screens.ts). */
    tunnel: TunnelScreen[];
  };
  tcp: {
    land: boolean;
    synFin: boolean;
    noFlag: boolean;
    finNoAck: boolean;
    winnuke: boolean;
    synFrag: boolean;
    synFlood: SynFloodSettings | null;
    portScan: number | null;
    /** Microseconds in which one source may send SYNs to 10 addresses. */
    sweep: number | null;
    /** Handshake-only sessions one source may hold before its SYNs are dropped (syn-ack-ack-proxy). */
    synAckAckProxy: number | null;
  };
  udp: {
    flood: number | null;
    /** `flood { white-list NAME; }`: the prefixes of the named `security screen white-list`s; UDP from or to these is not counted. */
    floodWhiteList: Prefix[];
    portScan: number | null;
    sweep: number | null;
  };
  limitSession: { source: number | null; destination: number | null };
}

/** Type numbers (0-255) `ipv6-extension-header` names beyond whole headers. */
export interface Ipv6OptionTypes {
  hopByHop: number[];
  destination: number[];
  headerTypes: number[];
}

export interface CompiledConfig {
  /** File path the configuration came from. */
  source: string;
  zones: Zone[];
  zoneByInterface: Map<string, Zone>;
  /** Every Linux interface named in a zone, in order, then the trunks of zone units. */
  interfaces: string[];
  /** The `interfaces` stanza (optional; filters are stored, not yet resolved), by Linux interface. */
  interfaceSettings: Map<string, InterfaceSettings>;
  /** Trunks (vlan-tagging) whose units are zone members; their Linux interfaces are in `interfaces`, in no zone. */
  trunks: Trunk[];
  /** Linux interface → the zone statement that names it (for errors the daemon finds). */
  interfacePositions: Map<string, Pos>;
  /** Zone-pair policies in configuration order, then global policies. */
  policies: Policy[];
  defaultPolicy: 'deny-all' | 'permit-all';
  /** Domain names of `dns-name` addresses, which the daemon resolves (lib/dns-names/). */
  dnsNames: DnsNameSpec[];
  /** `system name-server`: the resolvers to ask; empty: the system's (/etc/resolv.conf). */
  nameServers: string[];
  flow: FlowSettings;
  /** Non-IP EtherTypes the zone interfaces pass to the kernel besides ARP (lib/config/ethertypes.ts). */
  passEthertypes: number[];
  /** `security nat proxy-arp` / `proxy-ndp`: addresses XDP answers for, per Linux interface (lib/nat/proxy-targets.ts). */
  neighborProxies: NeighborProxy[];
  /** `security nat` as checked (lib/nat/check.ts); null or absent: none. Source NAT is applied by the slow path. */
  nat?: NatConfig | null;
  syslog: SyslogSettings;
  metrics: MetricsSettings;
  /** `security screen ids-option` profiles by name. */
  screens: Map<string, ScreenProfile>;
  /** Firewall filters, prefix lists and the filters of interfaces and lo0 (lib/config/filters.ts). */
  firewall: FirewallConfig;
  /** `routing-instances` by name: kernel routing tables for `then routing-instance` (lib/config/routing-instances.ts). */
  routingInstances: Map<string, RoutingInstance>;
  /** The normalised syntax tree (print it with printer.ts): groups applied, unsupported statements left out. */
  tree: Statement[];
  /** `file:line:column: message` of what the config has that is not applied (`status` repeats them). */
  warnings: string[];
}

export const DEFAULT_POLICY_ID = 0;
export const DEFAULT_POLICY_NAME = 'default-policy';
export const GLOBAL_POLICY_SET = 0xffff;

/** Addresses first..last (integers, IPv4 in the low 32 bits) answered for on a zone interface. */
export interface NeighborProxy {
  /** The Linux interface. */
  device: string;
  family: Family;
  first: bigint;
  last: bigint;
}

/** The zone id events give `junos-host`, the box itself, as destination zone (0 there means none). */
export const JUNOS_HOST_ZONE_ID = 0xffff;

export function policyId(setOrdinal: number, ruleOrdinal: number): number {
  return ((setOrdinal << 16) | ruleOrdinal) >>> 0;
}

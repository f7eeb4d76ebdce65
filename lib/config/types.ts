import type { Statement } from './ast.js';

/** Compiled configuration: the typed tables the daemon and the engines run on. */

export type Family = 'inet' | 'inet6';

export interface Zone {
  /** 1-based position among `security-zone` statements, counting inactive ones, so deactivating a zone renumbers nothing. */
  id: number;
  name: string;
  interfaces: string[];
  /** Keywords admitted to the box itself; `all` is already expanded (minus `except` entries). */
  hostInbound: { services: Set<string>; protocols: Set<string> };
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
}

export interface CompiledConfig {
  /** File path the configuration came from. */
  source: string;
  zones: Zone[];
  zoneByInterface: Map<string, Zone>;
  /** Every interface named in a zone, in order. */
  interfaces: string[];
  /** The `interfaces` stanza (optional; filters are stored, not yet resolved). */
  interfaceSettings: Map<string, InterfaceSettings>;
  /** Zone-pair policies in configuration order, then global policies. */
  policies: Policy[];
  defaultPolicy: 'deny-all' | 'permit-all';
  flow: FlowSettings;
  /** The normalised syntax tree (print it with printer.ts). */
  tree: Statement[];
}

export const DEFAULT_POLICY_ID = 0;
export const DEFAULT_POLICY_NAME = 'default-policy';
export const GLOBAL_POLICY_SET = 0xffff;

export function policyId(setOrdinal: number, ruleOrdinal: number): number {
  return ((setOrdinal << 16) | ruleOrdinal) >>> 0;
}

import type { Family } from '../family.js';
import type { Prefix } from '../ip.js';
import type { RoutingInstance } from '../routing-instances.js';

/**
 * Firewall filters (Junos `firewall family inet|inet6 filter F { term T { from {...} then {...} } }`),
 * `policy-options prefix-list`, and the filters' attachment to interfaces:
 * `interfaces IF unit 0 family inet|inet6 filter { input F; output F; }` and
 * `interfaces lo0 unit 0 family inet|inet6 filter input F` (lo0: traffic to the box itself).
 *
 * `firewall filter F` without a family is Junos's shorthand for `firewall family inet filter F`.
 *
 * Semantics (Junos): a filter's terms are tried in order and the first whose every `from`
 * condition matches decides; a packet no term matches is discarded. A term without a
 * terminating action (accept, discard, reject, routing-instance) accepts. Address conditions
 * take the longest listed prefix containing the address: it matches unless that prefix is
 * `except`; no listed prefix containing it is no match. A prefix-list condition whose lists
 * are all `except` matches every address outside them. Port conditions only match TCP, UDP and
 * SCTP, icmp-type/icmp-code only the family's ICMP (ICMPv6 numbering in family inet6) and
 * tcp-flags only TCP; none of them matches a non-first fragment (it has no transport header),
 * which is what `is-fragment` matches (fragment offset not zero).
 *
 * Ids: a filter's id is `(family code << 16) | ordinal` (family codes: inet 1, inet6 2), the
 * ordinal its 1-based position among the `filter` statements of its family, in order of first
 * appearance and counting inactive ones; a term's id is its 1-based position among its
 * filter's `term` statements, inactive ones counted; term id 0 is the implicit discard. Editing,
 * deactivating or adding terms of one filter renumbers no other filter and no earlier term;
 * adding a filter renumbers nothing (it takes the next ordinal). Filter id 0 is "no filter".
 */

export type FilterAction = 'accept' | 'discard' | 'reject';

/**
 * What a `reject` answers with (Junos message types; the names lib/slowpath/reject.ts takes).
 * `tcp-reset`, the default of a bare `reject`, is a TCP RST for TCP and ICMP(v6)
 * administratively-prohibited for anything else. A reason's index here is its code in the
 * cached filter descriptor (lib/filter/descriptor.ts).
 */
export const FILTER_REJECT_REASONS = [
  'tcp-reset',
  'administratively-prohibited',
  'network-unreachable',
  'host-unreachable',
  'protocol-unreachable',
  'port-unreachable',
  'source-route-failed',
  'network-unknown',
  'host-unknown',
  'source-host-isolated',
  'network-prohibited',
  'host-prohibited',
  'bad-network-tos',
  'bad-host-tos',
  'precedence-violation',
  'precedence-cutoff',
  'no-route',
  'address-unreachable',
  'beyond-scope',
] as const;
export type FilterRejectReason = (typeof FILTER_REJECT_REASONS)[number];

/** An inclusive [low, high] range of a numeric field. */
export type Range = readonly [number, number];

/** One entry of an address condition. */
export interface FilterPrefix {
  prefix: Prefix;
  except: boolean;
  /**
   * A non-contiguous (wildcard) mask, `10.0.1.0/255.0.255.0`: mask words; the prefix's words are
   * the address under the mask and its length the number of mask bits (what ranks it among the
   * condition's entries). Absent: the mask is the prefix length's.
   */
  mask?: number[];
}

/** The TCP flags a term admits: bit `f` of the 64-bit table (f = the low 6 flag bits) is set when flags `f` match. */
export interface TcpFlagsMatch {
  /** The expression as written; several (tcp-flags, tcp-initial, tcp-established) are parenthesised and joined with ` & `. */
  expression: string;
  /** Table bits 0-31 and 32-63, as unsigned 32-bit numbers. */
  low: number;
  high: number;
}

/** A term's `from`: null (or false) for a condition the term does not have. Ranges are sorted and merged. */
export interface FilterMatch {
  /** Family prefixes only; never all `except` (that could never match). */
  sourceAddress: FilterPrefix[] | null;
  destinationAddress: FilterPrefix[] | null;
  /** The prefixes of the named lists in the filter's family, `except` lists' entries marked; an implicit 0/0 when every list is `except`. */
  sourcePrefixList: FilterPrefix[] | null;
  destinationPrefixList: FilterPrefix[] | null;
  /** `protocol` (or `next-header` in family inet6). */
  protocol: Range[] | null;
  sourcePort: Range[] | null;
  destinationPort: Range[] | null;
  /** `port`: the source or the destination port. */
  port: Range[] | null;
  icmpType: Range[] | null;
  icmpCode: Range[] | null;
  tcpFlags: TcpFlagsMatch | null;
  isFragment: boolean;
  /** `dscp` (or `traffic-class` in family inet6), 0-63. */
  dscp: Range[] | null;
  /** `packet-length`: the IP packet's length in bytes, header included. */
  packetLength: Range[] | null;
  /** `ttl` (family inet) or `hop-limit` (family inet6), 0-255. */
  ttl: Range[] | null;
  /** `fragment-offset`, in 8-byte units (0-8191): 0 is a whole packet or a first fragment. */
  fragmentOffset: Range[] | null;
}

export interface FilterTerm {
  /** 1-based position among the filter's terms, inactive ones counted. */
  id: number;
  name: string;
  match: FilterMatch;
  /** `routing-instance` is an accept through another routing table. */
  action: FilterAction;
  /** For `reject`: the configured reason, `tcp-reset` when none was given; null otherwise. */
  rejectReason: FilterRejectReason | null;
  log: boolean;
  syslog: boolean;
  /** `count C`: the counter's name (terms of one filter naming the same counter share it). */
  count: string | null;
  routingInstance: RoutingInstance | null;
  /** `then policer P`: the policer's name (each term that names one has a bucket of its own, Junos's default). */
  policer: string | null;
}

/**
 * `firewall policer P { if-exceeding { bandwidth-limit R; burst-size-limit B; } then discard; }`:
 * a token bucket that refills at R bits per second up to B bytes; a packet finding fewer tokens
 * than its IP length is discarded, one that finds enough takes them and goes on to its term's action.
 */
export interface Policer {
  name: string;
  /** Bits per second. */
  bandwidthLimit: number;
  /** Bytes. */
  burstSizeLimit: number;
}

export interface Filter {
  /** `(FILTER_FAMILY_CODE[family] << 16) | ordinal`. */
  id: number;
  name: string;
  family: Family;
  /** Active terms in order. */
  terms: FilterTerm[];
}

/** Filter ids (null: none) attached to one interface, per family. */
export interface FilterAttachment {
  input: number | null;
  output: number | null;
}

export interface FirewallConfig {
  /** Active filters: family inet by id, then family inet6 by id. */
  filters: Filter[];
  /** `policy-options prefix-list` by name (both families). */
  prefixLists: Map<string, Prefix[]>;
  /** Filters of Linux interfaces (lo0 excluded), for both families; only interfaces with a filter. */
  interfaces: Map<string, Record<Family, FilterAttachment>>;
  /** Input filters of lo0 (the box itself) per family. */
  lo0: Record<Family, number | null>;
  /** `firewall policer` by name. */
  policers: Map<string, Policer>;
}

export const FILTER_FAMILY_CODE: Readonly<Record<Family, number>> = { inet: 1, inet6: 2 };
/** The implicit discard at the end of every filter. */
export const IMPLICIT_DISCARD_TERM_ID = 0;
/** Ordinals and term ids are 16 bits (the cached descriptor's term id is a u16). */
export const MAX_FILTERS_PER_FAMILY = 0xffff;
export const MAX_TERMS_PER_FILTER = 0xffff;
/** Counters are 1-based u16 indexes in the cached descriptor. */
export const MAX_COUNTERS = 0xffff;
/** Terms naming a policer: one XDP bucket each (XDPFW_MAX_POLICERS, index 0 unused). */
export const MAX_POLICED_TERMS = 1023;
export const LO0 = 'lo0';

export function filterId(family: Family, ordinal: number): number {
  return ((FILTER_FAMILY_CODE[family] << 16) | ordinal) >>> 0;
}

/** The family a filter id belongs to, or null for an id no filter can have. */
export function filterIdFamily(id: number): Family | null {
  if ((id & 0xffff) === 0) return null;
  const code = id >>> 16;
  return code === FILTER_FAMILY_CODE.inet ? 'inet' : code === FILTER_FAMILY_CODE.inet6 ? 'inet6' : null;
}

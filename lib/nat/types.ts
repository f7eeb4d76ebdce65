import type { Pos } from '../config/ast.js';
import type { Family } from '../config/family.js';

/** The NAT statements of a configuration, validated and typed (lib/nat/config.ts). */

export type { Family };

/** What a rule's `application` matches of an application term (lib/config/types.ts ApplicationTerm has these fields). */
export interface ApplicationTerm {
  protocol: number;
  sourcePortLow: number;
  sourcePortHigh: number;
  destinationPortLow: number;
  destinationPortHigh: number;
}

/** Inclusive range of addresses of one family, as integers (IPv4: 32 bits, IPv6: 128). */
export interface AddressRange {
  family: Family;
  first: bigint;
  last: bigint;
}

/** A prefix as an integer network and a length (static NAT maps one onto another). */
export interface NatPrefix {
  family: Family;
  network: bigint;
  length: number;
}

/** Inclusive port range. */
export interface PortRange {
  low: number;
  high: number;
}

/** Where a rule-set applies: `from`/`to` one kind of context, any of its names. */
export type ContextKind = 'interface' | 'zone' | 'routing-instance';

export interface NatContext {
  kind: ContextKind;
  names: string[];
}

/** Conditions of a rule; null means any. Address lists are the union of prefixes and address-book names. */
export interface NatMatch {
  source: AddressRange[] | null;
  destination: AddressRange[] | null;
  sourcePorts: PortRange[] | null;
  destinationPorts: PortRange[] | null;
  protocols: number[] | null;
  /** `application`: a flow matches when one term matches its protocol and ports. */
  applications: ApplicationTerm[] | null;
}

export interface NatRule<A> {
  /** 1-based position among the rules of its NAT type (source, destination or static), for ids. */
  id: number;
  name: string;
  ruleSet: string;
  match: NatMatch;
  action: A;
}

export interface NatRuleSet<A, R extends NatRule<A> = NatRule<A>> {
  name: string;
  from: NatContext;
  /** Source rule-sets only. */
  to: NatContext | null;
  rules: R[];
}

/** `overflow-pool interface | P`: where a pool without port translation goes when all its addresses are taken. */
export type Overflow = { kind: 'interface' } | { kind: 'pool'; pool: string };

export interface SourcePool {
  /** 1-based position among source pools (Junos numbers pools from 4 on; xdpfw ids are its own). */
  id: number;
  name: string;
  ranges: AddressRange[];
  /** Port overloading within these ports; null: `port no-translation` (one address per host). */
  ports: PortRange | null;
  overflow: Overflow | null;
  /** `host-address-base`: the first host address mapped one to one onto the pool's first address. */
  hostAddressBase: bigint | null;
  /** `address-pooling paired`, or `source address-persistent`: a host keeps one pool address for all its flows. */
  addressPersistent: boolean;
  routingInstance: string | null;
}

export interface DestinationPool {
  id: number;
  name: string;
  range: AddressRange;
  /** Translated destination port; null keeps the flow's. */
  port: number | null;
  routingInstance: string | null;
}

export type SourceAction = { kind: 'off' } | { kind: 'interface' } | { kind: 'pool'; pool: string };
export type DestinationAction = { kind: 'off' } | { kind: 'pool'; pool: string };
/**
 * `static-nat prefix|prefix-name`: the matched destination prefix maps one to one onto this
 * one (and the reverse for flows the translated hosts start); `inet`: NAT64, the IPv4
 * address embedded in the last 32 bits of the IPv6 destination.
 */
export type StaticAction = { kind: 'prefix'; prefix: NatPrefix; routingInstance: string | null } | { kind: 'inet'; routingInstance: string | null };

/** A static rule always matches one destination prefix. */
export interface StaticRule extends NatRule<StaticAction> {
  destinationPrefix: NatPrefix;
}

export interface ProxyEntry {
  interface: string;
  /** Where the interface is named (errors about it point there). */
  pos: Pos;
  ranges: AddressRange[];
}

export interface NatConfig {
  source: {
    pools: SourcePool[];
    ruleSets: NatRuleSet<SourceAction>[];
    /** `pool-default-port-range`: ports of pools that name none (Junos: 1024-65535). */
    defaultPorts: PortRange;
  };
  destination: { pools: DestinationPool[]; ruleSets: NatRuleSet<DestinationAction>[] };
  static: { ruleSets: NatRuleSet<StaticAction, StaticRule>[] };
  proxyArp: ProxyEntry[];
  proxyNdp: ProxyEntry[];
}

/** Junos: translated source ports come from 1024-65535 unless a pool says otherwise. */
export const DEFAULT_PORTS: PortRange = { low: 1024, high: 65535 };

/** The most addresses one source pool allocates from (its per-address state is kept in typed arrays). */
export const MAX_POOL_ADDRESSES = 1 << 20;

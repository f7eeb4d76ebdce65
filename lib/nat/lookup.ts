import { ruleMatches, type NatFlow } from './match.js';
import { destinationPoolTarget, staticForward, staticReverse } from './arithmetic.js';
import type {
  ContextKind,
  DestinationAction,
  DestinationPool,
  NatConfig,
  NatContext,
  NatRule,
  SourceAction,
  SourcePool,
  StaticRule,
} from './types.js';

/**
 * Which NAT rules a new flow meets, in Junos order: static NAT, then destination NAT (both
 * on the ingress context), then the caller's policy lookup on the translated destination and
 * route lookup, then source NAT (ingress and egress contexts). Of the rule-sets whose
 * context a flow has, only the most specific one is consulted (interface > zone >
 * routing-instance; source NAT ranks the `to` context first, as Junos documents), and
 * within it the first rule that matches decides: a more specific rule-set whose rules do not
 * match leaves the flow untranslated by that NAT type rather than falling back.
 */

/** Where a flow enters or leaves: its interface, the zone of that interface, its routing instance. */
export interface NatSide {
  interface: string;
  zone: string;
  /** `default` for the main table, as Junos names the master instance. */
  routingInstance: string;
}

const RANK: Readonly<Record<ContextKind, number>> = { interface: 0, zone: 1, 'routing-instance': 2 };

function has(ctx: NatContext, side: NatSide): boolean {
  const name = ctx.kind === 'interface' ? side.interface : ctx.kind === 'zone' ? side.zone : side.routingInstance;
  return ctx.names.includes(name);
}

/** The most specific rule-set for these sides (null: none applies). */
function ruleSetFor<S extends { from: NatContext; to: NatContext | null }>(sets: readonly S[], from: NatSide, to: NatSide | null): S | null {
  let best: S | null = null;
  let bestRank = Infinity;
  for (const s of sets) {
    if (!has(s.from, from) || (s.to && (!to || !has(s.to, to)))) continue;
    const rank = (s.to ? RANK[s.to.kind] * 3 : 0) + RANK[s.from.kind];
    if (rank < bestRank) [best, bestRank] = [s, rank];
  }
  return best;
}

function firstRule<A, R extends NatRule<A>>(rules: readonly R[], flow: NatFlow): R | null {
  return rules.find((r) => ruleMatches(r.match, flow)) ?? null;
}

/** What static and destination NAT do to a new flow, before policy and route. */
export interface InboundDecision {
  /** Static rule that translated the destination (its reverse does not apply to this flow's source then). */
  static: StaticRule | null;
  /** Destination rule that matched (its action may be `off`), when no static rule did. */
  destination: { rule: NatRule<DestinationAction>; pool: DestinationPool | null } | null;
  /** The destination and port policy and route look at. */
  destinationAddress: bigint;
  destinationPort: number;
}

/** What source NAT does to it, after route: a static rule's reverse, a source rule (maybe `off`), or nothing. */
export type OutboundDecision =
  | { kind: 'static-reverse'; rule: StaticRule; sourceAddress: bigint }
  | { kind: 'source'; rule: NatRule<SourceAction>; pool: SourcePool | null }
  | null;

export class NatRules {
  private readonly sourcePools: Map<string, SourcePool>;
  private readonly destinationPools: Map<string, DestinationPool>;

  constructor(private readonly nat: NatConfig) {
    this.sourcePools = new Map(nat.source.pools.map((p) => [p.name, p]));
    this.destinationPools = new Map(nat.destination.pools.map((p) => [p.name, p]));
  }

  /** Static NAT, then destination NAT, on the flow as it arrives at `ingress`. */
  inbound(flow: NatFlow, ingress: NatSide): InboundDecision {
    const staticSet = ruleSetFor(this.nat.static.ruleSets, ingress, null);
    const st = staticSet?.rules.find((r) => ruleMatches(r.match, flow) && staticForward(r, flow.family, flow.destination) !== null) ?? null;
    if (st) {
      return { static: st, destination: null, destinationAddress: staticForward(st, flow.family, flow.destination)!, destinationPort: flow.destinationPort };
    }
    const dset = ruleSetFor(this.nat.destination.ruleSets, ingress, null);
    const rule = dset ? firstRule(dset.rules, flow) : null;
    if (!rule) return { static: null, destination: null, destinationAddress: flow.destination, destinationPort: flow.destinationPort };
    if (rule.action.kind === 'off') return { static: null, destination: { rule, pool: null }, destinationAddress: flow.destination, destinationPort: flow.destinationPort };
    const pool = this.destinationPools.get(rule.action.pool)!;
    const target = destinationPoolTarget(pool, rule.match.destination, flow.destination);
    return { static: null, destination: { rule, pool }, destinationAddress: target, destinationPort: pool.port ?? flow.destinationPort };
  }

  /**
   * Source NAT for a flow whose destination is already translated (`flow.destination` is
   * the address policy and route saw) and routed to `egress`. A static rule's reverse
   * direction (a translated host starting a flow out of the rule-set's `from` context)
   * comes before source rules.
   */
  outbound(flow: NatFlow, ingress: NatSide, egress: NatSide): OutboundDecision {
    const staticSet = ruleSetFor(this.nat.static.ruleSets, egress, null);
    for (const r of staticSet?.rules ?? []) {
      const back = staticReverse(r, flow.family, flow.source);
      if (back !== null) return { kind: 'static-reverse', rule: r, sourceAddress: back };
    }
    const sset = ruleSetFor(this.nat.source.ruleSets, ingress, egress);
    const rule = sset ? firstRule(sset.rules, flow) : null;
    if (!rule) return null;
    return { kind: 'source', rule, pool: rule.action.kind === 'pool' ? this.sourcePools.get(rule.action.pool)! : null };
  }

  /**
   * Both stages in Junos order for one flow: `route` is what happens between them (policy on
   * the translated destination, then the route lookup giving the egress side; null: dropped).
   */
  decide(flow: NatFlow, ingress: NatSide, route: (destination: bigint, port: number) => NatSide | null): { inbound: InboundDecision; outbound: OutboundDecision; egress: NatSide | null } {
    const inbound = this.inbound(flow, ingress);
    const egress = route(inbound.destinationAddress, inbound.destinationPort);
    if (!egress) return { inbound, outbound: null, egress };
    const translated: NatFlow = { ...flow, destination: inbound.destinationAddress, destinationPort: inbound.destinationPort };
    // A flow translated by a static rule toward a host is not sent back out through the same rule's reverse.
    const outbound = this.outbound(translated, ingress, egress);
    return { inbound, outbound: inbound.static && outbound?.kind === 'static-reverse' && outbound.rule === inbound.static ? null : outbound, egress };
  }
}

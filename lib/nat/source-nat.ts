// Source NAT of new flows (`security nat source`), as the slow path applies it after policy and
// route: the rule a flow meets (lib/nat/lookup.ts), the translated address and port it gets from
// its pool (and overflow) or its egress interface (lib/nat/pools.ts: no two live flows share a
// translated tuple, O(1) however full), given back when its session ends. Counts hits and
// failures per rule and pool for `show nat source`.
import type { SourceLease } from './allocator.js';
import { NatRules, type NatSide } from './lookup.js';
import type { NatFlow } from './match.js';
import { SourcePools } from './pools.js';
import type { NatConfig, NatRule, SourceAction } from './types.js';

export interface SourceTranslation {
  rule: NatRule<SourceAction>;
  /** The pool the rule names; null for `source-nat interface`. */
  pool: string | null;
  lease: SourceLease;
}

export type SourceNatResult =
  | { kind: 'untranslated' }
  | { kind: 'translated'; translation: SourceTranslation }
  | { kind: 'refused'; rule: NatRule<SourceAction>; pool: string | null; message: string };

export interface NatCounters {
  hits: number;
  failures: number;
}

export class SourceNat {
  private readonly rules: NatRules;
  private readonly pools: SourcePools;
  /** By `rule-set/rule`. */
  readonly ruleCounters = new Map<string, NatCounters>();
  /** By pool name. */
  readonly poolCounters = new Map<string, NatCounters>();
  /** Translated sessions live, by pool lease name (pools and interface addresses). */
  readonly inUse = new Map<string, number>();
  /** The config has source rules: flows are looked up. */
  readonly active: boolean;

  constructor(readonly config: NatConfig) {
    this.rules = new NatRules(config);
    this.pools = new SourcePools(config);
    this.active = config.source.ruleSets.some((s) => s.rules.length > 0);
  }

  /**
   * The source translation of a new flow leaving by `egress`; `interfaceAddress`: the egress
   * interface's address of the flow's family (`source-nat interface`, `overflow-pool
   * interface`), null when it has none.
   */
  translate(flow: NatFlow, ingress: NatSide, egress: NatSide, interfaceAddress: () => bigint | null): SourceNatResult {
    const decision = this.rules.outbound(flow, ingress, egress);
    // A static rule's reverse is static NAT's, which the config check still refuses.
    if (!decision || decision.kind !== 'source' || decision.rule.action.kind === 'off') return { kind: 'untranslated' };
    const rule = decision.rule;
    const poolName = decision.rule.action.kind === 'pool' ? decision.rule.action.pool : null;
    const req = { protocol: flow.protocol, host: flow.source, sourcePort: flow.sourcePort, destination: flow.destination };
    const address = poolName === null || decision.pool?.overflow?.kind === 'interface' ? interfaceAddress() : null;
    let got;
    if (poolName === null) {
      if (address === null) return this.refuse(rule, null, `interface ${egress.interface} has no ${flow.family} address to translate to`);
      got = this.pools.allocateInterface(flow.family, address, req);
    } else {
      got = this.pools.allocate(poolName, req, address === null ? null : { family: flow.family, address });
    }
    if (!got.ok) return this.refuse(rule, poolName, got.message);
    counter(this.ruleCounters, ruleId(rule)).hits++;
    if (poolName !== null) counter(this.poolCounters, poolName).hits++;
    this.inUse.set(got.lease.pool, (this.inUse.get(got.lease.pool) ?? 0) + 1);
    return { kind: 'translated', translation: { rule, pool: poolName, lease: got.lease } };
  }

  /** Gives a translation's address and port back (its session ended, or was never installed). */
  free(t: SourceTranslation): void {
    if (!this.pools.free(t.lease)) return;
    const n = (this.inUse.get(t.lease.pool) ?? 1) - 1;
    if (n > 0) this.inUse.set(t.lease.pool, n);
    else this.inUse.delete(t.lease.pool);
  }

  private refuse(rule: NatRule<SourceAction>, pool: string | null, message: string): SourceNatResult {
    counter(this.ruleCounters, ruleId(rule)).failures++;
    if (pool !== null) counter(this.poolCounters, pool).failures++;
    return { kind: 'refused', rule, pool, message };
  }
}

export function ruleId(rule: { ruleSet: string; name: string }): string {
  return `${rule.ruleSet}/${rule.name}`;
}

function counter(map: Map<string, NatCounters>, id: string): NatCounters {
  let c = map.get(id);
  if (!c) map.set(id, (c = { hits: 0, failures: 0 }));
  return c;
}

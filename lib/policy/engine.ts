import type { AddressMatch, ApplicationTerm, CompiledConfig, Family, Policy, PolicyAction } from '../config/types.js';
import { DEFAULT_POLICY_ID, DEFAULT_POLICY_NAME } from '../config/types.js';
import { RuleIndex } from './rule-index.js';

export interface PolicyQuery {
  fromZone: string;
  toZone: string;
  family: Family;
  /** IANA protocol number. */
  protocol: number;
  /** 4 bytes for inet, 16 for inet6, network order. */
  source: Uint8Array;
  destination: Uint8Array;
  /** Ports for TCP/UDP/SCTP; ignored by ICMP applications. */
  sourcePort: number;
  destinationPort: number;
  /** ICMP or ICMPv6 type and code. When absent, applications that name a type (or code) do not match. */
  icmpType?: number;
  icmpCode?: number;
}

export interface PolicyDecision {
  /** null for the default policy. */
  policy: Policy | null;
  action: PolicyAction;
  policyId: number;
  policyName: string;
  /** The application the flow matched (a member's name when matched through a set); null for `application any` and the default policy. */
  application: string | null;
  /** That application's `inactivity-timeout` in seconds; null: the protocol's. */
  inactivityTimeout: number | null;
}

interface Rule {
  terms: readonly ApplicationTerm[];
  /** Decision for `application any`, or one per term: prebuilt so a match allocates nothing. */
  any: PolicyDecision | null;
  decisions: PolicyDecision[];
  /** Position of the rule's hit counter. */
  slot: number;
}

/** One zone pair's rules (or the global rules) in order, indexed per family. */
interface RuleSet {
  rules: Rule[];
  v4: RuleIndex;
  v6: RuleIndex;
  /** The first rule when it matches every flow of the family (any, any, application any): no search. */
  all4: Rule | null;
  all6: Rule | null;
}

function decision(policy: Policy, application: string | null, inactivityTimeout: number | null = null): PolicyDecision {
  return Object.freeze({ policy, action: policy.action, policyId: policy.id, policyName: policy.name, application, inactivityTimeout });
}

function rule(p: Policy, slot: number): Rule {
  const app = p.match.application;
  return {
    terms: app.terms,
    any: app.any ? decision(p, null) : null,
    decisions: app.terms.map((t) => decision(p, t.application, t.inactivityTimeout ?? null)),
    slot,
  };
}

function ruleSet(policies: readonly Policy[], slots: ReadonlyMap<Policy, number>): RuleSet {
  const matches = policies.map((p) => p.match);
  const rules = policies.map((p) => rule(p, slots.get(p)!));
  const first = matches[0];
  const all = (words: 1 | 4): Rule | null =>
    first !== undefined && first.application.any && hasDefault(first.source, words) && hasDefault(first.destination, words) ? rules[0] : null;
  return { rules, v4: new RuleIndex(matches, 'inet'), v6: new RuleIndex(matches, 'inet6'), all4: all(1), all6: all(4) };
}

/** Whether the address match holds the family's default prefix (network and mask all zero): every address. */
function hasDefault(m: AddressMatch, words: 1 | 4): boolean {
  const v = words === 1 ? m.v4 : m.v6;
  for (let i = 0; i < v.length; i += 2 * words) {
    let zero = true;
    for (let w = 0; w < 2 * words; w++) zero &&= v[i + w] === 0;
    if (zero) return true;
  }
  return false;
}

function read32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/** Hit counter slot of the default policy; rules follow in config order. */
const DEFAULT_SLOT = 0;

/**
 * First-match policy lookup: the zone pair's rules in order, then global rules, then the
 * default policy. Each rule set is indexed by address prefixes and by protocol and
 * destination port, so a lookup visits only the rules that match on those, lowest ordinal
 * first, however many rules the set holds. A lookup allocates nothing and parses no strings.
 */
export class PolicyEngine {
  private readonly pairs = new Map<string, Map<string, RuleSet>>();
  private readonly global: RuleSet;
  private readonly fallback: PolicyDecision;
  /** Query addresses as unsigned words: source at 0, destination at 4 (IPv4 uses one word each). */
  private readonly addr = new Uint32Array(8);
  /** Hits per slot; doubles stay exact far beyond any realistic count. */
  private readonly counts: Float64Array;
  private readonly slotOf = new Map<number, number>([[DEFAULT_POLICY_ID, DEFAULT_SLOT]]);
  /** Policy names by id, so counts survive a reload only for the same policy. */
  private readonly nameOf = new Map<number, string>([[DEFAULT_POLICY_ID, DEFAULT_POLICY_NAME]]);
  private readonly order: number[] = [];
  /** Slot of the decision the last lookup returned. */
  private slot = DEFAULT_SLOT;

  constructor(cfg: CompiledConfig) {
    const slots = new Map<Policy, number>();
    const byPair = new Map<string, Map<string, Policy[]>>();
    const global: Policy[] = [];
    for (const p of cfg.policies) {
      slots.set(p, slots.size + 1);
      this.slotOf.set(p.id, slots.size);
      this.nameOf.set(p.id, p.name);
      this.order.push(p.id);
      if (p.fromZone === null || p.toZone === null) {
        global.push(p);
        continue;
      }
      let to = byPair.get(p.fromZone);
      if (!to) byPair.set(p.fromZone, (to = new Map()));
      let rules = to.get(p.toZone);
      if (!rules) to.set(p.toZone, (rules = []));
      rules.push(p);
    }
    this.order.push(DEFAULT_POLICY_ID);
    for (const [from, to] of byPair) this.pairs.set(from, new Map([...to].map(([zone, rules]) => [zone, ruleSet(rules, slots)])));
    this.global = ruleSet(global, slots);
    this.counts = new Float64Array(slots.size + 1);
    this.fallback = Object.freeze({
      policy: null,
      action: cfg.defaultPolicy === 'permit-all' ? 'permit' : 'deny',
      policyId: DEFAULT_POLICY_ID,
      policyName: DEFAULT_POLICY_NAME,
      application: null,
      inactivityTimeout: null,
    });
  }

  /** The deciding policy of a flow's first packet; counts a hit for it. */
  match(q: PolicyQuery): PolicyDecision {
    const d = this.lookup(q);
    this.counts[this.slot]++;
    return d;
  }

  /** The deciding policy without counting a hit: for `match-policies` and re-checks. */
  lookup(q: PolicyQuery): PolicyDecision {
    this.loadAddresses(q);
    const pair = this.pairs.get(q.fromZone)?.get(q.toZone);
    const d = (pair && this.scan(pair, q)) ?? this.scan(this.global, q);
    if (d) return d;
    this.slot = DEFAULT_SLOT;
    return this.fallback;
  }

  /**
   * Traffic to the box itself (`to-zone junos-host`), already admitted by host-inbound-traffic:
   * the zone pair's rules only, first match wins; null when none matches (or there are none),
   * which leaves it admitted, as Junos does. Counts a hit for the deciding rule.
   */
  matchHost(q: PolicyQuery): PolicyDecision | null {
    const d = this.lookupHost(q);
    if (d) this.counts[this.slot]++;
    return d;
  }

  /** matchHost() without counting a hit. */
  lookupHost(q: PolicyQuery): PolicyDecision | null {
    const pair = this.pairs.get(q.fromZone)?.get(q.toZone);
    if (!pair) return null;
    this.loadAddresses(q);
    return this.scan(pair, q);
  }

  private loadAddresses(q: PolicyQuery): void {
    const words = q.family === 'inet6' ? 4 : 1;
    if (q.source.length !== words * 4 || q.destination.length !== words * 4) {
      throw new RangeError(`policy query: ${q.family} addresses must be ${words * 4} bytes`);
    }
    for (let k = 0; k < words; k++) {
      this.addr[k] = read32(q.source, 4 * k);
      this.addr[4 + k] = read32(q.destination, 4 * k);
    }
  }

  /** Hits of a policy id (DEFAULT_POLICY_ID for the default policy); 0 for an unknown id. */
  hits(policyId: number): number {
    const slot = this.slotOf.get(policyId);
    return slot === undefined ? 0 : this.counts[slot];
  }

  /** Hits of every policy by id, in config order, the default policy last. */
  hitCounts(): Map<number, number> {
    return new Map(this.order.map((id) => [id, this.hits(id)]));
  }

  /** Keeps the counts of the policies a reload kept (same id and name); call before serving lookups. */
  carryHitsFrom(previous: PolicyEngine): void {
    for (const [id, slot] of this.slotOf) {
      if (previous.nameOf.get(id) === this.nameOf.get(id)) this.counts[slot] += previous.hits(id);
    }
  }

  private scan(set: RuleSet, q: PolicyQuery): PolicyDecision | null {
    const all = q.family === 'inet6' ? set.all6 : set.all4;
    if (all !== null) {
      this.slot = all.slot;
      return all.any;
    }
    const index = q.family === 'inet6' ? set.v6 : set.v4;
    if (!index.begin(this.addr, q.protocol, q.destinationPort)) return null;
    for (let x = index.next(0); x >= 0; x = index.next(x + 1)) {
      const r = set.rules[x];
      const i = r.any ? 0 : matchTerm(r.terms, q);
      if (i < 0) continue;
      this.slot = r.slot;
      return r.any ?? r.decisions[i];
    }
    return null;
  }
}

/** Index of the first term the flow matches, or -1. */
function matchTerm(terms: readonly ApplicationTerm[], q: PolicyQuery): number {
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i];
    if (t.protocol !== q.protocol) continue;
    if (t.icmpType >= 0 && t.icmpType !== q.icmpType) continue;
    if (t.icmpCode >= 0 && t.icmpCode !== q.icmpCode) continue;
    if (q.sourcePort < t.sourcePortLow || q.sourcePort > t.sourcePortHigh) continue;
    if (q.destinationPort < t.destinationPortLow || q.destinationPort > t.destinationPortHigh) continue;
    return i;
  }
  return -1;
}

import type { AddressMatch, ApplicationTerm, CompiledConfig, Family, Policy, PolicyAction } from '../config/types.js';
import { DEFAULT_POLICY_ID, DEFAULT_POLICY_NAME } from '../config/types.js';

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
}

interface Rule {
  src: AddressMatch;
  dst: AddressMatch;
  terms: readonly ApplicationTerm[];
  /** Decision for `application any`, or one per term: prebuilt so a match allocates nothing. */
  any: PolicyDecision | null;
  decisions: PolicyDecision[];
}

function decision(policy: Policy, application: string | null): PolicyDecision {
  return Object.freeze({ policy, action: policy.action, policyId: policy.id, policyName: policy.name, application });
}

function rule(p: Policy): Rule {
  const app = p.match.application;
  return {
    src: p.match.source,
    dst: p.match.destination,
    terms: app.terms,
    any: app.any ? decision(p, null) : null,
    decisions: app.terms.map((t) => decision(p, t.application)),
  };
}

function read32(b: Uint8Array, at: number): number {
  return (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
}

function inV4(m: Int32Array, a: number): boolean {
  for (let i = 0; i < m.length; i += 2) if ((a & m[i + 1]) === m[i]) return true;
  return false;
}

/** `a[at..at+3]` against groups of (network[4], mask[4]). */
function inV6(m: Int32Array, a: Int32Array, at: number): boolean {
  for (let i = 0; i < m.length; i += 8) {
    if (
      (a[at] & m[i + 4]) === m[i] &&
      (a[at + 1] & m[i + 5]) === m[i + 1] &&
      (a[at + 2] & m[i + 6]) === m[i + 2] &&
      (a[at + 3] & m[i + 7]) === m[i + 3]
    ) {
      return true;
    }
  }
  return false;
}

/**
 * First-match policy lookup: the zone pair's rules in order, then global rules, then the
 * default policy. A lookup allocates nothing and parses no strings.
 */
export class PolicyEngine {
  private readonly pairs = new Map<string, Map<string, Rule[]>>();
  private readonly global: Rule[] = [];
  private readonly fallback: PolicyDecision;
  /** Query addresses as words: source at 0, destination at 4 (IPv4 uses one word each). */
  private readonly addr = new Int32Array(8);

  constructor(cfg: CompiledConfig) {
    for (const p of cfg.policies) {
      if (p.fromZone === null || p.toZone === null) {
        this.global.push(rule(p));
        continue;
      }
      let to = this.pairs.get(p.fromZone);
      if (!to) this.pairs.set(p.fromZone, (to = new Map()));
      let rules = to.get(p.toZone);
      if (!rules) to.set(p.toZone, (rules = []));
      rules.push(rule(p));
    }
    this.fallback = Object.freeze({
      policy: null,
      action: cfg.defaultPolicy === 'permit-all' ? 'permit' : 'deny',
      policyId: DEFAULT_POLICY_ID,
      policyName: DEFAULT_POLICY_NAME,
      application: null,
    });
  }

  match(q: PolicyQuery): PolicyDecision {
    const words = q.family === 'inet6' ? 4 : 1;
    if (q.source.length !== words * 4 || q.destination.length !== words * 4) {
      throw new RangeError(`policy query: ${q.family} addresses must be ${words * 4} bytes`);
    }
    for (let k = 0; k < words; k++) {
      this.addr[k] = read32(q.source, 4 * k);
      this.addr[4 + k] = read32(q.destination, 4 * k);
    }
    const pair = this.pairs.get(q.fromZone)?.get(q.toZone);
    return (pair && this.scan(pair, q)) ?? this.scan(this.global, q) ?? this.fallback;
  }

  private scan(rules: readonly Rule[], q: PolicyQuery): PolicyDecision | null {
    const v6 = q.family === 'inet6';
    const a = this.addr;
    for (const r of rules) {
      if (v6 ? !inV6(r.src.v6, a, 0) || !inV6(r.dst.v6, a, 4) : !inV4(r.src.v4, a[0]) || !inV4(r.dst.v4, a[4])) continue;
      if (r.any) return r.any;
      const i = matchTerm(r.terms, q);
      if (i >= 0) return r.decisions[i];
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

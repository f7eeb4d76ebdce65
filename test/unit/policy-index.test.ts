// The indexed PolicyEngine against a plain first-match scan, on random rule sets and queries.
import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import type { AddressMatch, ApplicationTerm, CompiledConfig, Family, Policy } from '../../lib/config/types.js';
import { DEFAULT_POLICY_ID, GLOBAL_POLICY_SET, policyId } from '../../lib/config/types.js';
import { PolicyEngine, type PolicyQuery } from '../../lib/policy/engine.js';
import { prng } from '../helpers/prng.js';


interface Prefix {
  family: Family;
  words: number[];
  length: number;
}

interface Reference {
  policy: Policy | null;
  application: string | null;
}

function maskWord(length: number, w: number): number {
  const bits = Math.min(32, Math.max(0, length - 32 * w));
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

function addressMatch(prefixes: readonly Prefix[]): AddressMatch {
  const v4: number[] = [];
  const v6: number[] = [];
  for (const p of prefixes) {
    const masks = p.words.map((_, w) => maskWord(p.length, w));
    (p.family === 'inet' ? v4 : v6).push(...p.words.map((x) => x | 0), ...masks.map((m) => m | 0));
  }
  return { v4: Int32Array.from(v4), v6: Int32Array.from(v6) };
}

/** The engine before it was indexed: every rule of the set, in order. */
function reference(cfg: CompiledConfig, q: PolicyQuery): Reference {
  const words = (b: Uint8Array): number[] => Array.from({ length: b.length / 4 }, (_, k) => ((b[4 * k] << 24) | (b[4 * k + 1] << 16) | (b[4 * k + 2] << 8) | b[4 * k + 3]) | 0);
  const src = words(q.source);
  const dst = words(q.destination);
  const inside = (m: AddressMatch, a: number[]): boolean => {
    const v = q.family === 'inet' ? m.v4 : m.v6;
    const n = a.length;
    for (let i = 0; i < v.length; i += 2 * n) if (a.every((x, k) => (x & v[i + n + k]) === v[i + k])) return true;
    return false;
  };
  const term = (x: ApplicationTerm): boolean =>
    x.protocol === q.protocol &&
    (x.icmpType < 0 || x.icmpType === q.icmpType) &&
    (x.icmpCode < 0 || x.icmpCode === q.icmpCode) &&
    q.sourcePort >= x.sourcePortLow && q.sourcePort <= x.sourcePortHigh &&
    q.destinationPort >= x.destinationPortLow && q.destinationPort <= x.destinationPortHigh;
  const scan = (rules: Policy[]): Reference | null => {
    for (const p of rules) {
      if (!inside(p.match.source, src) || !inside(p.match.destination, dst)) continue;
      if (p.match.application.any) return { policy: p, application: null };
      const hit = p.match.application.terms.find(term);
      if (hit) return { policy: p, application: hit.application };
    }
    return null;
  };
  const pair = cfg.policies.filter((p) => p.fromZone === q.fromZone && p.toZone === q.toZone);
  return scan(pair) ?? scan(cfg.policies.filter((p) => p.fromZone === null)) ?? { policy: null, application: null };
}

const ZONES = ['a', 'b', 'c'];
/** Everything but the policies, from the real compiler. */
const BASE = ((): CompiledConfig => {
  const r = compileText(ZONES.map((z) => `set security zones security-zone ${z} interfaces ${z}0\n`).join(''), 'base.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
})();
const PROTOCOLS = [6, 17, 1, 58, 47];
const PORTS = [0, 1, 22, 53, 80, 443, 1023, 1024, 8080, 32767, 32768, 65534, 65535];

class Generator {
  readonly rand: () => number;
  /** Shared network bases so prefixes nest and overlap often. */
  private readonly bases: Record<Family, number[][]>;

  /**
   * `bases`: distinct networks to draw prefixes from (few: heavy nesting and overlap);
   * `wild`: how often a rule uses wildcards (any address, any application, global).
   */
  constructor(seed: number, bases = 4, private readonly wild = 1) {
    this.rand = prng(seed);
    const word = (): number => (this.rand() * 0x100000000) >>> 0;
    const hi = word();
    this.bases = {
      inet: Array.from({ length: bases }, () => [word()]),
      inet6: Array.from({ length: bases }, () => [0x20010db8, hi, word(), word()]),
    };
  }

  int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /** A prefix of one of the bases, its low bits sometimes perturbed (a nearby network). */
  prefix(family: Family): Prefix {
    const bits = family === 'inet' ? 32 : 128;
    const length = this.rand() < 0.1 * this.wild ? 0 : this.rand() < 0.5 ? this.pick(family === 'inet' ? [8, 16, 24, 31, 32] : [32, 48, 64, 120, 128]) : this.int(bits + 1);
    const words = [...this.pick(this.bases[family])];
    if (this.rand() < 0.5) words[words.length - 1] ^= 1 << this.int(12);
    const masked = words.map((w, k) => (w & maskWord(length, k)) >>> 0);
    // Now and then a network with host bits set, which can never match.
    return { family, words: this.rand() < 0.03 ? words : masked, length };
  }

  addresses(families: readonly Family[]): AddressMatch {
    const out: Prefix[] = [];
    // Now and then a big address set, as the engine treats those differently.
    for (const f of families) for (let n = this.rand() < 0.1 ? 9 + this.int(12) : 1 + this.int(3); n > 0; n--) out.push(this.prefix(f));
    return addressMatch(out);
  }

  port(): number {
    return Math.min(65535, Math.max(0, this.pick(PORTS) + this.int(3) - 1));
  }

  term(application: string): ApplicationTerm {
    const protocol = this.pick(PROTOCOLS);
    const icmp = protocol === 1 || protocol === 58;
    const [a, b] = [this.port(), this.port()];
    const ranged = !icmp && this.rand() < 0.7;
    return {
      application,
      protocol,
      sourcePortLow: ranged && this.rand() < 0.15 ? 1024 : 0,
      sourcePortHigh: 65535,
      destinationPortLow: ranged ? Math.min(a, b) : 0,
      destinationPortHigh: ranged ? (this.rand() < 0.5 ? Math.min(a, b) : Math.max(a, b)) : 65535,
      icmpType: icmp && this.rand() < 0.6 ? this.int(4) : -1,
      icmpCode: icmp && this.rand() < 0.3 ? this.int(2) : -1,
    };
  }

  config(rules: number): CompiledConfig {
    const policies: Policy[] = [];
    const ordinals = new Map<string, number>();
    for (let i = 0; i < rules; i++) {
      const global = this.rand() < 0.2 * this.wild;
      const [from, to] = global ? [null, null] : [this.pick(ZONES), this.pick(ZONES)];
      const set = global ? GLOBAL_POLICY_SET : 1 + ZONES.indexOf(from!) * 3 + ZONES.indexOf(to!);
      const ordinal = (ordinals.get(`${set}`) ?? 0) + 1;
      ordinals.set(`${set}`, ordinal);
      const families: Family[] = this.pick([['inet'], ['inet6'], ['inet', 'inet6']]);
      const any = this.rand() < 0.2 * this.wild;
      policies.push({
        id: policyId(set, ordinal),
        name: `p${i}`,
        fromZone: from,
        toZone: to,
        action: this.pick(['permit', 'deny', 'reject'] as const),
        logInit: false,
        logClose: false,
        count: false,
        match: {
          sourceAddresses: [],
          destinationAddresses: [],
          applications: [],
          // Wildcards are common in real rule bases: any source in half of them.
          source: this.rand() < 0.5 * this.wild ? addressMatch(families.map((f) => ({ family: f, words: f === 'inet' ? [0] : [0, 0, 0, 0], length: 0 }))) : this.addresses(families),
          destination: this.addresses(families),
          application: { any, terms: any ? [] : Array.from({ length: this.rand() < 0.1 ? 9 + this.int(4) : 1 + this.int(3) }, (_, k) => this.term(`app${i}-${k}`)) },
        },
      });
    }
    // Zone-pair rules first, as the compiler orders them.
    policies.sort((x, y) => Number(x.fromZone === null) - Number(y.fromZone === null));
    return { ...BASE, policies, defaultPolicy: this.rand() < 0.5 ? 'deny-all' : 'permit-all' };
  }

  /** An address inside one of `m`'s prefixes (at an edge, or just outside it), or anywhere. */
  address(m: AddressMatch | null, family: Family): Uint8Array {
    const n = family === 'inet' ? 1 : 4;
    const words = Array.from({ length: n }, () => (this.rand() * 0x100000000) >>> 0);
    const v = m ? (family === 'inet' ? m.v4 : m.v6) : new Int32Array(0);
    if (v.length > 0) {
      const i = 2 * n * this.int(v.length / (2 * n));
      const edge = this.rand();
      for (let k = 0; k < n; k++) {
        const mask = v[i + n + k] >>> 0;
        const host = edge < 0.2 ? 0 : edge < 0.4 ? ~mask : words[k];
        words[k] = ((v[i + k] & mask) | (host & ~mask)) >>> 0;
      }
      if (this.rand() < 0.1) words[n - 1] = (words[n - 1] + (edge < 0.2 ? -1 : 1)) >>> 0;
    }
    const out = new Uint8Array(4 * n);
    words.forEach((w, k) => new DataView(out.buffer).setUint32(4 * k, w));
    return out;
  }

  /** Mostly aimed at one rule (its zones, addresses, and one of its terms), then perturbed. */
  query(cfg: CompiledConfig): PolicyQuery {
    const p = cfg.policies.length > 0 && this.rand() < 0.8 ? this.pick(cfg.policies) : null;
    const family: Family = p && p.match.destination.v4.length === 0 ? 'inet6' : p && p.match.destination.v6.length === 0 ? 'inet' : this.pick(['inet', 'inet6'] as const);
    const aim = (): boolean => p !== null && this.rand() < 0.9;
    const term = p && p.match.application.terms.length > 0 && aim() ? this.pick(p.match.application.terms) : null;
    const icmp = this.rand() < 0.7;
    return {
      fromZone: aim() && p?.fromZone ? p.fromZone : this.pick([...ZONES, 'nowhere']),
      toZone: aim() && p?.toZone ? p.toZone : this.pick(ZONES),
      family,
      protocol: term && this.rand() < 0.9 ? term.protocol : this.rand() < 0.05 ? this.int(256) : this.pick(PROTOCOLS),
      source: this.address(aim() ? p!.match.source : null, family),
      destination: this.address(aim() ? p!.match.destination : null, family),
      sourcePort: this.rand() < 0.7 ? 40000 : this.port(),
      destinationPort: term && this.rand() < 0.8 ? term.destinationPortLow + this.int(term.destinationPortHigh - term.destinationPortLow + 1) : this.port(),
      icmpType: icmp ? (term && term.icmpType >= 0 && this.rand() < 0.8 ? term.icmpType : this.int(4)) : undefined,
      icmpCode: icmp ? this.int(2) : undefined,
    };
  }
}

/** Runs `queries` random queries; returns the first disagreements and how many queries a rule decided. */
function compare(cfg: CompiledConfig, g: Generator, queries: number): { wrong: string[]; decided: number } {
  const e = new PolicyEngine(cfg);
  const wrong: string[] = [];
  let decided = 0;
  for (let i = 0; i < queries; i++) {
    const q = g.query(cfg);
    const want = reference(cfg, q);
    const got = e.lookup(q);
    if (want.policy) decided++;
    if (got.policy === want.policy && got.application === want.application && got.policyId === (want.policy?.id ?? DEFAULT_POLICY_ID)) continue;
    if (wrong.length < 5) wrong.push(`${JSON.stringify({ ...q, source: [...q.source], destination: [...q.destination] })}: got ${got.policyName}/${got.application}, want ${want.policy?.name ?? 'default'}/${want.application}`);
  }
  return { wrong, decided };
}

t.test('small random rule sets decide exactly as a linear scan', async (t) => {
  const g = new Generator(0x5eed);
  const sets = 3000;
  const queries = 40;
  const wrong: string[] = [];
  let decided = 0;
  for (let set = 0; set < sets; set++) {
    const r = compare(g.config(1 + g.int(30)), g, queries);
    wrong.push(...r.wrong);
    decided += r.decided;
  }
  t.same(wrong.slice(0, 5), [], `${sets * queries} queries over ${sets} rule sets`);
  // Guards against a generator whose queries never reach a rule.
  t.ok(decided > sets * queries * 0.3, `${decided} of ${sets * queries} queries decided by a rule`);
});

t.test('large random rule sets decide exactly as a linear scan', async (t) => {
  for (const [rules, bases, wild] of [[200, 4, 1], [1000, 4, 1], [3000, 4, 1], [1000, 1000, 0.05], [5000, 5000, 0.02]]) {
    const g = new Generator(rules + bases, bases, wild);
    const r = compare(g.config(rules), g, 5000);
    t.same(r.wrong, [], `5000 queries over ${rules} rules from ${bases} networks, wildcards x${wild}`);
    t.ok(r.decided > 1000, `${r.decided} decided by a rule`);
  }
});

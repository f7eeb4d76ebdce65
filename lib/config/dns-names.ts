import type { Statement } from './ast.js';
import type { Diagnostics } from './errors.js';
import type { Family } from './family.js';
import { parsePrefix, type Prefix } from './ip.js';
import { child, each } from './tree.js';

/**
 * `address N { dns-name host.example.com { ipv4-only; } }`: an address whose prefixes are what
 * the name resolves to. The compiler takes the answers the daemon holds (DnsAnswers); a name
 * without an answer yet has no prefixes, so it matches nothing (fail closed).
 */

/** One domain name the address books use, with the families asked for it. */
export interface DnsNameSpec {
  /** Lower case, without a trailing dot. */
  host: string;
  families: Family[];
  /** The addresses naming it: `global web`, `zone trust web`, `book B web`. */
  usedBy: string[];
}

/** The last good answers per domain name (the daemon's, lib/dns-names/). */
export type DnsAnswers = ReadonlyMap<string, { readonly inet: readonly string[]; readonly inet6: readonly string[] }>;

/** RFC 1123 labels (with the underscore DNS allows), at most 253 characters. */
const DOMAIN = /^(?=.{1,253}$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** Collects the names of a compilation and hands out their prefixes from the answers given. */
export class DnsNames {
  private readonly specs = new Map<string, DnsNameSpec>();
  /** Prefixes that came from an answer: they change without a reload, so no family check is final. */
  private readonly resolved = new WeakSet<Prefix>();

  constructor(private readonly answers: DnsAnswers) {}

  /** `dns-name H [{ ipv4-only; | ipv6-only; }]` of address `owner` (e.g. `global web`): its prefixes now. */
  prefixes(s: Statement, owner: string, d: Diagnostics): Prefix[] {
    const name = s.words[1];
    const text = name.text.replace(/\.$/, '').toLowerCase();
    if (!DOMAIN.test(text) || typeof parsePrefix(text) === 'object') {
      d.error(name.pos, `invalid dns-name '${name.text}': expected a domain name`);
      return [];
    }
    const v4only = child(s.children, 'ipv4-only');
    const v6only = child(s.children, 'ipv6-only');
    if (v4only && v6only) {
      d.error(v6only.pos, "'ipv6-only' conflicts with 'ipv4-only': give at most one");
      return [];
    }
    const families: Family[] = v4only ? ['inet'] : v6only ? ['inet6'] : ['inet', 'inet6'];
    const spec = this.specs.get(text);
    if (spec) {
      for (const f of families) if (!spec.families.includes(f)) spec.families.push(f);
      spec.usedBy.push(owner);
    } else {
      this.specs.set(text, { host: text, families: [...families], usedBy: [owner] });
    }
    const answer = this.answers.get(text);
    const out: Prefix[] = [];
    for (const f of families) {
      for (const a of answer?.[f] ?? []) {
        const p = parsePrefix(a);
        if (typeof p === 'object' && p.family === f) {
          this.resolved.add(p);
          out.push(p);
        }
      }
    }
    return out;
  }

  /** Whether a prefix came from a DNS answer. */
  isResolved(p: Prefix): boolean {
    return this.resolved.has(p);
  }

  get names(): DnsNameSpec[] {
    return [...this.specs.values()];
  }
}

/** `system name-server { A; B; }` (or `name-server A;`): the resolvers of dns-name addresses, in order. */
export function compileNameServers(root: readonly Statement[], d: Diagnostics): string[] {
  const out: string[] = [];
  for (const s of each(child(root, 'system')?.children, 'name-server')) {
    for (const server of s.children ?? []) {
      if (server.inactive) continue;
      const w = server.words[0];
      const p = parsePrefix(w.text);
      if (w.text.includes('/') || typeof p === 'string') d.error(w.pos, `invalid name-server '${w.text}': expected an IPv4 or IPv6 address`);
      else out.push(w.text);
    }
  }
  return out;
}

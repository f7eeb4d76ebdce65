// The daemon's answers for `dns-name` addresses: each name is resolved at load and again
// when its answer's TTL runs out (bounded), by the config's `system name-server`s or the
// system's resolvers. A failed lookup keeps the last good addresses; a name never resolved
// has none (its policies match nothing). Every change is logged and handed to onChange,
// which applies it to the policy engine without a reload.
import { Resolver } from 'node:dns/promises';
import type { DnsAnswers, DnsNameSpec } from '../config/dns-names.js';
import type { Family } from '../config/family.js';

export interface DnsTiming {
  /** Shortest time an answer is kept (seconds): a TTL below it, an empty answer and a failure wait this long. */
  minTtl: number;
  /** Longest (seconds). */
  maxTtl: number;
}

export const DEFAULT_DNS_TIMING: DnsTiming = { minTtl: 10, maxTtl: 86_400 };

/** How long one query may take (ms), and how often it is sent. */
const QUERY_TIMEOUT_MS = 2000;
const QUERY_TRIES = 2;

/** Errors that are an answer: the name has no record of that type. */
const NO_RECORDS = new Set(['ENODATA']);

interface NameState {
  spec: DnsNameSpec;
  inet: string[];
  inet6: string[];
  /** A good answer came at least once. */
  resolved: boolean;
  /** TTL of the answer in use, as kept (bounded), seconds. */
  ttl: number;
  /** When the next lookup is due (ms since the epoch); 0: under way. */
  dueAt: number;
  lastError: string | null;
  lastErrorAt: number | null;
  lookups: number;
  failures: number;
  changes: number;
  timer: NodeJS.Timeout | null;
  /** Bumped when the name is dropped or asked again, so a late answer is ignored. */
  generation: number;
}

export interface DnsNameView {
  name: string;
  families: Family[];
  usedBy: string[];
  addresses: string[];
  resolved: boolean;
  ttlSeconds: number;
  /** Seconds until the next lookup (0: under way). */
  ttlLeftSeconds: number;
  lastError: string | null;
  lastErrorAt: string | null;
  lookups: number;
  failures: number;
  changes: number;
}

export interface DnsReport {
  nameServers: string[];
  names: DnsNameView[];
}

/** Totals over every name since the daemon started (metrics and `show counters`). */
export interface DnsCounters {
  /** Lookups of a name (its A and AAAA questions together) that got an answer. */
  answered: number;
  /** That failed (timeout, refused, SERVFAIL, NXDOMAIN, ...): the last good addresses stayed. */
  failures: number;
  /** Answers that changed a name's addresses (each applied to the policies). */
  changes: number;
}

export class DnsAddresses {
  private readonly names = new Map<string, NameState>();
  private resolver = new Resolver({ timeout: QUERY_TIMEOUT_MS, tries: QUERY_TRIES });
  private servers: string[] = [];
  private closed = false;
  readonly counters: DnsCounters = { answered: 0, failures: 0, changes: 0 };
  /** Told after a name's addresses changed (not after a lookup that kept them). */
  onChange: () => void = () => undefined;
  log: (line: string) => void = (line) => process.stderr.write(`xdpfw: ${line}\n`);

  constructor(private readonly timing: DnsTiming = DEFAULT_DNS_TIMING) {}

  /**
   * The names and resolvers of a (new) config: names it keeps keep their answers; new ones are
   * looked up now (resolveNew() awaits that), dropped ones forgotten.
   */
  configure(specs: readonly DnsNameSpec[], nameServers: readonly string[]): void {
    if (nameServers.join() !== this.servers.join()) {
      this.resolver.cancel();
      this.resolver = new Resolver({ timeout: QUERY_TIMEOUT_MS, tries: QUERY_TRIES });
      if (nameServers.length) this.resolver.setServers([...nameServers]);
      this.servers = [...nameServers];
    }
    const wanted = new Map(specs.map((s) => [s.host, s]));
    for (const [host, st] of this.names) {
      if (wanted.has(host)) continue;
      if (st.timer) clearTimeout(st.timer);
      st.generation++;
      this.names.delete(host);
    }
    for (const spec of specs) {
      const st = this.names.get(spec.host);
      if (st) {
        const asksMore = spec.families.some((f) => !st.spec.families.includes(f));
        st.spec = spec;
        if (asksMore) void this.lookup(st);
        continue;
      }
      const fresh: NameState = {
        spec, inet: [], inet6: [], resolved: false, ttl: 0, dueAt: 0, lastError: null, lastErrorAt: null,
        lookups: 0, failures: 0, changes: 0, timer: null, generation: 0,
      };
      this.names.set(spec.host, fresh);
      void this.lookup(fresh);
    }
  }

  /** Resolves once every name has had its first lookup (answered or failed). */
  async settled(): Promise<void> {
    while (!this.closed && [...this.names.values()].some((s) => s.dueAt === 0)) await new Promise((r) => setTimeout(r, 20));
  }

  /** The last good addresses of every name (what the policies are compiled with). */
  answers(): DnsAnswers {
    return new Map([...this.names].map(([host, st]) => [host, { inet: [...st.inet], inet6: [...st.inet6] }]));
  }

  report(now = Date.now()): DnsReport {
    return {
      nameServers: this.servers.length ? [...this.servers] : this.resolver.getServers(),
      names: [...this.names.values()].map((st) => ({
        name: st.spec.host,
        families: [...st.spec.families],
        usedBy: [...st.spec.usedBy],
        addresses: [...st.inet, ...st.inet6],
        resolved: st.resolved,
        ttlSeconds: st.ttl,
        ttlLeftSeconds: st.dueAt === 0 ? 0 : Math.max(0, Math.ceil((st.dueAt - now) / 1000)),
        lastError: st.lastError,
        lastErrorAt: st.lastErrorAt === null ? null : new Date(st.lastErrorAt).toISOString(),
        lookups: st.lookups,
        failures: st.failures,
        changes: st.changes,
      })),
    };
  }

  close(): void {
    this.closed = true;
    for (const st of this.names.values()) {
      if (st.timer) clearTimeout(st.timer);
      st.generation++;
    }
    this.resolver.cancel();
  }

  private schedule(st: NameState, seconds: number): void {
    if (this.closed) return;
    st.dueAt = Date.now() + seconds * 1000;
    st.timer = setTimeout(() => void this.lookup(st), seconds * 1000);
    st.timer.unref();
  }

  private bounded(ttl: number): number {
    return Math.min(this.timing.maxTtl, Math.max(this.timing.minTtl, ttl));
  }

  /** One lookup of every family the name is asked for; never throws. */
  private async lookup(st: NameState): Promise<void> {
    if (st.timer) clearTimeout(st.timer);
    st.timer = null;
    const generation = ++st.generation;
    st.dueAt = 0;
    st.lookups++;
    const got: Record<Family, string[]> = { inet: [], inet6: [] };
    let ttl = Infinity;
    let error: string | null = null;
    for (const family of st.spec.families) {
      try {
        const records = family === 'inet'
          ? await this.resolver.resolve4(st.spec.host, { ttl: true })
          : await this.resolver.resolve6(st.spec.host, { ttl: true });
        for (const r of records) {
          got[family].push(r.address);
          ttl = Math.min(ttl, r.ttl);
        }
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (NO_RECORDS.has(code)) continue;
        error = `${family === 'inet' ? 'A' : 'AAAA'} lookup failed: ${code || (err as Error).message}`;
        break;
      }
    }
    if (this.closed || generation !== st.generation || this.names.get(st.spec.host) !== st) return;
    if (error !== null) {
      st.failures++;
      this.counters.failures++;
      st.lastError = error;
      st.lastErrorAt = Date.now();
      const kept = [...st.inet, ...st.inet6];
      this.log(`dns-name ${st.spec.host}: ${error}; ${st.resolved ? `keeping ${kept.join(', ') || 'no addresses'}` : 'never resolved: it matches nothing'}`);
      this.schedule(st, this.timing.minTtl);
      return;
    }
    this.counters.answered++;
    const sorted = (xs: string[]): string[] => [...new Set(xs)].sort();
    const inet = sorted(got.inet);
    const inet6 = sorted(got.inet6);
    const changed = inet.join() !== st.inet.join() || inet6.join() !== st.inet6.join();
    const before = [...st.inet, ...st.inet6];
    st.inet = inet;
    st.inet6 = inet6;
    st.resolved = true;
    st.ttl = this.bounded(Number.isFinite(ttl) ? ttl : this.timing.minTtl);
    this.schedule(st, st.ttl);
    if (!changed) return;
    st.changes++;
    this.counters.changes++;
    this.log(`dns-name ${st.spec.host}: ${before.join(', ') || 'no addresses'} -> ${[...inet, ...inet6].join(', ') || 'no addresses'} (ttl ${st.ttl} s)`);
    this.onChange();
  }
}

// Identities of zones, policies, filters and terms that survive changes of
// the configuration. The compiler numbers them by position; a session entry
// and an event carry those numbers long after the configuration that gave
// them is gone. So the daemon gives each one an id it keeps for as long as it
// exists under its name (a policy: under its name and zone pair; a term:
// under its name in its filter), and never gives an id to anything else while
// a session or an event may still carry it. Names are therefore a function
// of the id alone: resolving an old event's id today gives the names it was
// judged under. The registry is kept in the state directory, so a restarted
// daemon (even with another config) reads the sessions it adopts right.
//
// A new identity takes its positional id when that id is free (so the first
// config gets the compiler's numbers, and a state directory from before the
// registry existed stays consistent), else the lowest free one.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { FILTER_FAMILY_CODE, MAX_TERMS_PER_FILTER } from '../config/filters/model.js';
import { GLOBAL_POLICY_SET, type CompiledConfig, type Policy, policyId } from '../config/types.js';
import type { Family } from '../config/family.js';

/** Bumped when the file's shape changes; another version is ignored (a fresh registry). */
const FILE_VERSION = 1;
const MAX_ZONE_ID = 0xfffe;
const MAX_SET = GLOBAL_POLICY_SET - 1;
const MAX_RULE = 0xffff;
const MAX_FILTER_ORDINAL = 0xffff;

/** One identity. `retired`: the reload generation that removed it; null while it is configured. */
interface Entry {
  id: number;
  retired: number | null;
}

export interface ZoneIdentity extends Entry { name: string }
export interface PolicyIdentity extends Entry { name: string; fromZone: string | null; toZone: string | null }
export interface TermIdentity extends Entry { name: string }
export interface FilterIdentity extends Entry { name: string; family: Family; terms: TermIdentity[] }
interface SetIdentity extends Entry { fromZone: string; toZone: string }

interface RegistryFile {
  version: number;
  generation: number;
  zones: ZoneIdentity[];
  sets: SetIdentity[];
  policies: PolicyIdentity[];
  filters: FilterIdentity[];
}

/** Says whether a session or a kept event still carries an id. */
export interface Carried {
  zone(id: number): boolean;
  policy(id: number): boolean;
  filter(id: number): boolean;
}

const policyKey = (from: string | null, to: string | null, name: string): string =>
  from === null ? `\0global\0${name}` : `${from}\0${to}\0${name}`;
const filterKey = (family: Family, name: string): string => `${family}\0${name}`;

/**
 * Hands out ids in [low, high]: `preferred` when free, else the lowest free one. Taken ids only
 * grow during one assignment, so the search for the lowest free one resumes where it stopped.
 */
class Allocator {
  private cursor: number;

  constructor(private readonly taken: Set<number>, private readonly low: number, private readonly high: number, private readonly what: string) {
    this.cursor = low;
  }

  take(preferred: number): number {
    if (preferred >= this.low && preferred <= this.high && !this.taken.has(preferred)) return this.mark(preferred);
    while (this.cursor <= this.high && this.taken.has(this.cursor)) this.cursor++;
    if (this.cursor > this.high) {
      throw new Error(`no ${this.what} id is free: ${this.high - this.low + 1} are held by configured or recently removed ${this.what}s`);
    }
    return this.mark(this.cursor);
  }

  private mark(id: number): number {
    this.taken.add(id);
    return id;
  }
}

/** One allocator per group (a policy set, a filter family), made on first use. */
function groups(ids: Iterable<number>, low: number, high: number, what: string): (group: number) => Allocator {
  const taken = new Map<number, Set<number>>();
  for (const id of ids) {
    const g = id >>> 16;
    if (!taken.has(g)) taken.set(g, new Set());
    taken.get(g)!.add(id & 0xffff);
  }
  const made = new Map<number, Allocator>();
  return (g) => {
    let a = made.get(g);
    if (!a) {
      a = new Allocator(taken.get(g) ?? new Set(), low, high, what);
      made.set(g, a);
    }
    return a;
  };
}

/** Marks what is configured live, what is not retired (in generation `gen`). */
function sweep<E extends Entry>(entries: Iterable<E>, live: ReadonlySet<E>, gen: number): void {
  for (const e of entries) {
    if (live.has(e)) e.retired = null;
    else e.retired ??= gen;
  }
}

export class IdentityRegistry {
  private generation = 0;
  private readonly zones = new Map<string, ZoneIdentity>();
  private readonly sets = new Map<string, SetIdentity>();
  private readonly policies = new Map<string, PolicyIdentity>();
  private readonly filters = new Map<string, FilterIdentity>();
  /** The last compiled form of each policy id (this run only): for the application an event names. */
  private readonly lastPolicy = new Map<number, Policy>();
  private byId = { zone: new Map<number, ZoneIdentity>(), policy: new Map<number, PolicyIdentity>(), filter: new Map<number, FilterIdentity>() };

  private constructor(private readonly file: string | null) {}

  /** An empty registry kept in `file` (null: memory only). */
  static empty(file: string | null): IdentityRegistry {
    return new IdentityRegistry(file);
  }

  /** The registry saved in `file`, or an empty one when there is none (or it is unreadable). */
  static load(file: string): IdentityRegistry {
    const r = new IdentityRegistry(file);
    let data: RegistryFile;
    try {
      data = JSON.parse(readFileSync(file, 'utf8')) as RegistryFile;
    } catch {
      return r;
    }
    if (data.version !== FILE_VERSION) return r;
    r.generation = data.generation;
    for (const z of data.zones) r.zones.set(z.name, z);
    for (const s of data.sets) r.sets.set(`${s.fromZone}\0${s.toZone}`, s);
    for (const p of data.policies) r.policies.set(policyKey(p.fromZone, p.toZone, p.name), p);
    for (const f of data.filters) r.filters.set(filterKey(f.family, f.name), f);
    r.index();
    return r;
  }

  /** A copy to plan a change in: the original stays as it is until the copy replaces it. */
  private copy(): IdentityRegistry {
    const r = new IdentityRegistry(this.file);
    r.generation = this.generation;
    for (const [k, z] of this.zones) r.zones.set(k, { ...z });
    for (const [k, x] of this.sets) r.sets.set(k, { ...x });
    for (const [k, p] of this.policies) r.policies.set(k, { ...p });
    for (const [k, f] of this.filters) r.filters.set(k, { ...f, terms: f.terms.map((t) => ({ ...t })) });
    for (const [id, p] of this.lastPolicy) r.lastPolicy.set(id, p);
    r.index();
    return r;
  }

  private index(): void {
    this.byId = {
      zone: new Map([...this.zones.values()].map((z) => [z.id, z])),
      policy: new Map([...this.policies.values()].map((p) => [p.id, p])),
      filter: new Map([...this.filters.values()].map((f) => [f.id, f])),
    };
  }

  private toFile(): RegistryFile {
    return {
      version: FILE_VERSION,
      generation: this.generation,
      zones: [...this.zones.values()],
      sets: [...this.sets.values()],
      policies: [...this.policies.values()],
      filters: [...this.filters.values()],
    };
  }

  /**
   * Gives `config` (freshly compiled, not yet in use) the ids of this registry, in place, and
   * returns the registry that goes with it; this one is unchanged, so a failed apply loses
   * nothing. Identities no longer configured are retired; retired ones that nothing carries
   * any more, and that were retired before this change, are forgotten and their ids freed.
   */
  assign(config: CompiledConfig, carried?: Carried): IdentityRegistry {
    const r = this.copy();
    r.generation++;
    if (carried) r.forget(carried);
    r.assignZones(config);
    r.assignPolicies(config);
    r.assignFilters(config);
    r.index();
    for (const p of config.policies) r.lastPolicy.set(p.id, p);
    return r;
  }

  private forget(carried: Carried): void {
    const old = (e: Entry): boolean => e.retired !== null && e.retired < this.generation - 1;
    for (const [k, z] of this.zones) if (old(z) && !carried.zone(z.id)) this.zones.delete(k);
    for (const [k, p] of this.policies) {
      if (old(p) && !carried.policy(p.id)) {
        this.policies.delete(k);
        this.lastPolicy.delete(p.id);
      }
    }
    for (const [k, f] of this.filters) {
      if (old(f) && !carried.filter(f.id)) this.filters.delete(k);
      // A term id is only ever read with its filter's id, which a carried filter keeps.
      else f.terms = f.terms.filter((t) => !(old(t) && !carried.filter(f.id)));
    }
    const pairs = new Set([...this.policies.values()].map((p) => `${p.fromZone}\0${p.toZone}`));
    for (const [k, s] of this.sets) if (!pairs.has(`${s.fromZone}\0${s.toZone}`)) this.sets.delete(k);
  }

  private assignZones(config: CompiledConfig): void {
    const live = new Set<ZoneIdentity>();
    const ids = new Allocator(new Set([...this.zones.values()].map((z) => z.id)), 1, MAX_ZONE_ID, 'zone');
    for (const zone of config.zones) {
      let e = this.zones.get(zone.name);
      if (!e) {
        e = { id: ids.take(zone.id), name: zone.name, retired: null };
        this.zones.set(zone.name, e);
      }
      live.add(e);
      zone.id = e.id; // zoneByInterface holds the same objects
    }
    sweep(this.zones.values(), live, this.generation);
  }

  private setOrdinal(from: string, to: string, preferred: number): number {
    const key = `${from}\0${to}`;
    let s = this.sets.get(key);
    if (!s) {
      const taken = new Set([...this.sets.values()].map((x) => x.id));
      s = { id: new Allocator(taken, 1, MAX_SET, 'policy set').take(preferred), fromZone: from, toZone: to, retired: null };
      this.sets.set(key, s);
    }
    return s.id;
  }

  private assignPolicies(config: CompiledConfig): void {
    const live = new Set<PolicyIdentity>();
    const rules = groups([...this.policies.values()].map((p) => p.id), 1, MAX_RULE, 'policy');
    for (const policy of config.policies) {
      const key = policyKey(policy.fromZone, policy.toZone, policy.name);
      let e = this.policies.get(key);
      if (!e) {
        const set = policy.fromZone === null ? GLOBAL_POLICY_SET : this.setOrdinal(policy.fromZone, policy.toZone!, policy.id >>> 16);
        const preferred = (policy.id >>> 16) === set ? policy.id & 0xffff : 0;
        e = { id: policyId(set, rules(set).take(preferred)), name: policy.name, fromZone: policy.fromZone, toZone: policy.toZone, retired: null };
        this.policies.set(key, e);
      }
      live.add(e);
      policy.id = e.id;
    }
    sweep(this.policies.values(), live, this.generation);
  }

  private assignFilters(config: CompiledConfig): void {
    const fw = config.firewall;
    const live = new Set<FilterIdentity>();
    const ordinals = groups([...this.filters.values()].map((f) => f.id), 1, MAX_FILTER_ORDINAL, 'filter');
    const renamed = new Map<number, number>();
    for (const filter of fw.filters) {
      const key = filterKey(filter.family, filter.name);
      let e = this.filters.get(key);
      if (!e) {
        const code = FILTER_FAMILY_CODE[filter.family];
        const preferred = filter.id >>> 16 === code ? filter.id & 0xffff : 0;
        e = { id: ((code << 16) | ordinals(code).take(preferred)) >>> 0, name: filter.name, family: filter.family, terms: [], retired: null };
        this.filters.set(key, e);
      }
      live.add(e);
      renamed.set(filter.id, e.id);
      filter.id = e.id;
      const liveTerms = new Set<TermIdentity>();
      const termIds = new Allocator(new Set(e.terms.map((t) => t.id)), 1, MAX_TERMS_PER_FILTER, 'term');
      const byName = new Map(e.terms.map((t) => [t.name, t]));
      for (const term of filter.terms) {
        let te = byName.get(term.name);
        if (!te) {
          te = { id: termIds.take(term.id), name: term.name, retired: null };
          e.terms.push(te);
        }
        liveTerms.add(te);
        term.id = te.id;
      }
      sweep(e.terms, liveTerms, this.generation);
    }
    sweep(this.filters.values(), live, this.generation);
    // The attachments name filters by id.
    const map = (id: number | null): number | null => (id === null ? null : renamed.get(id) ?? id);
    for (const att of fw.interfaces.values()) {
      for (const a of Object.values(att)) {
        a.input = map(a.input);
        a.output = map(a.output);
      }
    }
    for (const family of Object.keys(fw.lo0) as Family[]) fw.lo0[family] = map(fw.lo0[family]);
    fw.filters.sort((a, b) => a.id - b.id);
  }

  /** Writes the registry to its file (atomically: a crash leaves the old file or the new one). */
  save(): void {
    if (!this.file) return;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.toFile())}\n`);
    renameSync(tmp, this.file);
  }

  static remove(file: string): void {
    rmSync(file, { force: true });
    rmSync(`${file}.tmp`, { force: true });
  }

  zone(id: number): ZoneIdentity | null {
    return this.byId.zone.get(id) ?? null;
  }

  policy(id: number): PolicyIdentity | null {
    return this.byId.policy.get(id) ?? null;
  }

  /** The policy as last compiled under this id in this run (for its applications), or null. */
  compiledPolicy(id: number): Policy | null {
    return this.lastPolicy.get(id) ?? null;
  }

  filter(id: number): FilterIdentity | null {
    return this.byId.filter.get(id) ?? null;
  }

  term(filterId: number, termId: number): TermIdentity | null {
    return this.byId.filter.get(filterId)?.terms.find((t) => t.id === termId) ?? null;
  }

  /** Every identity, for `show identities`-style reports and tests. */
  list(): { zones: ZoneIdentity[]; policies: PolicyIdentity[]; filters: FilterIdentity[] } {
    return { zones: [...this.zones.values()], policies: [...this.policies.values()], filters: [...this.filters.values()] };
  }
}

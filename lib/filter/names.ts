import type { FirewallConfig } from '../config/filters.js';

/**
 * Filter and term names by id, for event formatters (NameResolver.filter / .term) and
 * `show firewall`. Only active filters and terms have names; the implicit discard (term 0)
 * has none, nor does an id the configuration does not have.
 */
export class FilterNames {
  private readonly filters = new Map<number, { name: string; terms: Map<number, string> }>();

  constructor(firewall: FirewallConfig) {
    for (const f of firewall.filters) this.filters.set(f.id, { name: f.name, terms: new Map(f.terms.map((t) => [t.id, t.name])) });
  }

  filterName(filterId: number): string | null {
    return this.filters.get(filterId)?.name ?? null;
  }

  termName(filterId: number, termId: number): string | null {
    return this.filters.get(filterId)?.terms.get(termId) ?? null;
  }
}

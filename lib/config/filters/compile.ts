import type { Statement, Word } from '../ast.js';
import type { Diagnostics } from '../errors.js';
import type { Family } from '../family.js';
import { parsePrefix, type Prefix } from '../ip.js';
import type { RoutingInstance } from '../routing-instances.js';
import { activeChildren, child, each, every } from '../tree.js';
import { checkName } from '../values.js';
import { compileThen } from './actions.js';
import { compilePolicers } from './policers.js';
import { describePos } from '../errors.js';
import { compileAttachments } from './attachments.js';
import { prefixText, type TermContext } from './context.js';
import { compileFrom } from './match.js';
import { filterId, MAX_COUNTERS, MAX_POLICED_TERMS, MAX_FILTERS_PER_FAMILY, MAX_TERMS_PER_FILTER, type Filter, type FilterTerm, type FirewallConfig, type Policer } from './model.js';

const FAMILIES: readonly Family[] = ['inet', 'inet6'];

/**
 * Compiles `policy-options`, `firewall` and the filter attachments of `interfaces`.
 * `zoneByInterface` tells which interfaces xdpfw sees (a filter elsewhere would never run);
 * `instances` are the compiled `routing-instances`.
 */
export function compileFirewall(
  root: readonly Statement[],
  zoneByInterface: ReadonlyMap<string, unknown>,
  instances: ReadonlyMap<string, RoutingInstance>,
  d: Diagnostics,
): FirewallConfig {
  const prefixListsByName = compilePrefixLists(root, d);
  const filters: Filter[] = [];
  const byName: Record<Family, Map<string, Filter>> = { inet: new Map(), inet6: new Map() };
  const inactive: Record<Family, Set<string>> = { inet: new Set(), inet6: new Set() };
  const counters = { n: 0 };
  const firewall = child(root, 'firewall');
  const policers = compilePolicers(firewall, d);
  for (const family of FAMILIES) {
    // The normaliser merged repeated `family X` statements into one.
    const fam = every(firewall?.children, 'family').find((s) => s.words[1].text === family);
    const stmts = fam && !fam.inactive ? every(fam.children, 'filter') : [];
    // `firewall filter F` without a family is family inet's; numbered after the explicit ones.
    const shorthand = family === 'inet' ? every(firewall?.children, 'filter') : [];
    const explicit = new Map(stmts.map((s) => [s.words[1].text, s]));
    for (const s of shorthand) {
      const prev = explicit.get(s.words[1].text);
      if (prev) d.error(s.words[1].pos, `filter '${s.words[1].text}' is already defined as 'family inet filter ${s.words[1].text}' at ${describePos(prev.pos, s.pos)} ('firewall filter' without a family is family inet)`);
    }
    const all = [...stmts, ...shorthand.filter((s) => !explicit.has(s.words[1].text))];
    numbered(all, MAX_FILTERS_PER_FAMILY, `filters in family ${family}`, d).forEach((f, index) => {
      const name = f.words[1];
      if (f.inactive) {
        inactive[family].add(name.text);
        return;
      }
      checkName(d, name, 'filter name');
      const filter = compileFilter(f, filterId(family, index + 1), family, prefixListsByName, instances, policers, counters, d);
      filters.push(filter);
      byName[family].set(name.text, filter);
    });
  }
  const policed = filters.flatMap((f) => f.terms.filter((t) => t.policer !== null));
  if (policed.length > MAX_POLICED_TERMS) d.error(firewall!.pos, `${policed.length} filter terms name a policer; at most ${MAX_POLICED_TERMS} can (each has a bucket of its own)`);
  const attachments = compileAttachments(root, byName, inactive, zoneByInterface, d);
  return { filters, prefixLists: prefixListsByName, ...attachments, policers };
}

/** The first `max` statements; the rest are reported once. */
function numbered(stmts: Statement[], max: number, what: string, d: Diagnostics): Statement[] {
  if (stmts.length > max) d.error(stmts[max].pos, `more than ${max} ${what}`);
  return stmts.slice(0, max);
}

function compilePrefixLists(root: readonly Statement[], d: Diagnostics): Map<string, Prefix[]> {
  const out = new Map<string, Prefix[]>();
  for (const pl of each(child(root, 'policy-options')?.children, 'prefix-list')) {
    const name = pl.words[1];
    checkName(d, name, 'prefix-list name');
    const seen = new Map<string, Word>();
    const prefixesOf: Prefix[] = [];
    for (const e of activeChildren(pl.children)) {
      const w = e.words[0];
      const p = parsePrefix(w.text);
      if (typeof p === 'string') {
        d.error(w.pos, p);
        continue;
      }
      const key = prefixText(p);
      if (seen.has(key)) continue;
      seen.set(key, w);
      prefixesOf.push(p);
    }
    out.set(name.text, prefixesOf);
  }
  return out;
}

interface Counters {
  n: number;
}

function compileFilter(
  f: Statement,
  id: number,
  family: Family,
  lists: ReadonlyMap<string, Prefix[]>,
  instances: ReadonlyMap<string, RoutingInstance>,
  policers: ReadonlyMap<string, Policer>,
  counters: Counters,
  d: Diagnostics,
): Filter {
  const name = f.words[1].text;
  const terms: FilterTerm[] = [];
  const counterNames = new Set<string>();
  numbered(every(f.children, 'term'), MAX_TERMS_PER_FILTER, `terms in filter '${name}'`, d).forEach((t, index) => {
    if (t.inactive) return;
    const ctx: TermContext = { family, filter: name, term: t.words[1].text, d };
    checkName(d, t.words[1], 'term name');
    const match = compileFrom(child(t.children, 'from'), ctx, lists);
    const then = compileThen(child(t.children, 'then'), ctx, instances, policers);
    if (then.countWord && !counterNames.has(then.countWord.text)) {
      counterNames.add(then.countWord.text);
      if (++counters.n > MAX_COUNTERS) d.error(then.countWord.pos, `more than ${MAX_COUNTERS} counters in all filters`);
    }
    terms.push({
      id: index + 1,
      name: ctx.term,
      match,
      action: then.action,
      rejectReason: then.rejectReason,
      log: then.log,
      syslog: then.syslog,
      count: then.countWord?.text ?? null,
      routingInstance: then.routingInstance,
      policer: then.policer,
    });
  });
  return { id, name, family, terms };
}

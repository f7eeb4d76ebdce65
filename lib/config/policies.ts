import type { Statement, Word } from './ast.js';
import type { AddressBook, AddressBooks } from './addressbook.js';
import type { Applications } from './applications.js';
import { describePos, type Diagnostics } from './errors.js';
import { maskWords, type Prefix } from './ip.js';
import { IPPROTO } from './protocols.js';
import { child, each, eachOf, every, listOf } from './tree.js';
import {
  GLOBAL_POLICY_SET,
  policyId,
  type AddressMatch,
  type ApplicationMatch,
  type ApplicationTerm,
  type Family,
  type Policy,
  type PolicyAction,
} from './types.js';
import { checkName } from './values.js';
import type { DnsNames } from './dns-names.js';
import { JUNOS_HOST } from './unsupported-report.js';

export interface CompiledPolicies {
  policies: Policy[];
  defaultPolicy: 'deny-all' | 'permit-all';
}

const ACTIONS: readonly PolicyAction[] = ['permit', 'deny', 'reject'];
/** Ordinals are 16 bits; the last set ordinal is the global set's. */
const MAX_RULES = 0xffff;
const MAX_ZONE_PAIRS = GLOBAL_POLICY_SET - 1;

/** The first `max` statements; the rest are reported once. */
function numbered(stmts: Statement[], max: number, what: string, d: Diagnostics): Statement[] {
  if (stmts.length > max) d.error(stmts[max].pos, `more than ${max} ${what}`);
  return stmts.slice(0, max);
}

/**
 * `security policies { from-zone A to-zone B { policy ... } global { policy ... } default-policy ...; }`.
 * Ids come from positions (inactive sets and rules included), so deactivating or expanding
 * anything never renumbers other policies.
 */
export function compilePolicies(
  root: readonly Statement[],
  zones: ReadonlySet<string>,
  books: AddressBooks,
  apps: Applications,
  d: Diagnostics,
  dns: DnsNames,
): CompiledPolicies {
  const stanza = child(child(root, 'security')?.children, 'policies');
  const policies: Policy[] = [];
  const compileSet = (stmts: Statement[] | null | undefined, set: number, from: string | null, to: string | null): void => {
    const rules = numbered(every(stmts, 'policy'), MAX_RULES, 'policies in one set', d);
    rules.forEach((p, index) => {
      if (p.inactive) return;
      const policy = compilePolicy(p, policyId(set, index + 1), from, to, books, apps, d, dns);
      if (policy) policies.push(policy);
    });
  };

  numbered(every(stanza?.children, 'from-zone'), MAX_ZONE_PAIRS, 'zone pairs', d).forEach((pair, index) => {
    if (pair.inactive) return;
    const [from, to] = [pair.words[1], pair.words[3]];
    for (const z of from.text === to.text ? [from] : [from, to]) {
      // `to-zone junos-host`: the box itself (its policies are judged after host-inbound-traffic).
      if (!zones.has(z.text) && !(z === to && z.text === JUNOS_HOST)) d.error(z.pos, `unknown zone '${z.text}'`);
    }
    compileSet(pair.children, index + 1, from.text, to.text);
  });
  compileSet(child(stanza?.children, 'global')?.children, GLOBAL_POLICY_SET, null, null);
  return { policies, defaultPolicy: defaultPolicy(child(stanza?.children, 'default-policy'), d) };
}

function defaultPolicy(stmt: Statement | undefined, d: Diagnostics): 'deny-all' | 'permit-all' {
  const given = eachOf(stmt?.children, ['deny-all', 'permit-all']);
  if (given.length > 1) {
    const [a, b] = given;
    d.error(b.pos, `'${b.words[0].text}' conflicts with '${a.words[0].text}' at ${describePos(a.pos, b.pos)}`);
  }
  return given.length === 1 && given[0].words[0].text === 'permit-all' ? 'permit-all' : 'deny-all';
}

function compilePolicy(
  p: Statement,
  id: number,
  fromZone: string | null,
  toZone: string | null,
  books: AddressBooks,
  apps: Applications,
  d: Diagnostics,
  dns: DnsNames,
): Policy | null {
  const name = p.words[1];
  checkName(d, name, 'policy name');
  const match = child(p.children, 'match');
  const then = child(p.children, 'then');
  let ok = true;
  const need = (kw: string): Word[] => {
    const values = listOf(match?.children, kw);
    if (values.length === 0) {
      d.error(p.pos, `policy '${name.text}' needs 'match ${kw}'`);
      ok = false;
    }
    return values;
  };
  const src = need('source-address');
  const dst = need('destination-address');
  const app = need('application');
  const actions = ACTIONS.filter((a) => child(then?.children, a));
  if (actions.length !== 1) {
    d.error(p.pos, actions.length ? `policy '${name.text}' has more than one action: ${actions.join(', ')}` : `policy '${name.text}' needs an action: then permit, deny or reject`);
    ok = false;
  }
  // Junos scoping: source names in the from-zone's address book, destination names in the to-zone's.
  const source = resolveAddresses(src, books.forZone(fromZone), d);
  const destination = resolveAddresses(dst, books.forZone(toZone), d);
  const application = resolveApplications(app, apps, d);
  if (!ok || !match || !source || !destination || !application) return null;
  // Resolved names change without a reload: a policy that cannot match now may match later.
  const dynamic = [...source, ...destination].some((p) => dns.isResolved(p));
  if (!dynamic && !familiesMeet(name.text, match, source, destination, application, d)) return null;

  const log = child(then?.children, 'log');
  return {
    id,
    name: name.text,
    fromZone,
    toZone,
    action: actions[0],
    logInit: child(log?.children, 'session-init') !== undefined,
    logClose: child(log?.children, 'session-close') !== undefined,
    count: child(then?.children, 'count') !== undefined,
    match: {
      sourceAddresses: src.map((w) => w.text),
      destinationAddresses: dst.map((w) => w.text),
      applications: app.map((w) => w.text),
      source: addressMatch(source),
      destination: addressMatch(destination),
      application,
    },
  };
}

function resolveAddresses(refs: readonly Word[], book: AddressBook, d: Diagnostics): Prefix[] | null {
  const out = new Set<Prefix>();
  let ok = true;
  for (const r of refs) {
    const prefixes = book.resolve(r, d);
    if (!prefixes) ok = false;
    else for (const p of prefixes) out.add(p);
  }
  return ok ? [...out] : null;
}

function resolveApplications(refs: readonly Word[], apps: Applications, d: Diagnostics): ApplicationMatch | null {
  const terms = new Set<ApplicationTerm>();
  let any = false;
  let ok = true;
  for (const r of refs) {
    const resolved = apps.resolve(r, d);
    if (resolved === 'any') any = true;
    else if (!resolved) ok = false;
    else for (const t of resolved) terms.add(t);
  }
  return ok ? { any, terms: any ? [] : [...terms] } : null;
}

function families(prefixes: readonly Prefix[]): Set<Family> {
  return new Set(prefixes.map((p) => p.family));
}

function termFamilies(app: ApplicationMatch): Set<Family> {
  const out = new Set<Family>();
  if (app.any) return new Set(['inet', 'inet6']);
  for (const t of app.terms) {
    if (t.protocol !== IPPROTO.ICMPV6) out.add('inet');
    if (t.protocol !== IPPROTO.ICMP) out.add('inet6');
  }
  return out;
}

function describeFamilies(f: ReadonlySet<Family>): string {
  return f.has('inet') ? 'IPv4 only' : 'IPv6 only';
}

/** A policy whose addresses (or applications) share no address family can never match. */
function familiesMeet(name: string, match: Statement, src: Prefix[], dst: Prefix[], app: ApplicationMatch, d: Diagnostics): boolean {
  const s = families(src);
  const t = families(dst);
  const a = termFamilies(app);
  // Empty when a referenced definition failed (already reported).
  if (s.size === 0 || t.size === 0 || a.size === 0) return true;
  const both = new Set([...s].filter((f) => t.has(f)));
  const at = (kw: string): Statement => each(match.children, kw)[0];
  if (both.size === 0) {
    d.error(at('destination-address').pos, `policy '${name}' can never match: its source addresses are ${describeFamilies(s)} and its destination addresses ${describeFamilies(t)}`);
    return false;
  }
  if (![...both].some((f) => a.has(f))) {
    d.error(at('application').pos, `policy '${name}' can never match: its applications are ${describeFamilies(a)} and its addresses ${describeFamilies(both)}`);
    return false;
  }
  return true;
}

/** Signed 32-bit (network, mask) words for allocation-free matching. */
function addressMatch(prefixes: readonly Prefix[]): AddressMatch {
  const v4: number[] = [];
  const v6: number[] = [];
  for (const p of prefixes) {
    const mask = maskWords(p.family, p.length);
    if (p.family === 'inet') v4.push(p.words[0] | 0, mask[0] | 0);
    else v6.push(...p.words.map((w) => w | 0), ...mask.map((m) => m | 0));
  }
  return { v4: Int32Array.from(v4), v6: Int32Array.from(v6) };
}

import type { Statement, Word } from '../config/ast.js';
import type { AddressBooks } from '../config/addressbook.js';
import type { Applications } from '../config/applications.js';
import type { Diagnostics } from '../config/errors.js';
import { parsePrefix } from '../config/ip.js';
import { PORT_NUMBERS, PROTOCOL_NUMBERS } from '../config/protocols.js';
import { activeChildren, child, each, every, listOf } from '../config/tree.js';
import { checkInterfaceName, checkName, parseNumber } from '../config/values.js';
import type { ApplicationTerm } from '../config/types.js';
import { formatAddress, natPrefix, natPrefixRange, prefixRange, prefixValue, rangeSize, rangesOverlap } from './addr.js';
import {
  DEFAULT_PORTS,
  MAX_POOL_ADDRESSES,
  type AddressRange,
  type ContextKind,
  type DestinationAction,
  type DestinationPool,
  type NatConfig,
  type NatContext,
  type NatMatch,
  type NatRule,
  type NatRuleSet,
  type PortRange,
  type ProxyEntry,
  type SourceAction,
  type SourcePool,
  type StaticAction,
  type StaticRule,
} from './types.js';

/** What NAT statements refer to elsewhere in the configuration. */
export interface NatReferences {
  zones: ReadonlySet<string>;
  routingInstances: ReadonlySet<string>;
  /** `*-address-name` resolve in the global address book, as on Junos. */
  books: AddressBooks;
  apps: Applications;
}

/** Junos: translated source ports are unprivileged. */
const SOURCE_PORT_MIN = 1024;
const CONTEXT_KINDS: readonly ContextKind[] = ['interface', 'zone', 'routing-instance'];

/**
 * Compiles `security nat` (a normalised statement, or undefined for none); every error goes to
 * `d`, those of proxy-arp and proxy-ndp to `proxyD`.
 */
export function compileNat(nat: Statement | undefined, refs: NatReferences, d: Diagnostics, proxyD: Diagnostics = d): NatConfig {
  const c = new NatCompiler(refs, d);
  const p = new NatCompiler(refs, proxyD);
  const src = child(nat?.children, 'source');
  const dst = child(nat?.children, 'destination');
  const stat = child(nat?.children, 'static');
  const defaultPorts = c.defaultPorts(child(src?.children, 'pool-default-port-range'));
  const persistent = child(src?.children, 'address-persistent') !== undefined;
  // Inactive pools and rules keep their place in the numbering, so deactivating one renumbers nothing.
  const sourcePools = c.sourcePools(every(src?.children, 'pool'), defaultPorts, persistent);
  const destinationPools = c.destinationPools(every(dst?.children, 'pool'));
  return {
    source: { pools: sourcePools, ruleSets: c.ruleSets(src, true, withAction((r) => c.sourceAction(r, sourcePools))), defaultPorts },
    destination: { pools: destinationPools, ruleSets: c.ruleSets(dst, false, withAction((r) => c.destinationAction(r, destinationPools))) },
    static: { ruleSets: c.staticRuleSets(stat) },
    proxyArp: p.proxy(child(nat?.children, 'proxy-arp'), 'inet'),
    proxyNdp: p.proxy(child(nat?.children, 'proxy-ndp'), 'inet6'),
  };
}

/** What every rule has before its action. */
type RuleBase = Omit<NatRule<never>, 'action'>;

/** A rule builder for NAT types whose rules are their base and an action. */
function withAction<A>(action: (rule: Statement) => A | null): (rule: Statement, base: RuleBase) => NatRule<A> | null {
  return (rule, base) => {
    const a = action(rule);
    return a ? { ...base, action: a } : null;
  };
}

/** A word and what follows it in a `{ A; A to B; }` list of ranges. */
function rangeEntries(s: Statement | undefined): { first: Word; last: Word | null }[] {
  return activeChildren(s?.children).map((e) => ({ first: e.words[0], last: child(e.children, 'to')?.words[1] ?? null }));
}

class NatCompiler {
  private ruleIds = 0;

  constructor(
    private readonly refs: NatReferences,
    private readonly d: Diagnostics,
  ) {}

  defaultPorts(s: Statement | undefined): PortRange {
    if (!s) return DEFAULT_PORTS;
    return this.portRange(s.words[1], child(s.children, 'to')?.words[1] ?? null, SOURCE_PORT_MIN) ?? DEFAULT_PORTS;
  }

  /** `A`, `A/len` or `A to B` (two addresses): an address range, or null after reporting. */
  addressRange(first: Word, last: Word | null): AddressRange | null {
    const a = parsePrefix(first.text);
    if (typeof a === 'string') return this.fail(first, a);
    if (!last) return prefixRange(a);
    const b = parsePrefix(last.text);
    if (typeof b === 'string') return this.fail(last, b);
    const bits = a.family === 'inet' ? 32 : 128;
    if (a.family !== b.family || a.length !== bits || b.length !== bits) return this.fail(first, `'${first.text} to ${last.text}' needs two addresses of one family`);
    const r = { family: a.family, first: prefixValue(a), last: prefixValue(b) };
    if (r.first > r.last) return this.fail(last, `'${first.text} to ${last.text}': the first address is above the last`);
    return r;
  }

  /** A port or `low to high` in [min, 65535]. */
  portRange(low: Word, high: Word | null, min: number): PortRange | null {
    const lo = this.port(low, min);
    const hi = high ? this.port(high, min) : lo;
    if (lo === null || hi === null) return null;
    if (lo > hi) return this.fail(high ?? low, `port range '${lo} to ${hi}': the first port is above the last`);
    return { low: lo, high: hi };
  }

  private port(w: Word, min: number): number | null {
    const named = PORT_NUMBERS.get(w.text);
    if (named !== undefined && named >= min) return named;
    return parseNumber(this.d, w, min > 0 ? `port (Junos translates to ports ${min}-65535)` : 'port', min, 65535);
  }

  private fail(w: Word, message: string): null {
    this.d.error(w.pos, message);
    return null;
  }

  private routingInstance(s: Statement | undefined): string | null {
    if (!s) return null;
    const w = s.words[1];
    if (!this.refs.routingInstances.has(w.text)) this.fail(w, `unknown routing instance '${w.text}'`);
    return w.text;
  }

  sourcePools(stmts: Statement[], defaultPorts: PortRange, persistent: boolean): SourcePool[] {
    const pools: SourcePool[] = [];
    const placed: { pool: string; range: AddressRange; at: Word }[] = [];
    stmts.forEach((s, i) => {
      if (s.inactive) return;
      const name = s.words[1];
      checkName(this.d, name, 'pool name');
      const ranges: AddressRange[] = [];
      const entries = rangeEntries(child(s.children, 'address'));
      if (entries.length === 0) this.fail(name, `source pool '${name.text}' has no address`);
      for (const e of entries) {
        const r = this.addressRange(e.first, e.last);
        if (!r) continue;
        const clash = placed.find((p) => rangesOverlap(p.range, r));
        if (clash) this.fail(e.first, `address '${e.first.text}' of source pool '${name.text}' overlaps '${clash.at.text}' of pool '${clash.pool}'`);
        placed.push({ pool: name.text, range: r, at: e.first });
        ranges.push(r);
      }
      if (ranges.length > 0 && ranges.some((r) => r.family !== ranges[0].family)) this.fail(name, `source pool '${name.text}' mixes IPv4 and IPv6 addresses`);
      const size = ranges.reduce((n, r) => n + rangeSize(r), 0n);
      if (size > BigInt(MAX_POOL_ADDRESSES)) this.fail(name, `source pool '${name.text}' has ${size} addresses; xdpfw allocates from at most ${MAX_POOL_ADDRESSES} (a /12 of IPv4)`);
      const port = child(s.children, 'port');
      const noTranslation = child(port?.children, 'no-translation');
      const rangeStmts = each(port?.children, 'range');
      if (noTranslation && rangeStmts.length) this.fail(rangeStmts[0].words[0], `source pool '${name.text}': 'port range' and 'port no-translation' exclude each other`);
      if (rangeStmts.length > 1) this.fail(rangeStmts[1].words[0], `source pool '${name.text}' has more than one port range`);
      const r0 = rangeStmts[0];
      const ports = noTranslation ? null : r0 ? (this.portRange(r0.words[1], child(r0.children, 'to')?.words[1] ?? null, SOURCE_PORT_MIN) ?? defaultPorts) : defaultPorts;
      const pooling = child(s.children, 'address-pooling')?.words[1];
      if (pooling && pooling.text !== 'paired' && pooling.text !== 'no-paired') this.fail(pooling, `invalid address-pooling '${pooling.text}': expected paired or no-paired`);
      pools.push({
        id: i + 1,
        name: name.text,
        ranges,
        ports,
        overflow: null,
        hostAddressBase: this.hostAddressBase(child(s.children, 'host-address-base'), name, ranges, ports),
        addressPersistent: pooling ? pooling.text === 'paired' : persistent,
        routingInstance: this.routingInstance(child(s.children, 'routing-instance')),
      });
    });
    // Overflow pools name other pools: resolved once all are known.
    const active = stmts.filter((s) => !s.inactive);
    active.forEach((s, i) => {
      const w = child(s.children, 'overflow-pool')?.words[1];
      if (!w) return;
      const pool = pools[i];
      if (pool.ports !== null) this.fail(w, `source pool '${pool.name}': an overflow pool is only for pools with 'port no-translation' (a pool that translates ports overloads instead)`);
      if (w.text === 'interface') pool.overflow = { kind: 'interface' };
      else if (w.text === pool.name) this.fail(w, `source pool '${pool.name}' cannot overflow into itself`);
      else if (!pools.some((p) => p.name === w.text)) this.fail(w, `unknown source pool '${w.text}'`);
      else pool.overflow = { kind: 'pool', pool: w.text };
    });
    this.overflowCycles(active, pools);
    return pools;
  }

  private overflowCycles(stmts: Statement[], pools: SourcePool[]): void {
    const byName = new Map(pools.map((p) => [p.name, p]));
    pools.forEach((p, i) => {
      const seen = new Set<string>([p.name]);
      for (let o = p.overflow; o?.kind === 'pool'; ) {
        if (seen.has(o.pool)) {
          if (o.pool === p.name) this.fail(child(stmts[i].children, 'overflow-pool')!.words[1], `overflow pools of '${p.name}' lead back to it`);
          return;
        }
        seen.add(o.pool);
        o = byName.get(o.pool)?.overflow ?? null;
      }
    });
  }

  private hostAddressBase(s: Statement | undefined, name: Word, ranges: AddressRange[], ports: PortRange | null): bigint | null {
    if (!s) return null;
    const w = s.words[1];
    const p = parsePrefix(w.text);
    if (typeof p === 'string') return this.fail(w, p);
    if (p.length !== (p.family === 'inet' ? 32 : 128)) return this.fail(w, `host-address-base '${w.text}' must be an address, not a prefix`);
    if (ranges.length && p.family !== ranges[0].family) return this.fail(w, `host-address-base '${w.text}' is not of the family of pool '${name.text}'`);
    if (ports !== null) return this.fail(w, `source pool '${name.text}': host-address-base maps hosts one to one and needs 'port no-translation'`);
    return prefixValue(p);
  }

  destinationPools(stmts: Statement[]): DestinationPool[] {
    const pools: DestinationPool[] = [];
    stmts.forEach((s, i) => {
      if (s.inactive) return;
      const name = s.words[1];
      checkName(this.d, name, 'pool name');
      const entries = activeChildren(child(s.children, 'address')?.children);
      if (entries.length === 0) return void this.fail(name, `destination pool '${name.text}' has no address`);
      if (entries.length > 1) this.fail(entries[1].words[0], `destination pool '${name.text}' has more than one address: a destination pool is one address or one range`);
      const e = entries[0];
      const range = this.addressRange(e.words[0], child(e.children, 'to')?.words[1] ?? null);
      const portWord = child(e.children, 'port')?.words[1];
      const port = portWord ? parseNumber(this.d, portWord, 'port', 1, 65535) : null;
      if (range) pools.push({ id: i + 1, name: name.text, range, port, routingInstance: this.routingInstance(child(s.children, 'routing-instance')) });
    });
    return pools;
  }

  /** `from` (and `to`): one kind of context, every name known. */
  private context(s: Statement | undefined, what: 'from' | 'to', ruleSet: Word): NatContext | null {
    const kinds = CONTEXT_KINDS.filter((k) => each(s?.children, k).length > 0);
    if (!s || kinds.length === 0) return this.fail(ruleSet, `rule-set '${ruleSet.text}' needs '${what} zone|interface|routing-instance'`);
    if (kinds.length > 1) {
      const written = activeChildren(s.children).filter((c) => (CONTEXT_KINDS as readonly string[]).includes(c.words[0].text));
      const second = written.find((c) => c.words[0].text !== written[0].words[0].text)!;
      return this.fail(second.words[0], `rule-set '${ruleSet.text}': '${what}' takes one of zone, interface or routing-instance, not ${written[0].words[0].text} and ${second.words[0].text}`);
    }
    const kind = kinds[0];
    const names = listOf(s.children, kind);
    for (const n of names) {
      if (kind === 'zone' && !this.refs.zones.has(n.text)) this.fail(n, `unknown zone '${n.text}'`);
      if (kind === 'routing-instance' && !this.refs.routingInstances.has(n.text)) this.fail(n, `unknown routing instance '${n.text}'`);
      if (kind === 'interface') checkInterfaceName(this.d, n);
    }
    return { kind, names: names.map((n) => n.text) };
  }

  /** Rule-sets of one NAT type; `build` completes each rule from its statement (null: it had errors). */
  ruleSets<A, R extends NatRule<A>>(section: Statement | undefined, withTo: boolean, build: (rule: Statement, base: RuleBase) => R | null): NatRuleSet<A, R>[] {
    const out: NatRuleSet<A, R>[] = [];
    /** Junos applies one rule-set per context: two for the same one would be ambiguous. */
    const contexts = new Map<string, Word>();
    for (const s of each(section?.children, 'rule-set')) {
      const name = s.words[1];
      checkName(this.d, name, 'rule-set name');
      const from = this.context(child(s.children, 'from'), 'from', name);
      const to = withTo ? this.context(child(s.children, 'to'), 'to', name) : null;
      const stray = withTo ? undefined : child(s.children, 'to');
      if (stray) this.fail(stray.words[0], `rule-set '${name.text}': only source NAT rule-sets have 'to'; destination and static NAT apply before the route is known`);
      const rules = every(s.children, 'rule').flatMap((r) => {
        const id = ++this.ruleIds;
        if (r.inactive) return [];
        const base = { id, name: r.words[1].text, ruleSet: name.text, match: this.match(r) };
        const rule = build(r, base);
        return rule ? [rule] : [];
      });
      if (!from || (withTo && !to)) continue;
      for (const f of from.names) {
        for (const t of to ? to.names : ['']) {
          const key = `${from.kind} ${f}${to ? ` to ${to.kind} ${t}` : ''}`;
          const prev = contexts.get(key);
          if (prev) this.fail(name, `rule-sets '${prev.text}' and '${name.text}' both apply from ${key}: one rule-set per context`);
          else contexts.set(key, name);
        }
      }
      out.push({ name: name.text, from, to, rules });
    }
    return out;
  }

  private addresses(prefixes: Word[], names: Word[]): AddressRange[] | null {
    if (prefixes.length === 0 && names.length === 0) return null;
    const out: AddressRange[] = [];
    for (const w of prefixes) {
      const p = parsePrefix(w.text);
      if (typeof p === 'string') this.fail(w, p);
      else out.push(prefixRange(p));
    }
    for (const w of names) for (const p of this.refs.books.global.resolve(w, this.d) ?? []) out.push(prefixRange(p));
    return out;
  }

  private ports(s: Statement | undefined): PortRange[] | null {
    if (!s) return null;
    return rangeEntries(s).flatMap((e) => this.portRange(e.first, e.last, 0) ?? []);
  }

  private match(rule: Statement): NatMatch {
    const m = child(rule.children, 'match')?.children;
    const protocols = listOf(m, 'protocol').flatMap((w) => {
      const n = PROTOCOL_NUMBERS.get(w.text) ?? parseNumber(this.d, w, 'protocol (a name or 0-255)', 0, 255);
      return n === null ? [] : [n];
    });
    const apps = listOf(m, 'application');
    const terms: ApplicationTerm[] = [];
    let anyApp = false;
    for (const a of apps) {
      const t = this.refs.apps.resolve(a, this.d);
      if (t === 'any') anyApp = true;
      else if (t) terms.push(...t);
    }
    return {
      source: this.addresses(listOf(m, 'source-address'), listOf(m, 'source-address-name')),
      destination: this.addresses(listOf(m, 'destination-address'), listOf(m, 'destination-address-name')),
      sourcePorts: this.ports(child(m, 'source-port')),
      destinationPorts: this.ports(child(m, 'destination-port')),
      protocols: protocols.length ? protocols : null,
      applications: apps.length && !anyApp ? terms : null,
    };
  }

  /** The pool name of `then X pool { P; }`. */
  private poolName(s: Statement, rule: Word): Word | null {
    const names = activeChildren(s.children).filter((c) => c.children === null && c.words.length === 1 && c.words[0].text !== 'persistent-nat');
    if (names.length !== 1) return this.fail(s.words[0], `rule '${rule.text}': 'pool' names one pool`);
    return names[0].words[0];
  }

  private then(rule: Statement, keyword: string): Statement | null {
    const t = child(child(rule.children, 'then')?.children, keyword);
    if (!t) return this.fail(rule.words[1], `rule '${rule.words[1].text}' has no 'then ${keyword}'`);
    return t;
  }

  sourceAction(rule: Statement, pools: readonly SourcePool[]): SourceAction | null {
    const t = this.then(rule, 'source-nat');
    if (!t) return null;
    const choices = activeChildren(t.children);
    if (choices.length !== 1) return this.fail(t.words[0], `rule '${rule.words[1].text}': 'source-nat' takes one of off, interface or pool`);
    const c = choices[0];
    if (c.words[0].text === 'off') return { kind: 'off' };
    if (c.words[0].text === 'interface') return { kind: 'interface' };
    const p = this.poolName(c, rule.words[1]);
    if (!p) return null;
    if (!pools.some((x) => x.name === p.text)) return this.fail(p, `unknown source pool '${p.text}'`);
    return { kind: 'pool', pool: p.text };
  }

  destinationAction(rule: Statement, pools: readonly DestinationPool[]): DestinationAction | null {
    const m = child(rule.children, 'match')?.children;
    if (!child(m, 'destination-address') && !child(m, 'destination-address-name')) {
      this.fail(rule.words[1], `destination NAT rule '${rule.words[1].text}' needs 'match destination-address' or 'destination-address-name'`);
    }
    const t = this.then(rule, 'destination-nat');
    if (!t) return null;
    const choices = activeChildren(t.children);
    if (choices.length !== 1) return this.fail(t.words[0], `rule '${rule.words[1].text}': 'destination-nat' takes one of off or pool`);
    const c = choices[0];
    if (c.words[0].text === 'off') return { kind: 'off' };
    const p = this.poolName(c, rule.words[1]);
    if (!p) return null;
    if (!pools.some((x) => x.name === p.text)) return this.fail(p, `unknown destination pool '${p.text}'`);
    return { kind: 'pool', pool: p.text };
  }

  staticRuleSets(section: Statement | undefined): NatRuleSet<StaticAction, StaticRule>[] {
    const written = new Map<StaticRule, Statement>();
    const sets = this.ruleSets<StaticAction, StaticRule>(section, false, (stmt, base) => {
      const action = this.staticAction(stmt);
      const destinationPrefix = action ? this.staticDestination(stmt, action) : null;
      if (!action || !destinationPrefix) return null;
      const rule = { ...base, action, destinationPrefix };
      written.set(rule, stmt);
      return rule;
    });
    // One address may be translated by one static rule only, in either direction.
    const all = [...written.entries()];
    for (let i = 0; i < all.length; i++) {
      for (let j = 0; j < i; j++) {
        const [a, sa] = all[i];
        const [b] = all[j];
        if (rangesOverlap(natPrefixRange(a.destinationPrefix), natPrefixRange(b.destinationPrefix)) && sameContext(sets, a, b)) {
          this.fail(sa.words[1], `static rule '${a.name}' matches addresses of static rule '${b.name}' (rule-set '${b.ruleSet}') from the same context`);
        }
      }
    }
    return sets;
  }


  private staticAction(rule: Statement): StaticAction | null {
    const t = this.then(rule, 'static-nat');
    if (!t) return null;
    const choices = activeChildren(t.children);
    if (choices.length !== 1) return this.fail(t.words[0], `rule '${rule.words[1].text}': 'static-nat' takes one of prefix, prefix-name or inet`);
    const c = choices[0];
    const ri = this.routingInstance(child(c.children, 'routing-instance'));
    if (c.words[0].text === 'inet') return { kind: 'inet', routingInstance: ri };
    const values = activeChildren(c.children).filter((x) => x.words[0].text !== 'routing-instance' && x.words[0].text !== 'mapped-port');
    if (values.length !== 1) return this.fail(c.words[0], `rule '${rule.words[1].text}': '${c.words[0].text}' names one ${c.words[0].text === 'prefix' ? 'prefix' : 'address'}`);
    const w = values[0].words[0];
    if (c.words[0].text === 'prefix') {
      const p = parsePrefix(w.text);
      if (typeof p === 'string') return this.fail(w, p);
      return { kind: 'prefix', prefix: natPrefix(p), routingInstance: ri };
    }
    const resolved = this.refs.books.global.resolve(w, this.d);
    if (!resolved) return null;
    if (resolved.length !== 1) return this.fail(w, `prefix-name '${w.text}' must name one prefix (it has ${resolved.length})`);
    return { kind: 'prefix', prefix: natPrefix(resolved[0]), routingInstance: ri };
  }

  /** The rule's one destination prefix, checked against its translation (one to one: same family and length). */
  private staticDestination(rule: Statement, action: StaticAction): StaticRule['destinationPrefix'] | null {
    const m = child(rule.children, 'match')?.children;
    const byPrefix = child(m, 'destination-address')?.words[1];
    const byName = child(m, 'destination-address-name')?.words[1];
    const name = rule.words[1];
    if (!byPrefix && !byName) return this.fail(name, `static rule '${name.text}' needs 'match destination-address' or 'destination-address-name'`);
    if (byPrefix && byName) return this.fail(byName, `static rule '${name.text}': one of destination-address and destination-address-name`);
    let dst;
    const w = (byPrefix ?? byName)!;
    if (byPrefix) {
      const p = parsePrefix(byPrefix.text);
      if (typeof p === 'string') return this.fail(byPrefix, p);
      dst = natPrefix(p);
    } else {
      const r = this.refs.books.global.resolve(w, this.d);
      if (!r) return null;
      if (r.length !== 1) return this.fail(w, `destination-address-name '${w.text}' of a static rule must name one prefix (it has ${r.length})`);
      dst = natPrefix(r[0]);
    }
    if (action.kind === 'inet') {
      if (dst.family !== 'inet6' || dst.length !== 96) return this.fail(w, `static rule '${name.text}': 'static-nat inet' translates an IPv6 /96 holding IPv4 addresses, not '${w.text}'`);
      return dst;
    }
    const t = action.prefix;
    if (t.family !== dst.family || t.length !== dst.length) {
      const shown = `${formatAddress(t.family, t.network)}/${t.length}`;
      return this.fail(w, `static rule '${name.text}' maps '${w.text}' one to one onto '${shown}': both must be of one family and prefix length`);
    }
    return dst;
  }

  proxy(s: Statement | undefined, family: 'inet' | 'inet6'): ProxyEntry[] {
    const out: ProxyEntry[] = [];
    const what = family === 'inet' ? 'proxy-arp answers for IPv4 addresses' : 'proxy-ndp answers for IPv6 addresses';
    for (const i of each(s?.children, 'interface')) {
      const name = i.words[1];
      checkInterfaceName(this.d, name);
      const ranges: AddressRange[] = [];
      const entries = rangeEntries(child(i.children, 'address'));
      if (entries.length === 0) this.fail(name, `proxy interface '${name.text}' has no address`);
      for (const e of entries) {
        const r = this.addressRange(e.first, e.last);
        if (r && r.family !== family) this.fail(e.first, `'${e.first.text}': ${what} only`);
        else if (r) ranges.push(r);
      }
      out.push({ interface: name.text, pos: name.pos, ranges });
    }
    return out;
  }
}

function sameContext(sets: readonly NatRuleSet<StaticAction, StaticRule>[], a: StaticRule, b: StaticRule): boolean {
  const sa = sets.find((s) => s.name === a.ruleSet);
  const sb = sets.find((s) => s.name === b.ruleSet);
  return !!sa && !!sb && sa.from.kind === sb.from.kind && sa.from.names.some((n) => sb.from.names.includes(n));
}

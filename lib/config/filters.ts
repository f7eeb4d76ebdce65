import type { Statement, Word } from './ast.js';
import { describePos, type Diagnostics } from './errors.js';
import { maskWords, parsePrefix, type Prefix } from './ip.js';
import { IPPROTO, PORT_NUMBERS, PROTOCOL_NUMBERS } from './protocols.js';
import type { RoutingInstance } from './routing-instances.js';
import { container, flag, leaf, list, named, one, type Container } from './schema-types.js';
import { activeChildren, child, each, eachOf, every, listOf, valueOf } from './tree.js';
import type { Family } from './types.js';
import { checkName } from './values.js';

/**
 * Firewall filters (Junos `firewall family inet|inet6 filter F { term T { from {...} then {...} } }`),
 * `policy-options prefix-list`, and the filters' attachment to interfaces:
 * `interfaces IF unit 0 family inet|inet6 filter { input F; output F; }` and
 * `interfaces lo0 unit 0 family inet|inet6 filter input F` (lo0: traffic to the box itself).
 *
 * Semantics (Junos): a filter's terms are tried in order and the first whose every `from`
 * condition matches decides; a packet no term matches is discarded. A term without a
 * terminating action (accept, discard, reject, routing-instance) accepts. Address conditions
 * take the longest listed prefix containing the address: it matches unless that prefix is
 * `except`; no listed prefix containing it is no match. A prefix-list condition whose lists
 * are all `except` matches every address outside them. Port conditions only match TCP, UDP and
 * SCTP, icmp-type/icmp-code only the family's ICMP (ICMPv6 numbering in family inet6) and
 * tcp-flags only TCP; none of them matches a non-first fragment (it has no transport header),
 * which is what `is-fragment` matches (fragment offset not zero).
 *
 * Ids: a filter's id is `(family code << 16) | ordinal` (family codes: inet 1, inet6 2), the
 * ordinal its 1-based position among the `filter` statements of its family, in order of first
 * appearance and counting inactive ones; a term's id is its 1-based position among its
 * filter's `term` statements, inactive ones counted; term id 0 is the implicit discard. Editing,
 * deactivating or adding terms of one filter renumbers no other filter and no earlier term;
 * adding a filter renumbers nothing (it takes the next ordinal). Filter id 0 is "no filter".
 */

export type FilterAction = 'accept' | 'discard' | 'reject';

/**
 * What a `reject` answers with (Junos message types; the names lib/slowpath/reject.ts takes).
 * `tcp-reset`, the default of a bare `reject`, is a TCP RST for TCP and ICMP(v6)
 * administratively-prohibited for anything else. A reason's index here is its code in the
 * cached filter descriptor (lib/filter/descriptor.ts).
 */
export const FILTER_REJECT_REASONS = [
  'tcp-reset',
  'administratively-prohibited',
  'network-unreachable',
  'host-unreachable',
  'protocol-unreachable',
  'port-unreachable',
  'source-route-failed',
  'network-unknown',
  'host-unknown',
  'source-host-isolated',
  'network-prohibited',
  'host-prohibited',
  'bad-network-tos',
  'bad-host-tos',
  'precedence-violation',
  'precedence-cutoff',
  'no-route',
  'address-unreachable',
  'beyond-scope',
] as const;
export type FilterRejectReason = (typeof FILTER_REJECT_REASONS)[number];

/** The reasons of each family (Junos's lists for `family inet` and `family inet6`). */
const REJECT_REASONS: Readonly<Record<Family, readonly FilterRejectReason[]>> = {
  inet: FILTER_REJECT_REASONS.filter((r) => !['no-route', 'address-unreachable', 'beyond-scope'].includes(r)),
  inet6: ['tcp-reset', 'administratively-prohibited', 'no-route', 'address-unreachable', 'beyond-scope', 'port-unreachable'],
};
/** Junos has it; xdpfw's reject cannot send it (it needs the next-hop MTU). */
const FRAGMENTATION_NEEDED = 'fragmentation-needed';

/** An inclusive [low, high] range of a numeric field. */
export type Range = readonly [number, number];

/** One entry of an address condition. */
export interface FilterPrefix {
  prefix: Prefix;
  except: boolean;
}

/** The TCP flags a term admits: bit `f` of the 64-bit table (f = the low 6 flag bits) is set when flags `f` match. */
export interface TcpFlagsMatch {
  /** The expression as written; several (tcp-flags, tcp-initial, tcp-established) are parenthesised and joined with ` & `. */
  expression: string;
  /** Table bits 0-31 and 32-63, as unsigned 32-bit numbers. */
  low: number;
  high: number;
}

/** A term's `from`: null (or false) for a condition the term does not have. Ranges are sorted and merged. */
export interface FilterMatch {
  /** Family prefixes only; never all `except` (that could never match). */
  sourceAddress: FilterPrefix[] | null;
  destinationAddress: FilterPrefix[] | null;
  /** The prefixes of the named lists in the filter's family, `except` lists' entries marked; an implicit 0/0 when every list is `except`. */
  sourcePrefixList: FilterPrefix[] | null;
  destinationPrefixList: FilterPrefix[] | null;
  /** `protocol` (or `next-header` in family inet6). */
  protocol: Range[] | null;
  sourcePort: Range[] | null;
  destinationPort: Range[] | null;
  icmpType: Range[] | null;
  icmpCode: Range[] | null;
  tcpFlags: TcpFlagsMatch | null;
  isFragment: boolean;
  /** `dscp` (or `traffic-class` in family inet6), 0-63. */
  dscp: Range[] | null;
}

export interface FilterTerm {
  /** 1-based position among the filter's terms, inactive ones counted. */
  id: number;
  name: string;
  match: FilterMatch;
  /** `routing-instance` is an accept through another routing table. */
  action: FilterAction;
  /** For `reject`: the configured reason, `tcp-reset` when none was given; null otherwise. */
  rejectReason: FilterRejectReason | null;
  log: boolean;
  syslog: boolean;
  /** `count C`: the counter's name (terms of one filter naming the same counter share it). */
  count: string | null;
  routingInstance: RoutingInstance | null;
}

export interface Filter {
  /** `(FILTER_FAMILY_CODE[family] << 16) | ordinal`. */
  id: number;
  name: string;
  family: Family;
  /** Active terms in order. */
  terms: FilterTerm[];
}

/** Filter ids (null: none) attached to one interface, per family. */
export interface FilterAttachment {
  input: number | null;
  output: number | null;
}

export interface FirewallConfig {
  /** Active filters: family inet by id, then family inet6 by id. */
  filters: Filter[];
  /** `policy-options prefix-list` by name (both families). */
  prefixLists: Map<string, Prefix[]>;
  /** Filters of Linux interfaces (lo0 excluded), for both families; only interfaces with a filter. */
  interfaces: Map<string, Record<Family, FilterAttachment>>;
  /** Input filters of lo0 (the box itself) per family. */
  lo0: Record<Family, number | null>;
}

export const FILTER_FAMILY_CODE: Readonly<Record<Family, number>> = { inet: 1, inet6: 2 };
/** The implicit discard at the end of every filter. */
export const IMPLICIT_DISCARD_TERM_ID = 0;
/** Ordinals and term ids are 16 bits (the cached descriptor's term id is a u16). */
export const MAX_FILTERS_PER_FAMILY = 0xffff;
export const MAX_TERMS_PER_FILTER = 0xffff;
/** Counters are 1-based u16 indexes in the cached descriptor. */
export const MAX_COUNTERS = 0xffff;
export const LO0 = 'lo0';

export function filterId(family: Family, ordinal: number): number {
  return ((FILTER_FAMILY_CODE[family] << 16) | ordinal) >>> 0;
}

/** The family a filter id belongs to, or null for an id no filter can have. */
export function filterIdFamily(id: number): Family | null {
  if ((id & 0xffff) === 0) return null;
  const code = id >>> 16;
  return code === FILTER_FAMILY_CODE.inet ? 'inet' : code === FILTER_FAMILY_CODE.inet6 ? 'inet6' : null;
}

// ---------------------------------------------------------------------------------------------
// Names of numeric values

/** ICMP (IPv4) type names of Junos `icmp-type` in family inet. */
export const ICMP_TYPES: ReadonlyMap<string, number> = new Map([
  ['echo-reply', 0],
  ['unreachable', 3],
  ['source-quench', 4],
  ['redirect', 5],
  ['echo-request', 8],
  ['router-advertisement', 9],
  ['router-solicit', 10],
  ['time-exceeded', 11],
  ['parameter-problem', 12],
  ['timestamp', 13],
  ['timestamp-reply', 14],
  ['info-request', 15],
  ['info-reply', 16],
  ['mask-request', 17],
  ['mask-reply', 18],
]);

/** ICMPv6 type names of Junos `icmp-type` in family inet6. */
export const ICMP6_TYPES: ReadonlyMap<string, number> = new Map([
  ['destination-unreachable', 1],
  ['packet-too-big', 2],
  ['time-exceeded', 3],
  ['parameter-problem', 4],
  ['private-experimentation-100', 100],
  ['private-experimentation-101', 101],
  ['echo-request', 128],
  ['echo-reply', 129],
  ['membership-query', 130],
  ['membership-report', 131],
  ['membership-termination', 132],
  ['router-solicit', 133],
  ['router-advertisement', 134],
  ['neighbor-solicit', 135],
  ['neighbor-advertisement', 136],
  ['redirect', 137],
  ['router-renumbering', 138],
  ['node-information-request', 139],
  ['node-information-reply', 140],
  ['inverse-neighbor-discovery-solicitation', 141],
  ['inverse-neighbor-discovery-advertisement', 142],
  ['home-agent-address-discovery-request', 144],
  ['home-agent-address-discovery-reply', 145],
  ['mobile-prefix-solicitation', 146],
  ['mobile-prefix-advertisement-reply', 147],
  ['certificate-path-solicitation', 148],
  ['certificate-path-advertisement', 149],
  ['private-experimentation-200', 200],
  ['private-experimentation-201', 201],
]);

/** ICMP code names of Junos `icmp-code` in family inet (codes of unreachable, redirect, time-exceeded, parameter-problem). */
export const ICMP_CODES: ReadonlyMap<string, number> = new Map([
  ['network-unreachable', 0],
  ['host-unreachable', 1],
  ['protocol-unreachable', 2],
  ['port-unreachable', 3],
  ['fragmentation-needed', 4],
  ['source-route-failed', 5],
  ['destination-network-unknown', 6],
  ['destination-host-unknown', 7],
  ['source-host-isolated', 8],
  ['destination-network-prohibited', 9],
  ['destination-host-prohibited', 10],
  ['network-unreachable-for-tos', 11],
  ['host-unreachable-for-tos', 12],
  ['communication-prohibited-by-filtering', 13],
  ['host-precedence-violation', 14],
  ['precedence-cutoff-in-effect', 15],
  ['redirect-for-network', 0],
  ['redirect-for-host', 1],
  ['redirect-for-tos-and-net', 2],
  ['redirect-for-tos-and-host', 3],
  ['ttl-eq-zero-during-transit', 0],
  ['ttl-eq-zero-during-reassembly', 1],
  ['ip-header-bad', 0],
  ['required-option-missing', 1],
]);

/** ICMPv6 code names of Junos `icmp-code` in family inet6. */
export const ICMP6_CODES: ReadonlyMap<string, number> = new Map([
  ['no-route-to-destination', 0],
  ['administratively-prohibited', 1],
  ['address-unreachable', 3],
  ['port-unreachable', 4],
  ['ttl-eq-zero-during-transit', 0],
  ['ttl-eq-zero-during-reassembly', 1],
  ['ip6-header-bad', 0],
  ['unrecognized-next-header', 1],
  ['unrecognized-option', 2],
]);

/** DSCP names (RFC 2474 class selectors, RFC 2597 assured forwarding, RFC 3246 expedited forwarding). */
export const DSCP_VALUES: ReadonlyMap<string, number> = new Map([
  ['be', 0],
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((c): [string, number] => [`cs${c}`, 8 * c]),
  ...[1, 2, 3, 4].flatMap((c) => [1, 2, 3].map((p): [string, number] => [`af${c}${p}`, 8 * c + 2 * p])),
  ['ef', 46],
]);

/** TCP flag bits of Junos `tcp-flags`. */
export const TCP_FLAG_BITS: ReadonlyMap<string, number> = new Map([
  ['fin', 0x01],
  ['syn', 0x02],
  ['rst', 0x04],
  ['push', 0x08],
  ['ack', 0x10],
  ['urgent', 0x20],
]);
/** Junos's shorthands, as match conditions of their own and as words of a tcp-flags expression. */
export const TCP_INITIAL = 'syn & !ack';
export const TCP_ESTABLISHED = 'ack | rst';
const TCP_FLAG_SHORTHANDS: ReadonlyMap<string, string> = new Map([
  ['tcp-initial', TCP_INITIAL],
  ['tcp-established', TCP_ESTABLISHED],
]);

const PROTOCOLS: Readonly<Record<Family, ReadonlyMap<string, number>>> = {
  inet: new Map([...PROTOCOL_NUMBERS].filter(([n]) => n !== 'icmp6')),
  inet6: new Map([...[...PROTOCOL_NUMBERS].filter(([n]) => n !== 'icmp'), ['icmpv6', IPPROTO.ICMPV6]]),
};

/** The ICMP protocol an `icmp-type` of each family matches. */
export const FAMILY_ICMP: Readonly<Record<Family, number>> = { inet: IPPROTO.ICMP, inet6: IPPROTO.ICMPV6 };
/** Protocols whose ports the port conditions match. */
export const PORT_PROTOCOLS: readonly number[] = [IPPROTO.TCP, IPPROTO.UDP, IPPROTO.SCTP];

// ---------------------------------------------------------------------------------------------
// tcp-flags expressions

/**
 * Compiles a Junos tcp-flags expression to its truth table over the 6 flag bits: flag names
 * (fin syn rst push ack urgent), `tcp-initial` and `tcp-established`, hexadecimal values
 * (0x12: all of those bits set), `!` (not), `&` or `+` (and), `|` or `,` (or) and parentheses;
 * `!` binds tightest, then and, then or. Returns a message on error.
 */
export function parseTcpFlags(text: string): { low: number; high: number } | string {
  const tokens: string[] = [];
  const re = /\s*(?:([()!&+|,])|([A-Za-z][A-Za-z0-9-]*|0[xX][0-9A-Fa-f]+)|(\S))/y;
  for (let m = re.exec(text); m && re.lastIndex <= text.length && m[0] !== ''; m = re.exec(text)) {
    if (m[3] !== undefined) return `unexpected character '${m[3]}'`;
    tokens.push(m[1] ?? m[2]);
  }
  if (tokens.length === 0) return 'the expression is empty';
  let at = 0;
  type Eval = (flags: number) => boolean;
  const names = [...TCP_FLAG_BITS.keys(), ...TCP_FLAG_SHORTHANDS.keys()].join(', ');
  const operand = (): Eval | string => {
    const tok = tokens[at];
    if (tok === undefined) return `expected a flag after '${tokens[at - 1]}'`;
    at++;
    if (tok === '!') {
      const inner = operand();
      return typeof inner === 'string' ? inner : (f) => !inner(f);
    }
    if (tok === '(') {
      const inner = or();
      if (typeof inner === 'string') return inner;
      if (tokens[at] !== ')') return tokens[at] === undefined ? "missing ')'" : `expected ')' before '${tokens[at]}'`;
      at++;
      return inner;
    }
    const bit = TCP_FLAG_BITS.get(tok.toLowerCase());
    if (bit !== undefined) return (f) => (f & bit) !== 0;
    const shorthand = TCP_FLAG_SHORTHANDS.get(tok.toLowerCase());
    if (shorthand !== undefined) {
      const table = parseTcpFlags(shorthand) as { low: number; high: number };
      return (f) => tableHas(table.low, table.high, f);
    }
    if (/^0x/i.test(tok)) {
      const v = parseInt(tok.slice(2), 16);
      if (v === 0 || v > 0x3f) return `'${tok}' is not a set of TCP flags: use bits of 0x3f (fin 0x01 ... urgent 0x20)`;
      return (f) => (f & v) === v;
    }
    if (/^[()&+|,]$/.test(tok)) return `expected a flag before '${tok}'`;
    return `unknown flag '${tok}'; expected ${names} or a hexadecimal value`;
  };
  const and = (): Eval | string => {
    let left = operand();
    while (typeof left !== 'string' && (tokens[at] === '&' || tokens[at] === '+')) {
      at++;
      const right = operand();
      if (typeof right === 'string') return right;
      const l = left;
      left = (f) => l(f) && right(f);
    }
    return left;
  };
  function or(): Eval | string {
    let left = and();
    while (typeof left !== 'string' && (tokens[at] === '|' || tokens[at] === ',')) {
      at++;
      const right = and();
      if (typeof right === 'string') return right;
      const l = left;
      left = (f) => l(f) || right(f);
    }
    return left;
  }
  const e = or();
  if (typeof e === 'string') return e;
  if (at < tokens.length) return tokens[at] === ')' ? "unbalanced ')'" : `expected an operator before '${tokens[at]}'`;
  let low = 0;
  let high = 0;
  for (let f = 0; f < 64; f++) {
    if (!e(f)) continue;
    if (f < 32) low |= 1 << f;
    else high |= 1 << (f - 32);
  }
  return { low: low >>> 0, high: high >>> 0 };
}

/** Whether the flags `f` (low 6 bits used) are in a tcp-flags truth table. */
export function tableHas(low: number, high: number, f: number): boolean {
  const b = f & 0x3f;
  return b < 32 ? ((low >>> b) & 1) === 1 : ((high >>> (b - 32)) & 1) === 1;
}

// ---------------------------------------------------------------------------------------------
// Schema

const exceptable = leaf({ kind: 'optional', oneOf: ['except'] });
const prefixes = container({}, { wildcard: { label: 'IP prefix', shape: exceptable } });
const prefixLists = container({}, { wildcard: { label: 'prefix-list name', shape: exceptable } });

const term = container(
  {
    from: container({
      'source-address': prefixes,
      'destination-address': prefixes,
      'source-prefix-list': prefixLists,
      'destination-prefix-list': prefixLists,
      protocol: list('protocol'),
      'next-header': list('protocol'),
      'source-port': list('port'),
      'destination-port': list('port'),
      'icmp-type': list('ICMP type'),
      'icmp-code': list('ICMP code'),
      'tcp-flags': one('tcp-flags expression'),
      'tcp-initial': flag,
      'tcp-established': flag,
      'is-fragment': flag,
      dscp: list('DSCP value'),
      'traffic-class': list('DSCP value'),
    }),
    then: container({
      accept: flag,
      discard: flag,
      reject: leaf({ kind: 'optional', oneOf: [...FILTER_REJECT_REASONS, FRAGMENTATION_NEEDED] }),
      'routing-instance': one('routing instance name'),
      log: flag,
      syslog: flag,
      count: one('counter name'),
    }),
  },
  { keys: [named('term name')], unique: 'term' },
);

/** `firewall { family inet|inet6 { filter F { term T { ... } } } }`. */
export const FIREWALL_SCHEMA: Container = container({
  family: container(
    { filter: container({ term }, { keys: [named('filter name')], unique: 'filter' }) },
    { keys: [{ label: 'address family', oneOf: ['inet', 'inet6'] }] },
  ),
});

/** `policy-options { prefix-list L { P; ... } }`. */
export const POLICY_OPTIONS_SCHEMA: Container = container({
  'prefix-list': container({}, { keys: [named('prefix-list name')], unique: 'prefix-list', wildcard: { label: 'IP prefix', shape: leaf({ kind: 'none' }) } }),
});

// ---------------------------------------------------------------------------------------------
// Compiler

type Children = readonly Statement[] | null | undefined;

const FAMILY_TEXT: Readonly<Record<Family, string>> = { inet: 'IPv4', inet6: 'IPv6' };
const FAMILIES: readonly Family[] = ['inet', 'inet6'];

function prefixText(p: Prefix): string {
  return `${p.family}:${p.words.join('.')}/${p.length}`;
}

function anyPrefix(family: Family): Prefix {
  return { family, words: family === 'inet' ? [0] : [0, 0, 0, 0], length: 0 };
}

/** Whether `inner` lies within `outer` (same family). */
export function prefixContains(outer: Prefix, inner: Prefix): boolean {
  if (outer.length > inner.length) return false;
  const mask = maskWords(outer.family, outer.length);
  return outer.words.every((w, k) => ((inner.words[k] & mask[k]) >>> 0) === w);
}

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
  for (const family of FAMILIES) {
    // The normaliser merged repeated `family X` statements into one.
    const fam = every(firewall?.children, 'family').find((s) => s.words[1].text === family);
    if (!fam || fam.inactive) continue;
    numbered(every(fam.children, 'filter'), MAX_FILTERS_PER_FAMILY, `filters in family ${family}`, d).forEach((f, index) => {
      const name = f.words[1];
      if (f.inactive) {
        inactive[family].add(name.text);
        return;
      }
      checkName(d, name, 'filter name');
      const filter = compileFilter(f, filterId(family, index + 1), family, prefixListsByName, instances, counters, d);
      filters.push(filter);
      byName[family].set(name.text, filter);
    });
  }
  const attachments = compileAttachments(root, byName, inactive, zoneByInterface, d);
  return { filters, prefixLists: prefixListsByName, ...attachments };
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
    const then = compileThen(child(t.children, 'then'), ctx, instances);
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
    });
  });
  return { id, name, family, terms };
}

interface TermContext {
  family: Family;
  filter: string;
  term: string;
  d: Diagnostics;
}

/** The active statements of the first of `keywords` given; a second spelling of the same condition is an error. */
function spelling(from: Children, keywords: readonly [string, string], ctx: TermContext): { kw: string; stmts: Statement[] } | null {
  const [main, alt] = keywords;
  const a = each(from, main);
  const b = each(from, alt);
  if (a.length && b.length) {
    const [first, second] = a[0].pos.line < b[0].pos.line || (a[0].pos.line === b[0].pos.line && a[0].pos.column < b[0].pos.column) ? [a[0], b[0]] : [b[0], a[0]];
    ctx.d.error(second.pos, `'${second.words[0].text}' repeats '${first.words[0].text}' at ${describePos(first.pos, second.pos)}: they are the same condition, use one`);
  }
  if (a.length) return { kw: main, stmts: a };
  if (b.length) return { kw: alt, stmts: b };
  return null;
}

function compileFrom(from: Statement | undefined, ctx: TermContext, lists: ReadonlyMap<string, Prefix[]>): FilterMatch {
  const { family, d } = ctx;
  const kids = from?.children;
  const wrongFamily = (kw: string): void => {
    for (const s of each(kids, kw)) d.error(s.pos, `'${kw}' is a family inet6 condition; family inet filters use '${kw === 'next-header' ? 'protocol' : 'dscp'}'`);
  };
  let protocolStmt: { kw: string; stmts: Statement[] } | null;
  let dscpStmt: { kw: string; stmts: Statement[] } | null;
  if (family === 'inet') {
    wrongFamily('next-header');
    wrongFamily('traffic-class');
    protocolStmt = each(kids, 'protocol').length ? { kw: 'protocol', stmts: each(kids, 'protocol') } : null;
    dscpStmt = each(kids, 'dscp').length ? { kw: 'dscp', stmts: each(kids, 'dscp') } : null;
  } else {
    protocolStmt = spelling(kids, ['next-header', 'protocol'], ctx);
    dscpStmt = spelling(kids, ['traffic-class', 'dscp'], ctx);
  }
  const words = (s: { stmts: Statement[] } | null, kw: string): Word[] => (s ? listOf(s.stmts, kw) : []);

  const protocol = protocolStmt ? numbers(words(protocolStmt, protocolStmt.kw), protocolSpec(family), d) : null;
  const sourcePort = optionalNumbers(kids, 'source-port', PORT_SPEC, d);
  const destinationPort = optionalNumbers(kids, 'destination-port', PORT_SPEC, d);
  const icmpType = optionalNumbers(kids, 'icmp-type', icmpTypeSpec(family), d);
  const icmpCode = optionalNumbers(kids, 'icmp-code', icmpCodeSpec(family), d);
  const dscp = dscpStmt ? numbers(words(dscpStmt, dscpStmt.kw), DSCP_SPEC, d) : null;
  const tcpFlags = compileTcpFlags(kids, ctx);
  const isFragment = child(kids, 'is-fragment') !== undefined;

  const at = (kw: string): Statement => each(kids, kw)[0];
  const never = (s: Statement, why: string): void => d.error(s.pos, `term '${ctx.term}' of filter '${ctx.filter}' can never match: ${why}`);
  const has = (ranges: readonly Range[] | null, n: number): boolean => ranges === null || ranges.some(([lo, hi]) => n >= lo && n <= hi);
  const l4: Array<[string, boolean, string]> = [
    ['source-port', sourcePort !== null, 'tcp, udp or sctp'],
    ['destination-port', destinationPort !== null, 'tcp, udp or sctp'],
    ['icmp-type', icmpType !== null, family === 'inet' ? 'icmp' : 'icmp6'],
    ['icmp-code', icmpCode !== null, family === 'inet' ? 'icmp' : 'icmp6'],
  ];
  const tcpFlagStmt = eachOf(kids, ['tcp-flags', 'tcp-initial', 'tcp-established'])[0];
  for (const [kw, given, needs] of l4) {
    if (!given) continue;
    const ok = kw.endsWith('port') ? PORT_PROTOCOLS.some((p) => has(protocol, p)) : has(protocol, FAMILY_ICMP[family]);
    if (!ok) never(at(kw), `'${kw}' only matches ${needs} packets and its ${protocolStmt?.kw} excludes them`);
    else if (isFragment) never(at(kw), `'${kw}' cannot match a non-first fragment ('is-fragment'), which has no transport header`);
  }
  if (tcpFlags && tcpFlagStmt) {
    const kw = tcpFlagStmt.words[0].text;
    if (!has(protocol, IPPROTO.TCP)) never(tcpFlagStmt, `'${kw}' only matches tcp packets and its ${protocolStmt?.kw} excludes them`);
    else if (isFragment) never(tcpFlagStmt, `'${kw}' cannot match a non-first fragment ('is-fragment'), which has no transport header`);
  }

  return {
    sourceAddress: addressCondition(each(kids, 'source-address'), ctx),
    destinationAddress: addressCondition(each(kids, 'destination-address'), ctx),
    sourcePrefixList: prefixListCondition(each(kids, 'source-prefix-list'), ctx, lists),
    destinationPrefixList: prefixListCondition(each(kids, 'destination-prefix-list'), ctx, lists),
    protocol,
    sourcePort,
    destinationPort,
    icmpType,
    icmpCode,
    tcpFlags,
    isFragment,
    dscp,
  };
}

/** `source-address { P; P except; }`: the family's prefixes, or null without the condition. */
function addressCondition(stmts: Statement[], ctx: TermContext): FilterPrefix[] | null {
  const { family, d } = ctx;
  const entries = stmts.flatMap((s) => activeChildren(s.children));
  if (entries.length === 0) return null;
  const out: FilterPrefix[] = [];
  const seen = new Map<string, Word>();
  let ok = true;
  for (const e of entries) {
    const w = e.words[0];
    const p = parsePrefix(w.text);
    if (typeof p === 'string') {
      d.error(w.pos, p);
      ok = false;
      continue;
    }
    if (p.family !== family) {
      d.error(w.pos, `'${w.text}' is an ${FAMILY_TEXT[p.family]} prefix; filter '${ctx.filter}' is family ${family} (use a family ${p.family} filter for it)`);
      ok = false;
      continue;
    }
    const key = prefixText(p);
    const prev = seen.get(key);
    if (prev) {
      d.error(w.pos, `prefix '${w.text}' repeats '${prev.text}' at ${describePos(prev.pos, w.pos)}`);
      ok = false;
      continue;
    }
    seen.set(key, w);
    out.push({ prefix: p, except: e.words[1]?.text === 'except' });
  }
  if (ok && out.every((x) => x.except)) {
    const kw = stmts[0].words[0].text;
    d.error(
      stmts[0].pos,
      `term '${ctx.term}' of filter '${ctx.filter}' can never match: every '${kw}' prefix is 'except' (a prefix list ends in an implicit '${family === 'inet' ? '0.0.0.0/0' : '::/0'} except'); add '${family === 'inet' ? '0.0.0.0/0' : '::/0'}' to match the rest`,
    );
  }
  return out;
}

/** `source-prefix-list { L; L except; }`: the lists' prefixes of the family, or null without the condition. */
function prefixListCondition(stmts: Statement[], ctx: TermContext, lists: ReadonlyMap<string, Prefix[]>): FilterPrefix[] | null {
  const { family, d } = ctx;
  const refs = stmts.flatMap((s) => activeChildren(s.children));
  if (refs.length === 0) return null;
  const excluded = new Map<string, Prefix>();
  const included = new Map<string, Prefix>();
  let ok = true;
  for (const r of refs) {
    const w = r.words[0];
    const ps = lists.get(w.text);
    if (!ps) {
      d.error(w.pos, `unknown prefix-list '${w.text}': define it with 'policy-options prefix-list ${w.text}'`);
      ok = false;
      continue;
    }
    const into = r.words[1]?.text === 'except' ? excluded : included;
    for (const p of ps) if (p.family === family) into.set(prefixText(p), p);
  }
  if (!ok) return [];
  const includeRefs = refs.filter((r) => r.words[1]?.text !== 'except');
  if (includeRefs.length > 0 && included.size === 0) {
    const names = includeRefs.map((r) => `'${r.words[0].text}'`).join(', ');
    d.error(includeRefs[0].words[0].pos, `term '${ctx.term}' of filter '${ctx.filter}' can never match: prefix-list ${names} has no ${FAMILY_TEXT[family]} prefixes (filter '${ctx.filter}' is family ${family})`);
    return [];
  }
  const out: FilterPrefix[] = [];
  const any = anyPrefix(family);
  if (includeRefs.length === 0 && !excluded.has(prefixText(any))) out.push({ prefix: any, except: false });
  // A prefix both listed and excepted is excepted.
  for (const [key, p] of included) if (!excluded.has(key)) out.push({ prefix: p, except: false });
  for (const p of excluded.values()) out.push({ prefix: p, except: true });
  return out;
}

interface NumberSpec {
  /** For messages: "port", "protocol". */
  what: string;
  max: number;
  names: ReadonlyMap<string, number>;
  /** Message for a word that is neither a number nor a name. */
  unknown(text: string): string;
}

const PORT_SPEC: NumberSpec = {
  what: 'port',
  max: 0xffff,
  names: PORT_NUMBERS,
  unknown: (t) => `invalid port '${t}': expected a port 0-65535, a range like 1024-65535, or a port name such as http`,
};

const DSCP_SPEC: NumberSpec = {
  what: 'DSCP value',
  max: 63,
  names: DSCP_VALUES,
  unknown: (t) => `unknown DSCP value '${t}': expected a number 0-63 or a name: be, cs0-cs7, af11-af13, af21-af23, af31-af33, af41-af43, ef`,
};

function protocolSpec(family: Family): NumberSpec {
  const names = PROTOCOLS[family];
  return {
    what: 'protocol',
    max: 0xff,
    names,
    unknown: (t) => {
      if (t === 'icmp' && family === 'inet6') return `'icmp' is ICMP for IPv4; family inet6 filters match ICMPv6 as 'icmp6'`;
      if ((t === 'icmp6' || t === 'icmpv6') && family === 'inet') return `'${t}' is ICMPv6; family inet filters match ICMP as 'icmp'`;
      return `unknown protocol '${t}': expected ${[...names.keys()].join(', ')} or a number 0-255`;
    },
  };
}

function icmpTypeSpec(family: Family): NumberSpec {
  const [own, other] = family === 'inet' ? [ICMP_TYPES, ICMP6_TYPES] : [ICMP6_TYPES, ICMP_TYPES];
  const kind = family === 'inet' ? 'ICMP' : 'ICMPv6';
  return {
    what: `${kind} type`,
    max: 0xff,
    names: own,
    unknown: (t) =>
      other.has(t)
        ? `'${t}' is an ${family === 'inet' ? 'ICMPv6' : 'ICMP (IPv4)'} type; family ${family} filters match ${kind} types such as ${[...own.keys()].slice(0, 4).join(', ')} (or a number 0-255)`
        : `unknown ${kind} type '${t}': expected a number 0-255 or a name such as ${[...own.keys()].slice(0, 6).join(', ')}`,
  };
}

function icmpCodeSpec(family: Family): NumberSpec {
  const [own, other] = family === 'inet' ? [ICMP_CODES, ICMP6_CODES] : [ICMP6_CODES, ICMP_CODES];
  const kind = family === 'inet' ? 'ICMP' : 'ICMPv6';
  return {
    what: `${kind} code`,
    max: 0xff,
    names: own,
    unknown: (t) =>
      other.has(t)
        ? `'${t}' is an ${family === 'inet' ? 'ICMPv6' : 'ICMP (IPv4)'} code; family ${family} filters match ${kind} codes such as ${[...own.keys()].slice(0, 4).join(', ')} (or a number 0-255)`
        : `unknown ${kind} code '${t}': expected a number 0-255 or a name such as ${[...own.keys()].slice(0, 4).join(', ')}`,
  };
}

function optionalNumbers(kids: Children, kw: string, spec: NumberSpec, d: Diagnostics): Range[] | null {
  return each(kids, kw).length ? numbers(listOf(kids, kw), spec, d) : null;
}

/** Numbers, ranges N-M and names, sorted and merged; null with nothing given. An invalid word is reported and left out. */
function numbers(words: readonly Word[], spec: NumberSpec, d: Diagnostics): Range[] | null {
  if (words.length === 0) return null;
  const out: [number, number][] = [];
  for (const w of words) {
    const r = parseRange(w.text, spec);
    if (typeof r === 'string') d.error(w.pos, r);
    else out.push(r);
  }
  return mergeRanges(out);
}

function parseRange(text: string, spec: NumberSpec): [number, number] | string {
  const named = spec.names.get(text);
  if (named !== undefined) return [named, named];
  const m = /^([0-9]{1,10})(?:-([0-9]{1,10}))?$/.exec(text);
  if (!m) return spec.unknown(text);
  const low = Number(m[1]);
  const high = m[2] === undefined ? low : Number(m[2]);
  if (low > spec.max || high > spec.max) return `invalid ${spec.what} '${text}': ${spec.what}s are 0-${spec.max}`;
  if (low > high) return `invalid ${spec.what} range '${text}': ${low} is above ${high}`;
  return [low, high];
}

/** Sorted, overlapping or adjacent ranges joined. */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** `tcp-flags "expr"`, `tcp-initial`, `tcp-established`: every one given must match. */
function compileTcpFlags(kids: Children, ctx: TermContext): TcpFlagsMatch | null {
  const stmts = eachOf(kids, ['tcp-flags', 'tcp-initial', 'tcp-established']);
  if (stmts.length === 0) return null;
  let low = 0xffffffff;
  let high = 0xffffffff;
  const texts: string[] = [];
  let ok = true;
  for (const s of stmts) {
    const kw = s.words[0].text;
    const w = kw === 'tcp-flags' ? valueOf(s) : s.words[0];
    const text = kw === 'tcp-flags' ? w.text : kw;
    const table = parseTcpFlags(text);
    if (typeof table === 'string') {
      ctx.d.error(w.pos, `invalid tcp-flags expression '${text}': ${table}`);
      ok = false;
      continue;
    }
    low &= table.low;
    high &= table.high;
    texts.push(text);
    if ((low | high) === 0) {
      ctx.d.error(w.pos, `term '${ctx.term}' of filter '${ctx.filter}' can never match: no TCP flags satisfy ${texts.map((x) => `'${x}'`).join(' and ')}`);
      ok = false;
      break;
    }
  }
  const expression = texts.length === 1 ? texts[0] : texts.map((x) => `(${x})`).join(' & ');
  return { expression, low: ok ? low >>> 0 : 0, high: ok ? high >>> 0 : 0 };
}

interface CompiledThen {
  action: FilterAction;
  rejectReason: FilterRejectReason | null;
  log: boolean;
  syslog: boolean;
  countWord: Word | null;
  routingInstance: RoutingInstance | null;
}

const TERMINATING = ['accept', 'discard', 'reject', 'routing-instance'];

function compileThen(then: Statement | undefined, ctx: TermContext, instances: ReadonlyMap<string, RoutingInstance>): CompiledThen {
  const { d, family } = ctx;
  const kids = then?.children;
  const out: CompiledThen = { action: 'accept', rejectReason: null, log: false, syslog: false, countWord: null, routingInstance: null };
  const actions = eachOf(kids, TERMINATING);
  if (actions.length > 1) {
    const [a, b] = actions;
    d.error(b.pos, `'${b.words[0].text}' conflicts with '${a.words[0].text}' at ${describePos(a.pos, b.pos)}: a term takes one of accept, discard, reject and routing-instance`);
  }
  const action = actions[0];
  switch (action?.words[0].text) {
    case undefined:
    case 'accept':
      break;
    case 'discard':
      out.action = 'discard';
      break;
    case 'reject': {
      out.action = 'reject';
      out.rejectReason = 'tcp-reset';
      const w = action.words[1];
      if (!w) break;
      const allowed = REJECT_REASONS[family];
      const reason = allowed.find((r) => r === w.text);
      if (reason) out.rejectReason = reason;
      else if (w.text === FRAGMENTATION_NEEDED) d.error(w.pos, `'reject ${FRAGMENTATION_NEEDED}' is not supported: the reply would need the next-hop MTU`);
      else d.error(w.pos, `'${w.text}' is not a family ${family} reject reason; expected one of: ${allowed.join(', ')}`);
      break;
    }
    case 'routing-instance': {
      const w = valueOf(action);
      const ri = instances.get(w.text);
      if (ri) out.routingInstance = ri;
      else d.error(w.pos, `unknown routing instance '${w.text}': define it with 'routing-instances ${w.text} { instance-type virtual-router; table-id N; }'`);
      break;
    }
  }
  out.log = child(kids, 'log') !== undefined;
  out.syslog = child(kids, 'syslog') !== undefined;
  const count = child(kids, 'count');
  if (count && checkName(d, valueOf(count), 'counter name')) out.countWord = valueOf(count);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Attachments

function compileAttachments(
  root: readonly Statement[],
  byName: Record<Family, ReadonlyMap<string, Filter>>,
  inactive: Record<Family, ReadonlySet<string>>,
  zoneByInterface: ReadonlyMap<string, unknown>,
  d: Diagnostics,
): Pick<FirewallConfig, 'interfaces' | 'lo0'> {
  const interfaces = new Map<string, Record<Family, FilterAttachment>>();
  const lo0: Record<Family, number | null> = { inet: null, inet6: null };
  for (const ifc of activeChildren(child(root, 'interfaces')?.children)) {
    const ifname = ifc.words[0].text;
    const isLo0 = ifname === LO0;
    // Other units are reported by the interfaces compiler.
    for (const unit of each(ifc.children, 'unit').filter((u) => u.words[1].text === '0')) {
      for (const fam of each(unit.children, 'family')) {
        const family: Family = fam.words[1].text === 'inet6' ? 'inet6' : 'inet';
        const filter = child(fam.children, 'filter');
        for (const dir of ['input', 'output'] as const) {
          const s = child(filter?.children, dir);
          if (!s) continue;
          const w = valueOf(s);
          if (isLo0 && dir === 'output') {
            d.error(s.pos, `lo0 takes only an input filter: it filters traffic to the box itself, and the box's own traffic is not filtered`);
            continue;
          }
          if (!isLo0 && !zoneByInterface.has(ifname)) {
            d.error(w.pos, `interface '${ifname}' is in no security zone, so xdpfw never sees its traffic and its ${dir} filter would never run; add it to a zone`);
            continue;
          }
          const f = byName[family].get(w.text);
          if (!f) {
            const other: Family = family === 'inet' ? 'inet6' : 'inet';
            const hint = inactive[family].has(w.text)
              ? ' (it is inactive)'
              : byName[other].has(w.text)
                ? ` (there is a family ${other} filter '${w.text}')`
                : `; define it with 'firewall family ${family} filter ${w.text}'`;
            d.error(w.pos, `unknown family ${family} filter '${w.text}'${hint}`);
            continue;
          }
          if (isLo0 || dir === 'output') {
            const pbr = f.terms.find((t) => t.routingInstance !== null);
            if (pbr) {
              d.error(
                w.pos,
                `filter '${f.name}' cannot be ${isLo0 ? 'the lo0 filter' : 'an output filter'}: its term '${pbr.name}' sends flows to routing instance '${pbr.routingInstance!.name}', which only an interface's input filter can do (before the route lookup)`,
              );
              continue;
            }
          }
          if (isLo0) {
            lo0[family] = f.id;
            continue;
          }
          let att = interfaces.get(ifname);
          if (!att) interfaces.set(ifname, (att = { inet: { input: null, output: null }, inet6: { input: null, output: null } }));
          att[family][dir] = f.id;
        }
      }
    }
  }
  return { interfaces, lo0 };
}

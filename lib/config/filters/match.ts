import type { Statement, Word } from '../ast.js';
import { describePos, type Diagnostics } from '../errors.js';
import type { Family } from '../family.js';
import { maskWords, parsePrefix, type Prefix } from '../ip.js';
import { IPPROTO, PORT_NUMBERS } from '../protocols.js';
import { activeChildren, child, each, eachOf, listOf, valueOf } from '../tree.js';
import { anyPrefix, FAMILY_TEXT, prefixText, type Children, type TermContext } from './context.js';
import type { FilterMatch, FilterPrefix, Range, TcpFlagsMatch } from './model.js';
import { parseTcpFlags } from './tcp-flags.js';
import { DSCP_VALUES, FAMILY_ICMP, ICMP6_CODES, ICMP6_TYPES, ICMP_CODES, ICMP_TYPES, PORT_PROTOCOLS, PROTOCOLS } from './values.js';

/** A term's `from`: its match conditions, checked for conditions that can never match. */

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

export function compileFrom(from: Statement | undefined, ctx: TermContext, lists: ReadonlyMap<string, Prefix[]>): FilterMatch {
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
  const packetLength = optionalNumbers(kids, 'packet-length', PACKET_LENGTH_SPEC, d);
  const port = optionalNumbers(kids, 'port', PORT_SPEC, d);
  const ttlKw = family === 'inet' ? 'ttl' : 'hop-limit';
  for (const s of each(kids, family === 'inet' ? 'hop-limit' : 'ttl')) d.error(s.pos, `'${s.words[0].text}' is a family ${family === 'inet' ? 'inet6' : 'inet'} condition; family ${family} filters use '${ttlKw}'`);
  const ttl = optionalNumbers(kids, ttlKw, TTL_SPEC, d);
  const fragmentOffset = optionalNumbers(kids, 'fragment-offset', FRAGMENT_OFFSET_SPEC, d);
  const tcpFlags = compileTcpFlags(kids, ctx);
  const isFragment = child(kids, 'is-fragment') !== undefined;

  const at = (kw: string): Statement => each(kids, kw)[0];
  const never = (s: Statement, why: string): void => d.error(s.pos, `term '${ctx.term}' of filter '${ctx.filter}' can never match: ${why}`);
  const has = (ranges: readonly Range[] | null, n: number): boolean => ranges === null || ranges.some(([lo, hi]) => n >= lo && n <= hi);
  const l4: Array<[string, boolean, string]> = [
    ['source-port', sourcePort !== null, 'tcp, udp or sctp'],
    ['destination-port', destinationPort !== null, 'tcp, udp or sctp'],
    ['port', port !== null, 'tcp, udp or sctp'],
    ['icmp-type', icmpType !== null, family === 'inet' ? 'icmp' : 'icmp6'],
    ['icmp-code', icmpCode !== null, family === 'inet' ? 'icmp' : 'icmp6'],
  ];
  const tcpFlagStmt = eachOf(kids, ['tcp-flags', 'tcp-initial', 'tcp-established'])[0];
  for (const [kw, given, needs] of l4) {
    if (!given) continue;
    const ok = kw.endsWith('port') || kw === 'port' ? PORT_PROTOCOLS.some((p) => has(protocol, p)) : has(protocol, FAMILY_ICMP[family]);
    if (!ok) never(at(kw), `'${kw}' only matches ${needs} packets and its ${protocolStmt?.kw} excludes them`);
    else if (isFragment || (fragmentOffset !== null && !has(fragmentOffset, 0))) never(at(kw), `'${kw}' cannot match a non-first fragment ('is-fragment'), which has no transport header`);
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
    packetLength,
    port,
    ttl,
    fragmentOffset,
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
    const parsed = parseFilterAddress(w.text);
    if (typeof parsed === 'string') {
      d.error(w.pos, parsed);
      ok = false;
      continue;
    }
    const p = parsed.prefix;
    if (p.family !== family) {
      d.error(w.pos, `'${w.text}' is an ${FAMILY_TEXT[p.family]} prefix; filter '${ctx.filter}' is family ${family} (use a family ${p.family} filter for it)`);
      ok = false;
      continue;
    }
    const key = parsed.mask ? `${prefixText(p)}/${parsed.mask.join('.')}` : prefixText(p);
    const prev = seen.get(key);
    if (prev) {
      d.error(w.pos, `prefix '${w.text}' repeats '${prev.text}' at ${describePos(prev.pos, w.pos)}`);
      ok = false;
      continue;
    }
    seen.set(key, w);
    out.push({ prefix: p, except: e.words[1]?.text === 'except', ...(parsed.mask ? { mask: parsed.mask } : {}) });
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

/**
 * A filter address: a prefix, or an IPv4 address with a dotted mask (`10.0.1.0/255.0.255.0`,
 * Junos's non-contiguous masks: the address bits under the mask must match, the others are
 * free). A contiguous dotted mask is the prefix of its length.
 */
export function parseFilterAddress(text: string): { prefix: Prefix; mask?: number[] } | string {
  const m = /^([0-9.]+)\/([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})$/.exec(text);
  if (!m) {
    const p = parsePrefix(text);
    return typeof p === 'string' ? p : { prefix: p };
  }
  const addr = parsePrefix(m[1]);
  const maskAddr = parsePrefix(m[2]);
  if (typeof addr === 'string' || addr.family !== 'inet') return `'${text}' is not an IPv4 address with a mask`;
  if (typeof maskAddr === 'string') return `invalid mask in '${text}': expected four numbers 0-255, like 255.0.255.0`;
  const mask = maskAddr.words[0] >>> 0;
  let bits = 0;
  for (let v = mask; v !== 0; v >>>= 1) bits += v & 1;
  const words = [(addr.words[0] & mask) >>> 0];
  // Contiguous: leading ones only.
  if (((mask | (mask - 1)) >>> 0) === 0xffffffff || mask === 0) return { prefix: { family: 'inet', words, length: bits } };
  return { prefix: { family: 'inet', words, length: bits }, mask: [mask] };
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

const TTL_SPEC: NumberSpec = {
  what: 'TTL',
  max: 0xff,
  names: new Map(),
  unknown: (t) => `invalid TTL '${t}': expected a number 0-255 or a range like 1-2`,
};

const FRAGMENT_OFFSET_SPEC: NumberSpec = {
  what: 'fragment offset',
  max: 8191,
  names: new Map(),
  unknown: (t) => `invalid fragment offset '${t}': expected a number 0-8191 (8-byte units) or a range like 1-8191`,
};

const PACKET_LENGTH_SPEC: NumberSpec = {
  what: 'packet length',
  max: 0xffff,
  names: new Map(),
  unknown: (t) => `invalid packet length '${t}': expected a length in bytes 0-65535 or a range like 0-1280`,
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

import type { Statement, Word } from './ast.js';
import type { Diagnostics } from './errors.js';
import { parsePrefix, type Prefix } from './ip.js';
import { activeChildren, child, each, listOf, valueOf } from './tree.js';
import {
  GRE_TUNNELS, IPIP_TUNNELS, IPV6_DESTINATION_OPTIONS, IPV6_EXTENSION_HEADERS, IPV6_HOP_BY_HOP_OPTIONS, type Ipv6ExtensionHeader,
} from './screen-keywords.js';
import type { Ipv6OptionTypes, ScreenProfile, SynFloodSettings, TunnelScreen } from './types.js';
import { checkName, parseNumber } from './values.js';

/**
 * `security screen ids-option NAME { ... }` and a zone's `screen NAME;`. Ranges and
 * defaults are those of Junos on SRX Series devices: a `flood`, `ip-sweep`, `port-scan` or
 * `syn-flood` statement without its numbers turns the check on with the defaults.
 */

interface Range {
  min: number;
  max: number;
  fallback: number;
}

const FLOOD: Range = { min: 1, max: 1_000_000, fallback: 1000 };
/** Microseconds in which one source may reach 10 ports or addresses. */
const SCAN_WINDOW: Range = { min: 1000, max: 1_000_000, fallback: 5000 };
/** Junos allows 0 to 32 extension headers before the limit screen drops. */
const EXTENSION_HEADERS: Range = { min: 0, max: 32, fallback: 0 };
const SESSIONS: Range = { min: 1, max: 8_000_000, fallback: 128 };
/** syn-ack-ack-proxy: connections from one source (Junos: 1 through 250000, 512 by default). */
const SYN_ACK_ACK_PROXY: Range = { min: 1, max: 250_000, fallback: 512 };
const SYN_FLOOD = {
  attack: { min: 1, max: 1_000_000, fallback: 200 },
  alarm: { min: 1, max: 1_000_000, fallback: 512 },
  source: { min: 4, max: 1_000_000, fallback: 4000 },
  destination: { min: 4, max: 1_000_000, fallback: 4000 },
  timeout: { min: 1, max: 50, fallback: 20 },
} as const satisfies Record<string, Range>;

/**
 * Zone ids (positions among `security-zone` statements) that can carry a screen: below
 * XDPFW_MAX_ZONES of bpf/xdpfw.h, which lib/screens/apply.ts checks this against.
 */
export const MAX_SCREENED_ZONE_ID = 255;

export function compileScreens(root: readonly Statement[], d: Diagnostics): Map<string, ScreenProfile> {
  const out = new Map<string, ScreenProfile>();
  const screen = child(child(root, 'security')?.children, 'screen');
  const lists = addressLists(screen?.children, d);
  for (const s of each(screen?.children, 'ids-option')) {
    const name = s.words[1];
    if (checkName(d, name, 'screen name')) out.set(name.text, profile(name.text, s.children, lists, d));
  }
  return out;
}

/** Prefixes one `security screen white-list` may hold (Junos: 32, all of one family). */
export const MAX_SCREEN_WHITE_LIST_PREFIXES = 32;

/** Every `security screen white-list NAME { address [ ... ]; }`, by name. */
function addressLists(kids: Children, d: Diagnostics): Map<string, Prefix[]> {
  const out = new Map<string, Prefix[]>();
  for (const s of each(kids, 'white-list')) {
    const name = s.words[1];
    if (!name) continue;
    const prefixes: Prefix[] = [];
    for (const w of listOf(s.children, 'address')) {
      const p = parsePrefix(w.text);
      if (typeof p === 'string') d.error(w.pos, p);
      else if (prefixes.length > 0 && p.family !== prefixes[0]!.family) d.error(w.pos, `white-list ${name.text}: its addresses must be all IPv4 or all IPv6`);
      else if (prefixes.length >= MAX_SCREEN_WHITE_LIST_PREFIXES) d.error(w.pos, `white-list ${name.text} holds at most ${MAX_SCREEN_WHITE_LIST_PREFIXES} prefixes`);
      else prefixes.push(p);
    }
    out.set(name.text, [...(out.get(name.text) ?? []), ...prefixes]);
  }
  return out;
}

/** `udp flood { white-list NAME; }`: the prefixes of the lists it names. */
function floodWhiteList(flood: Children, lists: ReadonlyMap<string, Prefix[]>, d: Diagnostics): Prefix[] {
  const out: Prefix[] = [];
  for (const w of listOf(flood, 'white-list')) {
    const prefixes = lists.get(w.text);
    if (prefixes) out.push(...prefixes);
    else d.error(w.pos, `unknown white-list '${w.text}': define it with 'security screen white-list ${w.text}'`);
  }
  return out;
}

/** The profile a zone's `screen NAME;` names, checked; null after reporting. */
export function zoneScreen(w: Word, zoneId: number, profiles: ReadonlyMap<string, ScreenProfile>, d: Diagnostics): string | null {
  if (!profiles.has(w.text)) {
    d.error(w.pos, `unknown screen '${w.text}': define it with 'security screen ids-option ${w.text}'`);
    return null;
  }
  if (zoneId > MAX_SCREENED_ZONE_ID) {
    d.error(w.pos, `screens apply to the first ${MAX_SCREENED_ZONE_ID} security-zone statements; this zone is number ${zoneId}`);
    return null;
  }
  return w.text;
}

type Children = readonly Statement[] | null | undefined;

function profile(name: string, kids: Children, lists: ReadonlyMap<string, Prefix[]>, d: Diagnostics): ScreenProfile {
  const icmp = child(kids, 'icmp')?.children;
  const ip = child(kids, 'ip')?.children;
  const tcp = child(kids, 'tcp')?.children;
  const udp = child(kids, 'udp')?.children;
  const limit = child(kids, 'limit-session')?.children;
  const on = (stmts: Children, keyword: string): boolean => child(stmts, keyword) !== undefined;
  return {
    name,
    alarmWithoutDrop: on(kids, 'alarm-without-drop'),
    icmp: {
      flood: threshold(icmp, 'flood', FLOOD, 'ICMP flood threshold', d),
      fragment: on(icmp, 'fragment'),
      ipSweep: threshold(icmp, 'ip-sweep', SCAN_WINDOW, 'ip-sweep threshold', d),
      pingDeath: on(icmp, 'ping-death'),
      large: on(icmp, 'large'),
      icmpv6Malformed: on(icmp, 'icmpv6-malformed'),
    },
    ip: {
      sourceRoute: on(ip, 'source-route-option'),
      looseSourceRoute: on(ip, 'loose-source-route-option'),
      strictSourceRoute: on(ip, 'strict-source-route-option'),
      recordRoute: on(ip, 'record-route-option'),
      timestamp: on(ip, 'timestamp-option'),
      security: on(ip, 'security-option'),
      stream: on(ip, 'stream-option'),
      tearDrop: on(ip, 'tear-drop'),
      spoofing: on(ip, 'spoofing'),
      badOption: on(ip, 'bad-option'),
      blockFrag: on(ip, 'block-frag'),
      unknownProtocol: on(ip, 'unknown-protocol'),
      ipv6ExtensionHeaders: extensionHeaders(child(ip, 'ipv6-extension-header')),
      ipv6Options: extensionOptions(child(ip, 'ipv6-extension-header'), d),
      ipv6MalformedHeader: on(ip, 'ipv6-malformed-header'),
      ipv6ExtensionHeaderLimit: optional(ip, 'ipv6-extension-header-limit', EXTENSION_HEADERS, 'ipv6-extension-header-limit', d),
      tunnel: tunnels(child(ip, 'tunnel')?.children),
    },
    tcp: {
      land: on(tcp, 'land'),
      synFin: on(tcp, 'syn-fin'),
      noFlag: on(tcp, 'tcp-no-flag'),
      finNoAck: on(tcp, 'fin-no-ack'),
      winnuke: on(tcp, 'winnuke'),
      synFrag: on(tcp, 'syn-frag'),
      synFlood: synFlood(child(tcp, 'syn-flood')?.children, on(tcp, 'syn-flood'), d),
      portScan: threshold(tcp, 'port-scan', SCAN_WINDOW, 'port-scan threshold', d),
      sweep: threshold(tcp, 'tcp-sweep', SCAN_WINDOW, 'tcp-sweep threshold', d),
      synAckAckProxy: threshold(tcp, 'syn-ack-ack-proxy', SYN_ACK_ACK_PROXY, 'syn-ack-ack-proxy threshold', d),
    },
    udp: {
      flood: threshold(udp, 'flood', FLOOD, 'UDP flood threshold', d),
      floodWhiteList: floodWhiteList(child(udp, 'flood')?.children, lists, d),
      portScan: threshold(udp, 'port-scan', SCAN_WINDOW, 'UDP port-scan threshold', d),
      sweep: threshold(udp, 'udp-sweep', SCAN_WINDOW, 'udp-sweep threshold', d),
    },
    limitSession: {
      source: optional(limit, 'source-ip-based', SESSIONS, 'source-ip-based session limit', d),
      destination: optional(limit, 'destination-ip-based', SESSIONS, 'destination-ip-based session limit', d),
    },
  };
}

/**
 * The header types an `ipv6-extension-header` statement names (an empty one names none). A
 * hop-by-hop or destination options header naming options screens those options only.
 */
function extensionHeaders(s: Statement | undefined): Ipv6ExtensionHeader[] | null {
  if (!s) return null;
  const names = new Set<string>([...IPV6_EXTENSION_HEADERS, 'hop-by-hop-header', 'destination-header']);
  return activeChildren(s.children)
    .filter((c) => !((c.words[0]!.text === 'hop-by-hop-header' || c.words[0]!.text === 'destination-header') && activeChildren(c.children).length > 0))
    .map((c) => c.words[0]!.text).filter((k): k is Ipv6ExtensionHeader => names.has(k));
}

/** The option types (and user-defined header types) an `ipv6-extension-header` statement names. */
function extensionOptions(s: Statement | undefined, d: Diagnostics): Ipv6OptionTypes {
  const of = (keyword: string, named: Readonly<Record<string, number>>): number[] => {
    const kids = child(s?.children, keyword)?.children;
    const out = activeChildren(kids).map((c) => named[c.words[0]!.text]).filter((t): t is number => t !== undefined);
    return [...out, ...typeRanges(each(kids, 'user-defined-option-type'), 1, 'user-defined-option-type', d)];
  };
  return {
    hopByHop: of('hop-by-hop-header', IPV6_HOP_BY_HOP_OPTIONS),
    destination: of('destination-header', IPV6_DESTINATION_OPTIONS),
    headerTypes: typeRanges(each(s?.children, 'user-defined-header-type'), 0, 'user-defined-header-type', d),
  };
}

/** Every `KEYWORD L to H;` (each min-255): the type numbers they cover. */
function typeRanges(stmts: readonly Statement[], min: number, what: string, d: Diagnostics): number[] {
  const out: number[] = [];
  for (const s of stmts) {
    const [low, high] = [s.words[1], s.words[3]].map((w) => (w ? parseNumber(d, w, what, min, 255) : null));
    if (low === null || high === null || low === undefined || high === undefined) continue;
    if (high < low) d.error(s.words[3]!.pos, `${what}: the range ${low} to ${high} is empty`);
    for (let t = low; t <= high; t++) out.push(t);
  }
  return out;
}

/** `tunnel { gre { gre-4in4; } ipip { isatap; } ip-in-udp { teredo; } bad-inner-header; }`. */
function tunnels(kids: Children): TunnelScreen[] {
  const out: TunnelScreen[] = [];
  if (child(kids, 'bad-inner-header')) out.push('tunnel-bad-inner-header');
  for (const k of GRE_TUNNELS) if (child(child(kids, 'gre')?.children, k)) out.push(`tunnel-${k}`);
  for (const k of IPIP_TUNNELS) {
    if (!child(child(kids, 'ipip')?.children, k)) continue;
    out.push(k === 'isatap' || k === 'dslite' ? `tunnel-ipip-${k}` : `tunnel-${k}`);
  }
  if (child(child(kids, 'ip-in-udp')?.children, 'teredo')) out.push('tunnel-teredo');
  return out;
}

function synFlood(kids: Children, present: boolean, d: Diagnostics): SynFloodSettings | null {
  if (!present) return null;
  return {
    attackThreshold: number(kids, 'attack-threshold', SYN_FLOOD.attack, 'syn-flood attack-threshold', d),
    alarmThreshold: number(kids, 'alarm-threshold', SYN_FLOOD.alarm, 'syn-flood alarm-threshold', d),
    sourceThreshold: number(kids, 'source-threshold', SYN_FLOOD.source, 'syn-flood source-threshold', d),
    destinationThreshold: number(kids, 'destination-threshold', SYN_FLOOD.destination, 'syn-flood destination-threshold', d),
    timeout: number(kids, 'timeout', SYN_FLOOD.timeout, 'syn-flood timeout', d),
    whiteList: whiteList(kids, d),
  };
}

/** Prefixes one profile's syn-flood white-lists may hold in all (lib/screens/apply.ts has room for every zone's). */
export const MAX_WHITE_LIST_PREFIXES = 16;

/** Every `white-list NAME { source-address ...; destination-address ...; }` of a syn-flood, merged. */
function whiteList(kids: Children, d: Diagnostics): { source: Prefix[]; destination: Prefix[] } {
  const out = { source: [] as Prefix[], destination: [] as Prefix[] };
  let count = 0;
  for (const list of each(kids, 'white-list')) {
    for (const [keyword, into] of [['source-address', out.source], ['destination-address', out.destination]] as const) {
      for (const w of listOf(list.children, keyword)) {
        const p = parsePrefix(w.text);
        if (typeof p === 'string') d.error(w.pos, p);
        else if (++count > MAX_WHITE_LIST_PREFIXES) d.error(w.pos, `syn-flood white-lists hold at most ${MAX_WHITE_LIST_PREFIXES} prefixes per screen`);
        else into.push(p);
      }
    }
  }
  return out;
}

/** `KEYWORD { threshold N; }`: N, the default when only KEYWORD is given, null without it. */
function threshold(stmts: Children, keyword: string, range: Range, what: string, d: Diagnostics): number | null {
  const s = child(stmts, keyword);
  return s ? number(s.children, 'threshold', range, what, d) : null;
}

/** `KEYWORD N;`, or null without it. */
function optional(stmts: Children, keyword: string, range: Range, what: string, d: Diagnostics): number | null {
  return child(stmts, keyword) ? number(stmts, keyword, range, what, d) : null;
}

/** `KEYWORD N;`, or the default. An invalid N is reported (the compile fails) and the default stands in. */
function number(stmts: Children, keyword: string, range: Range, what: string, d: Diagnostics): number {
  const s = child(stmts, keyword);
  return (s && parseNumber(d, valueOf(s), what, range.min, range.max)) ?? range.fallback;
}

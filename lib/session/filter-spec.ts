// Flow filters as operators type them (Junos `show security flow session
// source-prefix ... destination-port ...`): the CLI flags, their wire form on
// the control socket, and the compiled predicate over one flow's facts. Every
// filter given must match (AND). Standalone: sessions, dropped packets or any
// other flow record can be matched with the same flags.
import { type Shape, type ShapeType, oneOf, optional, text } from '../control/schema.js';
import { maskWords, parsePrefix } from '../config/ip.js';
import { AF_INET, AF_INET6, type FamilyName, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from './flow-key.js';

const FAMILIES = ['inet', 'inet6'] as const;

/** The wire form (control requests): what the operator typed, checked by the daemon. */
export const FLOW_FILTER_FIELDS = {
  sourcePrefix: optional(text(64)),
  destinationPrefix: optional(text(64)),
  /** A port or a range `low-high`. */
  sourcePort: optional(text(16)),
  destinationPort: optional(text(16)),
  /** A name (tcp, udp, icmp, icmp6, ...) or a number 0-255. */
  protocol: optional(text(16)),
  fromZone: optional(text(256)),
  toZone: optional(text(256)),
  policy: optional(text(256)),
  /** Either interface of the flow (where it arrives or where it leaves). */
  interface: optional(text(64)),
  family: optional(oneOf(FAMILIES)),
} as const satisfies Shape;

export type FlowFilterSpec = ShapeType<typeof FLOW_FILTER_FIELDS>;

/**
 * One flow as the filters see it. Addresses are 16 bytes in network order (IPv4 in the first
 * four) at their offsets in `addresses` (a session key, an event record...): matching a large
 * table allocates nothing per flow, and one object can be refilled for each.
 */
export interface FlowFacts {
  family: FamilyName;
  protocol: number;
  addresses: Uint8Array;
  sourceOffset: number;
  destinationOffset: number;
  sourcePort: number;
  destinationPort: number;
  fromZone: string;
  toZone: string;
  policy: string;
  /** Where the flow arrives, and where it leaves (null: nowhere known, e.g. to the box). */
  ingressInterface: string;
  egressInterface: string | null;
}

export type FlowPredicate = (flow: FlowFacts) => boolean;

export type CompiledFilter = { ok: true; match: FlowPredicate; family: FamilyName | null; empty: boolean } | { ok: false; error: string };

const PROTOCOLS: Record<string, number> = {
  icmp: IPPROTO_ICMP, igmp: 2, tcp: IPPROTO_TCP, egp: 8, udp: IPPROTO_UDP, ipv6: 41, rsvp: 46, gre: 47, esp: 50, ah: 51,
  icmp6: IPPROTO_ICMPV6, 'ipv6-icmp': IPPROTO_ICMPV6, icmpv6: IPPROTO_ICMPV6, ospf: 89, pim: 103, vrrp: 112, sctp: 132,
};

interface PrefixMatch {
  family: FamilyName;
  /** 16-byte address and mask. */
  bytes: Uint8Array;
  mask: Uint8Array;
}

function compilePrefix(what: string, textValue: string): PrefixMatch | string {
  const slash = textValue.indexOf('/');
  const host = parsePrefix(slash < 0 ? textValue : textValue.slice(0, slash));
  if (typeof host === 'string') return `${what}: ${host}`;
  const max = host.family === 'inet' ? 32 : 128;
  let length = max;
  if (slash >= 0) {
    const len = textValue.slice(slash + 1);
    if (!/^(0|[1-9][0-9]*)$/.test(len) || Number(len) > max) return `${what}: invalid prefix length in '${textValue}': must be 0-${max}`;
    length = Number(len);
  }
  const bytes = new Uint8Array(16);
  const mask = new Uint8Array(16);
  const m = maskWords(host.family, length);
  host.words.forEach((w, k) => {
    for (let b = 0; b < 4; b++) {
      mask[4 * k + b] = (m[k]! >>> (24 - 8 * b)) & 0xff;
      bytes[4 * k + b] = ((w >>> (24 - 8 * b)) & 0xff) & mask[4 * k + b]!;
    }
  });
  return { family: host.family, bytes, mask };
}

function prefixMatches(p: PrefixMatch, family: FamilyName, addr: Uint8Array, at: number): boolean {
  if (family !== p.family) return false;
  const n = family === 'inet' ? 4 : 16;
  for (let i = 0; i < n; i++) if ((addr[at + i]! & p.mask[i]!) !== p.bytes[i]) return false;
  return true;
}

function compilePorts(what: string, textValue: string): [number, number] | string {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(textValue.trim());
  const low = m ? Number(m[1]) : NaN;
  const high = m?.[2] !== undefined ? Number(m[2]) : low;
  if (!m || low > 65535 || high > 65535 || low > high) return `${what}: '${textValue}' is not a port (0-65535) or a range low-high`;
  return [low, high];
}

/** A protocol name or number 0-255; a message when it is neither. */
export function compileProtocol(textValue: string): number | string {
  const v = textValue.trim().toLowerCase();
  if (/^\d{1,3}$/.test(v) && Number(v) <= 255) return Number(v);
  return PROTOCOLS[v] ?? `protocol: '${textValue}' is not a protocol name (${Object.keys(PROTOCOLS).join(', ')}) or a number 0-255`;
}

/** Compiles a filter spec; every field given must match. An error names the flag and the value. */
export function compileFlowFilter(spec: FlowFilterSpec): CompiledFilter {
  const tests: FlowPredicate[] = [];
  const families = new Set<FamilyName>();
  const fail = (error: string): CompiledFilter => ({ ok: false, error });
  for (const [field, which] of [['sourcePrefix', 'source'], ['destinationPrefix', 'destination']] as const) {
    const v = spec[field];
    if (v === undefined) continue;
    const p = compilePrefix(`${which}-prefix`, v);
    if (typeof p === 'string') return fail(p);
    families.add(p.family);
    tests.push(which === 'source'
      ? (f) => prefixMatches(p, f.family, f.addresses, f.sourceOffset)
      : (f) => prefixMatches(p, f.family, f.addresses, f.destinationOffset));
  }
  for (const [field, which] of [['sourcePort', 'source'], ['destinationPort', 'destination']] as const) {
    const v = spec[field];
    if (v === undefined) continue;
    const r = compilePorts(`${which}-port`, v);
    if (typeof r === 'string') return fail(r);
    const [lo, hi] = r;
    tests.push(which === 'source' ? (f) => f.sourcePort >= lo && f.sourcePort <= hi : (f) => f.destinationPort >= lo && f.destinationPort <= hi);
  }
  if (spec.protocol !== undefined) {
    const p = compileProtocol(spec.protocol);
    if (typeof p === 'string') return fail(p);
    tests.push((f) => f.protocol === p);
  }
  const { fromZone, toZone, policy } = spec;
  if (fromZone !== undefined) tests.push((f) => f.fromZone === fromZone);
  if (toZone !== undefined) tests.push((f) => f.toZone === toZone);
  if (policy !== undefined) tests.push((f) => f.policy === policy);
  if (spec.interface !== undefined) {
    const name = spec.interface;
    tests.push((f) => f.ingressInterface === name || f.egressInterface === name);
  }
  if (spec.family !== undefined) {
    const fam = spec.family;
    families.add(fam);
    tests.push((f) => f.family === fam);
  }
  if (families.size > 1) return fail(`the filters name both IPv4 and IPv6 (${[...families].join(', ')}): no flow can match`);
  const family = families.size === 1 ? [...families][0]! : null;
  const match: FlowPredicate = tests.length === 0 ? () => true
    : tests.length === 1 ? tests[0]!
    : (f) => {
      for (const t of tests) if (!t(f)) return false;
      return true;
    };
  return { ok: true, match, family, empty: tests.length === 0 };
}

/** Family of an address family number, for records that carry AF_*. */
export function familyOf(af: number): FamilyName | null {
  return af === AF_INET ? 'inet' : af === AF_INET6 ? 'inet6' : null;
}

/** The CLI flags, in yargs' option form (for any command that filters flows). */
export const FLOW_FILTER_OPTIONS = {
  'source-prefix': { type: 'string', describe: 'flows from this prefix (or address), e.g. 10.1.0.0/16' },
  'destination-prefix': { type: 'string', describe: 'flows to this prefix (or address)' },
  'source-port': { type: 'string', describe: 'source port or range low-high' },
  'destination-port': { type: 'string', describe: 'destination port or range low-high' },
  'protocol': { type: 'string', describe: 'protocol name (tcp, udp, icmp, icmp6, ...) or number' },
  'from-zone': { type: 'string', describe: 'ingress zone' },
  'to-zone': { type: 'string', describe: 'egress zone' },
  'policy': { type: 'string', describe: 'the policy that permitted the flow' },
  'interface': { type: 'string', describe: 'flows arriving on or leaving by this interface' },
  'family': { choices: FAMILIES, describe: 'inet or inet6' },
} as const;

/** What parsed flags (yargs' argv) say, as the wire form; flags not given are left out. */
export function flowFilterFromArgs(a: Record<string, unknown>): FlowFilterSpec {
  const spec: Record<string, string> = {};
  const map: Array<[keyof typeof FLOW_FILTER_OPTIONS, keyof FlowFilterSpec]> = [
    ['source-prefix', 'sourcePrefix'], ['destination-prefix', 'destinationPrefix'], ['source-port', 'sourcePort'],
    ['destination-port', 'destinationPort'], ['protocol', 'protocol'], ['from-zone', 'fromZone'], ['to-zone', 'toZone'],
    ['policy', 'policy'], ['interface', 'interface'], ['family', 'family'],
  ];
  for (const [flag, field] of map) {
    const v = a[flag];
    if (v === undefined || v === null) continue;
    // A flag given twice: yargs makes an array; the last one counts, as with other flags.
    spec[field] = String(Array.isArray(v) ? v.at(-1) : v);
  }
  return spec as FlowFilterSpec;
}

/** The flags that reproduce `spec` (to tell the operator how to ask for the next page). */
export function flowFilterArgs(spec: FlowFilterSpec): string[] {
  const out: string[] = [];
  for (const [flag, v] of Object.entries(spec)) {
    if (v === undefined) continue;
    out.push(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, /^[\w./:-]+$/.test(String(v)) ? String(v) : `'${String(v)}'`);
  }
  return out;
}

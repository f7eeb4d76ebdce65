import {
  FAMILY_ICMP,
  IMPLICIT_DISCARD_TERM_ID,
  PORT_PROTOCOLS,
  type Filter,
  type FilterAction,
  type FilterPrefix,
  type FilterRejectReason,
  type FilterTerm,
  type FirewallConfig,
  type Range,
} from '../config/filters.js';
import { maskWords } from '../config/ip.js';
import { hasPorts, IPPROTO } from '../config/protocols.js';
import type { AddressMatch, ApplicationTerm, Family, PolicyMatch } from '../config/types.js';
import { RuleIndex } from '../policy/rule-index.js';
import { FILTER_ACTION_CODE, FILTER_FLAG_LOG, FILTER_FLAG_SYSLOG, rejectReasonCode, type FilterDescriptor } from './descriptor.js';
import { FilterNames } from './names.js';
import { PrefixMatcher } from './prefix-match.js';

/** The packet a filter judges. */
export interface FilterQuery {
  family: Family;
  /** IANA protocol number (the upper-layer protocol for IPv6, after extension headers). */
  protocol: number;
  /** 4 bytes for inet, 16 for inet6, network order. */
  source: Uint8Array;
  destination: Uint8Array;
  /** TCP, UDP and SCTP ports; ignored for other protocols and for fragments. */
  sourcePort: number;
  destinationPort: number;
  /** ICMP type and code (ICMPv6 for inet6); ignored for other protocols and for fragments. */
  icmpType: number;
  icmpCode: number;
  /** The TCP flags byte (fin 0x01 ... urgent 0x20; the top two bits are ignored). */
  tcpFlags: number;
  /** A non-first fragment (fragment offset not 0): it has no transport header. */
  isFragment: boolean;
  /** The DSCP (top 6 bits of the TOS / traffic class byte), 0-63. */
  dscp: number;
  /** The IP packet's length, header included: what `packet-length` matches and the counters add; 0 when absent. */
  length?: number;
  /** The IPv4 TTL or IPv6 hop limit; 0 when absent. */
  ttl?: number;
  /** The fragment offset in 8-byte units; absent: 0, or unknown but not 0 for a non-first fragment. */
  fragmentOffset?: number;
}

/** What a filter decided. Prebuilt per term (and per filter for the implicit discard): compare by identity if useful, never mutate. */
export interface FilterResult {
  readonly filterId: number;
  readonly filter: string;
  readonly family: Family;
  /** 0: no term matched (the implicit discard). */
  readonly termId: number;
  /** null for the implicit discard. */
  readonly term: string | null;
  readonly action: FilterAction;
  /** For reject: what to answer with (tcp-reset: RST for TCP, administratively-prohibited otherwise); else null. */
  readonly rejectReason: FilterRejectReason | null;
  readonly log: boolean;
  readonly syslog: boolean;
  /** `count C`: the counter's name, or null. */
  readonly counter: string | null;
  /** Kernel routing table of `then routing-instance`, or null. */
  readonly routingInstance: number | null;
  readonly routingInstanceName: string | null;
  /** What the fast path caches for the flow (lib/filter/descriptor.ts). */
  readonly descriptor: FilterDescriptor;
}

/**
 * One term of a flow's residual program: its verdict and the per-packet conditions it has left
 * (null: none). Shared with the engine's compiled term: never mutate.
 */
export interface ResidualTerm {
  readonly descriptor: FilterDescriptor;
  /** The tcp-flags truth table [bits 0-31, bits 32-63] over the low 6 flag bits. */
  readonly tcpFlags: readonly [number, number] | null;
  /** Bitmaps: bit v of word v >>> 5. */
  readonly dscp: Uint32Array | null;
  readonly icmpType: Uint32Array | null;
  readonly icmpCode: Uint32Array | null;
  /** Inclusive [low, high] pairs, flattened. */
  readonly packetLength: Int32Array | null;
  /** TTL / hop-limit bitmap. */
  readonly ttl: Uint32Array | null;
  /** The term's policer instance (FilterEngine.policers()), 0: none; its bucket is charged per packet. */
  readonly policer: number;
}

/** A term's policer: one token bucket per term that names a policer (Junos's term-specific default). */
export interface FilterPolicerInstance {
  /** 1-based, dense over the configuration: the index of its bucket in XDP. */
  index: number;
  filterId: number;
  filter: string;
  family: Family;
  term: string;
  policer: string;
  /** Bits per second; bytes. */
  bandwidthLimit: number;
  burstSizeLimit: number;
  /** Packets and IP bytes the bucket discarded (what XDP counted, folded in). */
  droppedPackets: number;
  droppedBytes: number;
}

/** A `count` counter with its totals. */
export interface FilterCount {
  /** The descriptor's counter index (1-based). */
  index: number;
  filterId: number;
  filter: string;
  family: Family;
  counter: string;
  /** Ids of the terms that count into it. */
  terms: number[];
  packets: number;
  bytes: number;
}

export interface FilterEngineOptions {
  /** Filters with more terms than this are searched through an index (tests lower it); default 16. */
  indexThreshold?: number;
  /** Address conditions with more prefixes than this use a longest-prefix table (tests lower it); default 8. */
  linearPrefixes?: number;
}

interface Term {
  result: FilterResult;
  /** Hit counter slot. */
  slot: number;
  /** Counter index, 0: none. */
  counter: number;
  fragment: boolean;
  protocol: Uint32Array | null;
  dscp: Uint32Array | null;
  packetLength: Int32Array | null;
  ttl: Uint32Array | null;
  fragmentOffset: Int32Array | null;
  port: Int32Array | null;
  policer: number;
  sourcePort: Int32Array | null;
  destinationPort: Int32Array | null;
  icmpType: Uint32Array | null;
  icmpCode: Uint32Array | null;
  tcpFlags: boolean;
  flagsLow: number;
  flagsHigh: number;
  source: PrefixMatcher | null;
  destination: PrefixMatcher | null;
  sourceList: PrefixMatcher | null;
  destinationList: PrefixMatcher | null;
}

interface CompiledFilter {
  id: number;
  name: string;
  family: Family;
  terms: Term[];
  /** Terms by id: cached verdicts name a term by id, for every logged or rejected packet. */
  byTermId: Map<number, Term>;
  implicit: FilterResult;
  implicitSlot: number;
  /** Candidate terms by addresses, protocol and destination port; null: scan in order. */
  index: RuleIndex | null;
  icmp: number;
}

const DEFAULT_INDEX_THRESHOLD = 16;

function bitmap(ranges: readonly Range[] | null, bits: number): Uint32Array | null {
  if (ranges === null) return null;
  const m = new Uint32Array(bits / 32);
  for (const [lo, hi] of ranges) for (let v = lo; v <= hi && v < bits; v++) m[v >>> 5] |= 1 << (v & 31);
  return m;
}

function inBitmap(m: Uint32Array, v: number): boolean {
  return v >= 0 && v < m.length * 32 && ((m[v >>> 5] >>> (v & 31)) & 1) === 1;
}

function rangeArray(ranges: readonly Range[] | null): Int32Array | null {
  return ranges === null ? null : Int32Array.from(ranges.flat());
}

function inRanges(r: Int32Array, v: number): boolean {
  for (let i = 0; i < r.length; i += 2) if (v >= r[i] && v <= r[i + 1]) return true;
  return false;
}

function read32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function frozenResult(r: FilterResult): FilterResult {
  Object.freeze(r.descriptor);
  return Object.freeze(r);
}

/**
 * Evaluates compiled firewall filters: the first term whose every condition matches decides,
 * and a packet no term matches is discarded (term id 0). A lookup allocates nothing: results
 * and descriptors are built with the engine. Filters with many terms are searched through the
 * policy engine's RuleIndex (candidate terms by source and destination prefix, protocol and
 * destination port, lowest term first), so a lookup need not visit every term.
 */
export class FilterEngine {
  private readonly filters = new Map<number, CompiledFilter>();
  private readonly names: FilterNames;
  /** Query addresses as unsigned words: source at 0, destination at 4. */
  private readonly addr = new Uint32Array(8);
  private readonly hitCounts: Float64Array;
  /** Index 0 unused (0 means "no counter" in descriptors). */
  private readonly packets: Float64Array;
  private readonly bytes: Float64Array;
  private readonly counterInfo: Omit<FilterCount, 'packets' | 'bytes'>[] = [];
  /** Keys that identify a counter or hit slot across reloads. */
  private readonly counterKeys: string[] = [''];
  private readonly slotKeys: string[] = [];
  private readonly policerInfo: FilterPolicerInstance[] = [];

  constructor(config: { firewall: FirewallConfig }, opts: FilterEngineOptions = {}) {
    const threshold = opts.indexThreshold ?? DEFAULT_INDEX_THRESHOLD;
    this.names = new FilterNames(config.firewall);
    for (const f of config.firewall.filters) {
      const counters = new Map<string, number>();
      for (const t of f.terms) {
        if (t.count === null || counters.has(t.count)) continue;
        const index = this.counterInfo.length + 1;
        counters.set(t.count, index);
        this.counterInfo.push({ index, filterId: f.id, filter: f.name, family: f.family, counter: t.count, terms: [] });
        this.counterKeys.push(`${f.family}\0${f.name}\0${t.count}`);
      }
      const terms = f.terms.map((t) => {
        let policer = 0;
        const p = t.policer === null ? undefined : config.firewall.policers.get(t.policer);
        if (p) {
          policer = this.policerInfo.length + 1;
          this.policerInfo.push({
            index: policer, filterId: f.id, filter: f.name, family: f.family, term: t.name, policer: p.name,
            bandwidthLimit: p.bandwidthLimit, burstSizeLimit: p.burstSizeLimit, droppedPackets: 0, droppedBytes: 0,
          });
        }
        const counter = t.count === null ? 0 : counters.get(t.count)!;
        if (counter) this.counterInfo[counter - 1].terms.push(t.id);
        const slot = this.slotKeys.push(`${f.family}\0${f.name}\0${t.id}\0${t.name}`) - 1;
        return compileTerm(f, t, slot, counter, policer, opts.linearPrefixes);
      });
      const implicitSlot = this.slotKeys.push(`${f.family}\0${f.name}\0${IMPLICIT_DISCARD_TERM_ID}`) - 1;
      this.filters.set(f.id, {
        id: f.id,
        name: f.name,
        family: f.family,
        terms,
        byTermId: new Map(terms.map((t) => [t.result.termId, t])),
        implicit: implicitDiscard(f),
        implicitSlot,
        index: f.terms.length > threshold ? new RuleIndex(f.terms.map((t) => superset(t, f.family)), f.family) : null,
        icmp: FAMILY_ICMP[f.family],
      });
    }
    this.hitCounts = new Float64Array(this.slotKeys.length);
    this.packets = new Float64Array(this.counterInfo.length + 1);
    this.bytes = new Float64Array(this.counterInfo.length + 1);
  }

  /** Whether the configuration has an (active) filter with this id. */
  has(filterId: number): boolean {
    return this.filters.has(filterId);
  }

  /** Judges a packet and counts it: the term's hit and its `count` counter. */
  evaluate(filterId: number, q: FilterQuery): FilterResult {
    const f = this.filter(filterId, q);
    const x = this.find(f, q);
    if (x < 0) {
      this.hitCounts[f.implicitSlot]++;
      return f.implicit;
    }
    const t = f.terms[x];
    this.hitCounts[t.slot]++;
    if (t.counter !== 0) {
      this.packets[t.counter]++;
      this.bytes[t.counter] += q.length ?? 0;
    }
    return t.result;
  }

  /** Judges a packet without counting anything: for re-evaluating cached verdicts after a reload. */
  lookup(filterId: number, q: FilterQuery): FilterResult {
    const f = this.filter(filterId, q);
    const x = this.find(f, q);
    return x < 0 ? f.implicit : f.terms[x].result;
  }

  /** The prebuilt result of a term (termId 0: the implicit discard), or null for ids the configuration does not have. */
  result(filterId: number, termId: number): FilterResult | null {
    const f = this.filters.get(filterId);
    if (!f) return null;
    if (termId === IMPLICIT_DISCARD_TERM_ID) return f.implicit;
    return f.byTermId.get(termId)?.result ?? null;
  }

  filterName(filterId: number): string | null {
    return this.names.filterName(filterId);
  }

  termName(filterId: number, termId: number): string | null {
    return this.names.termName(filterId, termId);
  }

  /** Packets that ended at a term (termId 0: the implicit discard) through evaluate(). */
  hits(filterId: number, termId: number): number {
    const f = this.filters.get(filterId);
    if (!f) return 0;
    if (termId === IMPLICIT_DISCARD_TERM_ID) return this.hitCounts[f.implicitSlot];
    const t = f.byTermId.get(termId);
    return t ? this.hitCounts[t.slot] : 0;
  }

  /** Every `count` counter with its totals, by index (filters in id order). */
  counts(): FilterCount[] {
    return this.counterInfo.map((c) => ({ ...c, terms: [...c.terms], packets: this.packets[c.index], bytes: this.bytes[c.index] }));
  }

  /** Every term's policer with what it discarded, by index. */
  policers(): FilterPolicerInstance[] {
    return this.policerInfo.map((p) => ({ ...p }));
  }

  /** Adds what XDP's bucket `index` discarded (a no-op for an unknown index). */
  addPolicerDrops(index: number, packets: number, bytes: number): void {
    const p = this.policerInfo[index - 1];
    if (!p) return;
    p.droppedPackets += packets;
    p.droppedBytes += bytes;
  }

  /** Adds what the fast path counted for a descriptor's counter index (a no-op for 0 or an unknown index). */
  addCounts(counterIndex: number, packets: number, bytes: number): void {
    if (counterIndex <= 0 || counterIndex >= this.packets.length) return;
    this.packets[counterIndex] += packets;
    this.bytes[counterIndex] += bytes;
  }

  /**
   * Keeps the totals of the counters and term hits a reload kept: the same counter name in a
   * filter of the same name and family; the same term id and name. Call before serving lookups.
   */
  carryCountsFrom(previous: FilterEngine): void {
    const counters = new Map(previous.counterKeys.map((k, i) => [k, i]));
    this.counterKeys.forEach((k, i) => {
      const j = i === 0 ? undefined : counters.get(k);
      if (j === undefined) return;
      this.packets[i] += previous.packets[j];
      this.bytes[i] += previous.bytes[j];
    });
    const policerKey = (p: FilterPolicerInstance): string => `${p.family}\0${p.filter}\0${p.term}\0${p.policer}`;
    const dropped = new Map(previous.policerInfo.map((p) => [policerKey(p), p]));
    for (const p of this.policerInfo) {
      const old = dropped.get(policerKey(p));
      if (!old) continue;
      p.droppedPackets += old.droppedPackets;
      p.droppedBytes += old.droppedBytes;
    }
    const slots = new Map(previous.slotKeys.map((k, i) => [k, i]));
    this.slotKeys.forEach((k, i) => {
      const j = slots.get(k);
      if (j !== undefined) this.hitCounts[i] += previous.hitCounts[j];
    });
  }

  /**
   * The residual program of filter `filterId` for a flow (lib/filter/residual.ts): its terms
   * whose flow-constant conditions (addresses, protocol, ports; no fragment condition) match
   * `q`, in order, each with the conditions left that vary per packet, ending at the first term
   * with none left; or at the implicit discard. The per-packet fields of `q` are ignored.
   */
  residual(filterId: number, q: FilterQuery): ResidualTerm[] {
    const f = this.filter(filterId, q);
    const out: ResidualTerm[] = [];
    for (const t of f.terms) {
      if (t.fragment) continue; // non-first fragments follow their first fragment
      // Programs judge whole packets and first fragments: offset 0.
      if (t.fragmentOffset !== null && !inRanges(t.fragmentOffset, 0)) continue;
      if (t.protocol !== null && !inBitmap(t.protocol, q.protocol)) continue;
      if (t.sourcePort !== null || t.destinationPort !== null || t.port !== null) {
        if (!hasPorts(q.protocol)) continue;
        if (t.port !== null && !inRanges(t.port, q.sourcePort) && !inRanges(t.port, q.destinationPort)) continue;
        if (t.sourcePort !== null && !inRanges(t.sourcePort, q.sourcePort)) continue;
        if (t.destinationPort !== null && !inRanges(t.destinationPort, q.destinationPort)) continue;
      }
      if ((t.icmpType !== null || t.icmpCode !== null) && q.protocol !== f.icmp) continue;
      if (t.tcpFlags && q.protocol !== IPPROTO.TCP) continue;
      const a = this.addr;
      if (t.source !== null && !t.source.matches(a, 0)) continue;
      if (t.sourceList !== null && !t.sourceList.matches(a, 0)) continue;
      if (t.destination !== null && !t.destination.matches(a, 4)) continue;
      if (t.destinationList !== null && !t.destinationList.matches(a, 4)) continue;
      const r: ResidualTerm = {
        descriptor: t.result.descriptor,
        tcpFlags: t.tcpFlags ? [t.flagsLow, t.flagsHigh] : null,
        dscp: t.dscp,
        icmpType: t.icmpType,
        icmpCode: t.icmpCode,
        packetLength: t.packetLength,
        ttl: t.ttl,
        policer: t.policer,
      };
      out.push(r);
      if (!r.tcpFlags && !r.dscp && !r.icmpType && !r.icmpCode && !r.packetLength && !r.ttl) return out;
    }
    out.push({ descriptor: f.implicit.descriptor, tcpFlags: null, dscp: null, icmpType: null, icmpCode: null, packetLength: null, ttl: null, policer: 0 });
    return out;
  }

  private filter(filterId: number, q: FilterQuery): CompiledFilter {
    const f = this.filters.get(filterId);
    if (!f) throw new RangeError(`filter query: no filter with id ${filterId}`);
    if (f.family !== q.family) throw new RangeError(`filter query: filter ${f.name} (${filterId}) is family ${f.family}, the packet ${q.family}`);
    const words = f.family === 'inet6' ? 4 : 1;
    if (q.source.length !== words * 4 || q.destination.length !== words * 4) {
      throw new RangeError(`filter query: ${q.family} addresses must be ${words * 4} bytes`);
    }
    for (let k = 0; k < words; k++) {
      this.addr[k] = read32(q.source, 4 * k);
      this.addr[4 + k] = read32(q.destination, 4 * k);
    }
    return f;
  }

  /** Index of the first matching term, or -1. */
  private find(f: CompiledFilter, q: FilterQuery): number {
    const terms = f.terms;
    const index = f.index;
    if (index === null) {
      for (let x = 0; x < terms.length; x++) if (this.matches(terms[x], f, q)) return x;
      return -1;
    }
    const port = !q.isFragment && hasPorts(q.protocol) ? q.destinationPort : 0;
    if (!index.begin(this.addr, q.protocol, port)) return -1;
    for (let x = index.next(0); x >= 0; x = index.next(x + 1)) if (this.matches(terms[x], f, q)) return x;
    return -1;
  }

  private matches(t: Term, f: CompiledFilter, q: FilterQuery): boolean {
    if (t.fragment && !q.isFragment) return false;
    if (t.protocol !== null && !inBitmap(t.protocol, q.protocol)) return false;
    if (t.dscp !== null && !inBitmap(t.dscp, q.dscp)) return false;
    if (t.packetLength !== null && !inRanges(t.packetLength, q.length ?? 0)) return false;
    if (t.ttl !== null && !inBitmap(t.ttl, q.ttl ?? 0)) return false;
    if (t.fragmentOffset !== null) {
      // A non-first fragment of unknown offset matches no offset condition.
      const offset = q.fragmentOffset ?? (q.isFragment ? -1 : 0);
      if (!inRanges(t.fragmentOffset, offset)) return false;
    }
    if (t.sourcePort !== null || t.destinationPort !== null || t.port !== null) {
      if (q.isFragment || !hasPorts(q.protocol)) return false;
      if (t.port !== null && !inRanges(t.port, q.sourcePort) && !inRanges(t.port, q.destinationPort)) return false;
      if (t.sourcePort !== null && !inRanges(t.sourcePort, q.sourcePort)) return false;
      if (t.destinationPort !== null && !inRanges(t.destinationPort, q.destinationPort)) return false;
    }
    if (t.icmpType !== null || t.icmpCode !== null) {
      if (q.isFragment || q.protocol !== f.icmp) return false;
      if (t.icmpType !== null && !inBitmap(t.icmpType, q.icmpType)) return false;
      if (t.icmpCode !== null && !inBitmap(t.icmpCode, q.icmpCode)) return false;
    }
    if (t.tcpFlags) {
      if (q.isFragment || q.protocol !== IPPROTO.TCP) return false;
      const b = q.tcpFlags & 0x3f;
      if ((((b < 32 ? t.flagsLow : t.flagsHigh) >>> (b & 31)) & 1) === 0) return false;
    }
    const a = this.addr;
    if (t.source !== null && !t.source.matches(a, 0)) return false;
    if (t.sourceList !== null && !t.sourceList.matches(a, 0)) return false;
    if (t.destination !== null && !t.destination.matches(a, 4)) return false;
    if (t.destinationList !== null && !t.destinationList.matches(a, 4)) return false;
    return true;
  }
}

function compileTerm(f: Filter, t: FilterTerm, slot: number, counter: number, policer: number, linearPrefixes: number | undefined): Term {
  const m = t.match;
  const matcher = (p: FilterPrefix[] | null): PrefixMatcher | null => (p === null ? null : new PrefixMatcher(p, f.family, linearPrefixes));
  const ri = t.routingInstance;
  const result = frozenResult({
    filterId: f.id,
    filter: f.name,
    family: f.family,
    termId: t.id,
    term: t.name,
    action: t.action,
    rejectReason: t.rejectReason,
    log: t.log,
    syslog: t.syslog,
    counter: t.count,
    routingInstance: ri?.tableId ?? null,
    routingInstanceName: ri?.name ?? null,
    descriptor: {
      filterId: f.id,
      termId: t.id,
      counter,
      tableId: ri?.tableId ?? 0,
      action: FILTER_ACTION_CODE[t.action],
      flags: (t.log ? FILTER_FLAG_LOG : 0) | (t.syslog ? FILTER_FLAG_SYSLOG : 0),
      rejectReason: rejectReasonCode(t.rejectReason),
      program: 0,
    },
  });
  return {
    result,
    slot,
    counter,
    fragment: m.isFragment,
    protocol: bitmap(m.protocol, 256),
    dscp: bitmap(m.dscp, 64),
    packetLength: rangeArray(m.packetLength),
    ttl: bitmap(m.ttl, 256),
    fragmentOffset: rangeArray(m.fragmentOffset),
    port: rangeArray(m.port),
    policer,
    sourcePort: rangeArray(m.sourcePort),
    destinationPort: rangeArray(m.destinationPort),
    icmpType: bitmap(m.icmpType, 256),
    icmpCode: bitmap(m.icmpCode, 256),
    tcpFlags: m.tcpFlags !== null,
    flagsLow: m.tcpFlags?.low ?? 0,
    flagsHigh: m.tcpFlags?.high ?? 0,
    source: matcher(m.sourceAddress),
    destination: matcher(m.destinationAddress),
    sourceList: matcher(m.sourcePrefixList),
    destinationList: matcher(m.destinationPrefixList),
  };
}

function implicitDiscard(f: Filter): FilterResult {
  return frozenResult({
    filterId: f.id,
    filter: f.name,
    family: f.family,
    termId: IMPLICIT_DISCARD_TERM_ID,
    term: null,
    action: 'discard',
    rejectReason: null,
    log: false,
    syslog: false,
    counter: null,
    routingInstance: null,
    routingInstanceName: null,
    descriptor: { filterId: f.id, termId: IMPLICIT_DISCARD_TERM_ID, counter: 0, tableId: 0, action: FILTER_ACTION_CODE.discard, flags: 0, rejectReason: 0, program: 0 },
  });
}

// ---------------------------------------------------------------------------------------------
// Index: each term as a policy-shaped match that admits at least what the term does.

/** (network, mask) words of prefixes, in AddressMatch form, for the family only. */
function addressMatch(prefixes: readonly FilterPrefix[], family: Family): AddressMatch {
  const out: number[] = [];
  for (const { prefix } of prefixes) {
    const mask = maskWords(family, prefix.length);
    out.push(...prefix.words.map((w) => w | 0), ...mask.map((w) => w | 0));
  }
  const words = Int32Array.from(out);
  return family === 'inet' ? { v4: words, v6: new Int32Array(0) } : { v4: new Int32Array(0), v6: words };
}

/**
 * An address superset of a term's conditions on one side: the non-except prefixes of one of
 * its conditions (both must match, so either bounds it), or everything without a condition.
 */
function addressSuperset(a: FilterPrefix[] | null, b: FilterPrefix[] | null, family: Family): AddressMatch {
  // Wildcard masks bound nothing a prefix can say: such a condition is no bound.
  const includes = [a, b].filter((x): x is FilterPrefix[] => x !== null && !x.some((p) => p.mask)).map((x) => x.filter((p) => !p.except));
  if (includes.length === 0) {
    return addressMatch([{ prefix: { family, words: family === 'inet' ? [0] : [0, 0, 0, 0], length: 0 }, except: false }], family);
  }
  includes.sort((x, y) => x.length - y.length);
  return addressMatch(includes[0], family);
}

function appTerm(protocol: number, low: number, high: number): ApplicationTerm {
  return { application: '', protocol, sourcePortLow: 0, sourcePortHigh: 0xffff, destinationPortLow: low, destinationPortHigh: high, icmpType: -1, icmpCode: -1 };
}

function superset(t: FilterTerm, family: Family): PolicyMatch {
  const m = t.match;
  const has = (r: readonly Range[] | null, v: number): boolean => r === null || r.some(([lo, hi]) => v >= lo && v <= hi);
  const terms: ApplicationTerm[] = [];
  let any = false;
  if (m.destinationPort !== null) {
    // Only port protocols have ports; the index keys them by the destination port.
    for (const p of PORT_PROTOCOLS) if (has(m.protocol, p)) for (const [lo, hi] of m.destinationPort) terms.push(appTerm(p, lo, hi));
  } else if (m.protocol !== null) {
    for (const [lo, hi] of m.protocol) for (let p = lo; p <= hi; p++) terms.push(appTerm(p, 0, 0xffff));
  } else {
    any = true;
  }
  return {
    sourceAddresses: [],
    destinationAddresses: [],
    applications: [],
    source: addressSuperset(m.sourceAddress, m.sourcePrefixList, family),
    destination: addressSuperset(m.destinationAddress, m.destinationPrefixList, family),
    application: { any, terms },
  };
}

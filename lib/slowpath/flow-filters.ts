// The firewall filters a flow meets, by attach point: the input filter of
// the interface a packet arrives on, the output filter of the one it leaves
// by, and the lo0 filter for the box itself. The slow path judges a flow's
// first packet here and caches the verdicts of both directions in the
// session entries (lib/filter/descriptor.ts), which XDP then replays; where
// terms on per-packet fields could match the flow, the entry names the
// flow's residual program of those terms instead (lib/filter/residual.ts),
// which XDP runs on every packet.
import type { FilterAttachment } from '../config/filters.js';
import type { CompiledConfig, Family } from '../config/types.js';
import { NO_FILTER, type FilterDescriptor } from '../filter/descriptor.js';
import { FilterEngine, type FilterQuery, type FilterResult } from '../filter/engine.js';
import type { FilterPrograms } from '../filter/programs.js';
import { encodeResidual, hasPerPacketTerms } from '../filter/residual.js';
import { FILTER_PROGRAM_SLOW_PATH } from '../dataplane/layout.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, familyName } from '../session/flow-key.js';
import { type FirstPacket, NO_FILTERS, type SessionFilters } from '../session/table.js';
import { TCP_ACK, TCP_SYN } from '../session/tcp.js';
import type { FrameReader } from './frame.js';

/** A flow's key as sessionFilters judges it. */
export interface SessionKeyFacts {
  family: number;
  protocol: number;
  source: Uint8Array;
  destination: Uint8Array;
  sourcePort: number;
  destinationPort: number;
  icmpType: number;
}

const ICMP_ECHO_REPLY: Readonly<Record<number, number>> = { 8: 0, 128: 129 };

export class FlowFilters {
  readonly engine: FilterEngine;
  private readonly byIfindex = new Map<number, Record<Family, FilterAttachment>>();
  private readonly lo0: Record<Family, number | null>;
  /** Scratch query: a lookup allocates nothing. */
  private readonly q: FilterQuery = {
    family: 'inet', protocol: 0, source: new Uint8Array(4), destination: new Uint8Array(4), sourcePort: 0,
    destinationPort: 0, icmpType: 0, icmpCode: 0, tcpFlags: 0, isFragment: false, dscp: 0, length: 0, ttl: 0,
  };

  /**
   * `ifindexOf` resolves an interface name; null: not on this box (its filters cannot apply).
   * `programs` interns residual programs for XDP; without it, flows with per-packet terms are
   * judged packet by packet in the slow path.
   */
  constructor(config: CompiledConfig, ifindexOf: (name: string) => number | null, private readonly programs: FilterPrograms | null = null) {
    this.engine = new FilterEngine(config);
    for (const [name, attachment] of config.firewall.interfaces) {
      const ifindex = ifindexOf(name);
      if (ifindex !== null) this.byIfindex.set(ifindex, attachment);
    }
    this.lo0 = config.firewall.lo0;
  }

  input(ifindex: number, family: Family): number | null {
    return this.byIfindex.get(ifindex)?.[family].input ?? null;
  }

  output(ifindex: number, family: Family): number | null {
    return this.byIfindex.get(ifindex)?.[family].output ?? null;
  }

  lo0Filter(family: Family): number | null {
    return this.lo0[family];
  }

  /** Judges the frame the reader holds with filter `id` and counts it (null: no filter there). */
  judge(id: number | null, reader: FrameReader): FilterResult | null {
    if (id === null) return null;
    return this.engine.evaluate(id, this.query(reader));
  }

  /** What filter `id` decides for the frame the reader holds, without counting (`xdpfw trace`). */
  peek(id: number | null, reader: FrameReader): FilterResult | null {
    if (id === null) return null;
    return this.engine.lookup(id, this.query(reader));
  }

  /**
   * What a session's cached verdict `d` decides for the packet the reader holds: the cached
   * verdict itself, or with per-packet terms this packet's own (as XDP's program would). Counts
   * it when `count`. null: no filter, or one a reload removed.
   */
  packetVerdict(d: FilterDescriptor, reader: FrameReader, count: boolean): FilterResult | null {
    if (d.filterId === 0 || !this.engine.has(d.filterId)) return null;
    if (d.program === 0) {
      const r = this.engine.result(d.filterId, d.termId);
      if (r && count) this.engine.addCounts(d.counter, 1, reader.facts.l3Length);
      return r;
    }
    const q = this.query(reader);
    return count ? this.engine.evaluate(d.filterId, q) : this.engine.lookup(d.filterId, q);
  }

  private query(reader: FrameReader): FilterQuery {
    const f = reader.facts;
    const q = this.q;
    reader.flowInto(q);
    q.tcpFlags = f.tcpFlags;
    q.isFragment = false; // the slow path sees first fragments only (offset 0); later ones follow them in XDP
    q.dscp = f.dscp;
    q.length = f.l3Length;
    q.ttl = f.ttl;
    return q;
  }

  /**
   * The verdicts XDP caches for a session keyed `key` (client to server), without counting:
   * the client direction enters at `ingress` and leaves at `egress`, the server direction the
   * other way round; a local session meets the lo0 filter instead of an output filter and has
   * no server direction in XDP. The server direction is judged as the reply to `first`.
   */
  sessionFilters(
    key: SessionKeyFacts,
    first: FirstPacket, ingress: number, egress: number, local: boolean,
  ): SessionFilters {
    const family = familyName(key.family);
    const clientInput = this.input(ingress, family);
    const clientOutput = local ? this.lo0[family] : this.output(egress, family);
    const serverInput = local ? null : this.input(egress, family);
    const serverOutput = local ? null : this.output(ingress, family);
    // No filter on the flow's way: one shared value, nothing judged or built.
    if (clientInput === null && clientOutput === null && serverInput === null && serverOutput === null) return NO_FILTERS;
    const q = this.q;
    q.family = family;
    q.protocol = key.protocol;
    q.isFragment = false;
    q.dscp = first.dscp;
    q.icmpCode = first.icmpCode;
    q.length = 0;
    q.ttl = 0;
    return {
      client: { input: this.judgeFirst(clientInput, key, first, false), output: this.judgeFirst(clientOutput, key, first, false) },
      server: { input: this.judgeFirst(serverInput, key, first, true), output: this.judgeFirst(serverOutput, key, first, true) },
    };
  }

  /** The cached verdict of filter `id` for the flow's direction (`reply`: the server's), into the scratch query sessionFilters set up. */
  private judgeFirst(id: number | null, key: SessionKeyFacts, first: FirstPacket, reply: boolean): FilterDescriptor {
    if (id === null) return NO_FILTER;
    const q = this.q;
    q.source = reply ? key.destination : key.source;
    q.destination = reply ? key.source : key.destination;
    q.sourcePort = reply ? key.destinationPort : key.sourcePort;
    q.destinationPort = reply ? key.sourcePort : key.destinationPort;
    q.icmpType = reply ? replyIcmpType(key.protocol, key.icmpType) : key.icmpType;
    q.tcpFlags = reply ? replyTcpFlags(key.protocol, first.tcpFlags) : first.tcpFlags;
    const firstVerdict = this.engine.lookup(id, q).descriptor;
    const program = this.programOf(id, q);
    return program === 0 ? firstVerdict : { ...firstVerdict, program };
  }

  /** The flow's residual program of filter `id`: 0 when one verdict holds for all its packets. */
  private programOf(id: number, q: FilterQuery): number {
    const terms = this.engine.residual(id, q);
    if (!hasPerPacketTerms(terms)) return 0;
    const bytes = encodeResidual(terms);
    return bytes === null || this.programs === null ? FILTER_PROGRAM_SLOW_PATH : this.programs.intern(bytes);
  }
}

/** The flags of the answer to a first TCP packet: SYN+ACK to a SYN. */
function replyTcpFlags(protocol: number, flags: number): number {
  if (protocol !== IPPROTO_TCP) return 0;
  return flags & TCP_SYN ? TCP_SYN | TCP_ACK : flags;
}

function replyIcmpType(protocol: number, type: number): number {
  if (protocol !== IPPROTO_ICMP && protocol !== IPPROTO_ICMPV6) return 0;
  return ICMP_ECHO_REPLY[type] ?? type;
}

// Answers a rejected packet: a TCP RST (RFC 793) or an ICMP / ICMPv6 destination unreachable
// (RFC 792, RFC 4443) addressed back to its source, built in place into a caller's buffer as
// a whole Ethernet frame that leaves through the interface the packet came in on. Replies
// are never sent where RFC 1122 3.2.2 and RFC 4443 2.4(e) forbid an ICMP error, nor to a RST.
// The same builder answers a packet too big for its egress link with fragmentation-needed
// (RFC 1191) or packet-too-big (RFC 8201), from the box's own address.
import { AF_INET, AF_INET6, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP } from '../session/flow-key.js';
import { fold, sum16 } from './checksum.js';
import { TokenBucket } from './token-bucket.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../session/tcp.js';

/**
 * Junos reject message types. `tcp-reset` answers TCP with a RST and everything else with
 * administratively-prohibited (what a security policy's `reject` does); any other reason
 * answers every protocol, TCP included, with that ICMP code (a filter's `reject <reason>`).
 */
export type RejectReason = 'tcp-reset' | keyof typeof CODES;

/**
 * [ICMP code, ICMPv6 code] of destination unreachable per reason; a reason the other family
 * lacks takes its nearest code, else administratively prohibited. (fragmentation-needed is
 * left out: it must carry a next-hop MTU this module does not know.)
 */
const CODES = {
  'administratively-prohibited': [13, 1],
  'network-unreachable': [0, 0],
  'host-unreachable': [1, 3],
  'protocol-unreachable': [2, 1],
  'port-unreachable': [3, 4],
  'source-route-failed': [5, 1],
  'network-unknown': [6, 0],
  'host-unknown': [7, 3],
  'source-host-isolated': [8, 1],
  'network-prohibited': [9, 1],
  'host-prohibited': [10, 1],
  'bad-network-tos': [11, 1],
  'bad-host-tos': [12, 1],
  'precedence-violation': [14, 1],
  'precedence-cutoff': [15, 1],
  'no-route': [0, 0],
  'address-unreachable': [1, 3],
  'beyond-scope': [13, 2],
} as const satisfies Record<string, readonly [number, number]>;

/** What a policy's `reject` sends. */
export const POLICY_REJECT: RejectReason = 'tcp-reset';

/** Room a reply can need: Ethernet with two VLAN tags, then an IPv6 datagram of the minimum MTU. */
export const REJECT_FRAME_MAX = 22 + 1280;

/** RFC 1812 4.3.2.3: an ICMPv4 error holds at most 576 bytes of IP. */
const ICMP4_MAX = 576;
const ICMP6_MAX = 1280;
const TTL = 64;


function be16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function be32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v;
}

function put32(b: Uint8Array, at: number, v: number): void {
  put16(b, at, v >>> 16);
  put16(b, at + 2, v & 0xffff);
}

/** IPv6 extension headers walked to find the transport header (RFC 8200 4). */
const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const AH = 51;
const DEST_OPTS = 60;
const MAX_EXTENSIONS = 8;

/** The packet being answered, as parse() found it; one instance, reused. */
const pkt = {
  v6: false,
  l3: 0,
  /** End of the IP datagram as declared, and as far as the frame holds it. */
  declaredEnd: 0,
  end: 0,
  l4: 0,
  tcp: false,
  code: 0,
  /** Set by write(): the quote ends before the first 8 bytes of the transport header. */
  partial: false,
  /** ICMP / ICMPv6 type of an unreachable reply; the MTU it carries (packet too big). */
  type: 0,
  mtu: 0,
  /** Source of the reply; null: the original's destination. */
  source: null as Uint8Array | null,
};

/**
 * Fills `pkt`; false when no reply is due or the frame is malformed. `mtu` not 0: the answer is
 * fragmentation-needed / packet-too-big, due for every fragment (the whole packet was too big).
 */
function parse(f: Uint8Array, l3: number, family: number, protocol: number, reason: RejectReason, mtu = 0): boolean {
  const v6 = family === AF_INET6;
  if (!v6 && family !== AF_INET) return false;
  if (l3 < 14 || f.length < l3 + (v6 ? 40 : 20)) return false;
  // Link-layer broadcast or multicast, either way.
  if ((f[0] & 1) !== 0 || (f[6] & 1) !== 0) return false;
  let nh: number;
  let l4: number;
  let declaredEnd: number;
  if (!v6) {
    const ihl = (f[l3] & 0x0f) * 4;
    declaredEnd = l3 + be16(f, l3 + 2);
    if (f[l3] >> 4 !== 4 || ihl < 20 || declaredEnd < l3 + ihl) return false;
    const later = (be16(f, l3 + 6) & 0x1fff) !== 0;
    if (later && mtu === 0) return false; // not the first fragment
    if (!unicastV4(be32(f, l3 + 12)) || !unicastV4(be32(f, l3 + 16))) return false;
    if (f[l3 + 12] === 0 || f[l3 + 12] === 127) return false; // "this network", loopback
    nh = later ? -1 : f[l3 + 9];
    l4 = l3 + ihl;
  } else {
    declaredEnd = l3 + 40 + be16(f, l3 + 4);
    if (f[l3] >> 4 !== 6 || f[l3 + 8] === 0xff || f[l3 + 24] === 0xff) return false; // multicast
    if (unspecifiedOrLoopback(f, l3 + 8)) return false;
    const end = Math.min(declaredEnd, f.length);
    nh = f[l3 + 6];
    l4 = l3 + 40;
    for (let n = 0; isExtension(nh); n++) {
      if (n === MAX_EXTENSIONS || l4 + 8 > end) return false;
      if (nh === FRAGMENT && (be16(f, l4 + 2) & 0xfff8) !== 0) {
        if (mtu === 0) return false; // not the first fragment
        nh = -1;
        l4 += 8;
        break;
      }
      const next = f[l4];
      l4 += nh === FRAGMENT ? 8 : nh === AH ? (f[l4 + 1] + 2) * 4 : (f[l4 + 1] + 1) * 8;
      nh = next;
    }
  }
  const end = Math.min(declaredEnd, f.length);
  // nh -1: a later fragment, which holds no transport header.
  if ((nh !== protocol && nh !== -1) || l4 > end) return false;
  if (nh !== -1 && protocol === (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)) {
    if (l4 >= end || isIcmpError(f[l4], v6)) return false;
  }
  const tcp = protocol === IPPROTO_TCP && reason === 'tcp-reset' && mtu === 0;
  if (tcp) {
    const header = (f[l4 + 12] >> 4) * 4;
    if (l4 + 20 > end || header < 20 || l4 + header > declaredEnd || (f[l4 + 13] & TCP_RST) !== 0) return false;
  }
  pkt.v6 = v6;
  pkt.l3 = l3;
  pkt.declaredEnd = declaredEnd;
  pkt.end = end;
  pkt.l4 = l4;
  pkt.tcp = tcp;
  pkt.code = mtu !== 0 ? (v6 ? 0 : 4) : CODES[reason === 'tcp-reset' ? 'administratively-prohibited' : reason][v6 ? 1 : 0];
  pkt.type = mtu !== 0 && v6 ? 2 : v6 ? 1 : 3;
  pkt.mtu = mtu;
  pkt.source = null;
  return true;
}

/** Neither multicast (224/4) nor reserved or broadcast (240/4). */
function unicastV4(a: number): boolean {
  return a >>> 28 < 0xe;
}

function unspecifiedOrLoopback(f: Uint8Array, at: number): boolean {
  for (let i = 0; i < 15; i++) if (f[at + i] !== 0) return false;
  return f[at + 15] <= 1;
}

function isExtension(nh: number): boolean {
  return nh === HOP_BY_HOP || nh === ROUTING || nh === FRAGMENT || nh === AH || nh === DEST_OPTS;
}

/** ICMP errors (RFC 1122 3.2.2: unreachable, source quench, redirect, time exceeded, parameter problem); ICMPv6 errors and redirects. */
function isIcmpError(type: number, v6: boolean): boolean {
  return v6 ? type < 128 || type === 137 : type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** Ethernet header with the addresses swapped; VLAN tags and EtherType stay as they were. */
function writeEthernet(f: Uint8Array, out: Uint8Array, l3: number): void {
  for (let i = 0; i < 6; i++) {
    out[i] = f[6 + i];
    out[6 + i] = f[i];
  }
  for (let i = 12; i < l3; i++) out[i] = f[i];
}

/** An IP header from the original's destination to its source; returns the pseudo-header sum. */
function writeIp(f: Uint8Array, out: Uint8Array, protocol: number, payload: number): number {
  const at = pkt.l3;
  if (!pkt.v6) {
    out[at] = 0x45;
    out[at + 1] = 0;
    put16(out, at + 2, 20 + payload);
    put32(out, at + 4, 0); // id 0, no fragmentation flags
    out[at + 8] = TTL;
    out[at + 9] = protocol;
    put16(out, at + 10, 0);
    for (let i = 0; i < 4; i++) {
      out[at + 12 + i] = pkt.source ? pkt.source[i] : f[at + 16 + i];
      out[at + 16 + i] = f[at + 12 + i];
    }
    put16(out, at + 10, fold(sum16(out, at, at + 20, 0)));
    return sum16(out, at + 12, at + 20, protocol + payload);
  }
  put32(out, at, 0x60000000);
  put16(out, at + 4, payload);
  out[at + 6] = protocol;
  out[at + 7] = TTL;
  for (let i = 0; i < 16; i++) {
    out[at + 8 + i] = pkt.source ? pkt.source[i] : f[at + 24 + i];
    out[at + 24 + i] = f[at + 8 + i];
  }
  return sum16(out, at + 8, at + 40, protocol + payload);
}

/** RFC 793, "Reset Generation", for a segment that opens or belongs to no connection. */
function writeRst(f: Uint8Array, out: Uint8Array): number {
  const { l4: i, declaredEnd } = pkt;
  const o = pkt.l3 + (pkt.v6 ? 40 : 20);
  const flags = f[i + 13];
  const pseudo = writeIp(f, out, IPPROTO_TCP, 20);
  put16(out, o, be16(f, i + 2));
  put16(out, o + 2, be16(f, i));
  if ((flags & TCP_ACK) !== 0) {
    put32(out, o + 4, be32(f, i + 8));
    put32(out, o + 8, 0);
    out[o + 13] = TCP_RST;
  } else {
    const length = declaredEnd - i - (f[i + 12] >> 4) * 4 + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0);
    put32(out, o + 4, 0);
    put32(out, o + 8, (be32(f, i + 4) + length) >>> 0);
    out[o + 13] = TCP_RST | TCP_ACK;
  }
  out[o + 12] = 5 << 4;
  put32(out, o + 14, 0); // window, checksum
  put16(out, o + 18, 0); // urgent pointer
  put16(out, o + 16, fold(sum16(out, o, o + 20, pseudo)));
  return o + 20;
}

/**
 * Destination unreachable quoting as much of the original datagram as the limits allow; 0 when
 * not even the shortest quote fits in `out`. IPv4 must quote the IP header and 8 bytes of the
 * datagram (RFC 792). IPv6 quotes what fits in the minimum MTU (RFC 4443 2.4(c)), even when a
 * long header chain leaves no room for the transport header.
 */
function writeUnreachable(f: Uint8Array, out: Uint8Array): number {
  const { v6, l3, l4, end } = pkt;
  const o = l3 + (v6 ? 40 : 20);
  const quote = Math.min(end - l3, (v6 ? ICMP6_MAX - 48 : ICMP4_MAX - 28), out.length - o - 8);
  const wanted = Math.min(end, l4 + 8) - l3;
  if (quote < (v6 ? Math.min(end - l3, 40) : wanted)) return 0;
  pkt.partial = quote < wanted;
  const protocol = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
  const pseudo = writeIp(f, out, protocol, 8 + quote);
  out[o] = pkt.type;
  out[o + 1] = pkt.code;
  put16(out, o + 2, 0);
  put32(out, o + 4, pkt.mtu); // v4: next-hop MTU in the low 16 bits (RFC 1191); v6: the MTU

  for (let k = 0; k < quote; k++) out[o + 8 + k] = f[l3 + k];
  put16(out, o + 2, fold(sum16(out, o, o + 8 + quote, v6 ? pseudo : 0)));
  return o + 8 + quote;
}

/**
 * Builds the reply to `frame` (an Ethernet frame whose IP header starts at `l3Offset`;
 * `family` AF_INET or AF_INET6, `protocol` its transport protocol) into `out` and returns
 * its length, or 0 when no reply is due or `out` cannot hold even the shortest reply;
 * REJECT_FRAME_MAX bytes always suffice for frames with up to two VLAN tags.
 */
export function buildReject(frame: Uint8Array, l3Offset: number, family: number, protocol: number, out: Uint8Array, reason: RejectReason = POLICY_REJECT): number {
  if (!parse(frame, l3Offset, family, protocol, reason)) return 0;
  return write(frame, out);
}

function write(frame: Uint8Array, out: Uint8Array): number {
  pkt.partial = false;
  const o = pkt.l3 + (pkt.v6 ? 40 : 20);
  if (out.length < o + (pkt.tcp ? 20 : 8)) return 0;
  writeEthernet(frame, out, pkt.l3);
  return pkt.tcp ? writeRst(frame, out) : writeUnreachable(frame, out);
}

export interface RejectLimits {
  /** Replies per second, default 100. */
  rate?: number;
  /** Replies allowed at once after a quiet spell, default `rate`. */
  burst?: number;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
}

export interface RejectCounters {
  /** Replies built for sending. */
  sent: number;
  /** Replies due but held back by the rate limit. */
  rateLimited: number;
  /** Rejected packets that get no reply (ICMP errors, broadcasts, RSTs, non-first fragments, malformed). */
  notDue: number;
  /** Of `sent`: ICMPv6 replies whose quote ends inside a header chain too long for the minimum MTU. */
  partialQuote: number;
  /** Replies due but not sent: even the shortest one does not fit in the reply frame. */
  tooLarge: number;
}

/** buildReject behind a token bucket, so a reject storm cannot turn the box into a packet cannon. */
export class Rejecter {
  readonly counters: RejectCounters = { sent: 0, rateLimited: 0, notDue: 0, partialQuote: 0, tooLarge: 0 };
  private readonly bucket: TokenBucket;

  constructor(limits: RejectLimits = {}) {
    const rate = limits.rate ?? 100;
    this.bucket = new TokenBucket(rate, limits.burst ?? Math.max(1, rate), limits.now);
  }

  /** As buildReject; also 0 when the rate limit holds the reply back. */
  reply(frame: Uint8Array, l3Offset: number, family: number, protocol: number, out: Uint8Array, reason: RejectReason = POLICY_REJECT): number {
    return this.send(parse(frame, l3Offset, family, protocol, reason), frame, out, null);
  }

  /**
   * Fragmentation-needed (IPv4) or packet-too-big (IPv6) carrying `mtu`, for a packet too big
   * for its egress link, from `source` (an address of the box, of the frame's family; null:
   * the packet's destination). Rate-limited and counted as reply() is.
   */
  tooBig(frame: Uint8Array, l3Offset: number, family: number, protocol: number, out: Uint8Array, mtu: number, source: Uint8Array | null): number {
    const due = mtu > 0 && parse(frame, l3Offset, family, protocol, 'administratively-prohibited', mtu);
    return this.send(due, frame, out, source);
  }

  /**
   * Writes the reply parse() prepared, when one is due and a token allows (the bucket is asked
   * only then; building is left until it allows), from `source` or the packet's destination.
   */
  private send(due: boolean, frame: Uint8Array, out: Uint8Array, source: Uint8Array | null): number {
    if (!due) {
      this.counters.notDue++;
      return 0;
    }
    if (!this.bucket.take()) {
      this.counters.rateLimited++;
      return 0;
    }
    pkt.source = source !== null && source.length === (pkt.v6 ? 16 : 4) ? source : null;
    const n = write(frame, out);
    if (n === 0) {
      this.counters.tooLarge++;
      return 0;
    }
    this.counters.sent++;
    if (pkt.partial) this.counters.partialQuote++;
    return n;
  }
}

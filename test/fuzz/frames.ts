// Frame generators of the fuzz tier, shared by the BPF_PROG_RUN target (the
// XDP object alone) and the slow-path target (frames sent into a running
// daemon). Every frame carries the Ethernet addresses of its Addressing;
// well-formed IP headers carry addresses drawn from it, so what a frame
// can reach stays inside the test's own subnets.
import { checksum } from '../helpers/packets.js';
import { type Rand, bytes, chance, int, pick } from './seed.js';

export interface Addressing {
  dstMac: Buffer;
  srcMac: Buffer;
  src4: readonly Buffer[];
  dst4: readonly Buffer[];
  src6: readonly Buffer[];
  dst6: readonly Buffer[];
  /** Ports the interesting flows use (sessions, filter terms); random ones are added. */
  ports: readonly number[];
}

/** Largest frame generated: a 1500-byte MTU (AF_PACKET sends no more on a veth). */
export const MAX_FRAME = 1514;
export const MIN_FRAME = 14;

const ETH_IP = 0x0800;
const ETH_IP6 = 0x86dd;
/** EtherTypes worth a frame each: IP, ARP, VLAN TPIDs, MPLS, PPPoE, LLDP, MACsec, 802.3 lengths. */
export const ETHERTYPES = [
  ETH_IP, ETH_IP6, 0x0806, 0x8035, 0x8100, 0x88a8, 0x9100, 0x9200, 0x8847, 0x8848, 0x8863, 0x8864,
  0x88cc, 0x88e5, 0x88f7, 0x22f0, 0x893a, 0x0000, 0x0001, 0x05dc, 0x05dd, 0x0600, 0xffff,
] as const;
const VLAN_TPIDS = [0x8100, 0x88a8, 0x9100] as const;
/** IPv6 extension headers (and what follows them) the parser walks or refuses. */
const IPV6_EXT = [0, 43, 44, 51, 60, 135, 139, 140, 253, 254, 50] as const;
/** IPv4 option types with their own meaning (EOL, NOP, SSRR/LSRR, RR, TS, security, stream id, router alert). */
const IPV4_OPTIONS = [0, 1, 7, 68, 130, 131, 133, 136, 137, 148] as const;

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
}

/** Ethernet header with VLAN tags (TPID, VID pairs) in front of `type`. */
export function ether(at: Addressing, tags: ReadonlyArray<readonly [number, number]>, type: number, payload: Buffer): Buffer {
  const parts: Buffer[] = [at.dstMac, at.srcMac];
  for (const [tpid, vid] of tags) parts.push(u16(tpid), u16(vid));
  parts.push(u16(type), payload);
  return Buffer.concat(parts);
}

/** The L4 checksum over the pseudo header of `src`/`dst` (4 or 16 bytes). */
function l4Checksum(src: Buffer, dst: Buffer, proto: number, seg: Buffer): number {
  const pseudo = Buffer.concat([src, dst, Buffer.from([0, proto]), u16(seg.length)]);
  return 0xffff - checksum(seg, checksum(pseudo));
}

/** Fills the checksum field of a TCP/UDP/ICMP(v6) segment (left as is when too short to hold one). */
function sealL4(src: Buffer, dst: Buffer, proto: number, seg: Buffer): Buffer {
  const at = proto === 6 ? 16 : proto === 17 ? 6 : proto === 1 || proto === 58 ? 2 : -1;
  if (at < 0 || seg.length < at + 2) return seg;
  seg.writeUInt16BE(0, at);
  const sum = proto === 1 ? 0xffff - checksum(seg) : l4Checksum(src, dst, proto, seg);
  seg.writeUInt16BE(sum, at);
  return seg;
}

export interface Ipv4Spec {
  src: Buffer;
  dst: Buffer;
  proto: number;
  payload: Buffer;
  options?: Buffer;
  /** flags and fragment offset field (MF 0x2000, DF 0x4000, offset in 8-byte units) */
  frag?: number;
  ttl?: number;
  /** header length field as sent (default: the real one) */
  ihl?: number;
  /** total length field as sent (default: the real one) */
  totalLength?: number;
  version?: number;
}

export function ipv4(s: Ipv4Spec): Buffer {
  const opts = s.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20 + opts.length);
  h[0] = ((s.version ?? 4) << 4) | ((s.ihl ?? h.length / 4) & 0xf);
  h.writeUInt16BE((s.totalLength ?? h.length + s.payload.length) & 0xffff, 2);
  h.writeUInt16BE(0x1234, 4);
  h.writeUInt16BE((s.frag ?? 0) & 0xffff, 6);
  h[8] = s.ttl ?? 64;
  h[9] = s.proto;
  s.src.copy(h, 12);
  s.dst.copy(h, 16);
  opts.copy(h, 20);
  h.writeUInt16BE(0xffff - checksum(h), 10);
  return Buffer.concat([h, s.payload]);
}

export interface Ipv6Spec {
  src: Buffer;
  dst: Buffer;
  /** first next-header value */
  next: number;
  /** extension headers and the upper layer, as they follow the fixed header */
  payload: Buffer;
  hopLimit?: number;
  /** payload length field as sent (default: the real one) */
  payloadLength?: number;
  version?: number;
}

export function ipv6(s: Ipv6Spec): Buffer {
  const h = Buffer.alloc(40);
  h[0] = (s.version ?? 6) << 4;
  h.writeUInt16BE((s.payloadLength ?? s.payload.length) & 0xffff, 4);
  h[6] = s.next;
  h[7] = s.hopLimit ?? 64;
  s.src.copy(h, 8);
  s.dst.copy(h, 24);
  return Buffer.concat([h, s.payload]);
}

export function tcp(sport: number, dport: number, flags: number, payload: Buffer, options: Buffer = Buffer.alloc(0), doff?: number): Buffer {
  const h = Buffer.alloc(20 + options.length);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(0x01020304, 4);
  h.writeUInt32BE(flags & 0x10 ? 0x0a0b0c0d : 0, 8);
  h[12] = ((doff ?? h.length / 4) & 0xf) << 4;
  h[13] = flags & 0xff;
  h.writeUInt16BE(65535, 14);
  options.copy(h, 20);
  return Buffer.concat([h, payload]);
}

export function udp(sport: number, dport: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** ICMP or ICMPv6: type, code, four bytes of "rest of header", payload. */
export function icmp(type: number, code: number, rest: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h[1] = code;
  h.writeUInt32BE(rest >>> 0, 4);
  return Buffer.concat([h, payload]);
}

// ------------------------------------------------------------------ pieces

const port = (rand: Rand, at: Addressing): number => (chance(rand, 0.7) ? pick(rand, at.ports) : int(rand, 65536));
const payloadOf = (rand: Rand, max: number): Buffer => bytes(rand, chance(rand, 0.5) ? int(rand, 16) : int(rand, Math.max(1, max)));

/** A random IP packet's addresses (mostly well-formed destinations from the addressing). */
function addresses(rand: Rand, at: Addressing, v6: boolean): [Buffer, Buffer] {
  return v6 ? [pick(rand, at.src6), pick(rand, at.dst6)] : [pick(rand, at.src4), pick(rand, at.dst4)];
}

/** A transport segment of protocol `proto` (no checksum yet), at most about `room` bytes. */
function segment(rand: Rand, at: Addressing, proto: number, room: number, v6: boolean): Buffer {
  switch (proto) {
    case 6: {
      const words = chance(rand, 0.8) ? 0 : int(rand, 11);
      return tcp(port(rand, at), port(rand, at), chance(rand, 0.5) ? pick(rand, [0x02, 0x10, 0x18, 0x11, 0x04, 0x12]) : int(rand, 256),
        payloadOf(rand, room - 20 - 4 * words), bytes(rand, 4 * words), chance(rand, 0.05) ? int(rand, 16) : undefined);
    }
    case 17:
      return udp(port(rand, at), port(rand, at), payloadOf(rand, room - 8));
    case 1:
    case 58: {
      const echo = v6 ? pick(rand, [128, 129]) : pick(rand, [8, 0]);
      const type = chance(rand, 0.7) ? echo : int(rand, 256);
      return icmp(type, chance(rand, 0.8) ? 0 : int(rand, 256), (port(rand, at) << 16) | 1, payloadOf(rand, room - 8));
    }
    default:
      return payloadOf(rand, room);
  }
}

/** IPv4 options: well-formed ones of every type, or lies about their lengths. */
function ipv4Options(rand: Rand): Buffer {
  const words = int(rand, 11);
  const b = Buffer.alloc(4 * words);
  let i = 0;
  while (i < b.length) {
    const type = chance(rand, 0.8) ? pick(rand, IPV4_OPTIONS) : int(rand, 256);
    b[i] = type;
    if (type === 0 || type === 1) { i++; continue; }
    const len = chance(rand, 0.8) ? Math.min(b.length - i, 3 + 4 * int(rand, 4)) : int(rand, 256);
    if (i + 1 < b.length) b[i + 1] = len;
    if (i + 2 < b.length) b[i + 2] = chance(rand, 0.5) ? 4 : int(rand, 256); // pointer
    for (let k = i + 3; k < Math.min(b.length, i + Math.max(len, 2)); k++) b[k] = int(rand, 256);
    i += Math.max(len, 2);
  }
  return b;
}

export interface ExtHeader {
  type: number;
  /** total bytes of this header as sent */
  body: Buffer;
}

/** An IPv6 extension header of `type`, `units` long in its own length encoding. */
function extHeader(rand: Rand, type: number, units: number): ExtHeader {
  if (type === 44) {
    const b = Buffer.alloc(8);
    b.writeUInt16BE((int(rand, 8192) << 3) | (chance(rand, 0.5) ? 1 : 0), 2);
    b.writeUInt32BE(int(rand, 0x100000000), 4);
    return { type, body: b };
  }
  const len = type === 51 ? (units + 2) * 4 : (units + 1) * 8;
  const b = bytes(rand, len);
  b[1] = units;
  if (type === 43) b[2] = pick(rand, [0, 2, 3, 4, int(rand, 256)]); // routing type (0: RH0)
  if (type === 60 || type === 0) b.fill(chance(rand, 0.5) ? 0 : 1, 2); // Pad1 / PadN-ish options
  return { type, body: b };
}

/** Extension headers chained in front of `last`: the first next-header value and the bytes. */
export function chain(headers: readonly ExtHeader[], last: number, upper: Buffer): { next: number; payload: Buffer } {
  const parts: Buffer[] = [];
  headers.forEach((h, i) => {
    const b = Buffer.from(h.body);
    b[0] = i + 1 < headers.length ? headers[i + 1]!.type : last;
    parts.push(b);
  });
  return { next: headers[0]?.type ?? last, payload: Buffer.concat([...parts, upper]) };
}

/**
 * A chain of `n` extension headers: around and past the parser's limit of six, some huge.
 * Huge ones (`big`) fit in `room` bytes half of the time, so whole frames carry them too.
 */
function randomChain(rand: Rand, n: number, big: boolean, room = 1400): ExtHeader[] {
  const fit = chance(rand, 0.5);
  let left = room;
  return Array.from({ length: n }, () => {
    const type = chance(rand, 0.85) ? pick(rand, [0, 43, 60, 60, 44, 51]) : pick(rand, IPV6_EXT);
    const max = fit ? Math.max(1, Math.min(256, Math.floor(left / 8))) : 256;
    const units = big && chance(rand, 0.3) ? int(rand, max) : int(rand, 3);
    const h = extHeader(rand, type, units);
    left -= h.body.length;
    return h;
  });
}

/** A well-formed IP packet (no Ethernet header) of either family, at most `room` bytes. */
export function ipPacket(rand: Rand, at: Addressing, room = MAX_FRAME - 14, depth = 0): Buffer {
  const v6 = chance(rand, 0.5);
  const [src, dst] = addresses(rand, at, v6);
  if (depth < 2 && chance(rand, 0.08)) return icmpError(rand, at, v6, room, depth + 1);
  const proto = chance(rand, 0.9) ? (v6 ? pick(rand, [6, 17, 58]) : pick(rand, [6, 17, 1])) : int(rand, 256);
  if (v6) {
    const exts = chance(rand, 0.3) ? randomChain(rand, 1 + int(rand, 3), false).filter((h) => h.type !== 44) : [];
    const used = exts.reduce((n, h) => n + h.body.length, 0);
    const seg = sealL4(src, dst, proto, segment(rand, at, proto, room - 40 - used, true));
    const c = chain(exts, proto, seg);
    return ipv6({ src, dst, next: c.next, payload: c.payload });
  }
  const options = chance(rand, 0.2) ? ipv4Options(rand) : undefined;
  const seg = sealL4(src, dst, proto, segment(rand, at, proto, room - 20 - (options?.length ?? 0), false));
  return ipv4({ src, dst, proto, payload: seg, options });
}

/** An ICMP or ICMPv6 error quoting another packet (itself anything, truncated anywhere, nested). */
function icmpError(rand: Rand, at: Addressing, v6: boolean, room: number, depth: number): Buffer {
  const [src, dst] = addresses(rand, at, v6);
  const inner = chance(rand, 0.9) ? ipPacket(rand, at, room - 48, depth) : bytes(rand, int(rand, 200));
  const quoted = inner.subarray(0, chance(rand, 0.5) ? inner.length : int(rand, inner.length + 1));
  const type = v6 ? pick(rand, [1, 2, 3, 4]) : pick(rand, [3, 4, 5, 11, 12]);
  const msg = icmp(type, int(rand, 16), type === 2 || type === 5 ? 1280 : 0, quoted);
  if (v6) return ipv6({ src, dst, next: 58, payload: sealL4(src, dst, 58, msg) });
  return ipv4({ src, dst, proto: 1, payload: sealL4(src, dst, 1, msg) });
}

const ipFrame = (at: Addressing, ip: Buffer, tags: ReadonlyArray<readonly [number, number]> = []): Buffer =>
  ether(at, tags, (ip[0]! >> 4) === 6 ? ETH_IP6 : ETH_IP, ip);

const clip = (b: Buffer): Buffer => (b.length > MAX_FRAME ? b.subarray(0, MAX_FRAME) : b);

// --------------------------------------------------------------- families

/** A generator of one kind of frame. */
export type Family = (rand: Rand, at: Addressing) => Buffer;

export const FAMILIES: Readonly<Record<string, Family>> = {
  /** Our Ethernet header, then anything. */
  'random-bytes': (rand, at) => {
    const len = int(rand, chance(rand, 0.7) ? 120 : MAX_FRAME - 14 + 1);
    const type = chance(rand, 0.5) ? pick(rand, [ETH_IP, ETH_IP6]) : chance(rand, 0.5) ? pick(rand, ETHERTYPES) : int(rand, 65536);
    return ether(at, [], type, bytes(rand, len));
  },
  /** A valid frame cut anywhere. */
  truncated: (rand, at) => {
    const f = FAMILIES['well-formed']!(rand, at);
    return f.subarray(0, MIN_FRAME + int(rand, f.length - MIN_FRAME + 1));
  },
  'well-formed': (rand, at) => ipFrame(at, ipPacket(rand, at)),
  /** Any EtherType in front of an IP packet or of junk. */
  ethertype: (rand, at) => {
    const type = chance(rand, 0.5) ? pick(rand, ETHERTYPES) : int(rand, 65536);
    return clip(ether(at, [], type, chance(rand, 0.5) ? ipPacket(rand, at) : bytes(rand, int(rand, 100))));
  },
  /** IHL 0..15 with or without room for it, total length lies, versions, options of every type. */
  'ipv4-header': (rand, at) => {
    const [src, dst] = addresses(rand, at, false);
    const proto = chance(rand, 0.8) ? pick(rand, [6, 17, 1]) : int(rand, 256);
    const options = chance(rand, 0.6) ? ipv4Options(rand) : Buffer.alloc(0);
    const seg = sealL4(src, dst, proto, segment(rand, at, proto, 200, false));
    const real = 20 + options.length + seg.length;
    const totalLength = chance(rand, 0.5) ? undefined : pick(rand, [0, 1, 19, 20, real - 1, real + 1, real + 100, 0xffff, int(rand, 65536)]);
    return ipFrame(at, ipv4({
      src, dst, proto, payload: seg, options,
      ihl: chance(rand, 0.5) ? undefined : int(rand, 16),
      totalLength,
      version: chance(rand, 0.9) ? 4 : int(rand, 16),
      frag: chance(rand, 0.8) ? 0 : int(rand, 65536),
      ttl: chance(rand, 0.8) ? 64 : int(rand, 3),
    }));
  },
  /** Extension chains up to and past the parser's six, huge ones, fragments in the chain, lying lengths. */
  'ipv6-chain': (rand, at) => {
    const [src, dst] = addresses(rand, at, true);
    const proto = chance(rand, 0.8) ? pick(rand, [6, 17, 58]) : int(rand, 256);
    const exts = randomChain(rand, int(rand, 10), true);
    const seg = sealL4(src, dst, proto, segment(rand, at, proto, 100, true));
    const c = chain(exts, proto, seg);
    const lie = chance(rand, 0.15) ? pick(rand, [0, 8, c.payload.length - 1, c.payload.length + 1, 0xffff]) : undefined;
    return clip(ipFrame(at, ipv6({ src, dst, next: c.next, payload: c.payload, payloadLength: lie, hopLimit: chance(rand, 0.9) ? 64 : int(rand, 2) })));
  },
  /** Any TCP flag byte, any data offset, either family, sometimes tagged. */
  'tcp-flags': (rand, at) => {
    const v6 = chance(rand, 0.5);
    const [src, dst] = addresses(rand, at, v6);
    const doff = chance(rand, 0.8) ? undefined : int(rand, 16);
    const seg = sealL4(src, dst, 6, tcp(port(rand, at), port(rand, at), int(rand, 256), payloadOf(rand, 64), bytes(rand, 4 * int(rand, 3)), doff));
    return ipFrame(at, v6 ? ipv6({ src, dst, next: 6, payload: seg }) : ipv4({ src, dst, proto: 6, payload: seg }));
  },
  /** First, middle, last, overlapping and tiny fragments of both families. */
  fragment: (rand, at) => {
    const v6 = chance(rand, 0.5);
    const [src, dst] = addresses(rand, at, v6);
    const proto = chance(rand, 0.9) ? pick(rand, v6 ? [6, 17, 58] : [6, 17, 1]) : int(rand, 256);
    const whole = sealL4(src, dst, proto, segment(rand, at, proto, 600, v6));
    const offset8 = pick(rand, [0, 0, 1, 2, 3, int(rand, 200), 8191]);
    const len = chance(rand, 0.3) ? int(rand, 9) : Math.min(whole.length, 8 * (1 + int(rand, 60)));
    const start = Math.min(whole.length, chance(rand, 0.5) ? 0 : offset8 * 8);
    const data = Buffer.concat([whole, bytes(rand, 600)]).subarray(start, start + len);
    const more = chance(rand, 0.6);
    if (!v6) return ipFrame(at, ipv4({ src, dst, proto, payload: data, frag: (more ? 0x2000 : 0) | offset8 }));
    const fh = Buffer.alloc(8);
    fh.writeUInt16BE((offset8 << 3) | (more ? 1 : 0), 2);
    fh.writeUInt32BE(int(rand, 0x100000000), 4);
    const before = chance(rand, 0.3) ? randomChain(rand, 1 + int(rand, 3), false).filter((h) => h.type !== 44) : [];
    const c = chain([...before, { type: 44, body: fh }], proto, data);
    return ipFrame(at, ipv6({ src, dst, next: c.next, payload: c.payload }));
  },
  /** ICMP/ICMPv6 errors quoting anything, truncated, nested. */
  'icmp-error': (rand, at) => ipFrame(at, icmpError(rand, at, chance(rand, 0.5), MAX_FRAME - 14, 1)),
  /** Zero to four tags of any TPID in front of anything. */
  vlan: (rand, at) => {
    const tags = Array.from({ length: int(rand, 5) }, () => [pick(rand, VLAN_TPIDS), int(rand, 65536)] as const);
    const inner = chance(rand, 0.8) ? ipPacket(rand, at) : bytes(rand, int(rand, 80));
    const type = chance(rand, 0.8) ? ((inner[0]! >> 4) === 6 ? ETH_IP6 : ETH_IP) : pick(rand, ETHERTYPES);
    return clip(ether(at, tags, type, inner));
  },
  /** A valid frame with a few bytes past the MACs flipped, but not its IP addresses. */
  bitflip: (rand, at) => {
    const f = Buffer.from(FAMILIES['well-formed']!(rand, at));
    const addrs = f.readUInt16BE(12) === ETH_IP6 ? [14 + 8, 14 + 40] : [14 + 12, 14 + 20];
    for (let n = 1 + int(rand, 4); n > 0; n--) {
      const i = 12 + int(rand, f.length - 12);
      if (i >= addrs[0]! && i < addrs[1]!) continue;
      f[i] = chance(rand, 0.5) ? f[i]! ^ (1 << int(rand, 8)) : int(rand, 256);
    }
    return f;
  },
};

export const FAMILY_NAMES = Object.keys(FAMILIES);

/** Case i's frame: families in turn, so every family gets its share at any count. */
export function fuzzFrame(rand: Rand, at: Addressing, i: number): { family: string; data: Buffer } {
  const family = FAMILY_NAMES[i % FAMILY_NAMES.length]!;
  const data = FAMILIES[family]!(rand, at);
  return { family, data: data.length < MIN_FRAME ? Buffer.concat([data, Buffer.alloc(MIN_FRAME - data.length)]) : data };
}

// ----------------------------------------------------- exhaustive sweeps

/** Frames that sweep a dimension completely: every flag byte, every IHL, every EtherType (or a sample). */
export function* sweeps(at: Addressing, rand: Rand, etherTypes: 'all' | number): Generator<{ family: string; data: Buffer }> {
  const [src4, dst4] = [at.src4[0]!, at.dst4[0]!];
  const [src6, dst6] = [at.src6[0]!, at.dst6[0]!];
  const p = at.ports[0] ?? 80;
  for (let flags = 0; flags < 256; flags++) {
    const s4 = sealL4(src4, dst4, 6, tcp(40000, p, flags, Buffer.alloc(0)));
    const s6 = sealL4(src6, dst6, 6, tcp(40000, p, flags, Buffer.alloc(0)));
    yield { family: 'sweep-tcp-flags', data: ipFrame(at, ipv4({ src: src4, dst: dst4, proto: 6, payload: s4 })) };
    yield { family: 'sweep-tcp-flags', data: ipFrame(at, ipv6({ src: src6, dst: dst6, next: 6, payload: s6 })) };
  }
  const seg = sealL4(src4, dst4, 17, udp(40000, p, Buffer.alloc(40)));
  for (let ihl = 0; ihl < 16; ihl++) {
    for (const room of [0, 4 * Math.max(0, ihl - 5)]) {
      for (const lie of [undefined, 0, 19, 20, 4 * ihl, 4 * ihl + seg.length + room, 0xffff]) {
        const options = Buffer.alloc(room, 1);
        const ip = ipv4({ src: src4, dst: dst4, proto: 17, payload: seg, options, ihl, totalLength: lie });
        yield { family: 'sweep-ihl', data: ipFrame(at, ip) };
      }
    }
  }
  for (let n = 0; n <= 9; n++) {
    for (const type of [0, 43, 60, 51]) {
      const headers = Array.from({ length: n }, (_, i) => extHeader(rand, i === 0 ? 0 : type, 0));
      const c = chain(headers, 17, sealL4(src6, dst6, 17, udp(40000, p, Buffer.alloc(8))));
      yield { family: 'sweep-ipv6-chain', data: ipFrame(at, ipv6({ src: src6, dst: dst6, next: c.next, payload: c.payload })) };
    }
  }
  for (let tags = 0; tags <= 4; tags++) {
    for (const tpid of VLAN_TPIDS) {
      const t = Array.from({ length: tags }, (_, i) => [tpid, 10 + i] as const);
      yield { family: 'sweep-vlan', data: ipFrame(at, ipv4({ src: src4, dst: dst4, proto: 17, payload: seg }), t) };
    }
  }
  const inner = ipv4({ src: src4, dst: dst4, proto: 17, payload: seg });
  if (etherTypes === 'all') {
    for (let type = 0; type < 65536; type++) yield { family: 'sweep-ethertype', data: ether(at, [], type, inner) };
  } else {
    for (const type of ETHERTYPES) yield { family: 'sweep-ethertype', data: ether(at, [], type, inner) };
    for (let k = 0; k < etherTypes; k++) yield { family: 'sweep-ethertype', data: ether(at, [], int(rand, 65536), inner) };
  }
}

/** Well-formed frames whose every truncation is a case of its own. */
export function truncationBases(rand: Rand, at: Addressing, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const tags = i % 4 === 3 ? [[0x8100, 7] as const] : [];
    out.push(clip(ipFrame(at, ipPacket(rand, at, i % 5 === 0 ? 1400 : 300), tags)));
  }
  return out;
}

// Crafts Ethernet frames for BPF_PROG_RUN tests.
import { isIPv4 } from 'node:net';

export interface FrameSpec {
  src: string;
  dst: string;
  protocol: 'tcp' | 'udp' | 'icmp' | 'icmp6' | number;
  sport?: number;
  dport?: number;
  tcpFlags?: number;
  /** TCP sequence and acknowledgement numbers (default 1 and 0). */
  tcpSeq?: number;
  tcpAck?: number;
  /** TCP window field (default 65535) and options (a multiple of 4 bytes, e.g. window scale). */
  tcpWindow?: number;
  tcpOptions?: Buffer;
  icmpType?: number;
  /** ICMP code (default 0). */
  icmpCode?: number;
  icmpId?: number;
  /** DSCP, 0-63: the top 6 bits of the IPv4 TOS / IPv6 traffic class (default 0). */
  dscp?: number;
  ttl?: number;
  vlans?: number[];
  /** IPv4 options bytes (multiple of 4). */
  ipOptions?: Buffer;
  /** IPv6 extension headers to insert: protocol numbers (0, 43, 60, 44, 51). */
  ext?: number[];
  /** Lengths of the headers in `ext` (default 8; a multiple of 8 for 0, 43 and 60), options filled with PadN. */
  extLengths?: number[];
  /** Fragment offset in 8-byte units: of the IPv4 header, or of an IPv6 fragment header in `ext`. */
  fragmentOffset?: number;
  /** The more-fragments flag: IPv4 MF (default clear), the M flag of an IPv6 fragment header (default set). */
  moreFragments?: boolean;
  /** The datagram's identification: IPv4 header, or an IPv6 fragment header in `ext` (default 0). */
  fragmentId?: number;
  payload?: Buffer;
  srcMac?: string;
  dstMac?: string;
}

const PROTO: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmp6: 58 };

export function mac(s: string): Buffer {
  return Buffer.from(s.split(':').map((h) => Number.parseInt(h, 16)));
}

export function ipBytes(a: string): Buffer {
  if (isIPv4(a)) return Buffer.from(a.split('.').map(Number));
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const tl = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  return b;
}

export function checksum(buf: Buffer, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2) sum += buf[buf.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function l4Header(spec: FrameSpec, proto: number): Buffer {
  const payload = spec.payload ?? Buffer.alloc(0);
  if (proto === 6) {
    const opts = spec.tcpOptions ?? Buffer.alloc(0);
    const h = Buffer.alloc(20 + opts.length);
    h.writeUInt16BE(spec.sport ?? 1234, 0);
    h.writeUInt16BE(spec.dport ?? 80, 2);
    h.writeUInt32BE((spec.tcpSeq ?? 1) >>> 0, 4);
    h.writeUInt32BE((spec.tcpAck ?? 0) >>> 0, 8);
    h[12] = (h.length / 4) << 4;
    h[13] = spec.tcpFlags ?? 0x10;
    h.writeUInt16BE(spec.tcpWindow ?? 65535, 14);
    opts.copy(h, 20);
    return Buffer.concat([h, payload]);
  }
  if (proto === 17) {
    const h = Buffer.alloc(8);
    h.writeUInt16BE(spec.sport ?? 1234, 0);
    h.writeUInt16BE(spec.dport ?? 53, 2);
    h.writeUInt16BE(8 + payload.length, 4);
    return Buffer.concat([h, payload]);
  }
  if (proto === 1 || proto === 58) {
    const h = Buffer.alloc(8);
    h[0] = spec.icmpType ?? (proto === 1 ? 8 : 128);
    h[1] = spec.icmpCode ?? 0;
    h.writeUInt16BE(spec.icmpId ?? 0x4242, 4);
    h.writeUInt16BE(1, 6);
    return Buffer.concat([h, payload]);
  }
  return payload;
}

export function frame(spec: FrameSpec): Buffer {
  const proto = typeof spec.protocol === 'number' ? spec.protocol : PROTO[spec.protocol]!;
  const v4 = isIPv4(spec.src);
  const l4 = l4Header(spec, proto);
  let l3: Buffer;
  if (v4) {
    const opts = spec.ipOptions ?? Buffer.alloc(0);
    const h = Buffer.alloc(20 + opts.length);
    h[0] = 0x40 | ((20 + opts.length) / 4);
    h[1] = (spec.dscp ?? 0) << 2;
    h.writeUInt16BE(h.length + l4.length, 2);
    h.writeUInt16BE(spec.fragmentId ?? 0, 4);
    h.writeUInt16BE((spec.moreFragments ? 0x2000 : 0) | (spec.fragmentOffset ?? 0), 6);
    h[8] = spec.ttl ?? 64;
    h[9] = proto;
    ipBytes(spec.src).copy(h, 12);
    ipBytes(spec.dst).copy(h, 16);
    opts.copy(h, 20);
    h.writeUInt16BE(0xffff - checksum(h), 10);
    l3 = Buffer.concat([h, l4]);
  } else {
    const exts: Buffer[] = [];
    const chain = [...(spec.ext ?? []), proto];
    for (let i = 0; i < (spec.ext ?? []).length; i++) {
      const e = Buffer.alloc(spec.extLengths?.[i] ?? 8);
      e[0] = chain[i + 1]!;
      if (e.length > 8) {
        e[1] = e.length / 8 - 1;
        // PadN options of up to 257 bytes; a last single byte stays Pad1 (0).
        for (let at = 2; at + 1 < e.length; at += 257) {
          e[at] = 1;
          e[at + 1] = Math.min(255, e.length - at - 2);
        }
      }
      if (chain[i] === 44) {
        e.writeUInt16BE(((spec.fragmentOffset ?? 0) << 3) | (spec.moreFragments === false ? 0 : 1), 2);
        e.writeUInt32BE(spec.fragmentId ?? 0, 4);
      }
      exts.push(e);
    }
    const body = Buffer.concat([...exts, l4]);
    const h = Buffer.alloc(40);
    const tc = (spec.dscp ?? 0) << 2;
    h[0] = 0x60 | (tc >> 4);
    h[1] = (tc & 0x0f) << 4;
    h.writeUInt16BE(body.length, 4);
    h[6] = chain[0]!;
    h[7] = spec.ttl ?? 64;
    ipBytes(spec.src).copy(h, 8);
    ipBytes(spec.dst).copy(h, 24);
    l3 = Buffer.concat([h, body]);
  }
  const tags = spec.vlans ?? [];
  const eth = Buffer.alloc(14 + 4 * tags.length);
  mac(spec.dstMac ?? '02:00:00:00:00:01').copy(eth, 0);
  mac(spec.srcMac ?? '02:00:00:00:00:02').copy(eth, 6);
  let at = 12;
  for (const [i, vid] of tags.entries()) {
    eth.writeUInt16BE(i === 0 && tags.length > 1 ? 0x88a8 : 0x8100, at);
    eth.writeUInt16BE(vid, at + 2);
    at += 4;
  }
  eth.writeUInt16BE(v4 ? 0x0800 : 0x86dd, at);
  return Buffer.concat([eth, l3]);
}

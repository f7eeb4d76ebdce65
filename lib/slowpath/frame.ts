// Reads what xdpfw_rx wrote in front of each frame it sent to the slow path
// (struct xdpfw_rx_meta) and assembles the frame's session key from it. The
// XDP parser is the only parser: this never walks headers itself.
import { RX_META, SESSION_KEY } from '../dataplane/layout.js';
import { EnumCodec } from '../dataplane/enum-codec.js';
import { AF_INET, type FamilyName, familyName } from '../session/flow-key.js';

/** enum xdpfw_rx_meta_flags, checked against the object by verifyRxMetaFlags(). */
const LATER_FRAGMENT = 1;

export function verifyRxMetaFlags(objectPath: string): void {
  const c = new EnumCodec(objectPath, 'xdpfw_rx_meta_flags', 'XDPFW_RX_META_', ['later-fragment'] as const).value('later-fragment');
  if (c !== LATER_FRAGMENT) throw new Error(`XDPFW_RX_META_LATER_FRAGMENT is ${c} in ${objectPath}, ${LATER_FRAGMENT} in lib/slowpath/frame.ts`);
}

const M = RX_META.offset;

/** Bytes XDP puts in front of each frame it sends up (struct xdpfw_rx_meta): every socket of the slow path strips them (XskOptions.rxPrefix). */
export const RX_PREFIX = RX_META.size;
const K = SESSION_KEY.offset;

export interface FrameFacts {
  family: number;
  protocol: number;
  tcpFlags: number;
  icmpType: number;
  icmpCode: number;
  /** Offset of the IP header in the frame. */
  l3Offset: number;
  /** IP total length (IPv6: payload length + 40), as counted by filters and sessions. */
  l3Length: number;
  /** DSCP: the top 6 bits of the IPv4 TOS / IPv6 traffic class. */
  dscp: number;
  /** The IPv4 TTL or IPv6 hop limit. */
  ttl: number;
  /** Host-order ports as in the key (ICMP echo: the identifier on one side). */
  sourcePort: number;
  destinationPort: number;
  /**
   * A later IP fragment held while its first fragment is judged: no transport header, ports 0
   * in the key. Never judged itself; re-injected, XDP follows its first fragment's verdict.
   */
  laterFragment: boolean;
  /** Not 0: the packet exceeds this egress MTU; XDP did not forward it (struct xdpfw_rx_meta). */
  mtu: number;
}

export class FrameReader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  /** The key of the frame last read; reused, copy it to keep it. */
  readonly key = Buffer.alloc(SESSION_KEY.size);
  private readonly keyBytes = new Uint8Array(this.key.buffer, this.key.byteOffset, SESSION_KEY.size);
  readonly facts: FrameFacts = { family: 0, protocol: 0, tcpFlags: 0, icmpType: 0, icmpCode: 0, l3Offset: 0, l3Length: 0, dscp: 0, ttl: 0, sourcePort: 0, destinationPort: 0, laterFragment: false, mtu: 0 };

  constructor(umem: ArrayBuffer) {
    this.bytes = new Uint8Array(umem);
    this.view = new DataView(umem);
  }

  /** Fills `key` and `facts` for the frame at `addr`; false if its metadata is implausible. */
  read(addr: number, length: number): boolean {
    const meta = addr - RX_META.size;
    if (meta < 0) return false;
    const b = this.bytes;
    const f = this.facts;
    f.family = b[meta + M.family]!;
    f.protocol = b[meta + M.protocol]!;
    f.tcpFlags = b[meta + M.tcp_flags]!;
    f.icmpType = b[meta + M.icmp_type]!;
    f.icmpCode = b[meta + M.icmp_code]!;
    f.laterFragment = (b[meta + M.flags]! & LATER_FRAGMENT) !== 0;
    const l3 = this.view.getUint16(meta + M.l3_offset, true);
    f.l3Offset = l3;
    f.l3Length = this.view.getUint16(meta + M.l3_len, true);
    f.mtu = this.view.getUint16(meta + M.mtu, true);
    const addrLen = f.family === AF_INET ? 4 : 16;
    const srcAt = addr + l3 + (f.family === AF_INET ? 12 : 8);
    if (l3 + (f.family === AF_INET ? 20 : 40) > length) return false;
    const ip = addr + l3;
    f.dscp = f.family === AF_INET ? b[ip + 1]! >> 2 : (((b[ip]! & 0x0f) << 4) | (b[ip + 1]! >> 4)) >> 2;
    f.ttl = b[ip + (f.family === AF_INET ? 8 : 7)]!;

    // Through a plain Uint8Array: Buffer's fill and a view per address cost more than the copy.
    const key = this.keyBytes;
    key.fill(0);
    key[K.family] = f.family;
    key[K.protocol] = f.protocol;
    // Ports stay in network order, as the XDP program keys them.
    key[K.src_port] = b[meta + M.src_port]!;
    key[K.src_port + 1] = b[meta + M.src_port + 1]!;
    key[K.dst_port] = b[meta + M.dst_port]!;
    key[K.dst_port + 1] = b[meta + M.dst_port + 1]!;
    for (let i = 0; i < addrLen; i++) {
      key[K.src_addr + i] = b[srcAt + i]!;
      key[K.dst_addr + i] = b[srcAt + addrLen + i]!;
    }
    f.sourcePort = (key[K.src_port]! << 8) | key[K.src_port + 1]!;
    f.destinationPort = (key[K.dst_port]! << 8) | key[K.dst_port + 1]!;
    return true;
  }

  /**
   * When XDP sent the frame at `addr` up (nanoseconds of CLOCK_MONOTONIC, as process.hrtime), read
   * as a number without a BigInt (exact below 2^53 ns, 104 days of uptime; coarser after).
   */
  sentUpNs(addr: number): number {
    const at = addr - RX_META.size + M.rx_ns;
    if (at < 0) return 0;
    return this.view.getUint32(at + 4, true) * 2 ** 32 + this.view.getUint32(at, true);
  }

  /** Views of the key's addresses by family, made once: asking for an address allocates nothing. */
  private readonly addresses = {
    v4: [this.key.subarray(K.src_addr, K.src_addr + 4), this.key.subarray(K.dst_addr, K.dst_addr + 4)],
    v6: [this.key.subarray(K.src_addr, K.src_addr + 16), this.key.subarray(K.dst_addr, K.dst_addr + 16)],
  } as const;

  sourceAddress(): Uint8Array {
    return (this.facts.family === AF_INET ? this.addresses.v4 : this.addresses.v6)[0];
  }

  destinationAddress(): Uint8Array {
    return (this.facts.family === AF_INET ? this.addresses.v4 : this.addresses.v6)[1];
  }

  /** Writes the frame's flow into a reused policy or filter query (no allocation). */
  flowInto(q: FlowFields): void {
    const f = this.facts;
    q.family = familyName(f.family);
    q.protocol = f.protocol;
    q.source = this.sourceAddress();
    q.destination = this.destinationAddress();
    q.sourcePort = f.sourcePort;
    q.destinationPort = f.destinationPort;
    q.icmpType = f.icmpType;
    q.icmpCode = f.icmpCode;
  }
}

/** What policy and filter queries ask of a flow. */
export interface FlowFields {
  family: FamilyName;
  protocol: number;
  source: Uint8Array;
  destination: Uint8Array;
  sourcePort: number;
  destinationPort: number;
  icmpType?: number;
  icmpCode?: number;
}

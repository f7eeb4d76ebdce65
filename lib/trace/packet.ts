// The packet `xdpfw trace` describes, built as the frame the interface would
// receive (or taken as given with --hex), and its session key.
import { isIPv4, isIPv6 } from 'node:net';
import { SESSION_KEY } from '../dataplane/layout.js';
import { compileProtocol } from '../session/filter-spec.js';

export interface PacketSpec {
  sourceIp: string;
  destinationIp: string;
  /** Name or number. */
  protocol: string;
  sourcePort?: number;
  destinationPort?: number;
  /** TCP flags as names (syn,ack,fin,rst,psh,urg) or a number; default syn. */
  tcpFlags?: string;
  icmpType?: number;
  icmpCode?: number;
  /** IP length in bytes (headers included); default the headers alone plus 0 payload. */
  length?: number;
  ttl?: number;
}

const TCP_FLAG_BITS: Record<string, number> = { fin: 1, syn: 2, rst: 4, psh: 8, ack: 16, urg: 32, ece: 64, cwr: 128 };
const AF_INET = 2;
const AF_INET6 = 10;

export function tcpFlagBits(text: string): number {
  if (/^\d+$/.test(text)) return Number(text) & 0xff;
  let bits = 0;
  for (const name of text.toLowerCase().split(/[,|+ ]+/).filter(Boolean)) {
    const b = TCP_FLAG_BITS[name];
    if (b === undefined) throw new Error(`--tcp-flags: unknown flag '${name}' (${Object.keys(TCP_FLAG_BITS).join(', ')})`);
    bits |= b;
  }
  return bits;
}

function addressBytes(text: string, flag: string): Buffer {
  if (isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  if (!isIPv6(text)) throw new Error(`${flag}: '${text}' is not an IPv4 or IPv6 address`);
  const [head, tail = ''] = text.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head!);
  const t = text.includes('::') ? groups(tail) : [];
  const all = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), 2 * i));
  return out;
}

function ipv4Checksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface BuiltPacket {
  frame: Buffer;
  /** struct xdpfw_session_key of the packet's direction (ports as XDP keys them). */
  key: Buffer;
}

/** Builds the Ethernet frame for `spec`; throws with the flag at fault. */
export function buildPacket(spec: PacketSpec): BuiltPacket {
  const src = addressBytes(spec.sourceIp, '--source-ip');
  const dst = addressBytes(spec.destinationIp, '--destination-ip');
  if (src.length !== dst.length) throw new Error('--source-ip and --destination-ip must be of one family');
  const v6 = src.length === 16;
  const proto = compileProtocol(spec.protocol);
  if (typeof proto === 'string') throw new Error(`--${proto}`);
  const icmp = proto === (v6 ? 58 : 1);
  let l4: Buffer;
  let keyPorts: [number, number] = [0, 0];
  if (proto === 6) {
    l4 = Buffer.alloc(20);
    l4.writeUInt16BE(spec.sourcePort ?? 0, 0);
    l4.writeUInt16BE(spec.destinationPort ?? 0, 2);
    l4.writeUInt32BE(1, 4);
    l4[12] = 5 << 4;
    l4[13] = spec.tcpFlags === undefined ? TCP_FLAG_BITS.syn! : tcpFlagBits(spec.tcpFlags);
    l4.writeUInt16BE(65535, 14);
    keyPorts = [spec.sourcePort ?? 0, spec.destinationPort ?? 0];
  } else if (proto === 17 || proto === 132) {
    l4 = Buffer.alloc(8);
    l4.writeUInt16BE(spec.sourcePort ?? 0, 0);
    l4.writeUInt16BE(spec.destinationPort ?? 0, 2);
    keyPorts = [spec.sourcePort ?? 0, spec.destinationPort ?? 0];
  } else if (icmp) {
    l4 = Buffer.alloc(8);
    const type = spec.icmpType ?? (v6 ? 128 : 8);
    l4[0] = type;
    l4[1] = spec.icmpCode ?? 0;
    const id = spec.sourcePort ?? 1;
    l4.writeUInt16BE(id, 4);
    l4.writeUInt16BE(1, 6);
    // Echo: the identifier stands in for a port, on the requester's side.
    const request = type === (v6 ? 128 : 8);
    const reply = type === (v6 ? 129 : 0);
    if (request) keyPorts = [id, 0];
    else if (reply) keyPorts = [0, id];
  } else {
    l4 = Buffer.alloc(0);
  }
  const ipHeader = v6 ? 40 : 20;
  const total = Math.max(spec.length ?? 0, ipHeader + l4.length);
  if (total > 9000) throw new Error('--length: at most 9000 bytes');
  const payload = Buffer.alloc(total - ipHeader - l4.length);
  const ip = Buffer.alloc(ipHeader);
  if (v6) {
    ip.writeUInt32BE(0x60000000, 0);
    ip.writeUInt16BE(l4.length + payload.length, 4);
    ip[6] = proto;
    ip[7] = spec.ttl ?? 64;
    src.copy(ip, 8);
    dst.copy(ip, 24);
  } else {
    ip[0] = 0x45;
    ip.writeUInt16BE(total, 2);
    ip.writeUInt16BE(0x4000, 6); // DF
    ip[8] = spec.ttl ?? 64;
    ip[9] = proto;
    src.copy(ip, 12);
    dst.copy(ip, 16);
    ip.writeUInt16BE(ipv4Checksum(ip), 10);
  }
  const eth = Buffer.alloc(14);
  eth.set([0x02, 0, 0, 0, 0, 0x01], 0);
  eth.set([0x02, 0, 0, 0, 0, 0x02], 6);
  eth.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);
  const key = Buffer.alloc(SESSION_KEY.size);
  key[SESSION_KEY.offset.family] = v6 ? AF_INET6 : AF_INET;
  key[SESSION_KEY.offset.protocol] = proto;
  key.writeUInt16BE(keyPorts[0], SESSION_KEY.offset.src_port);
  key.writeUInt16BE(keyPorts[1], SESSION_KEY.offset.dst_port);
  src.copy(key, SESSION_KEY.offset.src_addr);
  dst.copy(key, SESSION_KEY.offset.dst_addr);
  return { frame: Buffer.concat([eth, ip, l4, payload]), key };
}

/** A frame given as hex (--hex): its key is learnt from what XDP makes of it. */
export function frameFromHex(hex: string): Buffer {
  const clean = hex.replace(/[\s:]/g, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(clean)) throw new Error('--hex: an even number of hex digits');
  const b = Buffer.from(clean, 'hex');
  if (b.length < 14) throw new Error('--hex: a frame of at least 14 bytes (Ethernet header)');
  return b;
}

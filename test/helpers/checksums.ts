// Every checksum of an Ethernet frame (untagged IPv4 or IPv6 without extension
// headers), computed from scratch: filled in for crafted frames, or checked
// in frames a program rewrote. An ICMP error's quoted packet is covered too
// when the quote holds it whole.
import { checksum } from './packets.js';

interface Ip {
  v6: boolean;
  /** Offset of the IP header in the buffer, of the transport header, and the end of the packet. */
  at: number;
  l4: number;
  end: number;
  protocol: number;
}

function ipAt(b: Buffer, at: number): Ip {
  if (b[at]! >> 4 === 4) {
    const l4 = at + (b[at]! & 15) * 4;
    return { v6: false, at, l4, end: Math.min(b.length, at + b.readUInt16BE(at + 2)), protocol: b[at + 9]! };
  }
  return { v6: true, at, l4: at + 40, end: Math.min(b.length, at + 40 + b.readUInt16BE(at + 4)), protocol: b[at + 6]! };
}

const CHECK_AT: Record<number, number> = { 6: 16, 17: 6, 1: 2, 58: 2 };

/** The transport checksum the packet should carry (its field taken as zero). */
function transportSum(b: Buffer, ip: Ip): number {
  const l4 = Buffer.from(b.subarray(ip.l4, ip.end));
  l4.writeUInt16BE(0, CHECK_AT[ip.protocol]!);
  if (ip.protocol === 1) return 0xffff - checksum(l4);
  const addrs = ip.v6 ? b.subarray(ip.at + 8, ip.at + 40) : b.subarray(ip.at + 12, ip.at + 20);
  const tail = Buffer.alloc(ip.v6 ? 8 : 4);
  if (ip.v6) {
    tail.writeUInt32BE(l4.length, 0);
    tail[7] = ip.protocol;
  } else {
    tail[1] = ip.protocol;
    tail.writeUInt16BE(l4.length, 2);
  }
  const sum = 0xffff - checksum(l4, checksum(Buffer.concat([addrs, tail])));
  return ip.protocol === 17 && sum === 0 ? 0xffff : sum;
}

function ipv4HeaderSum(b: Buffer, ip: Ip): number {
  const h = Buffer.from(b.subarray(ip.at, ip.l4));
  h.writeUInt16BE(0, 10);
  return 0xffff - checksum(h);
}

function isIcmpError(ip: Ip, type: number): boolean {
  return ip.protocol === 1 ? [3, 4, 5, 11, 12].includes(type) : ip.protocol === 58 && type < 128;
}

/** Fills in every checksum of the frame (in place): the quote of an ICMP error first. */
export function fillChecksums(frame: Buffer, at = 14): Buffer {
  const ip = ipAt(frame, at);
  if (!ip.v6) frame.writeUInt16BE(ipv4HeaderSum(frame, ip), at + 10);
  if (isIcmpError(ip, frame[ip.l4]!)) fillChecksums(frame, ip.l4 + 8);
  if (CHECK_AT[ip.protocol] !== undefined) frame.writeUInt16BE(transportSum(frame, ip), ip.l4 + CHECK_AT[ip.protocol]!);
  return frame;
}

/** What is wrong with the frame's checksums ([] when all are right); a UDP checksum of 0 (none) is right. */
export function checksumErrors(frame: Buffer, at = 14, where = 'packet'): string[] {
  const ip = ipAt(frame, at);
  const out: string[] = [];
  if (!ip.v6 && frame.readUInt16BE(at + 10) !== ipv4HeaderSum(frame, ip)) out.push(`${where}: IPv4 header checksum`);
  const field = CHECK_AT[ip.protocol];
  if (field !== undefined) {
    const have = frame.readUInt16BE(ip.l4 + field);
    if (!(ip.protocol === 17 && !ip.v6 && have === 0) && have !== transportSum(frame, ip)) out.push(`${where}: protocol ${ip.protocol} checksum`);
  }
  if (isIcmpError(ip, frame[ip.l4]!)) out.push(...checksumErrors(frame, ip.l4 + 8, `${where}, quoted`));
  return out;
}

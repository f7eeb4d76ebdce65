import t, { type Test } from 'tap';
import { AF_INET, AF_INET6 } from '../../lib/session/flow-key.js';
import { REJECT_FRAME_MAX, Rejecter, buildReject, type RejectReason } from '../../lib/slowpath/reject.js';
import { checksum, frame, ipBytes, mac, type FrameSpec } from '../helpers/packets.js';

const CLIENT_MAC = '02:00:00:00:00:02';
const FW_MAC = '02:00:00:00:00:01';
const PROTO: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmp6: 58 };

const out = Buffer.alloc(REJECT_FRAME_MAX);

interface Sent {
  spec: FrameSpec;
  original: Buffer;
  l3: number;
  v6: boolean;
}

function send(spec: FrameSpec, reason?: RejectReason, buf: Uint8Array = out): { sent: Sent; reply: Buffer } {
  const original = frame(spec);
  const l3 = 14 + 4 * (spec.vlans?.length ?? 0);
  const v6 = spec.src.includes(':');
  const protocol = typeof spec.protocol === 'number' ? spec.protocol : PROTO[spec.protocol];
  const n = buildReject(original, l3, v6 ? AF_INET6 : AF_INET, protocol, buf, reason);
  return { sent: { spec, original, l3, v6 }, reply: Buffer.from(buf.subarray(0, n)) };
}

/** The pseudo-header sum of RFC 793 / RFC 8200 8.1 for a reply, computed from its own header. */
function pseudo(reply: Buffer, l3: number, v6: boolean, protocol: number, length: number): number {
  const addrs = v6 ? reply.subarray(l3 + 8, l3 + 40) : reply.subarray(l3 + 12, l3 + 20);
  return checksum(addrs, protocol + length);
}

/** Checks the Ethernet and IP headers of a reply against the frame it answers; returns the L4 offset. */
function verifyHeaders(t: Test, s: Sent, reply: Buffer, protocol: number): number {
  const { original, l3, v6 } = s;
  t.same(reply.subarray(0, 6), mac(s.spec.srcMac ?? CLIENT_MAC), 'Ethernet destination: the sender');
  t.same(reply.subarray(6, 12), mac(s.spec.dstMac ?? FW_MAC), 'Ethernet source: the address it was sent to');
  t.same(reply.subarray(12, l3), original.subarray(12, l3), 'VLAN tags and EtherType kept');
  if (!v6) {
    t.equal(reply[l3], 0x45, 'IPv4, 20-byte header');
    t.equal(reply.readUInt16BE(l3 + 2), reply.length - l3, 'total length');
    t.equal(reply.readUInt16BE(l3 + 6) & 0x1fff, 0, 'not a fragment');
    t.equal(reply[l3 + 8], 64, 'TTL');
    t.equal(reply[l3 + 9], protocol, 'protocol');
    t.equal(checksum(reply.subarray(l3, l3 + 20)), 0xffff, 'IPv4 header checksum');
    t.same(reply.subarray(l3 + 12, l3 + 16), ipBytes(s.spec.dst), 'source: the original destination');
    t.same(reply.subarray(l3 + 16, l3 + 20), ipBytes(s.spec.src), 'destination: the original source');
    return l3 + 20;
  }
  t.equal(reply.readUInt32BE(l3), 0x60000000, 'IPv6, no traffic class or flow label');
  t.equal(reply.readUInt16BE(l3 + 4), reply.length - l3 - 40, 'payload length');
  t.equal(reply[l3 + 6], protocol, 'next header');
  t.equal(reply[l3 + 7], 64, 'hop limit');
  t.same(reply.subarray(l3 + 8, l3 + 24), ipBytes(s.spec.dst), 'source: the original destination');
  t.same(reply.subarray(l3 + 24, l3 + 40), ipBytes(s.spec.src), 'destination: the original source');
  return l3 + 40;
}

interface Rst {
  seq: number;
  ack: number;
  flags: number;
}

function verifyRst(t: Test, s: Sent, reply: Buffer, want: Rst): void {
  const o = verifyHeaders(t, s, reply, 6);
  t.equal(reply.length, o + 20, 'a bare 20-byte TCP header');
  t.equal(reply.readUInt16BE(o), s.spec.dport ?? 80, 'source port: the original destination port');
  t.equal(reply.readUInt16BE(o + 2), s.spec.sport ?? 1234, 'destination port: the original source port');
  t.equal(reply.readUInt32BE(o + 4), want.seq, 'sequence number');
  t.equal(reply.readUInt32BE(o + 8), want.ack, 'acknowledgement number');
  t.equal(reply[o + 12], 0x50, 'data offset 5');
  t.equal(reply[o + 13], want.flags, 'flags');
  t.equal(reply.readUInt16BE(o + 14), 0, 'window');
  t.equal(reply.readUInt16BE(o + 18), 0, 'urgent pointer');
  t.equal(checksum(reply.subarray(o), pseudo(reply, s.l3, s.v6, 6, 20)), 0xffff, 'TCP checksum with the pseudo-header');
}

function verifyUnreachable(t: Test, s: Sent, reply: Buffer, code: number, quoted: number): void {
  const protocol = s.v6 ? 58 : 1;
  const o = verifyHeaders(t, s, reply, protocol);
  t.equal(reply[o], s.v6 ? 1 : 3, 'destination unreachable');
  t.equal(reply[o + 1], code, 'code');
  t.equal(reply.readUInt32BE(o + 4), 0, 'unused word');
  t.equal(reply.length - o - 8, quoted, `quotes ${quoted} bytes`);
  t.same(reply.subarray(o + 8), s.original.subarray(s.l3, s.l3 + quoted), 'quote: the start of the original datagram');
  const sum = s.v6 ? pseudo(reply, s.l3, true, 58, reply.length - o) : 0;
  t.equal(checksum(reply.subarray(o), sum), 0xffff, s.v6 ? 'ICMPv6 checksum with the pseudo-header' : 'ICMP checksum');
}

const V4 = { src: '192.0.2.10', dst: '198.51.100.20' };
const V6 = { src: '2001:db8::10', dst: '2001:db8:1::20' };

t.test('TCP without ACK: RST|ACK acknowledging the segment (RFC 793)', async (t) => {
  const syn = send({ ...V4, protocol: 'tcp', sport: 40000, dport: 443, tcpFlags: 0x02, tcpSeq: 1000 });
  verifyRst(t, syn.sent, syn.reply, { seq: 0, ack: 1001, flags: 0x14 });
  const data = send({ ...V4, protocol: 'tcp', tcpFlags: 0x03, tcpSeq: 0xfffffff0, payload: Buffer.alloc(100) });
  verifyRst(t, data.sent, data.reply, { seq: 0, ack: (0xfffffff0 + 100 + 2) >>> 0, flags: 0x14 });
});

t.test('TCP with ACK: RST taking its sequence number from the ACK', async (t) => {
  const r = send({ ...V4, protocol: 'tcp', tcpFlags: 0x18, tcpSeq: 7, tcpAck: 0xdeadbeef, payload: Buffer.alloc(33) });
  verifyRst(t, r.sent, r.reply, { seq: 0xdeadbeef, ack: 0, flags: 0x04 });
});

t.test('TCP over IPv6, past extension headers, and under VLAN tags', async (t) => {
  const r = send({ ...V6, protocol: 'tcp', tcpFlags: 0x02, tcpSeq: 5, ext: [0, 60], vlans: [100] });
  verifyRst(t, r.sent, r.reply, { seq: 0, ack: 6, flags: 0x14 });
  const q = send({ ...V4, protocol: 'tcp', tcpFlags: 0x10, tcpAck: 99, vlans: [10, 20] });
  verifyRst(t, q.sent, q.reply, { seq: 99, ack: 0, flags: 0x04 });
  t.equal(q.reply.readUInt16BE(12), 0x88a8, 'outer tag');
  t.equal(q.reply.readUInt16BE(16), 0x8100, 'inner tag');
});

t.test('a RST is never answered', async (t) => {
  t.equal(send({ ...V4, protocol: 'tcp', tcpFlags: 0x04 }).reply.length, 0);
  t.equal(send({ ...V6, protocol: 'tcp', tcpFlags: 0x14 }).reply.length, 0);
});

t.test('UDP and other protocols: ICMP administratively prohibited by default', async (t) => {
  const udp = send({ ...V4, protocol: 'udp', payload: Buffer.alloc(20, 0xab) });
  verifyUnreachable(t, udp.sent, udp.reply, 13, 20 + 8 + 20);
  const gre = send({ ...V4, protocol: 47, payload: Buffer.alloc(4) });
  verifyUnreachable(t, gre.sent, gre.reply, 13, 24);
  const echo = send({ ...V4, protocol: 'icmp', icmpType: 8 }, 'tcp-reset');
  verifyUnreachable(t, echo.sent, echo.reply, 13, 28);
  const udp6 = send({ ...V6, protocol: 'udp', vlans: [7] });
  verifyUnreachable(t, udp6.sent, udp6.reply, 1, 48);
  const echo6 = send({ ...V6, protocol: 'icmp6', icmpType: 128 });
  verifyUnreachable(t, echo6.sent, echo6.reply, 1, 48);
});

t.test('configured reasons, TCP included', async (t) => {
  const cases: [RejectReason, number, number][] = [
    ['port-unreachable', 3, 4],
    ['host-unreachable', 1, 3],
    ['network-unreachable', 0, 0],
    ['protocol-unreachable', 2, 1],
    ['administratively-prohibited', 13, 1],
    ['address-unreachable', 1, 3],
    ['no-route', 0, 0],
    ['beyond-scope', 13, 2],
  ];
  for (const [reason, code4, code6] of cases) {
    const a = send({ ...V4, protocol: 'udp' }, reason);
    verifyUnreachable(t, a.sent, a.reply, code4, 28);
    const b = send({ ...V6, protocol: 'tcp', tcpFlags: 0x02 }, reason);
    verifyUnreachable(t, b.sent, b.reply, code6, 60);
  }
});

t.test('how much of the original an ICMP error quotes', async (t) => {
  const big = send({ ...V4, protocol: 'udp', payload: Buffer.alloc(1400, 1) });
  verifyUnreachable(t, big.sent, big.reply, 13, 576 - 28);
  t.equal(big.reply.length - 14, 576, 'IPv4: 576 bytes of IP at most (RFC 1812)');
  const opts = send({ ...V4, protocol: 'udp', ipOptions: Buffer.from([1, 1, 1, 0]) });
  verifyUnreachable(t, opts.sent, opts.reply, 13, 24 + 8);
  const big6 = send({ ...V6, protocol: 'udp', payload: Buffer.alloc(1400, 2), vlans: [1, 2] });
  verifyUnreachable(t, big6.sent, big6.reply, 1, 1280 - 48);
  t.equal(big6.reply.length - 22, 1280, 'IPv6: the minimum MTU at most (RFC 4443)');
  // Ethernet padding past the IP datagram is not part of it.
  const padded = frame({ ...V4, protocol: 'udp' });
  const n = buildReject(Buffer.concat([padded, Buffer.alloc(18)]), 14, AF_INET, 17, out);
  t.equal(n, 14 + 28 + 28, 'padding is not quoted');
});

t.test('no reply where none is due', async (t) => {
  const none = (spec: FrameSpec, why: string): void => void t.equal(send(spec).reply.length, 0, why);
  for (const type of [3, 4, 5, 11, 12]) none({ ...V4, protocol: 'icmp', icmpType: type }, `ICMP error type ${type}`);
  for (const type of [1, 2, 3, 4, 127, 137]) none({ ...V6, protocol: 'icmp6', icmpType: type }, `ICMPv6 error or redirect type ${type}`);
  none({ ...V4, protocol: 'udp', dstMac: 'ff:ff:ff:ff:ff:ff' }, 'link-layer broadcast');
  none({ ...V6, protocol: 'udp', dstMac: '33:33:00:00:00:01' }, 'link-layer multicast');
  none({ ...V4, protocol: 'udp', dst: '255.255.255.255' }, 'IPv4 broadcast');
  none({ ...V4, protocol: 'udp', dst: '224.0.0.251' }, 'IPv4 multicast destination');
  none({ ...V4, protocol: 'udp', src: '239.1.1.1' }, 'IPv4 multicast source');
  none({ ...V4, protocol: 'udp', src: '0.0.0.0' }, 'IPv4 unspecified source');
  none({ ...V4, protocol: 'udp', src: '127.0.0.1' }, 'IPv4 loopback source');
  none({ ...V6, protocol: 'udp', dst: 'ff02::1' }, 'IPv6 multicast destination');
  none({ ...V6, protocol: 'udp', src: 'ff05::2' }, 'IPv6 multicast source');
  none({ ...V6, protocol: 'udp', src: '::' }, 'IPv6 unspecified source');
  none({ ...V4, protocol: 'udp', fragmentOffset: 185 }, 'IPv4 non-first fragment');
  none({ ...V6, protocol: 'udp', ext: [44], fragmentOffset: 185 }, 'IPv6 non-first fragment');
  t.ok(send({ ...V6, protocol: 'udp', ext: [44] }).reply.length > 0, 'a first fragment is answered');
  none({ ...V6, protocol: 'udp', ext: [0, 0, 0, 0, 0, 0, 0, 0, 0] }, 'too many extension headers');
});

t.test('malformed or mislabelled frames get no reply', async (t) => {
  const udp = frame({ ...V4, protocol: 'udp' });
  t.equal(buildReject(udp, 14, AF_INET, 6, out), 0, 'protocol other than the header says');
  t.equal(buildReject(udp, 14, AF_INET6, 17, out), 0, 'family other than the header says');
  t.equal(buildReject(udp.subarray(0, 30), 14, AF_INET, 17, out), 0, 'truncated IP header');
  const tcp = frame({ ...V4, protocol: 'tcp', tcpFlags: 0x02 });
  t.equal(buildReject(tcp.subarray(0, 14 + 20 + 10), 14, AF_INET, 6, out), 0, 'truncated TCP header');
  const bad = Buffer.from(tcp);
  bad[14 + 20 + 12] = 0x40;
  t.equal(buildReject(bad, 14, AF_INET, 6, out), 0, 'TCP data offset below 5');
  const icmp = frame({ ...V4, protocol: 'icmp' });
  t.equal(buildReject(icmp.subarray(0, 34), 14, AF_INET, 1, out), 0, 'ICMP without a type to check');
});

t.test('the reply is built in the caller buffer; none when even the shortest does not fit', async (t) => {
  const buf = new Uint8Array(2048).fill(0xee);
  const { reply } = send({ ...V4, protocol: 'tcp', tcpFlags: 0x02 }, undefined, buf);
  t.same(buf.subarray(0, reply.length), reply);
  t.equal(buf[reply.length], 0xee, 'nothing written past the reply');
  t.equal(send({ ...V4, protocol: 'tcp', tcpFlags: 0x02 }, undefined, new Uint8Array(14 + 20 + 19)).reply.length, 0, 'no room for a RST');
  t.equal(send({ ...V4, protocol: 'tcp', tcpFlags: 0x02 }, undefined, new Uint8Array(14 + 20 + 20)).reply.length, 54, 'a RST just fits');
  t.equal(send({ ...V4, protocol: 'udp' }, undefined, new Uint8Array(60)).reply.length, 0, 'IPv4: no room for header + 8 bytes');
  // Room for the minimum quote (header + 8 bytes): the rest is trimmed.
  const small = send({ ...V4, protocol: 'udp', payload: Buffer.alloc(100) }, undefined, new Uint8Array(14 + 28 + 28));
  verifyUnreachable(t, small.sent, small.reply, 13, 28);
  const tiny6 = send({ ...V6, protocol: 'udp', payload: Buffer.alloc(100) }, undefined, new Uint8Array(14 + 48 + 39));
  t.equal(tiny6.reply.length, 0, 'IPv6: not even the IPv6 header fits');
  const least6 = send({ ...V6, protocol: 'udp', payload: Buffer.alloc(100) }, undefined, new Uint8Array(14 + 48 + 40));
  verifyUnreachable(t, least6.sent, least6.reply, 1, 40);
});

t.test('IPv6: a header chain longer than the minimum MTU allows is quoted as far as it fits (RFC 4443 2.4(c))', async (t) => {
  // 40 + 1400 + 8 + 19 = 1467 bytes of IP: the datagram that once took the daemon down.
  const long = send({ ...V6, protocol: 'udp', ext: [60], extLengths: [1400], payload: Buffer.alloc(19, 7) });
  t.equal(long.sent.original.length - 14, 1467);
  verifyUnreachable(t, long.sent, long.reply, 1, 1280 - 48);
  t.equal(long.reply.length - 14, 1280, 'exactly the minimum MTU');
  const tagged = send({ ...V6, protocol: 'udp', ext: [0, 60], extLengths: [8, 1400], vlans: [3, 4] });
  verifyUnreachable(t, tagged.sent, tagged.reply, 1, 1280 - 48);
  t.equal(tagged.reply.length, REJECT_FRAME_MAX, 'under two VLAN tags: REJECT_FRAME_MAX, no more');
  // The edge: chain + 8 bytes of UDP header exactly fill the quote, then one more 8-byte unit does not.
  const fits = send({ ...V6, protocol: 'udp', ext: [60], extLengths: [1232 - 48], payload: Buffer.alloc(100) });
  verifyUnreachable(t, fits.sent, fits.reply, 1, 1232);
  t.equal(fits.reply.readUInt16BE(14 + 48 + 40 + 1184), 1234, 'the quote ends with the UDP header');
  const over = send({ ...V6, protocol: 'udp', ext: [60], extLengths: [1232 - 40] });
  verifyUnreachable(t, over.sent, over.reply, 1, 1232);
  const tcp = send({ ...V6, protocol: 'tcp', tcpFlags: 0x02, tcpSeq: 9, ext: [60], extLengths: [1400] });
  verifyRst(t, tcp.sent, tcp.reply, { seq: 0, ack: 10, flags: 0x14 });
  const r = new Rejecter();
  const n = (spec: FrameSpec): number => {
    const f = frame(spec);
    return r.reply(f, 14, AF_INET6, 17, out);
  };
  t.ok(n({ ...V6, protocol: 'udp', ext: [60], extLengths: [1400] }) > 0);
  t.ok(n({ ...V6, protocol: 'udp', ext: [60], extLengths: [1232 - 40] }) > 0);
  t.ok(n({ ...V6, protocol: 'udp', ext: [60], extLengths: [1232 - 48] }) > 0);
  t.same(r.counters, { sent: 3, rateLimited: 0, notDue: 0, partialQuote: 2, tooLarge: 0 }, 'replies quoting part of the chain counted');
});

t.test('IPv4: the longest header is quoted with 8 bytes and more, up to 576 bytes of IP (RFC 792, RFC 1812)', async (t) => {
  const opts = Buffer.alloc(40, 1);
  opts[39] = 0;
  const r = send({ ...V4, protocol: 'udp', ipOptions: opts, payload: Buffer.alloc(1400, 3) });
  verifyUnreachable(t, r.sent, r.reply, 13, 576 - 28);
  t.equal(r.reply.length - 14, 576);
  const short = send({ ...V4, protocol: 'udp', ipOptions: opts, payload: Buffer.alloc(0) });
  verifyUnreachable(t, short.sent, short.reply, 13, 60 + 8);
});

t.test('a reply that does not fit is not sent, and counted', async (t) => {
  const r = new Rejecter();
  const small = new Uint8Array(14 + 20 + 8 + 20);
  const udp = frame({ ...V4, protocol: 'udp', ipOptions: Buffer.alloc(8, 1) });
  t.equal(r.reply(udp, 14, AF_INET, 17, small), 0);
  t.same(r.counters, { sent: 0, rateLimited: 0, notDue: 0, partialQuote: 0, tooLarge: 1 });
});

t.test('rate limit: a token bucket, suppressed replies counted', async (t) => {
  let now = 0;
  const r = new Rejecter({ rate: 10, burst: 3, now: () => now });
  const syn = frame({ ...V4, protocol: 'tcp', tcpFlags: 0x02 });
  const reply = (): number => r.reply(syn, 14, AF_INET, 6, out);
  t.same([reply(), reply(), reply()].map((n) => n > 0), [true, true, true], 'the burst');
  t.equal(reply(), 0, 'then held back');
  now += 99;
  t.equal(reply(), 0, 'less than 1/rate later');
  now += 1;
  t.ok(reply() > 0, 'one token per 1/rate');
  t.equal(reply(), 0);
  now += 10_000;
  t.same([reply(), reply(), reply(), reply()].map((n) => n > 0), [true, true, true, false], 'refills to the burst, no further');
  const icmpError = frame({ ...V4, protocol: 'icmp', icmpType: 3 });
  t.equal(r.reply(icmpError, 14, AF_INET, 1, out), 0);
  t.same(r.counters, { sent: 7, rateLimited: 4, notDue: 1, partialQuote: 0, tooLarge: 0 }, 'packets owed no reply take no token');
  const d = new Rejecter({ now: () => now });
  let sent = 0;
  for (let i = 0; i < 150; i++) if (d.reply(syn, 14, AF_INET, 6, out) > 0) sent++;
  t.equal(sent, 100, 'default: 100 per second');
  t.equal(d.counters.rateLimited, 50);
});

t.test('a Rejecter reply is exactly what buildReject builds', async (t) => {
  const udp = frame({ ...V6, protocol: 'udp', vlans: [5] });
  const a = Buffer.from(out.subarray(0, buildReject(udp, 18, AF_INET6, 17, out, 'port-unreachable')));
  const b = Buffer.from(out.subarray(0, new Rejecter().reply(udp, 18, AF_INET6, 17, out, 'port-unreachable')));
  t.same(a, b);
  t.ok(a.length > 0);
});

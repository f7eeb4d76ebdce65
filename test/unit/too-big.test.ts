// Fragmentation-needed (RFC 1191) and packet-too-big (RFC 8201) replies for packets too big for
// their egress link, built by the slow path's reply builder from the frame XDP sent up (cut to
// a quote) and the MTU it announced.
import t from 'tap';
import { AF_INET, AF_INET6 } from '../../lib/session/flow-key.js';
import { REJECT_FRAME_MAX, Rejecter } from '../../lib/slowpath/reject.js';
import { checksum, frame, ipBytes, type FrameSpec } from '../helpers/packets.js';

const out = Buffer.alloc(REJECT_FRAME_MAX);
const tcp4: FrameSpec = { src: '10.1.0.2', dst: '10.2.0.2', protocol: 'tcp', sport: 40000, dport: 5001, payload: Buffer.alloc(1460) };
const tcp6: FrameSpec = { src: 'fd00:1::2', dst: 'fd00:2::2', protocol: 'tcp', sport: 40000, dport: 5001, payload: Buffer.alloc(1440) };

/** The frame as XDP hands it up: cut to 1280 bytes of IP. */
function cut(spec: FrameSpec): Buffer {
  return frame(spec).subarray(0, 14 + 1280);
}

function reply(rejecter: Rejecter, spec: FrameSpec, mtu: number, source: string | null): Buffer {
  const v6 = spec.src.includes(':');
  const protocol = spec.protocol === 'tcp' ? 6 : spec.protocol === 'udp' ? 17 : spec.protocol === 'icmp' ? 1 : 58;
  const n = rejecter.tooBig(cut(spec), 14, v6 ? AF_INET6 : AF_INET, protocol, out, mtu, source ? ipBytes(source) : null);
  return Buffer.from(out.subarray(0, n));
}

t.test('IPv4: fragmentation needed with the next-hop MTU, from the box, quoting the packet', async (t) => {
  const r = new Rejecter();
  const original = frame(tcp4);
  const got = reply(r, tcp4, 1280, '10.1.0.1');
  t.equal(got.length, 14 + 20 + 8 + 548, 'IP header, ICMP header and a quote filling 576 bytes (RFC 1812 4.3.2.3)');
  t.same(got.subarray(14 + 12, 14 + 16), ipBytes('10.1.0.1'), 'from the box\'s address');
  t.same(got.subarray(14 + 16, 14 + 20), ipBytes('10.1.0.2'), 'to the packet\'s source');
  t.equal(checksum(got.subarray(14, 34)), 0xffff, 'IP header checksum');
  t.equal(got[34], 3, 'destination unreachable');
  t.equal(got[35], 4, 'fragmentation needed and DF set');
  t.equal(got.readUInt16BE(34 + 4), 0, 'unused');
  t.equal(got.readUInt16BE(34 + 6), 1280, 'next-hop MTU');
  t.equal(checksum(got.subarray(34)), 0xffff, 'ICMP checksum');
  t.same(got.subarray(42), original.subarray(14, 14 + 548), 'the quote is the packet as it came');
  t.same(r.counters, { sent: 1, rateLimited: 0, notDue: 0, partialQuote: 0, tooLarge: 0 });
});

t.test('IPv6: packet too big with the MTU, quoting up to the minimum MTU', async (t) => {
  const r = new Rejecter();
  const original = frame(tcp6);
  const got = reply(r, tcp6, 1280, 'fd00:1::1');
  t.equal(got.length, 14 + 1280, 'the whole reply fits in the minimum MTU (RFC 4443 2.4(c))');
  t.same(got.subarray(14 + 8, 14 + 24), ipBytes('fd00:1::1'), 'from the box\'s address');
  t.same(got.subarray(14 + 24, 14 + 40), ipBytes('fd00:1::2'), 'to the packet\'s source');
  t.equal(got[54], 2, 'packet too big');
  t.equal(got[55], 0);
  t.equal(got.readUInt32BE(54 + 4), 1280, 'the MTU');
  const pseudo = checksum(got.subarray(14 + 8, 14 + 40), 58 + (got.length - 54));
  t.equal(checksum(got.subarray(54), pseudo), 0xffff, 'ICMPv6 checksum over the pseudo-header');
  t.same(got.subarray(62), original.subarray(14, 14 + 1232), 'the quote is the packet as it came');
});

t.test('without an address of the box, the reply comes from the packet\'s destination', async (t) => {
  const got = reply(new Rejecter(), tcp4, 1400, null);
  t.same(got.subarray(14 + 12, 14 + 16), ipBytes('10.2.0.2'));
  t.equal(got.readUInt16BE(34 + 6), 1400);
});

t.test('later fragments are answered too; ICMP errors and broadcasts never', async (t) => {
  const r = new Rejecter();
  const later6: FrameSpec = { ...tcp6, ext: [44], fragmentOffset: 200 };
  t.ok(reply(r, later6, 1280, null).length > 0, 'an IPv6 later fragment: the whole packet was too big');
  const error: FrameSpec = { src: '10.1.0.2', dst: '10.2.0.2', protocol: 'icmp', icmpType: 3, payload: Buffer.alloc(1400) };
  t.equal(reply(r, error, 1280, null).length, 0, 'no ICMP error about an ICMP error');
  t.equal(reply(r, { ...tcp4, dstMac: 'ff:ff:ff:ff:ff:ff' }, 1280, null).length, 0, 'no reply to a link broadcast');
  t.equal(r.counters.notDue, 2);
});

t.test('rate-limited', async (t) => {
  let now = 0;
  const r = new Rejecter({ rate: 2, burst: 2, now: () => now });
  const sent = [1, 2, 3].map(() => reply(r, tcp4, 1280, null).length > 0);
  t.same(sent, [true, true, false], 'a burst of two, then held back');
  t.equal(r.counters.rateLimited, 1);
  now += 1000;
  t.ok(reply(r, tcp4, 1280, null).length > 0, 'a second later, again');
});

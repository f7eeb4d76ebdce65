// The pure parts of `monitor packet-drop` and `trace`: the 5-tuple of a
// dropped frame's first bytes, the watcher's filters, the traced packet's
// frame and session key, the human line.
import t from 'tap';
import { parsePacketHead } from '../../lib/monitor/packet-head.js';
import { dropPredicate } from '../../lib/monitor/drop-filter.js';
import { type DropEntry, dropEntry, xdpReason, xdpStage } from '../../lib/monitor/drop-entry.js';
import { formatDropLine } from '../../lib/monitor/format.js';
import { buildPacket, frameFromHex, tcpFlagBits } from '../../lib/trace/packet.js';
import { SESSION_KEY } from '../../lib/dataplane/layout.js';
import { frame } from '../helpers/packets.js';

const names = (ix: number) => (ix === 7 ? { interface: 'trust0', zone: 'trust' } : { interface: null, zone: null });
const at = new Date('2026-12-07T03:00:00.000Z');

function entryOf(bytes: Buffer, reason = 'policy_deny'): DropEntry {
  return dropEntry(bytes, bytes.length, 7, names, { time: at, path: 'slow-path', stage: 'policy', reason, rule: 'deny-telnet' });
}

t.test('the 5-tuple of IPv4, IPv6 (with extension headers), VLAN-tagged and ICMP frames', async (t) => {
  t.match(parsePacketHead(frame({ src: '10.1.0.2', dst: '10.2.0.2', protocol: 'tcp', sport: 40023, dport: 23, tcpFlags: 2 })),
    { family: 'inet', protocol: 6, source: '10.1.0.2', destination: '10.2.0.2', sourcePort: 40023, destinationPort: 23, icmpType: null });
  t.match(parsePacketHead(frame({ src: 'fd00:1::2', dst: 'fd00:2::2', protocol: 'udp', sport: 5, dport: 53, ext: [0, 60] })),
    { family: 'inet6', protocol: 17, source: 'fd00:1::2', destination: 'fd00:2::2', sourcePort: 5, destinationPort: 53 });
  t.match(parsePacketHead(frame({ src: '10.1.0.2', dst: '10.2.0.2', protocol: 'udp', sport: 1, dport: 2, vlans: [10, 20] })),
    { family: 'inet', sourcePort: 1, destinationPort: 2 });
  t.match(parsePacketHead(frame({ src: '10.1.0.2', dst: '10.2.0.2', protocol: 'icmp', icmpType: 8, icmpCode: 0 })),
    { protocol: 1, icmpType: 8, icmpCode: 0, sourcePort: null });
  t.match(parsePacketHead(frame({ src: '10.1.0.2', dst: '10.2.0.2', protocol: 'udp', sport: 1, dport: 2, fragmentOffset: 100 })),
    { protocol: 17, sourcePort: null }, 'a later fragment has no ports');
});

t.test('a truncated or non-IP capture gives what it has, never throws', async (t) => {
  const f = frame({ src: '10.1.0.2', dst: '10.2.0.2', protocol: 'tcp', sport: 1, dport: 2 });
  t.match(parsePacketHead(f.subarray(0, 30)), { family: null, source: null });
  t.match(parsePacketHead(f.subarray(0, 35)), { family: 'inet', source: '10.1.0.2', sourcePort: null });
  const arp = Buffer.alloc(42);
  arp.writeUInt16BE(0x0806, 12);
  t.match(parsePacketHead(arp), { family: null, ethertype: 0x0806 });
  t.match(parsePacketHead(Buffer.alloc(3)), { family: null, ethertype: null });
});

t.test('filters (the session filters, their flags): each flag selects, together they combine, bad values are refused by flag', async (t) => {
  const telnet = entryOf(frame({ src: '10.1.0.2', dst: '10.2.0.2', protocol: 'tcp', sport: 40023, dport: 23 }));
  const dns6 = entryOf(frame({ src: 'fd00:1::2', dst: 'fd00:2::2', protocol: 'udp', sport: 5353, dport: 53 }), 'screen');
  const sel = (q: Parameters<typeof dropPredicate>[0]) => [telnet, dns6].filter(dropPredicate(q)).map((d) => d.destinationPort);
  t.same(sel({}), [23, 53]);
  t.same(sel({ sourcePrefix: '10.1.0.0/16' }), [23]);
  t.same(sel({ destinationPrefix: 'fd00:2::/32' }), [53]);
  t.same(sel({ destinationPrefix: '10.3.0.0/16' }), []);
  t.same(sel({ protocol: 'udp' }), [53]);
  t.same(sel({ protocol: '6' }), [23]);
  t.same(sel({ sourcePort: '5353' }), [53]);
  t.same(sel({ destinationPort: '20-30' }), [23]);
  t.same(sel({ destinationPort: '23', family: 'inet', interface: 'trust0', fromZone: 'trust' }), [23]);
  t.same(sel({ destinationPort: '23', family: 'inet6' }), []);
  t.same(sel({ reason: 'screen' }), [53]);
  t.throws(() => dropPredicate({ sourcePrefix: '10.1.0.2/40' }), /source-prefix: invalid prefix length/);
  t.throws(() => dropPredicate({ protocol: 'tcpp' }), /protocol: 'tcpp' is not a protocol name/);
});

t.test('XDP counters: named as show counters names them, new ones by their own name', async (t) => {
  t.equal(xdpReason('DROP_SCREEN'), 'screen');
  t.equal(xdpReason('DROP_TCP_OUT_OF_WINDOW'), 'tcp_out_of_window');
  t.equal(xdpReason('DROP_SOMETHING_NEW'), 'drop_something_new');
  t.equal(xdpStage('DROP_SCREEN'), 'screen');
  t.equal(xdpStage('DROP_MALFORMED'), 'parse');
  t.equal(xdpStage('DROP_FILTER'), 'filter');
  t.equal(xdpStage('DROP_ICMP_ERROR_NO_SESSION'), 'icmp-error');
  t.equal(xdpStage('DROP_SOMETHING_NEW'), 'xdp');
});

t.test('the human line names everything the operator asks about', async (t) => {
  const line = formatDropLine(entryOf(frame({ src: '10.1.0.2', dst: '10.2.0.2', protocol: 'tcp', sport: 40023, dport: 23 })));
  t.match(line, /^2026-12-07T03:00:00\.000Z trust0 zone trust tcp 10\.1\.0\.2:40023 -> 10\.2\.0\.2:23 \d+B dropped by slow-path policy: policy_deny \(deny-telnet\)$/);
});

t.test('trace packets: the frame XDP parses as described, and its session key', async (t) => {
  const tcp = buildPacket({ sourceIp: '10.1.0.2', destinationIp: '10.2.0.2', protocol: 'tcp', sourcePort: 1000, destinationPort: 443, tcpFlags: 'syn,ack' });
  t.match(parsePacketHead(tcp.frame), { family: 'inet', protocol: 6, source: '10.1.0.2', destination: '10.2.0.2', sourcePort: 1000, destinationPort: 443 });
  t.equal(tcp.frame[14 + 20 + 13], 0x12, 'SYN and ACK');
  t.equal(tcp.key[SESSION_KEY.offset.family], 2);
  t.equal(tcp.key.readUInt16BE(SESSION_KEY.offset.dst_port), 443);
  const echo = buildPacket({ sourceIp: 'fd00:1::2', destinationIp: 'fd00:2::2', protocol: 'icmp6', sourcePort: 77 });
  t.match(parsePacketHead(echo.frame), { family: 'inet6', protocol: 58, icmpType: 128 });
  t.equal(echo.key.readUInt16BE(SESSION_KEY.offset.src_port), 77, 'an echo request is keyed by its identifier on the source side');
  t.equal(echo.key.readUInt16BE(SESSION_KEY.offset.dst_port), 0);
  const long = buildPacket({ sourceIp: '10.1.0.2', destinationIp: '10.2.0.2', protocol: 'udp', length: 1000 });
  t.equal(long.frame.length, 14 + 1000);
  t.equal(tcpFlagBits('fin,psh'), 9);
  t.throws(() => tcpFlagBits('syn,bogus'), /unknown flag 'bogus'/);
  t.throws(() => buildPacket({ sourceIp: '10.1.0.2', destinationIp: 'fd00::1', protocol: 'udp' }), /one family/);
  t.equal(frameFromHex('00:'.repeat(12) + '08 00').length, 14, 'spaces and colons are ignored');
  t.throws(() => frameFromHex('abc'), /even number/);
  t.throws(() => frameFromHex('aabb'), /at least 14 bytes/);
});

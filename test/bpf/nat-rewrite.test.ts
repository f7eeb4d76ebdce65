// NAT's packet rewrite (bpf/nat_rewrite.h) under BPF_PROG_RUN, through a test
// program (bpf/test/nat_rewrite.bpf.c): addresses and ports (ICMP echo
// identifiers) become the tuple's, and every checksum of the result, computed
// here from scratch, is right: IPv4 header, TCP, UDP (none stays none), ICMP,
// ICMPv6, and inside ICMP errors the quoted packet's too, for fixed cases and
// for a few hundred random ones.
import { resolve } from 'node:path';
import t from 'tap';
import { StructLayout } from '../../lib/dataplane/layout.js';
import { mapUpdate, openObject, progTestRun } from '../../lib/dataplane/native.js';
import { XDP_ABORTED, XDP_TX } from '../../lib/dataplane/xdp-abi.js';
import { packageRoot } from '../../lib/util/paths.js';
import { checksumErrors, fillChecksums } from '../helpers/checksums.js';
import { type FrameSpec, frame, ipBytes } from '../helpers/packets.js';
import { prng } from '../helpers/prng.js';

const OBJECT = resolve(packageRoot, 'dist', 'bpf', 'test', 'nat_rewrite.bpf.o');
const NAT_TUPLE = new StructLayout('xdpfw_nat_tuple', [
  ['src_addr', 'bytes16'], ['dst_addr', 'bytes16'], ['src_port', 'u16'], ['dst_port', 'u16'],
] as const);
t.same(NAT_TUPLE.diff(OBJECT), [], 'the tuple as C defines it');

const obj = openObject(OBJECT);
t.teardown(() => obj.close());
const prog = obj.progFd('nat_rewrite_test');

interface Tuple { src: string; dst: string; sport?: number; dport?: number }

function tupleBytes(x: Tuple): Buffer {
  const b = Buffer.alloc(NAT_TUPLE.size);
  ipBytes(x.src).copy(b, NAT_TUPLE.offset.src_addr);
  ipBytes(x.dst).copy(b, NAT_TUPLE.offset.dst_addr);
  b.writeUInt16BE(x.sport ?? 0, NAT_TUPLE.offset.src_port);
  b.writeUInt16BE(x.dport ?? 0, NAT_TUPLE.offset.dst_port);
  return b;
}

/** The frame rewritten to `to` (an ICMP error's quote to `inner`): verdict and output. */
function rewrite(data: Buffer, to: Tuple, inner: Tuple = to): { retval: number; out: Buffer } {
  const key = Buffer.alloc(4);
  mapUpdate(obj.mapFd('nat_test_tuples'), key, tupleBytes(to));
  key.writeUInt32LE(1);
  mapUpdate(obj.mapFd('nat_test_tuples'), key, tupleBytes(inner));
  const r = progTestRun(prog, { data, dataOutSize: data.length + 64 });
  return { retval: r.retval, out: r.dataOut ?? Buffer.alloc(0) };
}

const packet = (spec: FrameSpec): Buffer => fillChecksums(frame(spec));

/** Addresses and ports (or echo identifier) as they read in the output. */
function tupleOf(out: Buffer, at = 14): { src: string; dst: string; ports: number[] } {
  const v6 = out[at]! >> 4 === 6;
  const hex = (a: number, n: number): string => out.subarray(a, a + n).toString('hex');
  const l4 = v6 ? at + 40 : at + (out[at]! & 15) * 4;
  const proto = v6 ? out[at + 6]! : out[at + 9]!;
  const ports = proto === 6 || proto === 17 ? [out.readUInt16BE(l4), out.readUInt16BE(l4 + 2)] : [out.readUInt16BE(l4 + 4)];
  return v6 ? { src: hex(at + 8, 16), dst: hex(at + 24, 16), ports } : { src: hex(at + 12, 4), dst: hex(at + 16, 4), ports };
}
const hexOf = (a: string): string => ipBytes(a).toString('hex');

t.test('TCP, UDP and ICMP echo, IPv4 and IPv6: rewritten, every checksum right', async (t) => {
  const payload = Buffer.from('the payload stays as it was, byte for byte');
  const cases: Array<[string, FrameSpec, Tuple, number[]]> = [
    ['IPv4 TCP, source NAT', { src: '10.0.0.5', dst: '198.51.100.9', protocol: 'tcp', sport: 1234, dport: 80, payload },
      { src: '203.0.113.1', dst: '198.51.100.9', sport: 40000, dport: 80 }, [40000, 80]],
    ['IPv4 UDP, destination NAT', { src: '198.51.100.9', dst: '203.0.113.10', protocol: 'udp', sport: 5353, dport: 53, payload },
      { src: '198.51.100.9', dst: '10.0.0.7', sport: 5353, dport: 5300 }, [5353, 5300]],
    ['IPv4 echo request: the identifier from src_port', { src: '10.0.0.5', dst: '198.51.100.9', protocol: 'icmp', icmpType: 8, icmpId: 7, payload },
      { src: '203.0.113.1', dst: '198.51.100.9', sport: 9000, dport: 0 }, [9000]],
    ['IPv4 echo reply: the identifier from dst_port', { src: '198.51.100.9', dst: '203.0.113.1', protocol: 'icmp', icmpType: 0, icmpId: 9000, payload },
      { src: '198.51.100.9', dst: '10.0.0.5', sport: 0, dport: 7 }, [7]],
    ['IPv6 TCP (NAT66)', { src: 'fd00:1::5', dst: '2001:db8::9', protocol: 'tcp', sport: 1234, dport: 443, payload },
      { src: '2001:db8:ff::1', dst: '2001:db8::9', sport: 1234, dport: 443 }, [1234, 443]],
    ['IPv6 UDP', { src: '2001:db8::9', dst: '2001:db8:ff::1', protocol: 'udp', sport: 53, dport: 40001, payload },
      { src: '2001:db8::9', dst: 'fd00:1::5', sport: 53, dport: 1024 }, [53, 1024]],
    ['ICMPv6 echo request', { src: 'fd00:1::5', dst: '2001:db8::9', protocol: 'icmp6', icmpType: 128, icmpId: 77, payload },
      { src: '2001:db8:ff::1', dst: '2001:db8::9', sport: 4242, dport: 0 }, [4242]],
  ];
  for (const [what, spec, to, ports] of cases) {
    const r = rewrite(packet(spec), to);
    t.equal(r.retval, XDP_TX, `${what}: rewritten`);
    t.same(tupleOf(r.out), { src: hexOf(to.src), dst: hexOf(to.dst), ports }, `${what}: the tuple's addresses and ports`);
    t.same(checksumErrors(r.out), [], `${what}: checksums right`);
    t.ok(r.out.subarray(r.out.length - payload.length).equals(payload), `${what}: payload untouched`);
  }
});

t.test('UDP without a checksum keeps none; a later fragment gets its addresses only', async (t) => {
  const none = frame({ src: '10.0.0.5', dst: '198.51.100.9', protocol: 'udp', sport: 1000, dport: 2000, payload: Buffer.alloc(20, 1) });
  fillChecksums(none);
  none.writeUInt16BE(0, 14 + 20 + 6);
  const r = rewrite(none, { src: '203.0.113.1', dst: '198.51.100.9', sport: 3000, dport: 2000 });
  t.equal(r.out.readUInt16BE(14 + 20 + 6), 0, 'checksum still 0 (none)');
  t.same(checksumErrors(r.out), [], 'IPv4 header right');
  const later = packet({ src: '10.0.0.5', dst: '198.51.100.9', protocol: 'udp', fragmentOffset: 100, fragmentId: 5, payload: Buffer.alloc(64, 2) });
  const before = Buffer.from(later);
  const f = rewrite(later, { src: '203.0.113.1', dst: '198.51.100.9', sport: 3000, dport: 2000 });
  t.equal(f.retval, XDP_TX, 'rewritten');
  t.equal(f.out.subarray(14 + 12, 14 + 16).toString('hex'), hexOf('203.0.113.1'), 'its source address');
  t.ok(f.out.subarray(14 + 20).equals(before.subarray(14 + 20)), 'its data untouched: no transport header in it');
  t.equal(checksumErrors(f.out).filter((e) => e.includes('IPv4 header')).length, 0, 'IPv4 header checksum right');
});

t.test('ICMP errors: the error and the packet it quotes both translated, every checksum right', async (t) => {
  // A UDP datagram the client sent from 10.0.0.5:1234, source-translated to 203.0.113.1:40000,
  // refused by the server: its port unreachable goes back to the client untranslated.
  const quoted4 = packet({ src: '203.0.113.1', dst: '198.51.100.9', protocol: 'udp', sport: 40000, dport: 53, payload: Buffer.alloc(12, 3) }).subarray(14);
  const err4 = packet({ src: '198.51.100.9', dst: '203.0.113.1', protocol: 'icmp', icmpType: 3, icmpCode: 3, icmpId: 0, payload: quoted4 });
  const r4 = rewrite(err4, { src: '198.51.100.9', dst: '10.0.0.5' }, { src: '10.0.0.5', dst: '198.51.100.9', sport: 1234, dport: 53 });
  t.equal(r4.retval, XDP_TX, 'IPv4 port unreachable: rewritten');
  t.same(tupleOf(r4.out).dst, hexOf('10.0.0.5'), 'to the client');
  t.same(tupleOf(r4.out, 14 + 28), { src: hexOf('10.0.0.5'), dst: hexOf('198.51.100.9'), ports: [1234, 53] }, 'quoting what the client sent');
  t.same(checksumErrors(r4.out), [], 'ICMP, outer and quoted IPv4 and UDP checksums right');

  // IPv6 packet too big about a TCP segment, with a quoted TCP checksum.
  const quoted6 = packet({ src: '2001:db8:ff::1', dst: '2001:db8::9', protocol: 'tcp', sport: 1234, dport: 443, payload: Buffer.alloc(40, 4) }).subarray(14);
  const err6 = packet({ src: '2001:db8::fe', dst: '2001:db8:ff::1', protocol: 'icmp6', icmpType: 2, icmpId: 0, payload: quoted6 });
  const r6 = rewrite(err6, { src: '2001:db8::fe', dst: 'fd00:1::5' }, { src: 'fd00:1::5', dst: '2001:db8::9', sport: 1234, dport: 443 });
  t.equal(r6.retval, XDP_TX, 'ICMPv6 packet too big: rewritten');
  t.same(tupleOf(r6.out, 14 + 48), { src: hexOf('fd00:1::5'), dst: hexOf('2001:db8::9'), ports: [1234, 443] }, 'quoting what the client sent');
  t.same(checksumErrors(r6.out), [], 'ICMPv6 (with its pseudo-header) and quoted TCP checksums right');

  // An error quoting an echo request: the identifier inside is translated too.
  const quotedEcho = packet({ src: '203.0.113.1', dst: '198.51.100.9', protocol: 'icmp', icmpType: 8, icmpId: 9000, payload: Buffer.alloc(8, 5) }).subarray(14);
  const errEcho = packet({ src: '198.51.100.1', dst: '203.0.113.1', protocol: 'icmp', icmpType: 11, icmpId: 0, payload: quotedEcho });
  const re = rewrite(errEcho, { src: '198.51.100.1', dst: '10.0.0.5' }, { src: '10.0.0.5', dst: '198.51.100.9', sport: 7, dport: 0 });
  t.same(tupleOf(re.out, 14 + 28).ports, [7], 'time exceeded quoting an echo: its identifier');
  t.same(checksumErrors(re.out), [], 'checksums right');

  const cut = frame({ src: '198.51.100.9', dst: '203.0.113.1', protocol: 'icmp', icmpType: 3, icmpCode: 3, icmpId: 0, payload: quoted4.subarray(0, 10) });
  t.equal(rewrite(cut, { src: '198.51.100.9', dst: '10.0.0.5' }).retval, XDP_ABORTED, 'a quote cut inside its IP header: refused');
});

t.test('random tuples and packets: every checksum right', async (t) => {
  const rnd = prng(20261207);
  const int = (n: number): number => Math.floor(rnd() * n);
  const v4 = (): string => [int(256), int(256), int(256), int(256)].join('.');
  const v6 = (): string => Array.from({ length: 8 }, () => int(0x10000).toString(16)).join(':');
  const protos = ['tcp', 'udp', 'icmp'] as const;
  let wrong = 0;
  for (let i = 0; i < 300; i++) {
    const six = rnd() < 0.5;
    const addr = six ? v6 : v4;
    const p = protos[int(3)]!;
    const spec: FrameSpec = {
      src: addr(), dst: addr(), protocol: p === 'icmp' && six ? 'icmp6' : p, sport: int(65536), dport: int(65536),
      icmpType: p === 'icmp' ? (six ? 128 + int(2) : 8 * int(2)) : undefined, icmpId: int(65536), payload: Buffer.alloc(int(100), int(256)),
    };
    const r = rewrite(packet(spec), { src: addr(), dst: addr(), sport: int(65536), dport: int(65536) });
    const errors = r.retval === XDP_TX ? checksumErrors(r.out) : [`verdict ${r.retval}`];
    if (errors.length && wrong++ < 3) t.fail(`case ${i} (${JSON.stringify(spec)}): ${errors.join(', ')}`);
  }
  t.equal(wrong, 0, '300 random packets rewritten with right checksums');
});

// The compiled XDP object under BPF_PROG_RUN: ICMP and ICMPv6 errors follow
// the session of the packet they quote (or are dropped, counted, and never
// open one), and a session packet too big for its egress link goes to the
// slow path, cut to what an ICMP error quotes, with the MTU to announce.
// Its own namespace (test/helpers/two-ports.ts), plus small0, a link of
// MTU 1280 to 10.11.0.0/24 and fd11::/64 (neighbours .2 / ::2 permanent).
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [
  ...TWO_PORTS,
  'ip link add name small0 mtu 1280 type veth peer name small0p mtu 1280',
  'ip link set small0 up && ip link set small0p up',
  'ip addr add 10.11.0.1/24 dev small0 && ip addr add fd11::1/64 dev small0 nodad',
  'ip neigh add 10.11.0.2 lladdr 02:00:00:00:11:02 dev small0 nud permanent',
  'ip neigh add fd11::2 lladdr 02:00:00:00:11:02 dev small0 nud permanent',
]);

const { default: t } = await import('tap');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { FLOW_KEY, SESSION, SESSION_KEY } = await import('../../lib/dataplane/layout.js');
const { sessionEntry, sessionKey } = await import('../helpers/session-entry.js');
const { ENTRY } = await import('../../lib/session/entry.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { FrameReader } = await import('../../lib/slowpath/frame.js');
const { stripRxMeta } = await import('../../lib/slowpath/rx-meta.js');
const { checksum, frame, ipBytes, mac } = await import('../helpers/packets.js');
const { XDP_DROP, XDP_PASS, XDP_REDIRECT } = await import('../../lib/dataplane/xdp-abi.js');
type FrameSpec = import('../helpers/packets.js').FrameSpec;

t.ok(insideTestNetns(), 'runs in its own namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
let xsk: InstanceType<typeof native.Xsk> | null = null;
t.teardown(() => {
  xsk?.close();
  dp.close();
  purgePins(paths);
});

const inIndex = native.ifNameToIndex('in0');
const outIndex = native.ifNameToIndex('out0');
const smallIndex = native.ifNameToIndex('small0');
dp.registerPort(inIndex, 0, 0);
dp.registerPort(outIndex, 1, 0);

function run(data: Buffer, live = false) {
  return native.progTestRun(dp.progs.rx, { data, ifindex: inIndex, rxQueue: 0, live, dataOutSize: data.length + 64 });
}

function deltas(fn: () => void): Record<string, number> {
  const before = dp.readCounters();
  fn();
  const out: Record<string, number> = {};
  for (const [name, v] of dp.readCounters()) {
    const d = Number(v.packets - (before.get(name)?.packets ?? 0n));
    if (d !== 0) out[name] = d;
  }
  return out;
}

const PROTO = { tcp: 6, udp: 17, icmp: 1, icmp6: 58 } as const;

/** The key of the entry whose packets carry this spec's tuple (ICMP echo: the identifier as a port). */
function keyOf(spec: FrameSpec): Buffer {
  const k = Buffer.alloc(SESSION_KEY.size);
  const proto = PROTO[spec.protocol as keyof typeof PROTO];
  k[SESSION_KEY.offset.family] = spec.src.includes(':') ? 10 : 2;
  k[SESSION_KEY.offset.protocol] = proto;
  if (proto === 1 || proto === 58) {
    const reply = spec.icmpType === 0 || spec.icmpType === 129;
    k.writeUInt16BE(spec.icmpId ?? 0x4242, reply ? SESSION_KEY.offset.dst_port : SESSION_KEY.offset.src_port);
  } else {
    k.writeUInt16BE(spec.sport ?? 1234, SESSION_KEY.offset.src_port);
    k.writeUInt16BE(spec.dport ?? 53, SESSION_KEY.offset.dst_port);
  }
  ipBytes(spec.src).copy(k, SESSION_KEY.offset.src_addr);
  ipBytes(spec.dst).copy(k, SESSION_KEY.offset.dst_addr);
  return k;
}

/** An entry bound as the slow path binds it: arriving on `ingress` (in0), leaving by
 * `egress` (out0; none for a session to the box). */
function install(spec: FrameSpec, opts: { flags?: number; ingress?: number; egress?: number } = {}): Buffer {
  const key = keyOf(spec);
  const local = (opts.flags ?? 0) & dp.constants.sessionFlags.local;
  const v = sessionEntry(dp.objectPath, {
    client: key, sessionId: 99n, flags: opts.flags ?? 0, ingress: opts.ingress ?? inIndex, egress: opts.egress ?? (local ? 0 : outIndex), tcp: spec.protocol === 'tcp',
  });
  native.mapUpdate(dp.mapFd('xdpfw_sessions'), sessionKey(key), v, 0);
  return key;
}

function packets(key: Buffer): number {
  const v = Buffer.alloc(SESSION.size);
  if (!native.mapLookup(dp.mapFd('xdpfw_sessions'), sessionKey(key), v)) throw new Error('no session');
  return Number(v.readBigUInt64LE(ENTRY.packets(0)));
}

function sessionCount(): number {
  return native.mapDump(dp.mapFd('xdpfw_sessions'), FLOW_KEY.size, SESSION.size).count;
}

/** The same tuple seen from the other end. */
function reversed(spec: FrameSpec): FrameSpec {
  const r: FrameSpec = { ...spec, src: spec.dst, dst: spec.src, sport: spec.dport, dport: spec.sport };
  if (spec.icmpType === 8) r.icmpType = 0;
  if (spec.icmpType === 128) r.icmpType = 129;
  return r;
}

/** An ICMP (or ICMPv6) error from `from` to `to` quoting `quoted`, with its first `quoteLength` IP bytes. */
function icmpError(from: string, to: string, type: number, code: number, quoted: FrameSpec, quoteLength = 1000): Buffer {
  const inner = frame(quoted).subarray(14);
  const v6 = from.includes(':');
  const data = frame({ src: from, dst: to, protocol: v6 ? 'icmp6' : 'icmp', icmpType: type, payload: Buffer.from(inner.subarray(0, quoteLength)) });
  const l4 = 14 + (v6 ? 40 : 20);
  data[l4 + 1] = code;
  data.writeUInt32BE(0, l4 + 4);
  return data;
}

// A UDP flow from 10.9.0.2 (behind out0) to 10.8.0.2 (behind in0): its errors come in on in0.
const udp4: FrameSpec = { src: '10.9.0.2', dst: '10.8.0.2', protocol: 'udp', sport: 40001, dport: 53 };
const udp6: FrameSpec = { src: 'fd09::2', dst: 'fd08::2', protocol: 'udp', sport: 40001, dport: 53 };

for (const [name, flow, type, code] of [['IPv4', udp4, 3, 3], ['IPv6', udp6, 1, 4]] as const) {
  t.test(`${name}: port unreachable quoting a session's packet goes back along the session, counted on it`, async (t) => {
    const back = install(reversed(flow));
    const before = packets(back);
    const count = sessionCount();
    const error = icmpError(flow.dst, flow.src, type, code, flow);
    let r: { retval: number; dataOut: Buffer | null } = { retval: -1, dataOut: null };
    t.same(deltas(() => (r = run(error))), { ICMP_ERROR_FORWARD: 1 });
    t.equal(r.retval, XDP_REDIRECT, 'redirected');
    t.same(r.dataOut!.subarray(0, 6), mac('02:00:00:00:09:02'), 'to the neighbour on out0, where the flow came from');
    t.equal(r.dataOut![14 + (name === 'IPv4' ? 8 : 7)], 63, 'TTL / hop limit decremented as for any forwarded packet');
    t.equal(packets(back) - before, 1, 'counted on the session entry it travels along');
    t.equal(sessionCount(), count, 'no session created');

    const router = name === 'IPv4' ? '10.8.0.9' : 'fd08::9';
    t.same(deltas(() => run(icmpError(router, flow.src, name === 'IPv4' ? 11 : 3, 0, flow))), { ICMP_ERROR_FORWARD: 1 },
      'time exceeded from a router on the way: forwarded too');
    t.same(deltas(() => run(icmpError(router, flow.src, name === 'IPv4' ? 3 : 2, name === 'IPv4' ? 4 : 0, flow))), { ICMP_ERROR_FORWARD: 1 },
      'fragmentation needed / packet too big from a router: forwarded');
    t.same(deltas(() => run(icmpError(router, flow.src, name === 'IPv4' ? 12 : 4, 0, flow))), { ICMP_ERROR_FORWARD: 1 },
      'parameter problem: forwarded');
    t.same(deltas(() => run(icmpError(flow.dst, flow.src, type, code, flow, name === 'IPv4' ? 28 : 48))), { ICMP_ERROR_FORWARD: 1 },
      'a quote of just the IP header and 8 bytes is enough');
  });

  t.test(`${name}: an error quoting no session's packet is dropped and counted, and opens none`, async (t) => {
    const stranger: FrameSpec = { ...flow, sport: 40999 };
    const count = sessionCount();
    let r = { retval: -1 };
    t.same(deltas(() => (r = run(icmpError(flow.dst, flow.src, type, code, stranger)))), { DROP_ICMP_ERROR_NO_SESSION: 1 },
      'dropped as icmp_error_no_session, not sent to the slow path');
    t.equal(r.retval, XDP_DROP);
    t.equal(sessionCount(), count, 'no session created');
  });

  t.test(`${name}: an error not addressed to the quoted packet's source, or arriving where the session's packets do not, is dropped`, async (t) => {
    const back = install(reversed(flow));
    const before = packets(back);
    const elsewhere = name === 'IPv4' ? '10.9.0.77' : 'fd09::77';
    t.same(deltas(() => run(icmpError(flow.dst, elsewhere, type, code, flow))), { DROP_ICMP_ERROR_INCONSISTENT: 1 },
      'outer destination is not the inner source');
    install(reversed(flow), { ingress: outIndex });
    t.same(deltas(() => run(icmpError(flow.dst, flow.src, type, code, flow))), { DROP_ICMP_ERROR_INCONSISTENT: 1 },
      'the session\'s packets toward the quoted source arrive on out0, not in0');
    t.equal(packets(back), before, 'neither counted on the session');
    install(reversed(flow));
  });

  t.test(`${name}: quotes that name no flow are dropped`, async (t) => {
    const echo: FrameSpec = { src: flow.src, dst: flow.dst, protocol: name === 'IPv4' ? 'icmp' : 'icmp6', icmpType: name === 'IPv4' ? 3 : 1 };
    t.same(deltas(() => run(icmpError(flow.dst, flow.src, type, code, echo))), { DROP_ICMP_ERROR_NO_SESSION: 1 }, 'an error about an error');
    t.same(deltas(() => run(icmpError(flow.dst, flow.src, type, code, flow, name === 'IPv4' ? 27 : 47))), { DROP_MALFORMED: 1 },
      'a quote shorter than the IP header and 8 bytes');
    const later: FrameSpec = name === 'IPv4' ? { ...flow, fragmentOffset: 100 } : { ...flow, ext: [44], fragmentOffset: 100 };
    t.same(deltas(() => run(icmpError(flow.dst, flow.src, type, code, later))), { DROP_ICMP_ERROR_NO_SESSION: 1 },
      'a later fragment carries no ports');
  });
}

t.test('an error about a ping goes back along the ping\'s session', async (t) => {
  const ping: FrameSpec = { src: '10.9.0.2', dst: '10.8.0.2', protocol: 'icmp', icmpType: 8, icmpId: 0x7777 };
  const back = install(reversed(ping));
  const before = packets(back);
  t.same(deltas(() => run(icmpError('10.8.0.9', ping.src, 11, 0, ping))), { ICMP_ERROR_FORWARD: 1 });
  t.equal(packets(back) - before, 1, 'counted on the echo reply entry');
  const ping6: FrameSpec = { src: 'fd09::2', dst: 'fd08::2', protocol: 'icmp6', icmpType: 128, icmpId: 0x7777 };
  install(reversed(ping6));
  t.same(deltas(() => run(icmpError('fd08::9', ping6.src, 3, 0, ping6))), { ICMP_ERROR_FORWARD: 1 }, 'ICMPv6 too');
});

t.test('an error about a connection of the box itself is delivered locally', async (t) => {
  // The box (10.8.0.1) talked to 10.8.0.2: its session's entry toward the box is local.
  const fromBox: FrameSpec = { src: '10.8.0.1', dst: '10.8.0.2', protocol: 'udp', sport: 40100, dport: 53 };
  install(reversed(fromBox), { flags: dp.constants.sessionFlags.local });
  let r = { retval: -1 };
  t.same(deltas(() => (r = run(icmpError('10.8.0.2', '10.8.0.1', 3, 3, fromBox)))), { ICMP_ERROR_LOCAL: 1 });
  t.equal(r.retval, XDP_PASS);
});

t.test('with no session, an error about a connected socket of the box is delivered locally, and only then', async (t) => {
  const { createSocket } = await import('node:dgram');
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '10.8.0.1', () => resolve()));
  await new Promise<void>((resolve) => sock.connect(53, '10.8.0.2', () => resolve()));
  const fromBox: FrameSpec = { src: '10.8.0.1', dst: '10.8.0.2', protocol: 'udp', sport: sock.address().port, dport: 53 };
  let r = { retval: -1 };
  t.same(deltas(() => (r = run(icmpError('10.8.0.2', '10.8.0.1', 3, 3, fromBox)))), { ICMP_ERROR_LOCAL: 1 }, 'the box\'s socket has the quoted tuple');
  t.equal(r.retval, XDP_PASS);
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  t.same(deltas(() => run(icmpError('10.8.0.2', '10.8.0.1', 3, 3, fromBox))), { DROP_ICMP_ERROR_NO_SESSION: 1 }, 'socket closed: dropped');
});

/** 1500-byte IP packets of a TCP flow from 10.8.0.2 (in0) to `dst`, DF set or not. */
function big(dst: string, df: boolean): Buffer {
  const v6 = dst.includes(':');
  const spec: FrameSpec = { src: v6 ? 'fd08::2' : '10.8.0.2', dst, protocol: 'tcp', sport: 40200, dport: 5001, tcpFlags: 0x10 };
  const data = frame({ ...spec, payload: Buffer.alloc(1500 - (v6 ? 60 : 40)) });
  if (!v6 && df) {
    data.writeUInt16BE(0x4000, 14 + 6);
    data.writeUInt16BE(0, 14 + 10);
    data.writeUInt16BE(0xffff - checksum(data.subarray(14, 34)), 14 + 10);
  }
  install(spec, { egress: dst.startsWith('10.9.') ? outIndex : smallIndex });
  return data;
}

t.test('a session packet too big for the egress link goes to the slow path, cut to a quote, with the MTU', async (t) => {
  const sock = new native.Xsk({ ifindex: inIndex, ifname: 'in0', queue: 0 });
  xsk = sock;
  dp.registerSocket(0, 0, sock.fd);
  t.same(deltas(() => run(big('10.9.0.2', true))), { FAST_FORWARD: 1 }, 'within the MTU of out0: forwarded');
  let r = { retval: -1 };
  t.same(deltas(() => (r = run(big('10.11.0.2', false)))), { FAST_KERNEL: 1 }, 'IPv4 without DF: the kernel fragments it');
  t.equal(r.retval, XDP_PASS);
  for (const dst of ['10.11.0.2', 'fd11::2']) {
    const data = big(dst, true);
    t.same(deltas(() => (r = run(data))), { MTU_EXCEEDED: 1 }, `${dst}: not forwarded, counted`);
    t.equal(r.retval, XDP_REDIRECT, 'to the AF_XDP socket');
    run(data, true);
    const descs = new Uint32Array(16);
    let n = 0;
    for (let i = 0; i < 100 && n === 0; i++) {
      n = sock.rx(descs);
      if (n === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    t.equal(n, 1, 'the frame arrived on the socket');
    stripRxMeta(descs, n);
    const reader = new FrameReader(sock.umem);
    t.ok(reader.read(descs[0]!, descs[1]!), 'metadata readable');
    t.equal(reader.facts.mtu, 1280, 'the metadata carries the egress MTU');
    t.equal(reader.facts.l3Length, 1500, 'and the packet\'s own length');
    t.equal(descs[1], 14 + 1280, 'the frame is cut to what an ICMP error can quote');
  }
});

t.test('a later IPv6 fragment too big for the egress link is answered like any packet of its session', async (t) => {
  const udp: FrameSpec = { src: 'fd08::2', dst: 'fd11::2', protocol: 'udp', sport: 5000, dport: 5001 };
  install(udp, { egress: smallIndex });
  const first = frame({ ...udp, ext: [44], fragmentId: 0x77, fragmentOffset: 0, moreFragments: true, payload: Buffer.alloc(1000) });
  t.same(deltas(() => run(first)), { FAST_KERNEL: 1 }, 'the first fragment fits the link (not one of ours: the kernel sends it)');
  const later = frame({ ...udp, protocol: 253, ext: [44], fragmentId: 0x77, fragmentOffset: 126, moreFragments: false, payload: Buffer.alloc(1400) });
  later[14 + 40] = 17; // the fragment header names UDP
  let r = { retval: -1 };
  t.same(deltas(() => (r = run(later))), { MTU_EXCEEDED: 1 }, 'a later one too big: sent up to be answered, not forwarded');
  t.equal(r.retval, XDP_REDIRECT);
  const injected = native.progTestRun(dp.progs.inject, { data: later, ifindex: inIndex, rxQueue: 0 });
  t.equal(injected.retval, XDP_PASS, 're-injected by the slow path: the kernel answers, as for any packet it forwards');
});

t.test('packets too big are sent up within a per-second budget; past it they are dropped unanswered, counted', async (t) => {
  const data = big('10.11.0.2', true);
  let up = 0;
  let over = 0;
  let sent = 0;
  // However slowly the loop runs, more than a second's budget in one window comes within this many.
  const budget = native.btfEnum(dp.objectPath, 'xdpfw_constants').XDPFW_TOO_BIG_PER_SECOND!;
  while (over === 0 && sent < 100 * budget) {
    const d = deltas(() => { for (let i = 0; i < 50; i++) run(Buffer.from(data)); });
    up += d.MTU_EXCEEDED ?? 0;
    over += d.DROP_MTU_EXCEEDED_OVER_BUDGET ?? 0;
    sent += 50;
    t.equal(Object.keys(d).filter((k) => k !== 'MTU_EXCEEDED' && k !== 'DROP_MTU_EXCEEDED_OVER_BUDGET').length, 0, 'no other verdict');
    if (t.passing() === false) break;
  }
  t.ok(over > 0, `past the budget, dropped: ${over} of ${sent}`);
  t.equal(up + over, sent, 'each counted once');
});

t.test('with no socket on the queue, a packet too big is dropped: never forwarded unjudged', async (t) => {
  dp.unregisterSocket(0, 0);
  xsk?.close();
  xsk = null;
  let r = { retval: -1 };
  t.same(deltas(() => (r = run(big('10.11.0.2', true)))), { DROP_NO_SOCKET: 1 });
  t.equal(r.retval, XDP_DROP);
});

t.test('with its program missing from the tail-call slot, an ICMP error is dropped, never passed on', async (t) => {
  install(reversed(udp4));
  const error = icmpError(udp4.dst, udp4.src, 3, 3, udp4);
  t.same(deltas(() => run(error)), { ICMP_ERROR_FORWARD: 1 }, 'with the program: forwarded');
  // xdpfw_rx hands it to xdpfw_session, which hands ICMP errors on to this slot alone.
  const slot = Buffer.alloc(4);
  slot.writeUInt32LE(native.btfEnum(dp.objectPath, 'xdpfw_tail_call').XDPFW_TAIL_ICMP_ERROR!);
  native.mapDelete(dp.mapFd('xdpfw_tail_calls'), slot);
  let r = { retval: -1 };
  t.same(deltas(() => (r = run(error))), { DROP_NO_SOCKET: 1 }, 'without: dropped, counted as having nobody to judge it');
  t.equal(r.retval, XDP_DROP);
});

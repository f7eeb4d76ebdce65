// The compiled XDP object under BPF_PROG_RUN with crafted frames: parsing
// edge cases, misses to the AF_XDP socket, hits rewritten and redirected,
// counters. Runs inside its own network namespace:
//   in0 (ingress, 10.8.0.1/24, fd08::1/64)   out0 (egress, 10.9.0.1/24, fd09::1/64)
//   10.9.0.2 / fd09::2 have permanent neighbours; 10.10.0.0/24 routes to a
//   gateway with no neighbour yet.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [
  ...TWO_PORTS,
  'ip route add 10.10.0.0/24 via 10.9.0.3',
  'ip route add blackhole 10.66.0.0/24',
]);

const { default: t } = await import('tap');
const { Dataplane } = await import('../../lib/dataplane/dataplane.js');
const { FLOW_KEY, RX_META, SESSION, SESSION_KEY } = await import('../../lib/dataplane/layout.js');
const { execFileSync } = await import('node:child_process');
const { directionCounters, installSession: installEntry } = await import('../helpers/session-entry.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { FrameReader } = await import('../../lib/slowpath/frame.js');
const { stripRxMeta } = await import('../../lib/slowpath/rx-meta.js');
const { RouteProbe } = await import('../../lib/slowpath/route-probe.js');

/** The route of a whole frame, as the slow path asks for one. */
function probeRoute(routes: InstanceType<typeof RouteProbe>, data: Buffer, ifindex: number, rxQueue: number, table = 0) {
  return routes.lookup(data, 0, data.length, ifindex, rxQueue, table);
}
const { describeKey } = await import('../../lib/session/flow-key.js');
const { purgePins } = await import('../../lib/dataplane/dataplane.js');
const { checksum, frame, ipBytes, mac } = await import('../helpers/packets.js');
type FrameSpec = import('../helpers/packets.js').FrameSpec;

const { XDP_DROP, XDP_PASS, XDP_REDIRECT } = await import('../../lib/dataplane/xdp-abi.js');

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
// Register both ports as the daemon does (slot 0 and 1); no sockets yet.
dp.registerPort(inIndex, 0, 0);
dp.registerPort(outIndex, 1, 0);

function run(prog: number, data: Buffer, live = false) {
  return native.progTestRun(prog, { data, ifindex: inIndex, rxQueue: 0, live, dataOutSize: data.length + 64 });
}

/** Counter deltas (packets) produced by `fn`, by counter name. */
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

/** The session key the XDP program computes for a frame, as the slow path builds it. */
function keyOf(spec: FrameSpec): Buffer {
  const k = Buffer.alloc(SESSION_KEY.size);
  const v6 = spec.src.includes(':');
  k[SESSION_KEY.offset.family] = v6 ? 10 : 2;
  const proto = { tcp: 6, udp: 17, icmp: 1, icmp6: 58 }[spec.protocol as string] ?? Number(spec.protocol);
  k[SESSION_KEY.offset.protocol] = proto;
  if (proto === 1 || proto === 58) {
    k.writeUInt16BE(spec.icmpId ?? 0x4242, SESSION_KEY.offset.src_port);
  } else {
    k.writeUInt16BE(spec.sport ?? 1234, SESSION_KEY.offset.src_port);
    k.writeUInt16BE(spec.dport ?? (proto === 6 ? 80 : 53), SESSION_KEY.offset.dst_port);
  }
  ipBytes(spec.src).copy(k, SESSION_KEY.offset.src_addr);
  ipBytes(spec.dst).copy(k, SESSION_KEY.offset.dst_addr);
  return k;
}

/** Bound as the slow path binds it: test frames (the client's) arrive on in0, forwarded ones leave by out0. */
function installSession(spec: FrameSpec, flags = 0): Buffer {
  const tuple = keyOf(spec);
  installEntry(dp.mapFd('xdpfw_sessions'), dp.objectPath, {
    client: tuple, sessionId: 77n, flags, ingress: inIndex, egress: flags & dp.constants.sessionFlags.local ? 0 : outIndex, tcp: spec.protocol === 'tcp',
  });
  return tuple;
}

/** The client direction's counters of the session of `tuple`. */
function sessionCounters(tuple: Buffer): { packets: number; bytes: number; lastSeen: bigint } {
  const c = directionCounters(dp.mapFd('xdpfw_sessions'), tuple, 0);
  if (!c) throw new Error('no session');
  return c;
}

const tcp4: FrameSpec = { src: '10.8.0.2', dst: '10.9.0.2', protocol: 'tcp', sport: 40000, dport: 443, tcpFlags: 0x10 };
/** A miss that may open a session (syn-check). */
const syn4: FrameSpec = { ...tcp4, tcpFlags: 0x02 };

t.test('a miss with no AF_XDP socket on the queue is dropped and counted (fail closed)', async (t) => {
  let r = { retval: -1 };
  t.same(deltas(() => (r = run(dp.progs.rx, frame(syn4)))), { DROP_NO_SOCKET: 1 });
  t.equal(r.retval, XDP_DROP);
});

t.test('a miss goes to the AF_XDP socket of its queue, with the parse result as metadata', async (t) => {
  const sock = new native.Xsk({ ifindex: inIndex, ifname: 'in0', queue: 0 });
  xsk = sock; // stays registered for the tests below
  dp.registerSocket(0, 0, sock.fd);
  let r = { retval: -1 };
  t.same(deltas(() => (r = run(dp.progs.rx, frame(syn4)))), { SLOW_PATH: 1 }, 'plain run: counted once');
  t.equal(r.retval, XDP_REDIRECT);

  for (const spec of [
    { ...tcp4, tcpFlags: 0x02 },
    { src: 'fd08::2', dst: 'fd09::2', protocol: 'udp', sport: 5353, dport: 53, ext: [0, 60] } as FrameSpec,
    { src: '10.8.0.2', dst: '10.9.0.2', protocol: 'icmp', icmpType: 8, icmpId: 0x1234 } as FrameSpec,
  ]) {
    run(dp.progs.rx, frame(spec), true); // live: really redirected into the socket
    const descs = new Uint32Array(16);
    let n = 0;
    for (let i = 0; i < 50 && n === 0; i++) {
      n = sock.rx(descs);
      if (n === 0) await new Promise((r) => setTimeout(r, 10));
    }
    t.equal(n, 1, `${spec.protocol} frame arrived on the socket`);
    t.ok(descs[1]! > RX_META.size, 'the metadata arrives as the first bytes of the frame');
    stripRxMeta(descs, n);
    const reader = new FrameReader(sock.umem);
    t.ok(reader.read(descs[0]!, descs[1]!), 'metadata readable');
    t.same(reader.key, keyOf(spec), `key assembled from metadata matches (${JSON.stringify(describeKey(reader.key))})`);
    t.equal(reader.facts.tcpFlags, spec.protocol === 'tcp' ? spec.tcpFlags : 0);
  }
});

t.test('a miss larger than the slow path frame is dropped and counted, not handed to a socket that would lose it', async (t) => {
  const max = dp.constants.slowPathMaxFrame;
  const sized = (len: number) => frame({ ...syn4, payload: Buffer.alloc(len - frame(syn4).length) });
  t.equal(sized(max).length, max);
  t.same(deltas(() => run(dp.progs.rx, sized(max))), { SLOW_PATH: 1 }, `${max} bytes: to the slow path`);
  let r = { retval: -1 };
  t.same(deltas(() => (r = run(dp.progs.rx, sized(max + 1)))), { DROP_TOO_BIG: 1 }, `${max + 1} bytes: dropped and counted`);
  t.equal(r.retval, XDP_DROP);
});

t.test('a TCP miss that is not a SYN is dropped in XDP (syn-check), never handed to the slow path', async (t) => {
  for (const flags of [0x10, 0x11, 0x14, 0x12, 0x04]) {
    let r = { retval: -1 };
    t.same(deltas(() => (r = run(dp.progs.rx, frame({ ...tcp4, sport: 40999, tcpFlags: flags })))), { DROP_TCP_SYN_CHECK: 1 }, `flags 0x${flags.toString(16)}`);
    t.equal(r.retval, XDP_DROP);
  }
});

t.test('a hit is rewritten (MACs, TTL, checksum), redirected and counted', async (t) => {
  const key = installSession(tcp4);
  const data = frame({ ...tcp4, ttl: 64, payload: Buffer.alloc(100) });
  const before = sessionCounters(key);
  let r: { retval: number; dataOut: Buffer | null } = { retval: -1, dataOut: null };
  t.same(deltas(() => (r = run(dp.progs.rx, data))), { FAST_FORWARD: 1 });
  t.equal(r.retval, XDP_REDIRECT);
  const out = r.dataOut!;
  t.same(out.subarray(0, 6), mac('02:00:00:00:09:02'), 'destination MAC is the neighbour of the next hop');
  t.same(out.subarray(6, 12), mac('02:00:00:00:09:01'), 'source MAC is the egress interface');
  t.equal(out[14 + 8], 63, 'TTL decremented');
  t.equal(checksum(out.subarray(14, 34)), 0xffff, 'IPv4 header checksum still valid');
  t.same(out.subarray(34), data.subarray(34), 'L4 untouched');
  const after = sessionCounters(key);
  t.equal(after.packets - before.packets, 1, 'session packet counter');
  t.equal(after.bytes - before.bytes, data.length - 14, 'session byte counter counts the IP packet');
  t.ok(after.lastSeen > before.lastSeen, 'last seen updated');

  const spec6: FrameSpec = { src: 'fd08::2', dst: 'fd09::2', protocol: 'udp', sport: 1000, dport: 2000, ttl: 10 };
  installSession(spec6);
  t.same(deltas(() => (r = run(dp.progs.rx, frame(spec6)))), { FAST_FORWARD: 1 });
  t.equal(r.dataOut![14 + 7], 9, 'IPv6 hop limit decremented');
  t.same(r.dataOut!.subarray(0, 6), mac('02:00:00:00:09:02'));
});

t.test('a session is one entry: both directions find it, each counted on its own side', async (t) => {
  const sessions = dp.mapFd('xdpfw_sessions');
  execFileSync('ip', ['neigh', 'replace', '10.8.0.9', 'lladdr', '02:00:00:00:08:09', 'dev', 'in0', 'nud', 'permanent']);
  const entries = () => native.mapDump(sessions, FLOW_KEY.size, SESSION.size).count;
  // Whichever endpoint sorts first: a client behind in0 (10.8 before 10.9), then one behind out0.
  const cases: Array<{ client: FrameSpec; clientIn: number; serverIn: number; first: number }> = [
    { client: { src: '10.8.0.9', dst: '10.9.0.2', protocol: 'udp', sport: 5001, dport: 53 }, clientIn: inIndex, serverIn: outIndex, first: 1 },
    { client: { src: '10.9.0.2', dst: '10.8.0.9', protocol: 'udp', sport: 5002, dport: 53 }, clientIn: outIndex, serverIn: inIndex, first: 0 },
  ];
  for (const { client, clientIn, serverIn, first } of cases) {
    const tuple = keyOf(client);
    const before = entries();
    const key = installEntry(sessions, dp.objectPath, { client: tuple, sessionId: 78n, ingress: clientIn, egress: serverIn, tcp: false });
    t.equal(entries() - before, 1, `${client.src} -> ${client.dst}: one entry`);
    const reply: FrameSpec = { ...client, src: client.dst, dst: client.src, sport: client.dport, dport: client.sport };
    const value = Buffer.alloc(SESSION.size);
    native.mapLookup(sessions, key, value);
    t.equal(value[SESSION.offset.client_is_first], first, 'the entry says which endpoint is the client');
    const at = (spec: FrameSpec, ifindex: number) => native.progTestRun(dp.progs.rx, { data: frame(spec), ifindex, rxQueue: 0, dataOutSize: 200 }).retval;
    t.equal(at(client, clientIn), XDP_REDIRECT, 'the client\'s packet is forwarded');
    t.equal(at(reply, serverIn), XDP_REDIRECT, 'the server\'s answer finds the same entry and is forwarded');
    t.equal(at(reply, serverIn), XDP_REDIRECT);
    t.same([directionCounters(sessions, tuple, 0)?.packets, directionCounters(sessions, tuple, 1)?.packets], [1, 2], 'counted per direction');
    t.equal(at(reply, clientIn), XDP_DROP, 'the answer arriving on the client\'s side is dropped (each direction bound to its interface)');
  }
});

t.test('hits the fast path cannot finish go to the kernel or are dropped, counted', async (t) => {
  const noNeigh: FrameSpec = { ...tcp4, dst: '10.10.0.7' };
  installSession(noNeigh);
  let r = { retval: -1 };
  t.same(deltas(() => (r = run(dp.progs.rx, frame(noNeigh)))), { FAST_KERNEL: 1 }, 'no neighbour: kernel resolves it');
  t.equal(r.retval, XDP_PASS);
  const ttl1 = { ...tcp4, ttl: 1 };
  t.same(deltas(() => (r = run(dp.progs.rx, frame(ttl1)))), { FAST_KERNEL: 1 }, 'TTL 1: kernel sends time-exceeded');
  t.equal(r.retval, XDP_PASS);
  const hole: FrameSpec = { ...tcp4, dst: '10.66.0.1' };
  installSession(hole);
  t.same(deltas(() => (r = run(dp.progs.rx, frame(hole)))), { DROP_NO_ROUTE: 1 }, 'blackhole route');
  t.equal(r.retval, XDP_DROP);
  const local: FrameSpec = { ...tcp4, dst: '10.8.0.1', dport: 22 };
  installSession(local, dp.constants.sessionFlags.local);
  t.same(deltas(() => (r = run(dp.progs.rx, frame(local)))), { FAST_LOCAL: 1 }, 'local session: delivered');
  t.equal(r.retval, XDP_PASS);
});

t.test('VLAN tags, IPv4 options and IPv6 extension headers are parsed to the same key', async (t) => {
  installSession(tcp4);
  const one = frame({ ...tcp4, vlans: [10] });
  const two = frame({ ...tcp4, vlans: [10, 20] });
  t.same(deltas(() => run(dp.progs.rx, one)), { FAST_KERNEL: 1 }, 'one tag: session found, kernel forwards the tagged frame');
  t.same(deltas(() => run(dp.progs.rx, two)), { FAST_KERNEL: 1 }, 'QinQ: session found');
  t.same(deltas(() => run(dp.progs.rx, frame({ ...tcp4, vlans: [1, 2, 3] }))), { DROP_MALFORMED: 1 }, 'three tags: refused');
  const nop = Buffer.from([1, 1, 1, 0]);
  for (const words of [1, 4, 10]) {
    const opts = Buffer.concat(Array(words).fill(nop));
    t.same(deltas(() => run(dp.progs.rx, frame({ ...tcp4, ipOptions: opts }))), { FAST_FORWARD: 1 }, `${words * 4} bytes of IPv4 options`);
  }
  const spec6: FrameSpec = { src: 'fd08::2', dst: 'fd09::2', protocol: 'tcp', sport: 3000, dport: 22, tcpFlags: 0x10 };
  installSession(spec6);
  t.same(deltas(() => run(dp.progs.rx, frame({ ...spec6, ext: [0, 43, 60] }))), { FAST_FORWARD: 1 }, 'hop-by-hop, routing, destination options');
  t.same(deltas(() => run(dp.progs.rx, frame({ ...spec6, ext: [0, 60, 60, 60, 60, 60] }))), { FAST_FORWARD: 1 }, 'six extension headers');
  t.same(deltas(() => run(dp.progs.rx, frame({ ...spec6, ext: [0, 60, 60, 60, 60, 60, 60] }))), { DROP_MALFORMED: 1 }, 'seven: beyond the bounded walk');
  // First fragments are judged by their ports like whole packets (test/bpf/fragments.test.ts).
  t.same(deltas(() => run(dp.progs.rx, frame({ ...spec6, ext: [44] }))), { FAST_FORWARD: 1 }, 'IPv6 first fragment of the session');
  t.same(deltas(() => run(dp.progs.rx, frame({ ...spec6, ext: [0, 44, 60] }))), { FAST_FORWARD: 1 }, 'IPv6 first fragment, headers before and after the fragment header');
  const frag4 = frame(tcp4);
  frag4.writeUInt16BE(0x2000, 14 + 6); // MF
  frag4.writeUInt16BE(0, 14 + 10);
  frag4.writeUInt16BE(0xffff - checksum(frag4.subarray(14, 34)), 14 + 10);
  t.same(deltas(() => run(dp.progs.rx, frag4)), { FAST_FORWARD: 1 }, 'IPv4 first fragment of the session');
  t.same(deltas(() => run(dp.progs.rx, frame({ ...spec6, ext: [44], fragmentOffset: 10 }))), { FAST_FORWARD: 1 }, 'IPv6 later fragment: follows its first one');
  t.same(deltas(() => run(dp.progs.rx, frame({ ...spec6, ext: [44], fragmentOffset: 10, fragmentId: 7 }))), { DROP_FRAGMENT_NO_FIRST: 1 },
    'IPv6 later fragment of another datagram: no first one');
});

t.test('ARP and neighbour discovery to the box go to the kernel untouched', async (t) => {
  const arp = Buffer.alloc(42);
  arp.writeUInt16BE(0x0806, 12);
  t.same(deltas(() => run(dp.progs.rx, arp)), { PASS_NON_IP: 1 });
  const ns = frame({ src: 'fe80::2', dst: 'ff02::1:ff00:1', protocol: 'icmp6', icmpType: 135, ttl: 255 });
  t.same(deltas(() => run(dp.progs.rx, ns)), { PASS_NEIGHBOR: 1 });
});

t.test('a truncated frame of every length is dropped as malformed', async (t) => {
  for (const spec of [tcp4, { src: 'fd08::2', dst: 'fd09::2', protocol: 'udp', ext: [0] } as FrameSpec,
    { src: '10.8.0.2', dst: '10.9.0.2', protocol: 'icmp' } as FrameSpec]) {
    const full = frame(spec);
    let malformed = 0;
    let other = 0;
    for (let len = 14; len < full.length; len++) {
      const d = deltas(() => run(dp.progs.rx, full.subarray(0, len)));
      if (d.DROP_MALFORMED === 1 && Object.keys(d).length === 1) malformed++;
      else other++;
    }
    t.equal(other, 0, `${spec.protocol}: no prefix escapes`);
    t.equal(malformed, full.length - 14, `${spec.protocol}: all ${full.length - 14} prefixes dropped as malformed`);
  }
});

t.test('the route probe names the egress interface or the box itself', async (t) => {
  const routes = new RouteProbe(dp.progs.route);
  const probe = (spec: FrameSpec) => probeRoute(routes, frame(spec), inIndex, 0);
  t.same(probe(tcp4), { local: false, boxConnection: false, egress: outIndex, resolved: true }, 'forwarded out of out0');
  t.same(probe({ ...tcp4, dst: '10.10.0.7' }), { local: false, boxConnection: false, egress: outIndex, resolved: false }, 'via a gateway without neighbour: still out0');
  t.same(probe({ ...tcp4, dst: '10.8.0.1' }), { local: true, boxConnection: false, egress: 0, resolved: false }, 'own address: not forwarded (local)');
});

t.test('re-injection forwards a packet of an installed session and drops one without', async (t) => {
  const spec: FrameSpec = { ...tcp4, sport: 41000 };
  t.same(deltas(() => run(dp.progs.inject, frame(spec))), { INJECT_MISS: 1 });
  installSession(spec);
  let r: { retval: number; dataOut: Buffer | null } = { retval: -1, dataOut: null };
  t.same(deltas(() => (r = run(dp.progs.inject, frame({ ...spec, tcpFlags: 0x02 })))), { INJECT_FORWARD: 1 }, 'even a SYN');
  t.equal(r.retval, XDP_REDIRECT);
  const viaRx = run(dp.progs.rx, frame(spec)).dataOut!;
  const viaInject = run(dp.progs.inject, frame(spec)).dataOut!;
  t.same(viaInject, viaRx, 'byte-identical to the fast path output');
});

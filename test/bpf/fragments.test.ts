// IP fragments through the compiled XDP object under BPF_PROG_RUN: a first
// fragment is judged by its ports and recorded; later fragments follow it
// along its session, and every fragment that has no judged first fragment
// is dropped and counted. IPv4 and IPv6. Same namespace as xdp.test.ts:
//   in0 (ingress, 10.8.0.1/24, fd08::1/64)   out0 (egress, 10.9.0.1/24, fd09::1/64)
//   10.9.0.2 / fd09::2 have permanent neighbours.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [...TWO_PORTS]);

const { default: t } = await import('tap');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { FRAGMENT, FRAGMENT_KEY, SESSION, SESSION_KEY } = await import('../../lib/dataplane/layout.js');
const { sessionEntry, sessionKey } = await import('../helpers/session-entry.js');
const { ENTRY } = await import('../../lib/session/entry.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { FrameReader } = await import('../../lib/slowpath/frame.js');
const { stripRxMeta } = await import('../../lib/slowpath/rx-meta.js');
const { frame, ipBytes, mac } = await import('../helpers/packets.js');
type FrameSpec = import('../helpers/packets.js').FrameSpec;
type Test = import('tap').Test;
const { XDP_DROP, XDP_REDIRECT } = await import('../../lib/dataplane/xdp-abi.js');

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
dp.registerPort(inIndex, 0, 0);
dp.registerPort(outIndex, 1, 0);
const STATE = native.btfEnum(dp.objectPath, 'xdpfw_fragment_state');
const PENDING = STATE.XDPFW_FRAGMENT_PENDING!;
const JUDGED = STATE.XDPFW_FRAGMENT_JUDGED!;
const REFUSED = STATE.XDPFW_FRAGMENT_REFUSED!;

type Run = { retval: number; dataOut: Buffer | null };

function run(prog: number, data: Buffer, ifindex = inIndex, live = false): Run {
  return native.progTestRun(prog, { data, ifindex, rxQueue: 0, live, dataOutSize: data.length + 64 });
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

/** One verdict counter moved, and the program returned `retval`. */
function verdict(t: Test, data: Buffer, counter: string, retval: number, msg: string, prog = dp.progs.rx, ifindex = inIndex): Run {
  let r: Run = { retval: -1, dataOut: null };
  t.same(deltas(() => (r = run(prog, data, ifindex))), { [counter]: 1 }, `${msg}: ${counter}`);
  t.equal(r.retval, retval, `${msg}: verdict ${retval}`);
  return r;
}

const V4 = { src: '10.8.0.2', dst: '10.9.0.2' };
const V6 = { src: 'fd08::2', dst: 'fd09::2' };
const isV6 = (spec: FrameSpec) => spec.src.includes(':');

/** The session key of an unfragmented packet of `spec`'s flow (UDP or TCP). */
function keyOf(spec: FrameSpec): Buffer {
  const k = Buffer.alloc(SESSION_KEY.size);
  k[SESSION_KEY.offset.family] = isV6(spec) ? 10 : 2;
  k[SESSION_KEY.offset.protocol] = spec.protocol === 'tcp' ? 6 : 17;
  k.writeUInt16BE(spec.sport ?? 1234, SESSION_KEY.offset.src_port);
  k.writeUInt16BE(spec.dport ?? (spec.protocol === 'tcp' ? 80 : 53), SESSION_KEY.offset.dst_port);
  ipBytes(spec.src).copy(k, SESSION_KEY.offset.src_addr);
  ipBytes(spec.dst).copy(k, SESSION_KEY.offset.dst_addr);
  return k;
}

/** Bound as the slow path binds it: test frames arrive on in0, forwarded ones leave by out0. */
function installSession(spec: FrameSpec): Buffer {
  const key = keyOf(spec);
  const v = sessionEntry(dp.objectPath, { client: key, sessionId: 99n, ingress: inIndex, egress: outIndex, tcp: spec.protocol === 'tcp' });
  native.mapUpdate(dp.mapFd('xdpfw_sessions'), sessionKey(key), v, 0);
  return key;
}

function sessionCounters(key: Buffer): { packets: number; bytes: number } {
  const v = Buffer.alloc(SESSION.size);
  if (!native.mapLookup(dp.mapFd('xdpfw_sessions'), sessionKey(key), v)) throw new Error('no session');
  return { packets: Number(v.readBigUInt64LE(ENTRY.packets(0))), bytes: Number(v.readBigUInt64LE(ENTRY.bytes(0))) };
}

/** The fragment table's key for the datagram `id` of `spec`'s addresses. */
function fragmentKey(spec: FrameSpec, id: number): Buffer {
  const k = Buffer.alloc(FRAGMENT_KEY.size);
  k[FRAGMENT_KEY.offset.family] = isV6(spec) ? 10 : 2;
  k[FRAGMENT_KEY.offset.protocol] = spec.protocol === 'tcp' ? 6 : 17;
  // The identification as on the wire: 2 bytes (IPv4) or 4 (IPv6).
  if (isV6(spec)) k.writeUInt32BE(id, FRAGMENT_KEY.offset.id);
  else k.writeUInt16BE(id, FRAGMENT_KEY.offset.id);
  ipBytes(spec.src).copy(k, FRAGMENT_KEY.offset.src_addr);
  ipBytes(spec.dst).copy(k, FRAGMENT_KEY.offset.dst_addr);
  return k;
}

function fragmentEntry(spec: FrameSpec, id: number): { session: Buffer; state: number; ingress: number; headLen: number; firstNs: bigint } | null {
  const v = Buffer.alloc(FRAGMENT.size);
  if (!native.mapLookup(dp.mapFd('xdpfw_fragments'), fragmentKey(spec, id), v)) return null;
  return {
    session: v.subarray(FRAGMENT.offset.session, FRAGMENT.offset.session + SESSION_KEY.size),
    state: v[FRAGMENT.offset.state]!,
    ingress: v.readUInt32LE(FRAGMENT.offset.ingress_ifindex),
    headLen: v.readUInt16LE(FRAGMENT.offset.head_len),
    firstNs: v.readBigUInt64LE(FRAGMENT.offset.first_ns),
  };
}

/** A fragment of datagram `id`: the first (offset 0, with the transport header) or a later one at `offset8` 8-byte units. */
function fragment(spec: FrameSpec, id: number, offset8: number, more: boolean, bytes = 1232): Buffer {
  const base: FrameSpec = { ...spec, fragmentId: id, moreFragments: more, fragmentOffset: offset8, ...(isV6(spec) ? { ext: [44] } : {}) };
  if (offset8 === 0) return frame({ ...base, payload: Buffer.alloc(bytes - 8, 0x5a) });
  // A later fragment carries raw data only: build it as a protocol the parser reads nothing of,
  // then name the real protocol in the header that says what follows.
  const f = frame({ ...base, protocol: 253, payload: Buffer.alloc(bytes, 0xa5) });
  if (isV6(spec)) f[14 + 40] = spec.protocol === 'tcp' ? 6 : 17;
  else {
    f[14 + 9] = spec.protocol === 'tcp' ? 6 : 17;
    f.writeUInt16BE(0, 14 + 10);
    f.writeUInt16BE(0xffff - ipChecksum(f.subarray(14, 34)), 14 + 10);
  }
  return f;
}

function ipChecksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

for (const [family, addrs] of [['IPv4', V4], ['IPv6', V6]] as const) {
  const udp: FrameSpec = { ...addrs, protocol: 'udp', sport: 5000, dport: 5001 };

  t.test(`${family}: the first fragment of a session is forwarded and recorded; later ones follow it`, async (t) => {
    const key = installSession(udp);
    const before = sessionCounters(key);
    const first = fragment(udp, 0x1234, 0, true);
    const out = verdict(t, first, 'FAST_FORWARD', XDP_REDIRECT, 'first fragment').dataOut!;
    t.same(out.subarray(0, 6), mac('02:00:00:00:09:02'), 'rewritten for the next hop');
    const entry = fragmentEntry(udp, 0x1234);
    t.ok(entry, 'the datagram is in the fragment table');
    t.same(entry?.session, key, 'naming the session direction it was forwarded along');
    t.equal(entry?.state, JUDGED, 'judged');
    t.equal(entry?.ingress, inIndex, 'bound to the interface it arrived on');
    t.equal(entry?.headLen, 8, 'covering the UDP header');

    const middle = fragment(udp, 0x1234, 154, true);
    const last = fragment(udp, 0x1234, 308, false, 500);
    const m = verdict(t, middle, 'FAST_FORWARD', XDP_REDIRECT, 'a later fragment').dataOut!;
    t.same(m.subarray(0, 6), mac('02:00:00:00:09:02'), 'later fragment rewritten for the next hop');
    t.equal(isV6(udp) ? m[14 + 7] : m[14 + 8], 63, 'its TTL / hop limit decremented');
    t.same(m.subarray(isV6(udp) ? 14 + 8 : 34), middle.subarray(isV6(udp) ? 14 + 8 : 34), 'its data untouched');
    verdict(t, last, 'FAST_FORWARD', XDP_REDIRECT, 'the last fragment');
    const after = sessionCounters(key);
    t.equal(after.packets - before.packets, 3, 'all three counted on the session');
    t.equal(after.bytes - before.bytes, first.length + middle.length + last.length - 3 * 14, 'with their IP bytes');
  });

  t.test(`${family}: later fragments without a judged first one are dropped and counted`, async (t) => {
    installSession(udp);
    verdict(t, fragment(udp, 0x2222, 154, true), 'DROP_FRAGMENT_NO_FIRST', XDP_DROP, 'arrived before its first fragment');
    t.equal(fragmentEntry(udp, 0x2222), null, 'no entry made');
    // The first one then comes: later ones follow it from then on.
    verdict(t, fragment(udp, 0x2222, 0, true), 'FAST_FORWARD', XDP_REDIRECT, 'first fragment, late');
    verdict(t, fragment(udp, 0x2222, 154, false), 'FAST_FORWARD', XDP_REDIRECT, 'a later one after it');
    verdict(t, fragment(udp, 0x2223, 154, false), 'DROP_FRAGMENT_NO_FIRST', XDP_DROP, 'another datagram (identification)');
    verdict(t, fragment({ ...udp, src: isV6(udp) ? 'fd08::3' : '10.8.0.3' }, 0x2222, 154, false), 'DROP_FRAGMENT_NO_FIRST', XDP_DROP,
      'another source address');
    verdict(t, fragment({ ...udp, protocol: 'tcp' }, 0x2222, 154, false), 'DROP_FRAGMENT_NO_FIRST', XDP_DROP, 'another protocol');
    verdict(t, fragment(udp, 0x2222, 154, false), 'DROP_FRAGMENT_NO_FIRST', XDP_DROP, 'arriving on another interface',
      dp.progs.rx, outIndex);

    // Evicted from the LRU table: nothing left to follow.
    verdict(t, fragment(udp, 0x2224, 0, true), 'FAST_FORWARD', XDP_REDIRECT, 'first fragment');
    t.ok(native.mapDelete(dp.mapFd('xdpfw_fragments'), fragmentKey(udp, 0x2224)), 'entry removed, as an eviction does');
    verdict(t, fragment(udp, 0x2224, 154, false), 'DROP_FRAGMENT_NO_FIRST', XDP_DROP, 'after its entry was evicted');

    // Timed out: the first fragment came more than XDPFW_FRAGMENT_TIMEOUT_MS ago.
    verdict(t, fragment(udp, 0x2225, 0, true), 'FAST_FORWARD', XDP_REDIRECT, 'first fragment');
    const fk = fragmentKey(udp, 0x2225);
    const v = Buffer.alloc(FRAGMENT.size);
    t.ok(native.mapLookup(dp.mapFd('xdpfw_fragments'), fk, v));
    const timeoutMs = native.btfEnum(dp.objectPath, 'xdpfw_constants').XDPFW_FRAGMENT_TIMEOUT_MS!;
    v.writeBigUInt64LE(native.monotonicNs() - BigInt(timeoutMs + 1000) * 1_000_000n, FRAGMENT.offset.first_ns);
    native.mapUpdate(dp.mapFd('xdpfw_fragments'), fk, v, 0);
    verdict(t, fragment(udp, 0x2225, 154, false), 'DROP_FRAGMENT_NO_FIRST', XDP_DROP, 'after the timeout');
    t.equal(fragmentEntry(udp, 0x2225), null, 'the stale entry is removed');
  });

  t.test(`${family}: a later fragment whose session is gone is dropped and counted`, async (t) => {
    const key = installSession(udp);
    verdict(t, fragment(udp, 0x3333, 0, true), 'FAST_FORWARD', XDP_REDIRECT, 'first fragment');
    native.mapDelete(dp.mapFd('xdpfw_sessions'), key);
    verdict(t, fragment(udp, 0x3333, 154, false), 'DROP_FRAGMENT_NO_SESSION', XDP_DROP, 'session closed meanwhile');
  });

  t.test(`${family}: fragments that cannot be judged are dropped as such`, async (t) => {
    const tcp: FrameSpec = { ...addrs, protocol: 'tcp', sport: 7000, dport: 7001, tcpFlags: 0x10 };
    installSession(tcp);
    verdict(t, fragment(tcp, 0x4444, 0, true), 'FAST_FORWARD', XDP_REDIRECT, 'TCP first fragment');
    t.equal(fragmentEntry(tcp, 0x4444)?.headLen, 20, 'covering the TCP header');
    for (const at of [1, 2]) {
      verdict(t, fragment(tcp, 0x4444, at, true), 'DROP_FRAGMENT', XDP_DROP, `data at offset ${at * 8}, over the TCP header`);
    }
    verdict(t, fragment(tcp, 0x4444, 3, false), 'FAST_FORWARD', XDP_REDIRECT, 'data at offset 24, past it');
    // A first fragment too short to hold the TCP header: never judged.
    const tiny = fragment(tcp, 0x4445, 0, true);
    const cut = tiny.subarray(0, tiny.length - (1232 - 8) - 4); // 16 of the 20 bytes of TCP header
    if (isV6(tcp)) cut.writeUInt16BE(cut.length - 14 - 40, 14 + 4);
    else {
      cut.writeUInt16BE(cut.length - 14, 14 + 2);
      cut.writeUInt16BE(0, 14 + 10);
      cut.writeUInt16BE(0xffff - ipChecksum(cut.subarray(14, 34)), 14 + 10);
    }
    verdict(t, cut, 'DROP_FRAGMENT', XDP_DROP, 'a first fragment holding 16 bytes of TCP header');
    t.equal(fragmentEntry(tcp, 0x4445), null, 'no entry made');
    verdict(t, fragment(tcp, 0x4445, 3, false), 'DROP_FRAGMENT_NO_FIRST', XDP_DROP, 'its later fragments follow nothing');
  });
}

t.test('a first fragment without a session goes to the slow path; later ones are held behind it', async (t) => {
  const sock = new native.Xsk({ ifindex: inIndex, ifname: 'in0', queue: 0 });
  xsk = sock;
  dp.registerSocket(0, 0, sock.fd);
  const reader = new FrameReader(sock.umem);
  const descs = new Uint32Array(16);
  const receive = async (data: Buffer): Promise<void> => {
    run(dp.progs.rx, data, inIndex, true); // live: really redirected into the socket
    let n = 0;
    for (let i = 0; i < 100 && n === 0; i++) {
      n = sock.rx(descs);
      if (n === 0) await new Promise((r) => setTimeout(r, 10));
    }
    stripRxMeta(descs, n);
    if (n !== 1 || !reader.read(descs[0]!, descs[1]!)) throw new Error(`expected one readable frame, got ${n}`);
  };

  for (const addrs of [V4, V6]) {
    const udp: FrameSpec = { ...addrs, protocol: 'udp', sport: 6000, dport: 6001 };
    const family = isV6(udp) ? 'IPv6' : 'IPv4';
    const first = fragment(udp, 0x5555, 0, true);
    const later = fragment(udp, 0x5555, 154, false);
    t.same(deltas(() => run(dp.progs.rx, first)), { SLOW_PATH: 1 }, `${family}: first fragment without a session: slow path`);
    t.equal(fragmentEntry(udp, 0x5555)?.state, PENDING, `${family}: pending while the slow path judges it`);
    t.same(deltas(() => run(dp.progs.rx, later)), { SLOW_PATH: 1 }, `${family}: a later fragment meanwhile: held in the slow path`);

    await receive(first);
    t.same(reader.key, keyOf(udp), `${family}: the first fragment reaches the slow path with its ports`);
    t.equal(reader.facts.laterFragment, false, `${family}: judged like a first packet`);
    await receive(later);
    t.equal(reader.facts.laterFragment, true, `${family}: the later one is marked, never judged itself`);

    // Re-injected while the first is still unjudged (its flow was refused): dropped.
    verdict(t, later, 'DROP_FRAGMENT_NO_FIRST', XDP_DROP, `${family}: re-injected behind a refused first fragment`, dp.progs.inject);
    t.equal(fragmentEntry(udp, 0x5555)?.state, REFUSED, `${family}: the datagram is marked refused`);
    verdict(t, later, 'DROP_FRAGMENT_NO_FIRST', XDP_DROP, `${family}: its next later fragments are dropped in XDP, not held again`);
    // Had the slow path permitted the flow after all: it installs the session, then re-injects the first fragment.
    const key = installSession(udp);
    verdict(t, first, 'INJECT_FORWARD', XDP_REDIRECT, `${family}: first fragment re-injected`, dp.progs.injectNew);
    t.equal(fragmentEntry(udp, 0x5555)?.state, JUDGED, `${family}: judged once re-injected`);
    const before = sessionCounters(key);
    const out = verdict(t, later, 'INJECT_FORWARD', XDP_REDIRECT, `${family}: the held later fragment re-injected behind it`, dp.progs.inject);
    t.same(out.dataOut!.subarray(0, 6), mac('02:00:00:00:09:02'), `${family}: forwarded to the next hop`);
    t.equal(sessionCounters(key).packets - before.packets, 1, `${family}: counted on the session`);
    verdict(t, fragment(udp, 0x5555, 308, false), 'FAST_FORWARD', XDP_REDIRECT, `${family}: and the next ones in XDP directly`);
  }
});

t.test('the route probe routes a first fragment like a whole packet', async (t) => {
  const { RouteProbe } = await import('../../lib/slowpath/route-probe.js');
  const routes = new RouteProbe(dp.progs.route);
  for (const addrs of [V4, V6]) {
    const data = fragment({ ...addrs, protocol: 'udp' }, 0x6666, 0, true);
    t.same(routes.lookup(data, 0, data.length, inIndex, 0), { local: false, boxConnection: false, egress: outIndex, resolved: true },
      `${addrs.src}: out of out0`);
  }
});

t.test('a full fragment table evicts old datagrams, and a later fragment without its entry is never forwarded', async (t) => {
  const udp: FrameSpec = { ...V4, protocol: 'udp', sport: 8000, dport: 8001 };
  installSession(udp);
  verdict(t, fragment(udp, 0x7000, 0, true), 'FAST_FORWARD', XDP_REDIRECT, 'first fragment before the table fills');
  // Fill the table past its size with datagrams of other sources, as a flood of first fragments would.
  const max = native.btfEnum(dp.objectPath, 'xdpfw_constants').XDPFW_MAX_FRAGMENT_ENTRIES!;
  const fd = dp.mapFd('xdpfw_fragments');
  const value = Buffer.alloc(FRAGMENT.size);
  value[FRAGMENT.offset.state] = JUDGED;
  value.writeBigUInt64LE(native.monotonicNs(), FRAGMENT.offset.first_ns);
  value.writeUInt32LE(inIndex, FRAGMENT.offset.ingress_ifindex);
  let refused = 0;
  for (let i = 0; i < max + 1000; i++) {
    const k = fragmentKey({ ...udp, src: `10.${100 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}` }, i & 0xffff);
    try {
      native.mapUpdate(fd, k, value, 0);
    } catch {
      refused++;
    }
  }
  t.comment(`${refused} of ${max + 1000} updates refused by the full table`);
  const survived = fragmentEntry(udp, 0x7000) !== null;
  verdict(t, fragment(udp, 0x7000, 154, false), survived ? 'FAST_FORWARD' : 'DROP_FRAGMENT_NO_FIRST', survived ? XDP_REDIRECT : XDP_DROP,
    `the early datagram's later fragment, its entry ${survived ? 'kept' : 'evicted'}`);
  // New datagrams still find room: XDP evicts the least recently used.
  for (const id of [0x7001, 0x7002, 0x7003]) {
    verdict(t, fragment(udp, id, 0, true), 'FAST_FORWARD', XDP_REDIRECT, `first fragment of datagram ${id} in the full table`);
    t.equal(fragmentEntry(udp, id)?.state, JUDGED, `datagram ${id} recorded`);
    verdict(t, fragment(udp, id, 154, false), 'FAST_FORWARD', XDP_REDIRECT, `its later fragment follows it`);
  }
  // Fragments of the flood's datagrams follow only entries that point at a session: none does.
  verdict(t, fragment({ ...udp, src: '10.100.0.5' }, 5, 154, false), fragmentEntry({ ...udp, src: '10.100.0.5' }, 5) ? 'DROP_FRAGMENT_NO_SESSION' : 'DROP_FRAGMENT_NO_FIRST',
    XDP_DROP, 'a later fragment of a flooded datagram');
});

// Jumbo frames on the compiled object: multi-buffer frames under
// BPF_PROG_RUN (the kernel builds one when the input is larger than a page's
// linear part) are parsed, forwarded and counted whole; a jumbo frame that
// misses the session table reaches the AF_XDP socket whole (multi-buffer
// receive, assembled contiguous with its metadata), and a socket sends one
// whole (multi-buffer transmit). Its own namespace, the two ports with MTU 9000.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [
  ...TWO_PORTS,
  'for d in in0 in0p out0 out0p; do ip link set $d mtu 9000; done',
]);

const { default: t } = await import('tap');
const { execFileSync } = await import('node:child_process');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { SESSION, SESSION_KEY } = await import('../../lib/dataplane/layout.js');
const { sessionEntry, sessionKey } = await import('../helpers/session-entry.js');
const { ENTRY } = await import('../../lib/session/entry.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { FrameReader } = await import('../../lib/slowpath/frame.js');
const { stripRxMeta } = await import('../../lib/slowpath/rx-meta.js');
const { checksum, frame, ipBytes, mac } = await import('../helpers/packets.js');
const { XDP_DROP, XDP_REDIRECT } = await import('../../lib/dataplane/xdp-abi.js');
type FrameSpec = import('../helpers/packets.js').FrameSpec;

t.ok(insideTestNetns(), 'runs in its own namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
const sockets: Array<InstanceType<typeof native.Xsk>> = [];
t.teardown(() => {
  for (const s of sockets) s.close();
  dp.close();
  purgePins(paths);
});

const inIndex = native.ifNameToIndex('in0');
const outIndex = native.ifNameToIndex('out0');
dp.registerPort(inIndex, 0, 0);
dp.registerPort(outIndex, 1, 0);

const JUMBO = 9014; // a full frame of a 9000-byte MTU link

function sized(spec: FrameSpec, length: number): Buffer {
  const payload = Buffer.alloc(length - frame(spec).length);
  for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
  return frame({ ...spec, payload });
}

function run(data: Buffer) {
  return native.progTestRun(dp.progs.rx, { data, ifindex: inIndex, rxQueue: 0, dataOutSize: data.length + 64 });
}

/** Counter deltas (packets and bytes) produced by `fn`, by counter name. */
function deltas(fn: () => void): Record<string, { packets: number; bytes: number }> {
  const before = dp.readCounters();
  fn();
  const out: Record<string, { packets: number; bytes: number }> = {};
  for (const [name, v] of dp.readCounters()) {
    const b = before.get(name);
    const packets = Number(v.packets - (b?.packets ?? 0n));
    if (packets !== 0) out[name] = { packets, bytes: Number(v.bytes - (b?.bytes ?? 0n)) };
  }
  return out;
}

function keyOf(spec: FrameSpec): Buffer {
  const k = Buffer.alloc(SESSION_KEY.size);
  const v6 = spec.src.includes(':');
  k[SESSION_KEY.offset.family] = v6 ? 10 : 2;
  k[SESSION_KEY.offset.protocol] = spec.protocol === 'tcp' ? 6 : 17;
  k.writeUInt16BE(spec.sport!, SESSION_KEY.offset.src_port);
  k.writeUInt16BE(spec.dport!, SESSION_KEY.offset.dst_port);
  ipBytes(spec.src).copy(k, SESSION_KEY.offset.src_addr);
  ipBytes(spec.dst).copy(k, SESSION_KEY.offset.dst_addr);
  return k;
}

/** A session bound as the slow path binds it (arrives on in0, leaves by out0); TCP ones
 * established and picked up mid-stream (windows learnt, not enforced): these tests are about size. */
function installSession(spec: FrameSpec): Buffer {
  const key = keyOf(spec);
  const v = sessionEntry(dp.objectPath, { client: key, sessionId: 0n, ingress: inIndex, egress: outIndex, tcp: spec.protocol === 'tcp' });
  native.mapUpdate(dp.mapFd('xdpfw_sessions'), sessionKey(key), v, 0);
  return key;
}

function sessionBytes(key: Buffer): number {
  const v = Buffer.alloc(SESSION.size);
  if (!native.mapLookup(dp.mapFd('xdpfw_sessions'), sessionKey(key), v)) throw new Error('no session');
  return Number(v.readBigUInt64LE(ENTRY.bytes(0)));
}

const tcp4: FrameSpec = { src: '10.8.0.2', dst: '10.9.0.2', protocol: 'tcp', sport: 40000, dport: 443, tcpFlags: 0x10 };
const udp6: FrameSpec = { src: 'fd08::2', dst: 'fd09::2', protocol: 'udp', sport: 4000, dport: 5000 };

t.test('a 9014-byte hit (a multi-buffer frame) is forwarded whole and counted whole, v4 and v6', async (t) => {
  for (const spec of [tcp4, udp6]) {
    const key = installSession(spec);
    const data = sized(spec, JUMBO);
    const before = sessionBytes(key);
    let r: { retval: number; dataOut: Buffer | null } = { retval: -1, dataOut: null };
    t.same(deltas(() => (r = run(data))), { FAST_FORWARD: { packets: 1, bytes: JUMBO } }, `${spec.protocol}: forwarded, the counter has every byte`);
    t.equal(r.retval, XDP_REDIRECT);
    const out = r.dataOut!;
    t.equal(out.length, JUMBO, 'the whole frame comes out');
    t.same(out.subarray(0, 6), mac('02:00:00:00:09:02'), 'destination MAC rewritten');
    const l4 = spec === tcp4 ? 34 : 54;
    t.same(out.subarray(l4), data.subarray(l4), 'the rest, far past the linear part, untouched');
    if (spec === tcp4) t.equal(checksum(out.subarray(14, 34)), 0xffff, 'IPv4 header checksum valid after the TTL decrement');
    t.equal(sessionBytes(key) - before, JUMBO - 14, 'the session counts the whole IP packet');
  }
});

t.test('the IP total length is checked against the whole frame, not its linear part', async (t) => {
  const data = sized(tcp4, JUMBO);
  data.writeUInt16BE(JUMBO - 14 + 1, 16 + 0); // total length one byte more than the frame holds
  data.writeUInt16BE(0, 24);
  data.writeUInt16BE(0xffff - checksum(data.subarray(14, 34)), 24);
  t.same(Object.keys(deltas(() => run(data))), ['DROP_MALFORMED'], 'claims more than the frame: malformed');
  const padded = Buffer.concat([sized(tcp4, JUMBO - 100), Buffer.alloc(100)]);
  t.same(Object.keys(deltas(() => run(padded))), ['FAST_FORWARD'], 'less than the frame (trailing bytes): forwarded');
});

t.test('a jumbo miss reaches the slow path socket whole; a socket sends one whole', async (t) => {
  const rx = new native.Xsk({ ifindex: inIndex, ifname: 'in0', queue: 0 });
  sockets.push(rx);
  t.ok(rx.multiBuffer, 'the socket is multi-buffer');
  dp.registerSocket(0, 0, rx.fd);
  dp.attach('in0', 0, 0, 'native');
  // The far end of the veth sends it from a socket of its own: a 9014-byte frame in five UMEM frames.
  const tx = new native.Xsk({ ifindex: native.ifNameToIndex('in0p'), ifname: 'in0p', queue: 0 });
  sockets.push(tx);
  const spec: FrameSpec = { ...udp6, sport: 4001, dstMac: '02:00:00:00:00:01' };
  const data = sized(spec, JUMBO);
  const txPackets = () => {
    const [link] = JSON.parse(execFileSync('ip', ['-j', '-s', 'link', 'show', 'in0p'], { encoding: 'utf8' })) as Array<{ stats64: { tx: { packets: number } } }>;
    return link!.stats64.tx.packets;
  };
  const sentBefore = txPackets();
  const before = dp.readCounters().get('SLOW_PATH')!;
  t.equal(tx.tx(data, new Uint32Array([JUMBO]), 1), 1, 'queued');
  const descs = new Uint32Array(16);
  let n = 0;
  for (let i = 0; i < 300 && n === 0; i++) {
    n = rx.rx(descs);
    if (n === 0) await new Promise((r) => setTimeout(r, 10));
  }
  t.equal(txPackets() - sentBefore, 1, 'the sending socket put it on the wire as one frame');
  t.equal(n, 1, 'one packet arrived');
  stripRxMeta(descs, n);
  t.equal(descs[1], JUMBO, 'whole');
  const got = Buffer.from(rx.umem, descs[0], descs[1]);
  t.ok(got.equals(data), 'byte for byte');
  const reader = new FrameReader(rx.umem);
  t.ok(reader.read(descs[0]!, descs[1]!), 'with its metadata in front');
  t.same(reader.key, keyOf(spec), 'the key the metadata gives is the frame\'s');
  t.equal(reader.facts.l3Length, JUMBO - 14, 'and its whole IP length');
  const after = dp.readCounters().get('SLOW_PATH')!;
  t.equal(Number(after.bytes - before.bytes), JUMBO, 'counted whole on the way');
  dp.detach('in0');
});

t.test('larger than the slow path takes: dropped and counted', async (t) => {
  const max = dp.constants.slowPathMaxFrame;
  t.ok(max >= JUMBO, `the slow path takes ${max}-byte frames: a 9000-byte MTU fits`);
  let r = { retval: -1 };
  const miss = { ...tcp4, sport: 40002, tcpFlags: 0x02 }; // a SYN: a miss that may open a session
  t.same(Object.keys(deltas(() => (r = run(sized(miss, max + 1))))), ['DROP_TOO_BIG'], `a miss of ${max + 1} bytes`);
  t.equal(r.retval, XDP_DROP);
});

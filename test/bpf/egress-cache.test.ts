// The egress an established session keeps in its entry (bpf/egress_cache.h)
// on the real object under BPF_PROG_RUN: kept from the first packet looked up
// under a leased route generation, used for the packets after it (shown by a
// marker MAC written into the entry), never used under another generation,
// after the lease ran out, or for a packet larger than its MTU; and the
// daemon's route watch (lib/routes/route-watch.ts) with a real `ip monitor`:
// a neighbour replaced in the namespace takes effect for the next packet.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [...TWO_PORTS]);

const { default: t } = await import('tap');
const { execFileSync } = await import('node:child_process');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { EGRESS, ROUTE_LEASE, SESSION, SESSION_KEY } = await import('../../lib/dataplane/layout.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { LEASE_MS, RouteWatch } = await import('../../lib/routes/route-watch.js');
const { XDP_REDIRECT } = await import('../../lib/dataplane/xdp-abi.js');
const { frame, ipBytes, mac } = await import('../helpers/packets.js');
const { sessionEntry } = await import('../helpers/session-entry.js');
type FrameSpec = import('../helpers/packets.js').FrameSpec;

t.ok(insideTestNetns(), 'runs in its own namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
let watch: InstanceType<typeof RouteWatch> | null = null;
t.teardown(() => {
  watch?.close();
  dp.close();
  purgePins(paths);
});

const IN = native.ifNameToIndex('in0');
const OUT = native.ifNameToIndex('out0');
dp.registerPort(IN, 0, 0);
dp.registerPort(OUT, 1, 0);

const NEIGHBOUR = '02:00:00:00:09:02';
const OUT_MAC = '02:00:00:00:09:01';
const MARKER = '02:00:00:00:0e:ee';
const flow: FrameSpec = { src: '10.8.0.2', dst: '10.9.0.2', protocol: 'udp', sport: 4000, dport: 53, ttl: 64 };
const key = Buffer.alloc(SESSION_KEY.size);
key[SESSION_KEY.offset.family] = 2;
key[SESSION_KEY.offset.protocol] = 17;
key.writeUInt16BE(flow.sport!, SESSION_KEY.offset.src_port);
key.writeUInt16BE(flow.dport!, SESSION_KEY.offset.dst_port);
ipBytes(flow.src).copy(key, SESSION_KEY.offset.src_addr);
ipBytes(flow.dst).copy(key, SESSION_KEY.offset.dst_addr);
const sessions = dp.mapFd('xdpfw_sessions');
native.mapUpdate(sessions, key, sessionEntry(dp.objectPath, { ingress: IN, egress: OUT, tcp: false }), 0);

const leaseFd = dp.mapFd('xdpfw_route_lease');
function lease(generation: number, validUntil: bigint): void {
  const v = Buffer.alloc(ROUTE_LEASE.size);
  v.writeUInt32LE(generation, ROUTE_LEASE.offset.generation);
  v.writeBigUInt64LE(validUntil, ROUTE_LEASE.offset.valid_until_ns);
  native.mapUpdate(leaseFd, Buffer.alloc(4), v, 0);
}
function readLease(): { generation: number; validUntil: bigint } {
  const v = Buffer.alloc(ROUTE_LEASE.size);
  native.mapLookup(leaseFd, Buffer.alloc(4), v);
  return { generation: v.readUInt32LE(ROUTE_LEASE.offset.generation), validUntil: v.readBigUInt64LE(ROUTE_LEASE.offset.valid_until_ns) };
}
const HOUR = 3_600_000_000_000n;

/** The entry's kept egress. */
function kept() {
  const v = Buffer.alloc(SESSION.size);
  native.mapLookup(sessions, key, v);
  const e = v.subarray(SESSION.offset.egress, SESSION.offset.egress + EGRESS.size);
  const hex = (at: number) => [...e.subarray(at, at + 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  return {
    generation: e.readUInt32LE(EGRESS.offset.generation), ifindex: e.readUInt32LE(EGRESS.offset.ifindex),
    tableId: e.readUInt32LE(EGRESS.offset.table_id), mtu: e.readUInt16LE(EGRESS.offset.mtu),
    dmac: hex(EGRESS.offset.dmac), smac: hex(EGRESS.offset.smac),
  };
}
/** Writes into the entry's kept egress (as nothing but a test would). */
function poke(edit: { dmac?: string; mtu?: number }): void {
  const v = Buffer.alloc(SESSION.size);
  native.mapLookup(sessions, key, v);
  if (edit.dmac) mac(edit.dmac).copy(v, SESSION.offset.egress + EGRESS.offset.dmac);
  if (edit.mtu !== undefined) v.writeUInt16LE(edit.mtu, SESSION.offset.egress + EGRESS.offset.mtu);
  native.mapUpdate(sessions, key, v, 0);
}
/** Forwards one packet of the flow; the destination MAC it left with. */
function forward(spec: FrameSpec = flow): string {
  const data = frame(spec);
  const r = native.progTestRun(dp.progs.rx, { data, ifindex: IN, rxQueue: 0, dataOutSize: data.length + 64 });
  t.equal(r.retval, XDP_REDIRECT, 'forwarded');
  return [...r.dataOut!.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** EGRESS_LOOKUP: established packets whose route was looked up. */
const lookups = () => Number(dp.readCounters().get('EGRESS_LOOKUP')!.packets);

t.test('without a lease nothing is kept: every packet is looked up', async (t) => {
  lease(0, 0n);
  const before = lookups();
  t.equal(forward(), NEIGHBOUR);
  t.equal(forward(), NEIGHBOUR);
  t.equal(lookups() - before, 0, 'looked up, not counted: no kept egress is in use');
  t.equal(kept().generation, 0, 'nothing kept');
  lease(5, 0n); // a generation whose lease ran out
  poke({ dmac: MARKER });
  t.equal(forward(), NEIGHBOUR, 'a kept egress under no lease is not used');
  t.equal(kept().generation, 0, 'nor written');
});

t.test('kept from the first packet under a lease, used by the next', async (t) => {
  lease(7, native.monotonicNs() + HOUR);
  const before = lookups();
  t.equal(forward(), NEIGHBOUR, 'the first packet is looked up');
  t.equal(lookups() - before, 1, 'counted');
  t.same(kept(), { generation: 7, ifindex: OUT, tableId: 0, mtu: 1500, dmac: NEIGHBOUR, smac: OUT_MAC }, 'its egress kept');
  poke({ dmac: MARKER });
  t.equal(forward(), MARKER, 'the next packet leaves by the kept egress, not a lookup');
  t.equal(forward(), MARKER);
  t.equal(forward(), MARKER);
  t.equal(lookups() - before, 1, 'the packets after it are not looked up');
});

t.test('a new generation: the kept egress is never used again', async (t) => {
  lease(8, native.monotonicNs() + HOUR);
  t.equal(forward(), NEIGHBOUR, 'looked up again');
  t.equal(kept().generation, 8, 'kept again under the new generation');
  t.equal(kept().dmac, NEIGHBOUR);
  poke({ dmac: MARKER });
  lease(8, native.monotonicNs() - 1_000_000_000n); // XDP's coarse clock trails by a tick at most
  t.equal(forward(), NEIGHBOUR, 'nor once its lease ran out');
});

t.test('a packet larger than the kept MTU is looked up', async (t) => {
  lease(9, native.monotonicNs() + HOUR);
  forward();
  poke({ dmac: MARKER, mtu: 100 });
  t.equal(forward({ ...flow, payload: Buffer.alloc(200) }), NEIGHBOUR, 'looked up');
  t.equal(kept().mtu, 1500, 'and kept again with the route MTU');
  t.equal(forward(), NEIGHBOUR);
});

t.test('the route watch: a neighbour replaced reaches the next packet', async (t) => {
  const errors: string[] = [];
  watch = new RouteWatch(leaseFd, (m) => errors.push(m));
  t.equal(readLease().validUntil, 0n, 'no lease before the listener is subscribed');
  watch.start();
  await until(() => watch!.stats().leased);
  const granted = readLease();
  t.ok(granted.validUntil > native.monotonicNs(), 'leased once subscribed');
  t.equal(forward(), NEIGHBOUR);
  t.equal(kept().generation, granted.generation, 'kept under the granted generation');

  execFileSync('ip', ['neigh', 'replace', '10.9.0.2', 'lladdr', '02:00:00:00:09:03', 'dev', 'out0', 'nud', 'permanent']);
  await until(() => readLease().generation !== granted.generation);
  t.equal(forward(), '02:00:00:00:09:03', 'the next packet goes to the new MAC');
  t.equal(forward(), '02:00:00:00:09:03');
  t.equal(kept().dmac, '02:00:00:00:09:03', 'kept under the new generation');

  // The event loop held up past the lease: a change may wait unread behind the renewal, so
  // the lease comes back under a new generation.
  const held = readLease().generation;
  const until0 = Date.now() + 2 * LEASE_MS;
  while (Date.now() < until0); // busy: no timer, no listener output is handled
  await until(() => readLease().generation !== held);
  t.ok(readLease().validUntil > native.monotonicNs(), 'a lapsed lease is granted again under a new generation');

  // The listener dies: the lease is withdrawn at once, whatever is kept.
  const pid = watch.listenerPid!;
  process.kill(pid, 'SIGKILL');
  await until(() => !watch!.stats().leased);
  t.equal(readLease().validUntil, 0n, 'lease withdrawn');
  execFileSync('ip', ['neigh', 'replace', '10.9.0.2', 'lladdr', NEIGHBOUR, 'dev', 'out0', 'nud', 'permanent']);
  t.equal(forward(), NEIGHBOUR, 'looked up while the listener is down');
  t.ok(errors.some((m) => m.includes('exited')), 'the exit is reported');
  // It is started again, and leases again once subscribed.
  await until(() => watch!.stats().leased && watch!.listenerPid !== pid);
  t.ok(readLease().validUntil > native.monotonicNs(), 'leased again');
  watch.close();
  t.equal(readLease().validUntil, 0n, 'closing withdraws the lease');
  watch = null;
});

async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

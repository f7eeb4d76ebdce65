// The egress an established session keeps in its entry (bpf/egress_cache.h)
// on the real object under BPF_PROG_RUN: kept from the first packet looked up
// under a leased route generation, used for the packets after it (shown by a
// marker MAC written into the entry), never used under another generation,
// after the lease ran out, or for a packet larger than its interface's kept
// MTU (shared by the sessions leaving there), each direction on its own; and the
// daemon's route watch (lib/routes/route-watch.ts) with a real `ip monitor`:
// a neighbour replaced in the namespace takes effect for the next packet.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [...TWO_PORTS]);

const { default: t } = await import('tap');
const { execFileSync } = await import('node:child_process');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { EGRESS, EGRESS_PORT, ROUTE_LEASE, SESSION, SESSION_KEY, readConstants } = await import('../../lib/dataplane/layout.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { LEASE_MS, RouteWatch } = await import('../../lib/routes/route-watch.js');
const { XDP_REDIRECT } = await import('../../lib/dataplane/xdp-abi.js');
const { frame, ipBytes, mac } = await import('../helpers/packets.js');
const { installSession, sessionKey } = await import('../helpers/session-entry.js');
const { reverseKey } = await import('../../lib/session/flow-key.js');
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
const entryKey = installSession(sessions, dp.objectPath, { client: key, ingress: IN, egress: OUT, tcp: false });
const ports = dp.mapFd('xdpfw_egress_ports');

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

const hex = (b: Buffer, at: number) => [...b.subarray(at, at + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const { egressPortSlots } = readConstants(dp.objectPath);
const portSlot = (ifindex: number) => ifindex % egressPortSlots;

/** The entry's kept next hop of direction `dir` (0: the client's packets), and the port entry of its egress. */
function kept(dir: 0 | 1 = 0, port = OUT) {
  const v = Buffer.alloc(SESSION.size);
  native.mapLookup(sessions, entryKey, v);
  const e = SESSION.offset.egress;
  const p = Buffer.alloc(EGRESS_PORT.size);
  const hasPort = native.mapLookup(ports, u32(portSlot(port)), p) && p.readUInt32LE(EGRESS_PORT.offset.ifindex) === port;
  return {
    generation: v.readUInt32LE(e + EGRESS.offset.generation),
    kept: (v.readUInt8(SESSION.offset.egress_kept) >> dir) & 1,
    dmac: hex(v, e + EGRESS.offset.dmac + 6 * dir),
    mtu: hasPort ? p.readUInt16LE(EGRESS_PORT.offset.mtu) : 0,
    smac: hasPort ? hex(p, EGRESS_PORT.offset.smac) : '',
    portGeneration: hasPort ? p.readUInt32LE(EGRESS_PORT.offset.generation) : 0,
  };
}
/** Writes into the entry's kept next hop or its port's MTU (as nothing but a test would). */
function poke(edit: { dmac?: string; mtu?: number }, dir: 0 | 1 = 0, port = OUT): void {
  const v = Buffer.alloc(SESSION.size);
  native.mapLookup(sessions, entryKey, v);
  if (edit.dmac) mac(edit.dmac).copy(v, SESSION.offset.egress + EGRESS.offset.dmac + 6 * dir);
  native.mapUpdate(sessions, entryKey, v, 0);
  if (edit.mtu !== undefined) {
    const p = Buffer.alloc(EGRESS_PORT.size);
    native.mapLookup(ports, u32(portSlot(port)), p);
    p.writeUInt16LE(edit.mtu, EGRESS_PORT.offset.mtu);
    native.mapUpdate(ports, u32(portSlot(port)), p, 0);
  }
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
  t.same(kept(), { generation: 7, kept: 1, dmac: NEIGHBOUR, mtu: 1500, smac: OUT_MAC, portGeneration: 7 }, 'its next hop kept, its port\'s MAC and MTU too');
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
  t.equal(kept().mtu, 100, 'the port keeps the smallest MTU of the generation');
  poke({ dmac: MARKER });
  t.equal(forward(), MARKER, 'a packet within it leaves by the kept next hop');
  lease(10, native.monotonicNs() + HOUR);
  t.equal(forward(), NEIGHBOUR, 'a new generation: looked up');
  t.equal(kept().mtu, 1500, 'and the port takes the route MTU again');
});

t.test('an interface that shares the port\'s slot takes it over: the next packet is looked up', async (t) => {
  lease(31, native.monotonicNs() + HOUR);
  forward();
  poke({ dmac: MARKER });
  t.equal(forward(), MARKER, 'kept');
  const p = Buffer.alloc(EGRESS_PORT.size);
  native.mapLookup(ports, u32(portSlot(OUT)), p);
  p.writeUInt32LE(OUT + egressPortSlots, EGRESS_PORT.offset.ifindex); // another interface's, same slot
  p.fill(0xee, EGRESS_PORT.offset.smac, EGRESS_PORT.offset.smac + 6);
  native.mapUpdate(ports, u32(portSlot(OUT)), p, 0);
  const before = lookups();
  t.equal(forward(), NEIGHBOUR, 'looked up, not sent with the other interface\'s MAC');
  t.equal(lookups() - before, 1, 'counted as a lookup');
  t.same({ smac: kept().smac, mtu: kept().mtu }, { smac: OUT_MAC, mtu: 1500 }, 'the slot is the egress interface\'s again');
  poke({ dmac: MARKER });
  t.equal(forward(), MARKER, 'and kept next hops through it are used again');
});

t.test('each direction keeps its own next hop; the port entry is the egress interface\'s', async (t) => {
  execFileSync('ip', ['neigh', 'replace', '10.8.0.2', 'lladdr', '02:00:00:00:08:02', 'dev', 'in0', 'nud', 'permanent']);
  lease(11, native.monotonicNs() + HOUR);
  const reply: FrameSpec = { ...flow, src: flow.dst, dst: flow.src, sport: flow.dport, dport: flow.sport };
  t.equal(forward(), NEIGHBOUR, 'the client\'s packet is looked up');
  const back = native.progTestRun(dp.progs.rx, { data: frame(reply), ifindex: OUT, rxQueue: 0, dataOutSize: 200 });
  t.equal(back.retval, XDP_REDIRECT, 'the server\'s packet, arriving on out0, is forwarded to in0');
  t.same([kept(0).kept, kept(1, IN).kept], [1, 1], 'both directions kept under the generation');
  const in0 = JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'in0'], { encoding: 'utf8' })) as Array<{ address: string }>;
  t.equal(kept(1, IN).smac, in0[0]!.address, 'in0\'s port entry holds its MAC');
  poke({ dmac: MARKER }, 1, IN);
  const again = native.progTestRun(dp.progs.rx, { data: frame(reply), ifindex: OUT, rxQueue: 0, dataOutSize: 200 });
  t.equal(hex(again.dataOut!, 0), MARKER, 'the server\'s next packet leaves by its own kept next hop');
  t.equal(forward(), NEIGHBOUR, 'the client\'s by its own');
  t.ok(sessionKey(reverseKey(key, Buffer.alloc(SESSION_KEY.size)) as Buffer).equals(entryKey), 'both directions find the one entry');
});

t.test('while routes select by TOS, IPv4 packets are looked up every time', async (t) => {
  const v = Buffer.alloc(ROUTE_LEASE.size);
  v.writeUInt32LE(12, ROUTE_LEASE.offset.generation);
  v.writeUInt32LE(1, ROUTE_LEASE.offset.flags); // XDPFW_ROUTE_LEASE_TOS
  v.writeBigUInt64LE(native.monotonicNs() + HOUR, ROUTE_LEASE.offset.valid_until_ns);
  native.mapUpdate(leaseFd, Buffer.alloc(4), v, 0);
  t.equal(forward(), NEIGHBOUR);
  poke({ dmac: MARKER });
  t.equal(forward(), NEIGHBOUR, 'not from the kept next hop');
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

t.test('the route watch: while a rule selects by TOS, IPv4 packets are looked up every time', async (t) => {
  const w = new RouteWatch(leaseFd, () => {});
  watch = w;
  const flags = () => {
    const v = Buffer.alloc(ROUTE_LEASE.size);
    native.mapLookup(leaseFd, Buffer.alloc(4), v);
    return v.readUInt32LE(ROUTE_LEASE.offset.flags);
  };
  w.start();
  await until(() => w.stats().leased && !w.checkingTos && flags() === 0, 'the rules read');
  forward();
  poke({ dmac: MARKER });
  t.equal(forward(), MARKER, 'no rule selects by TOS: the kept next hop is used');
  const before = readLease().generation;
  execFileSync('ip', ['rule', 'add', 'tos', '0x10', 'table', 'main', 'priority', '100']);
  try {
    await until(() => readLease().generation !== before, 'a new generation');
    t.equal(flags(), 1, 'the new generation comes with the flag set, before the rules are read');
    await until(() => !w.checkingTos, 'the rules read');
    t.equal(flags(), 1, 'and keeps it once they are: a rule selects by TOS');
    forward();
    poke({ dmac: MARKER });
    t.equal(forward(), NEIGHBOUR, 'an IPv4 packet is looked up, not sent by the kept next hop');
  } finally {
    execFileSync('ip', ['rule', 'del', 'tos', '0x10', 'table', 'main', 'priority', '100']);
  }
  await until(() => !w.checkingTos && flags() === 0, 'the flag cleared');
  forward();
  poke({ dmac: MARKER });
  t.equal(forward(), MARKER, 'the rule gone, kept next hops are used again');
  w.close();
  watch = null;
});

async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// Cached filter verdicts in the compiled xdpfw programs under BPF_PROG_RUN:
// a session entry carries the verdicts the slow path computed (input, and
// output or lo0), and XDP replays them on every packet of the established
// flow: discard drops, `count` counts, `log` writes one FILTER_LOG per packet
// with the session's zones and the filter and term ids, reject goes up to the
// slow path (which answers it), and a routing-instance verdict routes the flow
// through its kernel table. xdpfw_inject replays too; xdpfw_inject_new (the
// first packet, judged by the slow path itself) does not. Runs in its own
// network namespace:
//   in0 (ingress, 10.8.0.1/24, fd08::1/64)   out0 (egress, 10.9.0.1/24, fd09::1/64)
//   10.77.0.0/24 is a blackhole in the main table and reached by out0 in table 100.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [
  ...TWO_PORTS,
  'ip route add blackhole 10.77.0.0/24',
  'ip route add 10.77.0.0/24 via 10.9.0.2 table 100',
  // Table 100 also reaches 10.78.0.0/24 through a gateway with no neighbour entry; so does main for 10.10.0.0/24.
  'ip route add 10.78.0.0/24 via 10.9.0.3 table 100',
  'ip route add 10.10.0.0/24 via 10.9.0.3',
  'ip -6 route add blackhole fd77::/64',
  'ip -6 route add fd77::/64 via fd09::2 table 100',
]);

const { default: t } = await import('tap');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { SESSION, SESSION_KEY, COUNTER_VALUE } = await import('../../lib/dataplane/layout.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { EventCodec, readEventConstants, realtimeOffsetNs } = await import('../../lib/events/record.js');
const { FILTER_ACTION_CODE, FILTER_FLAG_LOG, NO_FILTER } = await import('../../lib/filter/descriptor.js');
const { sessionEntry, sessionKey, setDirectionVerdicts } = await import('../helpers/session-entry.js');
const { reverseKey } = await import('../../lib/session/flow-key.js');
const { RouteProbe } = await import('../../lib/slowpath/route-probe.js');

/** The route of a whole frame, as the slow path asks for one. */
function probeRoute(routes: InstanceType<typeof RouteProbe>, data: Buffer, ifindex: number, rxQueue: number, table = 0) {
  return routes.lookup(data, 0, data.length, ifindex, rxQueue, table);
}
const { frame, ipBytes } = await import('../helpers/packets.js');
type FrameSpec = import('../helpers/packets.js').FrameSpec;
type FilterDescriptor = import('../../lib/filter/descriptor.js').FilterDescriptor;
type SecurityEvent = import('../../lib/events/types.js').SecurityEvent;

const { XDP_DROP, XDP_PASS, XDP_REDIRECT } = await import('../../lib/dataplane/xdp-abi.js');
const CLIENT_ZONE = 3;
const SERVER_ZONE = 5;
const SESSION_ID = 4242n;

t.ok(insideTestNetns(), 'runs in its own namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
const codec = new EventCodec(readEventConstants(dp.objectPath));
const records: Buffer[] = [];
const ring = new native.RingBuffer(dp.mapFd('xdpfw_events'), (batch) => records.push(...batch));
let xsk: InstanceType<typeof native.Xsk> | null = null;
t.teardown(() => {
  xsk?.close();
  ring.close();
  dp.close();
  purgePins(paths);
});

const IN = native.ifNameToIndex('in0');
const OUT = native.ifNameToIndex('out0');
dp.registerPort(IN, 0, 0);
dp.registerPort(OUT, 1, 0);

function run(prog: number, data: Buffer) {
  return native.progTestRun(prog, { data, ifindex: IN, rxQueue: 0, dataOutSize: data.length + 64 });
}

/** Verdict counters (packets) moved by `fn`, by name. */
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

function events(): SecurityEvent[] {
  records.push(...ring.consume());
  const offset = realtimeOffsetNs();
  return records.splice(0).map((r) => codec.decode(r, offset));
}

function keyOf(spec: FrameSpec): Buffer {
  const k = Buffer.alloc(SESSION_KEY.size);
  k[SESSION_KEY.offset.family] = spec.src.includes(':') ? 10 : 2;
  const proto = { tcp: 6, udp: 17, icmp: 1, icmp6: 58 }[spec.protocol as string] ?? Number(spec.protocol);
  k[SESSION_KEY.offset.protocol] = proto;
  k.writeUInt16BE(spec.sport ?? 1234, SESSION_KEY.offset.src_port);
  k.writeUInt16BE(spec.dport ?? 53, SESSION_KEY.offset.dst_port);
  ipBytes(spec.src).copy(k, SESSION_KEY.offset.src_addr);
  ipBytes(spec.dst).copy(k, SESSION_KEY.offset.dst_addr);
  return k;
}

interface EntryOptions {
  input?: FilterDescriptor;
  output?: FilterDescriptor;
  reverse?: boolean;
  local?: boolean;
  fromZone?: number;
}

let verdictRow = 0;

/**
 * Writes the session entry for `spec`, as the slow path does: `spec` is the client's packets
 * (the server's, `reverse`), arriving on in0; forwarded ones leave by out0.
 */
function install(spec: FrameSpec, o: EntryOptions = {}): Buffer {
  const tuple = keyOf(spec);
  const client = o.reverse ? reverseKey(tuple, Buffer.alloc(SESSION_KEY.size)) as Buffer : tuple;
  const flags = dp.constants.sessionFlags;
  const there = o.local ? 0 : OUT;
  const v = sessionEntry(dp.objectPath, {
    client, sessionId: SESSION_ID, fromZone: o.fromZone ?? CLIENT_ZONE, toZone: SERVER_ZONE,
    ingress: o.reverse ? there : IN, egress: o.reverse ? IN : there, flags: o.local ? flags.local : 0, tcp: false,
  });
  // Its verdicts in a row of their own (row 0: no filter).
  if (o.input || o.output) {
    const row = ++verdictRow;
    setDirectionVerdicts(dp.mapFd('xdpfw_verdict_rows'), row, o.reverse ? 1 : 0, o.input ?? NO_FILTER, o.output ?? NO_FILTER);
    v.writeUInt32LE(row, SESSION.offset.verdicts);
  }
  native.mapUpdate(dp.mapFd('xdpfw_sessions'), sessionKey(tuple), v, 0);
  return tuple;
}

function verdict(action: 'accept' | 'discard' | 'reject', extra: Partial<FilterDescriptor> = {}): FilterDescriptor {
  return { filterId: 0x10002, termId: 3, counter: 0, tableId: 0, action: FILTER_ACTION_CODE[action], flags: 0, rejectReason: 0, program: 0, ...extra };
}

function filterCounter(index: number): { packets: number; bytes: number } {
  return dp.readFilterCounters([index]).get(index)!;
}

const udp4: FrameSpec = { src: '10.8.0.2', dst: '10.9.0.2', protocol: 'udp', sport: 40000, dport: 5000 };
const udp6: FrameSpec = { src: 'fd08::2', dst: 'fd09::2', protocol: 'udp', sport: 40000, dport: 5000 };
let nextPort = 41000;
/** A flow no earlier test installed. */
const fresh = (spec: FrameSpec): FrameSpec => ({ ...spec, sport: nextPort++ });

t.test('a cached discard drops every packet of the established flow, counted', async (t) => {
  for (const base of [udp4, udp6]) {
    const spec = fresh(base);
    install(spec, { input: verdict('discard') });
    let r = { retval: -1 };
    t.same(deltas(() => (r = run(dp.progs.rx, frame(spec)))), { DROP_FILTER: 1 }, `${spec.src}: dropped by the cached input verdict`);
    t.equal(r.retval, XDP_DROP);
    t.same(events(), [], 'a term without log writes no event');
    const out = fresh(base);
    install(out, { output: verdict('discard') });
    t.same(deltas(() => run(dp.progs.rx, frame(out))), { DROP_FILTER: 1 }, `${spec.src}: dropped by the cached output verdict`);
  }
});

t.test('a logging term writes one FILTER_LOG per packet with the session zones and the ids', async (t) => {
  for (const base of [udp4, udp6]) {
    const spec = fresh(base);
    install(spec, { input: verdict('accept', { flags: FILTER_FLAG_LOG, counter: 7 }) });
    const before = filterCounter(7);
    const data = frame({ ...spec, payload: Buffer.alloc(50) });
    t.same(deltas(() => { for (let i = 0; i < 5; i++) run(dp.progs.rx, data); }), { FAST_FORWARD: 5 }, 'accepted and forwarded');
    const evs = events();
    t.equal(evs.length, 5, 'one event per packet');
    for (const ev of evs) {
      if (ev.kind !== 'filter-log') { t.fail(`unexpected ${ev.kind}`); continue; }
      t.match(ev, {
        source: 'cached-input', action: 'accept', filterId: 0x10002, termId: 3, sessionId: Number(SESSION_ID),
        ingressZone: CLIENT_ZONE, egressZone: SERVER_ZONE, ingressIfindex: IN,
        sourceAddress: spec.src, destinationAddress: spec.dst, sourcePort: spec.sport, destinationPort: spec.dport,
      });
      t.ok(ev.timestampNs > 0n, 'real timestamp');
    }
    const after = filterCounter(7);
    t.equal(after.packets - before.packets, 5, '`count` counted every packet');
    t.equal(after.bytes - before.bytes, 5 * (data.length - 14), '... and their IP bytes');
  }

  // The server's direction: its zones are the other way round; a discarding log term logs the discard.
  const reply: FrameSpec = { ...fresh(udp4) };
  install(reply, { reverse: true, input: verdict('discard', { flags: FILTER_FLAG_LOG, termId: 9 }) });
  t.same(deltas(() => run(dp.progs.rx, frame(reply))), { DROP_FILTER: 1 });
  t.match(events(), [{ kind: 'filter-log', source: 'cached-input', action: 'discard', termId: 9, ingressZone: SERVER_ZONE, egressZone: CLIENT_ZONE }]);

  const out = fresh(udp4);
  install(out, { output: verdict('accept', { flags: FILTER_FLAG_LOG }) });
  t.same(deltas(() => run(dp.progs.rx, frame(out))), { FAST_FORWARD: 1 });
  t.match(events(), [{ kind: 'filter-log', source: 'cached-output', action: 'accept', egressIfindex: OUT, ingressZone: CLIENT_ZONE }],
    'the output verdict is replayed once the egress is known, and names it');
});

t.test('a cached reject goes up to the slow path, which answers it', async (t) => {
  const spec = fresh(udp4);
  install(spec, { input: verdict('reject', { flags: FILTER_FLAG_LOG, counter: 8 }) });
  const before = filterCounter(8);
  t.same(deltas(() => run(dp.progs.rx, frame(spec))), { DROP_NO_SOCKET: 1 }, 'no socket on the queue: fails closed');
  xsk = new native.Xsk({ ifindex: IN, ifname: 'in0', queue: 0 });
  dp.registerSocket(0, 0, xsk.fd);
  let r = { retval: -1 };
  t.same(deltas(() => (r = run(dp.progs.rx, frame(spec)))), { SLOW_PATH: 1 }, 'handed to the slow path');
  t.equal(r.retval, XDP_REDIRECT);
  t.same(events(), [], 'XDP neither logs ...');
  t.same(filterCounter(8), before, '... nor counts a reject: the slow path does, once');
  t.same(deltas(() => run(dp.progs.inject, frame(spec))), { DROP_FILTER: 1 }, 're-injected regardless: dropped, never forwarded');
});

t.test('xdpfw_inject replays the cached verdicts; xdpfw_inject_new does not', async (t) => {
  const spec = fresh(udp6);
  install(spec, { input: verdict('accept', { flags: FILTER_FLAG_LOG, counter: 9 }) });
  const before = filterCounter(9);
  let r = { retval: -1 };
  t.same(deltas(() => (r = run(dp.progs.injectNew, frame(spec)))), { INJECT_FORWARD: 1 }, 'the first packet is forwarded');
  t.equal(r.retval, XDP_REDIRECT);
  t.same(events(), [], 'and not logged a second time');
  t.same(filterCounter(9), before, 'nor counted a second time');
  t.same(deltas(() => run(dp.progs.inject, frame(spec))), { INJECT_FORWARD: 1 }, 'a later packet through the slow path');
  t.match(events(), [{ kind: 'filter-log', source: 'cached-input' }], 'is logged like any established packet');
  t.equal(filterCounter(9).packets - before.packets, 1);

  const dropped = fresh(udp4);
  install(dropped, { input: verdict('discard') });
  t.same(deltas(() => run(dp.progs.injectNew, frame(dropped))), { INJECT_FORWARD: 1 },
    'inject_new routes by the session alone (the slow path has enforced the filters)');
  t.same(deltas(() => run(dp.progs.inject, frame(dropped))), { DROP_FILTER: 1 }, 'inject enforces the cached discard');
});

t.test('a session to the box replays its lo0 verdict and delivers locally', async (t) => {
  for (const [src, dst] of [['10.8.0.2', '10.8.0.1'], ['fd08::2', 'fd08::1']] as const) {
    const ok: FrameSpec = { ...fresh(udp4), src, dst, dport: 22, protocol: 'tcp', tcpFlags: 0x10 };
    install(ok, { local: true, output: verdict('accept', { flags: FILTER_FLAG_LOG }) });
    let r = { retval: -1 };
    t.same(deltas(() => (r = run(dp.progs.rx, frame(ok)))), { FAST_LOCAL: 1 }, `${dst}: delivered to the kernel stack`);
    t.equal(r.retval, XDP_PASS);
    t.match(events(), [{ kind: 'filter-log', source: 'cached-lo0', action: 'accept', ingressZone: CLIENT_ZONE }]);
    const blocked: FrameSpec = { ...ok, sport: nextPort++ };
    install(blocked, { local: true, output: verdict('discard', { flags: FILTER_FLAG_LOG }) });
    t.same(deltas(() => (r = run(dp.progs.rx, frame(blocked)))), { DROP_FILTER: 1 }, `${dst}: the lo0 discard keeps it from the kernel`);
    t.equal(r.retval, XDP_DROP);
    t.match(events(), [{ kind: 'filter-log', source: 'cached-lo0', action: 'discard' }]);
  }
});

t.test('local-delivery steering: nothing addressed to the box passes without a local session', async (t) => {
  const toBox: FrameSpec = { ...fresh(udp4), dst: '10.8.0.1' };
  t.same(deltas(() => run(dp.progs.rx, frame(toBox))), { SLOW_PATH: 1 }, 'a miss to a local address goes to the slow path');
  const routes = new RouteProbe(dp.progs.route);
  t.same(probeRoute(routes, frame(toBox), IN, 0), { local: true, boxConnection: false, egress: 0, resolved: false }, 'which the route probe sees as local');
  // A session judged for forwarding whose destination became the box's own address.
  const forwarded: FrameSpec = { ...fresh(udp4), dst: '10.9.0.1' };
  install(forwarded);
  let r = { retval: -1 };
  t.same(deltas(() => (r = run(dp.progs.rx, frame(forwarded)))), { DROP_NO_ROUTE: 1 }, 'a forwarding session never delivers locally');
  t.equal(r.retval, XDP_DROP);
});

t.test('a routing-instance verdict routes the flow through its table, in XDP and in the route probe', async (t) => {
  const routes = new RouteProbe(dp.progs.route);
  for (const dst of ['10.77.0.5', 'fd77::5']) {
    const spec: FrameSpec = { ...fresh(dst.includes(':') ? udp6 : udp4), dst };
    t.same(probeRoute(routes, frame(spec), IN, 0), { local: false, boxConnection: false, egress: 0, resolved: false }, `${dst}: the main table blackholes it`);
    t.same(probeRoute(routes, frame(spec), IN, 0, 100), { local: false, boxConnection: false, egress: OUT, resolved: true }, `${dst}: table 100 sends it out of out0`);
    install(spec, { input: verdict('accept', { tableId: 100 }) });
    let r: { retval: number; dataOut: Buffer | null } = { retval: -1, dataOut: null };
    t.same(deltas(() => (r = run(dp.progs.rx, frame(spec)))), { FAST_FORWARD: 1 }, `${dst}: forwarded through table 100`);
    t.equal(r.retval, XDP_REDIRECT);
    t.same(r.dataOut!.subarray(0, 6), Buffer.from([2, 0, 0, 0, 9, 2]), 'to the next hop of table 100');
    const main: FrameSpec = { ...spec, sport: nextPort++ };
    install(main);
    t.same(deltas(() => run(dp.progs.rx, frame(main))), { DROP_NO_ROUTE: 1 }, `${dst}: without it, the main table's blackhole`);
  }
});

t.test('the filter counters are per-CPU values summed, zeroed by a reset', async (t) => {
  t.ok(filterCounter(7).packets >= 10, 'earlier tests counted into 7');
  dp.resetFilterCounters([7]);
  t.same(filterCounter(7), { packets: 0, bytes: 0 });
  t.equal(COUNTER_VALUE.size, 16);
});

t.test('the route probe tells a reply to a connection the box opened from a packet to a service', async (t) => {
  const { createServer, connect } = await import('node:net');
  const dgram = await import('node:dgram');
  const routes = new RouteProbe(dp.progs.route);
  const server = createServer((s) => s.on('error', () => {}));
  await new Promise<void>((r) => server.listen(7000, '10.8.0.1', r));
  const client = connect(7000, '10.8.0.1');
  await new Promise<void>((r) => client.on('connect', r));
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.connect(5000, '10.9.0.2', r));
  const unconnected = dgram.createSocket('udp4');
  await new Promise<void>((r) => unconnected.bind(5001, '10.9.0.1', r));
  t.teardown(() => { client.destroy(); server.close(); udp.close(); unconnected.close(); });

  const reply = (spec: FrameSpec) => probeRoute(routes, frame(spec), IN, 0);
  t.same(reply({ src: '10.8.0.1', dst: '10.8.0.1', protocol: 'tcp', sport: 7000, dport: client.localPort!, tcpFlags: 0x10 }),
    { local: true, boxConnection: true, egress: 0, resolved: false }, 'TCP: the server answering the box\'s connection');
  t.same(reply({ src: '10.8.0.2', dst: '10.8.0.1', protocol: 'tcp', sport: 40000, dport: 7000, tcpFlags: 0x02 }),
    { local: true, boxConnection: false, egress: 0, resolved: false }, 'TCP: a SYN to the listening service is no reply');
  t.same(reply({ src: '10.9.0.2', dst: '10.9.0.1', protocol: 'udp', sport: 5000, dport: udp.address().port }),
    { local: true, boxConnection: true, egress: 0, resolved: false }, 'UDP: an answer to the box\'s connected socket');
  t.same(reply({ src: '10.9.0.2', dst: '10.9.0.1', protocol: 'udp', sport: 5000, dport: 5001 }),
    { local: true, boxConnection: false, egress: 0, resolved: false }, 'UDP: to a bound, unconnected socket (a service) is no reply');
  t.same(reply({ src: '10.9.0.3', dst: '10.9.0.1', protocol: 'udp', sport: 5000, dport: udp.address().port }),
    { local: true, boxConnection: false, egress: 0, resolved: false }, 'UDP: the right port from another peer is no reply');
});

t.test('what the fast path hands to the kernel meets the output verdict; a routing-instance flow never goes', async (t) => {
  const noNeigh: FrameSpec = { ...fresh(udp4), dst: '10.10.0.7' };
  install(noNeigh, { output: verdict('accept', { flags: FILTER_FLAG_LOG }) });
  let r = { retval: -1 };
  t.same(deltas(() => (r = run(dp.progs.rx, frame(noNeigh)))), { FAST_KERNEL: 1 }, 'no neighbour: the kernel resolves it');
  t.equal(r.retval, XDP_PASS);
  t.match(events(), [{ kind: 'filter-log', source: 'cached-output', egressIfindex: OUT }], 'after its output verdict, logged');
  const blocked: FrameSpec = { ...fresh(udp4), dst: '10.10.0.8' };
  install(blocked, { output: verdict('discard') });
  t.same(deltas(() => run(dp.progs.rx, frame(blocked))), { DROP_FILTER: 1 }, 'an output discard holds on the way to the kernel');
  const tagged: FrameSpec = { ...fresh(udp4), vlans: [10] };
  install(tagged, { output: verdict('discard') });
  t.same(deltas(() => run(dp.progs.rx, frame(tagged))), { DROP_FILTER: 1 }, 'and for tagged frames');

  const pbr: FrameSpec = { ...fresh(udp4), dst: '10.78.0.5' };
  install(pbr, { input: verdict('accept', { tableId: 100 }) });
  t.same(deltas(() => (r = run(dp.progs.rx, frame(pbr)))), { DROP_PBR_KERNEL: 1 },
    'next hop of table 100 unresolved: dropped, never routed by the main table');
  t.equal(r.retval, XDP_DROP);
  const pbrTagged: FrameSpec = { ...fresh(udp4), dst: '10.77.0.5', vlans: [10] };
  install(pbrTagged, { input: verdict('accept', { tableId: 100 }) });
  t.same(deltas(() => run(dp.progs.rx, frame(pbrTagged))), { DROP_PBR_KERNEL: 1 }, 'a tagged routing-instance frame neither');
});

t.test('logged packets past the per-second budget of their kind and zone are counted suppressed, never written', async (t) => {
  const { XdpEventBudget } = await import('../../lib/events/xdp-budget.js');
  const { DEFAULT_EVENT_RATES } = await import('../../lib/events/rate-limit.js');
  const budget = new XdpEventBudget(dp, readEventConstants(dp.objectPath).kinds);
  const RATE = 10;
  const N = 1000;
  const FLOOD_ZONE = 9; // no other test logs in these zones: their budgets are whole
  const OTHER_ZONE = 10;
  budget.setRates({ ...DEFAULT_EVENT_RATES, 'filter-log': RATE });
  t.teardown(() => budget.setRates(DEFAULT_EVENT_RATES));
  events();
  const spec = fresh(udp4);
  install(spec, { fromZone: FLOOD_ZONE, input: verdict('accept', { flags: FILTER_FLAG_LOG, counter: 11 }) });
  const data = frame(spec);
  const suppressedBefore = budget.suppressed()['filter-log'];
  const lostBefore = dp.readCounters().get('EVENT_RESERVE_FAIL')!.packets;
  // The budget's seconds are read from the coarse clock, a tick behind this one at most.
  const from = native.monotonicNs() - 50_000_000n;
  t.same(deltas(() => { for (let i = 0; i < N; i++) run(dp.progs.rx, data); }), { FAST_FORWARD: N }, 'every packet forwarded, logged or not');
  const seconds = Number(native.monotonicNs() / 1_000_000_000n - from / 1_000_000_000n) + 1;
  const written = events().filter((e) => e.kind === 'filter-log' && e.sourcePort === spec.sport);
  const suppressed = budget.suppressed()['filter-log'] - suppressedBefore;
  t.ok(written.length >= RATE, `the budget is used (${written.length} events)`);
  t.ok(written.length <= RATE * seconds, `at most ${RATE} events per second: ${written.length} in ${seconds} second window(s)`);
  t.equal(written.length + suppressed, N, 'every other logged packet is counted suppressed');
  t.equal(dp.readCounters().get('EVENT_RESERVE_FAIL')!.packets - lostBefore, 0n, 'the ring never filled: no reservation once over budget');
  t.equal(filterCounter(11).packets, N, '`count` still counts every packet');

  const other = fresh(udp4);
  install(other, { fromZone: OTHER_ZONE, input: verdict('accept', { flags: FILTER_FLAG_LOG }) });
  run(dp.progs.rx, frame(other));
  t.match(events(), [{ kind: 'filter-log', ingressZone: OTHER_ZONE, sourcePort: other.sport }], 'another zone has its own budget');
});

t.test('later fragments meet their session\'s cached verdicts and routing table, like their first fragment', async (t) => {
  let id = 0x700;
  /** The first fragment (offset 0) or a later one of datagram `fid`; the ports are in the first one only. */
  const fragment = (spec: FrameSpec, fid: number, offset8: number, more: boolean): Buffer =>
    frame({ ...spec, fragmentId: fid, fragmentOffset: offset8, moreFragments: more, payload: Buffer.alloc(64), ...(spec.src.includes(':') ? { ext: [44] } : {}) });
  for (const base of [udp4, udp6]) {
    const v6 = base.src.includes(':');
    const pbr: FrameSpec = { ...fresh(base), dst: v6 ? 'fd77::6' : '10.77.0.6' };
    install(pbr, { input: verdict('accept', { tableId: 100 }) });
    let fid = id++;
    t.same(deltas(() => run(dp.progs.rx, fragment(pbr, fid, 0, true))), { FAST_FORWARD: 1 }, `${pbr.dst}: first fragment through table 100`);
    let r: { retval: number; dataOut: Buffer | null } = { retval: -1, dataOut: null };
    t.same(deltas(() => (r = run(dp.progs.rx, fragment(pbr, fid, 9, false)))), { FAST_FORWARD: 1 }, `${pbr.dst}: later fragment through table 100 too`);
    t.same(r.dataOut!.subarray(0, 6), Buffer.from([2, 0, 0, 0, 9, 2]), 'to the next hop of table 100');

    const main: FrameSpec = { ...pbr, sport: nextPort++ };
    install(main);
    fid = id++;
    t.same(deltas(() => run(dp.progs.rx, fragment(main, fid, 0, true))), { DROP_NO_ROUTE: 1 }, `${main.dst}: without it, the first fragment meets the blackhole`);
    t.same(deltas(() => run(dp.progs.rx, fragment(main, fid, 9, false))), { DROP_NO_ROUTE: 1 }, `${main.dst}: and so does the later one`);

    const discarded = fresh(base);
    install(discarded, { input: verdict('discard', { counter: 12 }) });
    const counted = filterCounter(12).packets;
    fid = id++;
    t.same(deltas(() => run(dp.progs.rx, fragment(discarded, fid, 0, true))), { DROP_FILTER: 1 }, `${base.src}: first fragment discarded by the cached input verdict`);
    t.same(deltas(() => (r = run(dp.progs.rx, fragment(discarded, fid, 9, false)))), { DROP_FILTER: 1 }, `${base.src}: the later one too`);
    t.equal(r.retval, XDP_DROP);
    t.equal(filterCounter(12).packets - counted, 2, '`count` counts both');

    const logged = fresh(base);
    install(logged, { output: verdict('accept', { flags: FILTER_FLAG_LOG, termId: 6 }) });
    fid = id++;
    run(dp.progs.rx, fragment(logged, fid, 0, true));
    run(dp.progs.rx, fragment(logged, fid, 9, false));
    t.match(events().filter((e) => e.kind === 'filter-log' && e.termId === 6), [
      { source: 'cached-output', sourcePort: logged.sport, destinationPort: logged.dport },
      { source: 'cached-output', sourcePort: logged.sport, destinationPort: logged.dport },
    ], `${base.src}: the output verdict logs both, with the session's ports`);
  }
});

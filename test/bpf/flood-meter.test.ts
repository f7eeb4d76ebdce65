// The flood meters (bpf/flood_meter.h) of the compiled object under BPF_PROG_RUN: budgets per
// source (IPv4 /32, IPv6 /64) and per class (TCP SYN, other first packets), written as the
// daemon writes them (lib/flood/meters.ts), and the deny cache as the slow path fills it
// (lib/flood/deny-cache.ts), made stale by a new generation (a reload). A socket sits on the
// queue, so what is not shed is counted SLOW_PATH (redirected to it).
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [...TWO_PORTS]);

const { default: t } = await import('tap');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { SESSION_KEY } = await import('../../lib/dataplane/layout.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { FloodMeters } = await import('../../lib/flood/meters.js');
const { DenyCache } = await import('../../lib/flood/deny-cache.js');
const { DENY_ENTRY, DENY_KEY } = await import('../../lib/flood/layout.js');
const { frame, ipBytes } = await import('../helpers/packets.js');
const { XDP_DROP, XDP_REDIRECT } = await import('../../lib/dataplane/xdp-abi.js');
type FrameSpec = import('../helpers/packets.js').FrameSpec;
type SlowPathBudget = import('../../lib/config/types.js').SlowPathBudget;

t.ok(insideTestNetns(), 'runs in its own namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
const inIndex = native.ifNameToIndex('in0');
dp.registerPort(inIndex, 0, 0);
dp.registerPort(native.ifNameToIndex('out0'), 1, 0);
const sock = new native.Xsk({ ifindex: inIndex, ifname: 'in0', queue: 0 });
dp.registerSocket(0, 0, sock.fd);
const outSock = new native.Xsk({ ifindex: native.ifNameToIndex('out0'), ifname: 'out0', queue: 0 });
dp.registerSocket(1, 0, outSock.fd);
t.teardown(() => {
  sock.close();
  outSock.close();
  dp.close();
  purgePins(paths);
});

const meters = new FloodMeters(dp.objectPath, dp.mapFd('xdpfw_flood_settings'));
const denyCache = new DenyCache(dp.mapFd('xdpfw_deny_cache'), () => meters.generation);
const OFF: SlowPathBudget = { capacity: 1, perSource: 0, tcpSyn: 0, newFlow: 0, exception: 0, burstMs: 1000, denyCacheTimeout: 0 };

const run = (data: Buffer) => native.progTestRun(dp.progs.rx, { data, ifindex: inIndex, rxQueue: 0, dataOutSize: data.length + 64 });

/** Counter deltas (packets) of `fn`, by counter name, and the seconds it took. */
function deltas(fn: () => void): { d: Record<string, number>; seconds: number } {
  const before = dp.readCounters();
  const t0 = process.hrtime.bigint();
  fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const d: Record<string, number> = {};
  for (const [name, v] of dp.readCounters()) {
    const n = Number(v.packets - (before.get(name)?.packets ?? 0n));
    if (n !== 0) d[name] = n;
  }
  return { d, seconds };
}

/** `n` first packets: UDP from `src`, a new source port each. */
function udpFlows(src: string, n: number, dst = src.includes(':') ? 'fd09::2' : '10.9.0.2'): Buffer[] {
  return Array.from({ length: n }, (_, i) => frame({ src, dst, protocol: 'udp', sport: 10000 + i, dport: 9 }));
}

// A rate of 1/s with a burst of one second admits two packets at once (a full bucket, then one
// second ahead); a slow run earns at most one more per second it took.
const admitsAtMost = (seconds: number) => 2 + Math.ceil(seconds);

t.test('per source: a source over its budget is shed, another source is not', async (t) => {
  meters.configure({ ...OFF, perSource: 1 });
  const flood = udpFlows('10.8.0.2', 50);
  const { d, seconds } = deltas(() => flood.forEach(run));
  t.ok(d.SLOW_PATH! >= 1 && d.SLOW_PATH! <= admitsAtMost(seconds), `${d.SLOW_PATH} of 50 sent up`);
  t.equal(d.SLOW_PATH! + d.SLOW_PATH_SHED_SOURCE!, 50, 'the rest counted as slow_path_shed_source');
  const other = deltas(() => t.equal(run(udpFlows('10.8.0.3', 1)[0]!).retval, XDP_REDIRECT));
  t.same(other.d, { SLOW_PATH: 1 }, 'another source still gets through');
});

t.test('per source: IPv6 sources share their /64', async (t) => {
  meters.configure({ ...OFF, perSource: 1 });
  const a = deltas(() => [...udpFlows('fd08::2', 10), ...udpFlows('fd08::3', 10)].forEach(run));
  t.ok(a.d.SLOW_PATH! <= admitsAtMost(a.seconds), `${a.d.SLOW_PATH} of 20 from one /64 sent up`);
  t.ok(a.d.SLOW_PATH_SHED_SOURCE! >= 20 - admitsAtMost(a.seconds));
  const b = deltas(() => run(udpFlows('fd08:0:0:1::2', 1)[0]!));
  t.same(b.d, { SLOW_PATH: 1 }, 'another /64 is another source');
});

t.test('per class: a flood of new UDP flows from many sources does not take the budget of TCP SYNs', async (t) => {
  meters.configure({ ...OFF, newFlow: 1, tcpSyn: 1 });
  // Every packet from another source: only the class budget can shed them.
  const spoofed = Array.from({ length: 50 }, (_, i) => udpFlows(`10.8.${1 + (i >> 8)}.${i & 255}`, 1)[0]!);
  const { d, seconds } = deltas(() => spoofed.forEach(run));
  t.ok(d.SLOW_PATH! <= admitsAtMost(seconds), `${d.SLOW_PATH} of 50 sent up`);
  t.equal(d.SLOW_PATH! + d.SLOW_PATH_SHED_NEW_FLOW!, 50, 'the rest counted as slow_path_shed_new_flow');
  const syn: FrameSpec = { src: '10.8.0.2', dst: '10.9.0.2', protocol: 'tcp', sport: 40000, dport: 443, tcpFlags: 0x02 };
  let r = { retval: -1 };
  t.same(deltas(() => (r = run(frame(syn)))).d, { SLOW_PATH: 1 }, 'a SYN still goes up');
  t.equal(r.retval, XDP_REDIRECT);
  const syns = Array.from({ length: 20 }, (_, i) => frame({ ...syn, sport: 41000 + i }));
  const s = deltas(() => syns.forEach(run));
  t.ok(s.d.SLOW_PATH_SHED_SYN! >= 20 - admitsAtMost(s.seconds), `SYNs have a budget of their own too (${s.d.SLOW_PATH_SHED_SYN} shed)`);
  t.notOk(s.d.SLOW_PATH_SHED_NEW_FLOW, 'counted by their class');
});

t.test('budgets off (0): nothing is shed', async (t) => {
  meters.configure(OFF);
  const { d } = deltas(() => udpFlows('10.8.0.2', 200).forEach(run));
  t.same(d, { SLOW_PATH: 200 });
});

/** The session key XDP computes for a UDP frame. */
function udpKey(src: string, dst: string, sport: number, dport: number): Buffer {
  const k = Buffer.alloc(SESSION_KEY.size);
  k[SESSION_KEY.offset.family] = src.includes(':') ? 10 : 2;
  k[SESSION_KEY.offset.protocol] = 17;
  k.writeUInt16BE(sport, SESSION_KEY.offset.src_port);
  k.writeUInt16BE(dport, SESSION_KEY.offset.dst_port);
  ipBytes(src).copy(k, SESSION_KEY.offset.src_addr);
  ipBytes(dst).copy(k, SESSION_KEY.offset.dst_addr);
  return k;
}

t.test('deny cache: repeats of a denied flow are dropped in XDP until the generation changes', async (t) => {
  meters.configure({ ...OFF, denyCacheTimeout: 60 });
  const denied = frame({ src: '10.8.0.2', dst: '10.9.0.2', protocol: 'udp', sport: 5555, dport: 9 });
  t.same(deltas(() => run(denied)).d, { SLOW_PATH: 1 }, 'before the deny: to the slow path');
  denyCache.remember({ key: udpKey('10.8.0.2', '10.9.0.2', 5555, 9), ingressIfindex: inIndex, egressIfindex: 0, fromZoneId: 1, toZoneId: 2, policyId: 7, log: false });
  let r = { retval: -1 };
  t.same(deltas(() => { for (let i = 0; i < 10; i++) r = run(denied); }).d, { DENY_CACHE_HIT: 10 }, 'repeats: deny_cache_hit, none sent up');
  t.equal(r.retval, XDP_DROP);
  const otherPort = frame({ src: '10.8.0.2', dst: '10.9.0.2', protocol: 'udp', sport: 5556, dport: 9 });
  t.same(deltas(() => run(otherPort)).d, { SLOW_PATH: 1 }, 'another flow is not matched');
  const otherIf = deltas(() => native.progTestRun(dp.progs.rx, { data: denied, ifindex: native.ifNameToIndex('out0'), rxQueue: 0 }));
  t.same(otherIf.d, { SLOW_PATH: 1 }, 'the same tuple from another interface is not matched');
  meters.configure({ ...OFF, denyCacheTimeout: 60 }); // a reload
  t.same(deltas(() => run(denied)).d, { SLOW_PATH: 1 }, 'after a new generation: judged again');
});

t.test('deny cache: an entry older than deny-cache-timeout is stale; timeout 0 turns the cache off', async (t) => {
  meters.configure({ ...OFF, denyCacheTimeout: 5 });
  const denied = frame({ src: '10.8.0.2', dst: '10.9.0.2', protocol: 'udp', sport: 6666, dport: 9 });
  const k = Buffer.alloc(DENY_KEY.size);
  udpKey('10.8.0.2', '10.9.0.2', 6666, 9).copy(k, DENY_KEY.offset.flow);
  k.writeUInt32LE(inIndex, DENY_KEY.offset.ifindex);
  const v = Buffer.alloc(DENY_ENTRY.size);
  v.writeUInt32LE(meters.generation, DENY_ENTRY.offset.generation);
  v.writeBigUInt64LE(native.monotonicNs() - 10_000_000_000n, DENY_ENTRY.offset.denied_ns);
  native.mapUpdate(dp.mapFd('xdpfw_deny_cache'), k, v, 0);
  t.same(deltas(() => run(denied)).d, { SLOW_PATH: 1 }, 'denied 10 s ago, timeout 5 s: judged again');
  v.writeBigUInt64LE(native.monotonicNs(), DENY_ENTRY.offset.denied_ns);
  native.mapUpdate(dp.mapFd('xdpfw_deny_cache'), k, v, 0);
  t.same(deltas(() => run(denied)).d, { DENY_CACHE_HIT: 1 }, 'denied just now: dropped');
  meters.configure({ ...OFF, denyCacheTimeout: 0 });
  v.writeUInt32LE(meters.generation, DENY_ENTRY.offset.generation);
  native.mapUpdate(dp.mapFd('xdpfw_deny_cache'), k, v, 0);
  t.same(deltas(() => run(denied)).d, { SLOW_PATH: 1 }, 'timeout 0: never cached');
});

t.test('a packet of a known flow is metered as an exception, not a new flow', async (t) => {
  meters.configure({ ...OFF, exception: 1, newFlow: 0 });
  // A later fragment whose first one is still being judged goes up to be held (an exception).
  const head = frame({ src: '10.8.0.2', dst: '10.9.0.2', protocol: 'udp', sport: 7000, dport: 9, fragmentId: 99, moreFragments: true, payload: Buffer.alloc(64) });
  const tails = Array.from({ length: 20 }, (_, i) =>
    frame({ src: '10.8.0.2', dst: '10.9.0.2', protocol: 'udp', fragmentId: 99, fragmentOffset: 9 + i, moreFragments: true, payload: Buffer.alloc(64) }));
  t.same(deltas(() => run(head)).d, { SLOW_PATH: 1 }, 'the first fragment: a new flow, not metered');
  const { d, seconds } = deltas(() => tails.forEach(run));
  t.ok((d.SLOW_PATH_SHED_EXCEPTION ?? 0) >= 20 - admitsAtMost(seconds), `later fragments held: ${JSON.stringify(d)}`);
});

t.test('a first fragment dropped by the deny cache: its later fragments are dropped in XDP, not held for the slow path', async (t) => {
  meters.configure({ ...OFF, denyCacheTimeout: 60 });
  denyCache.remember({ key: udpKey('10.8.0.2', '10.9.0.2', 7100, 9), ingressIfindex: inIndex, egressIfindex: 0, fromZoneId: 1, toZoneId: 2, policyId: 7, log: false });
  const head = frame({ src: '10.8.0.2', dst: '10.9.0.2', protocol: 'udp', sport: 7100, dport: 9, fragmentId: 123, moreFragments: true, payload: Buffer.alloc(64) });
  const tail = frame({ src: '10.8.0.2', dst: '10.9.0.2', protocol: 'udp', fragmentId: 123, fragmentOffset: 9, payload: Buffer.alloc(64) });
  t.same(deltas(() => run(head)).d, { DENY_CACHE_HIT: 1 }, 'the first fragment: a deny-cache hit');
  t.same(deltas(() => run(tail)).d, { DROP_FRAGMENT_NO_FIRST: 1 }, 'the later one: dropped as following no first fragment');
});

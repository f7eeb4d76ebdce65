// Where the fast path's time goes: each stage of the real object run by
// BPF_PROG_RUN in plain (not live) mode, so the kernel times the program
// alone (no driver, no redirect executed), against the bare programs the
// targets compare with. Variants isolate one cost each: xdpfw_rx against
// xdpfw_session run directly gives the entry program and its tail call,
// UDP against TCP the connection tracking, and so on. All variants run in
// turn within each round, so a loaded machine slows them alike.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [...TWO_PORTS]);

const { compileText } = await import('../../lib/config/compile.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { ROUTE_LEASE, SESSION_KEY } = await import('../../lib/dataplane/layout.js');
const native = await import('../../lib/dataplane/native.js');
const { XDP_DROP, XDP_REDIRECT } = await import('../../lib/dataplane/xdp-abi.js');
const { applyScreens } = await import('../../lib/screens/apply.js');
const { bpfObjectPath } = await import('../../lib/util/paths.js');
const { frame, ipBytes } = await import('../helpers/packets.js');
const { installSession } = await import('../helpers/session-entry.js');
const { compare, fmt, report } = await import('./lib/report.js');
type FrameSpec = import('../helpers/packets.js').FrameSpec;

const ROUNDS = 5;
// One run per call: plain mode runs repeats on one copy of the frame (a
// forwarded frame's TTL would run out), and repeats switch the kernel's XDP
// dispatcher, an RCU grace period per call. The kernel's timing of one run
// includes reading its clock, the same for every variant: compare the
// differences.
const REPEAT = 1;
const CALLS = 20_000;

if (!insideTestNetns()) throw new Error('not in the bench namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
const bench = { fwd: native.openObject(bpfObjectPath('bench/fwd')), sink: native.openObject(bpfObjectPath('bench/sink')) };
try {
  const IN = native.ifNameToIndex('in0');
  const OUT = native.ifNameToIndex('out0');
  dp.registerPort(IN, 0, 1);
  dp.registerPort(OUT, 1, 2);
  const r = compileText(`security {
    zones { security-zone trust { interfaces { out0; } } security-zone untrust { interfaces { in0; } }
            security-zone flood { interfaces { in0p; } screen s; } }
    screen { ids-option s { tcp { land; syn-flood { attack-threshold 1; alarm-threshold 1; } } } }
  }`, 'stages.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  const FLOOD = native.ifNameToIndex('in0p');
  dp.setInterfaceZone(FLOOD, 2, r.config.zones.find((z) => z.name === 'flood')!.id);
  applyScreens(dp, r.config);

  const udp: FrameSpec = { src: '10.8.0.2', dst: '10.9.0.2', protocol: 'udp', sport: 1234, dport: 80, ttl: 255 };
  const tcp: FrameSpec = { src: '10.8.0.2', dst: '10.9.0.2', protocol: 'tcp', sport: 1234, dport: 80, tcpFlags: 0x10, ttl: 255 };
  for (const spec of [udp, tcp]) {
    const key = Buffer.alloc(SESSION_KEY.size);
    key[SESSION_KEY.offset.family] = 2;
    key[SESSION_KEY.offset.protocol] = spec.protocol === 'tcp' ? 6 : 17;
    key.writeUInt16BE(spec.sport!, SESSION_KEY.offset.src_port);
    key.writeUInt16BE(spec.dport!, SESSION_KEY.offset.dst_port);
    ipBytes(spec.src).copy(key, SESSION_KEY.offset.src_addr);
    ipBytes(spec.dst).copy(key, SESSION_KEY.offset.dst_addr);
    installSession(dp.mapFd('xdpfw_sessions'), dp.objectPath, { client: key, ingress: IN, egress: OUT, tcp: spec.protocol === 'tcp' });
  }
  const land = frame({ src: '10.0.0.1', dst: '10.0.0.1', protocol: 'tcp', tcpFlags: 0x02, sport: 1000, dport: 80 });
  const syn = frame({ src: '10.0.0.2', dst: '10.0.0.1', protocol: 'tcp', tcpFlags: 0x02, sport: 1000, dport: 80 });

  // The route lease (bpf/egress_cache.h) as the daemon's route watch grants it, or withdrawn:
  // with it, established packets are forwarded by the egress kept in their entry.
  const leaseValue = Buffer.alloc(ROUTE_LEASE.size);
  const lease = (on: boolean) => {
    leaseValue.writeUInt32LE(1, ROUTE_LEASE.offset.generation);
    leaseValue.writeBigUInt64LE(on ? native.monotonicNs() + 3_600_000_000_000n : 0n, ROUTE_LEASE.offset.valid_until_ns);
    native.mapUpdate(dp.mapFd('xdpfw_route_lease'), Buffer.alloc(4), leaseValue, 0);
  };
  interface Variant { name: string; prog: number; data: Buffer; ifindex: number; expect: number; leased?: boolean }
  const variants: Variant[] = [
    { name: 'bare XDP_DROP', prog: bench.sink.progFd('bare_drop'), data: syn, ifindex: FLOOD, expect: XDP_DROP },
    { name: 'minimal forwarder', prog: bench.fwd.progFd('min_fwd'), data: frame(udp), ifindex: IN, expect: XDP_REDIRECT },
    { name: 'xdpfw_rx: established UDP', prog: dp.progs.rx, data: frame(udp), ifindex: IN, expect: XDP_REDIRECT },
    { name: 'xdpfw_rx: established UDP, egress kept', prog: dp.progs.rx, data: frame(udp), ifindex: IN, expect: XDP_REDIRECT, leased: true },
    { name: 'xdpfw_session alone: established UDP', prog: dp.programFd('xdpfw_session'), data: frame(udp), ifindex: IN, expect: XDP_REDIRECT },
    { name: 'xdpfw_rx: established TCP', prog: dp.progs.rx, data: frame(tcp), ifindex: IN, expect: XDP_REDIRECT },
    { name: 'xdpfw_rx: established TCP, egress kept', prog: dp.progs.rx, data: frame(tcp), ifindex: IN, expect: XDP_REDIRECT, leased: true },
    { name: 'xdpfw_rx: land screen', prog: dp.progs.rx, data: land, ifindex: FLOOD, expect: XDP_DROP },
    { name: 'xdpfw_screens alone: land screen', prog: dp.programFd('xdpfw_screens'), data: land, ifindex: FLOOD, expect: XDP_DROP },
    { name: 'xdpfw_rx: SYN flood screen', prog: dp.progs.rx, data: syn, ifindex: FLOOD, expect: XDP_DROP },
  ];
  const ns = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = -1; round < ROUNDS; round++) { // round -1: warm-up
    for (const v of variants) {
      lease(v.leased ?? false);
      let total = 0;
      for (let call = 0; call < CALLS; call++) {
        const res = native.progTestRun(v.prog, { data: v.data, ifindex: v.ifindex, rxQueue: 0, repeat: REPEAT });
        if (res.retval !== v.expect) throw new Error(`${v.name}: verdict ${res.retval}, expected ${v.expect}`);
        total += res.duration;
      }
      if (round >= 0) ns.get(v.name)!.push(total / CALLS);
    }
  }
  const series = (name: string): number[] => ns.get(name)!;
  const row = (name: string, base: string) => compare(name, 'ns/packet', ['xdpfw', series(name)], [base, series(base)]);
  const median = (name: string): number => [...series(name)].sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
  report({
    id: 'stages',
    title: 'Where the fast path spends its time',
    method: `Each program run by BPF_PROG_RUN in plain mode (the kernel times the program alone; redirects are not executed), ${fmt(CALLS)} calls of one run each per round (times include the kernel's reading of its clock, alike for all), all variants in turn in each of ${ROUNDS} rounds after a warm-up. Sessions installed directly in the map; \"egress kept\": with the route lease granted (as the daemon's route watch does), so the egress kept in the session entry replaces the route lookup; screens: land and a SYN flood past threshold 1 on a zone of their own. Ratios: subject time over baseline time (lower is better).`,
    comparisons: [
      row('xdpfw_rx: established UDP', 'minimal forwarder'),
      row('xdpfw_rx: established UDP, egress kept', 'minimal forwarder'),
      row('xdpfw_session alone: established UDP', 'minimal forwarder'),
      row('xdpfw_rx: established TCP', 'minimal forwarder'),
      row('xdpfw_rx: established TCP, egress kept', 'minimal forwarder'),
      row('xdpfw_rx: land screen', 'bare XDP_DROP'),
      row('xdpfw_screens alone: land screen', 'bare XDP_DROP'),
      row('xdpfw_rx: SYN flood screen', 'bare XDP_DROP'),
    ],
    facts: variants.map((v) => [v.name, `${fmt(median(v.name))} ns (median of ${ROUNDS} rounds)`] as [string, string]),
  });
} finally {
  bench.fwd.close();
  bench.sink.close();
  dp.close();
  purgePins(paths);
}

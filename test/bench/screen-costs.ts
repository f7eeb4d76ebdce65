// What one screen drop costs the program itself: xdpfw_rx on a land attack
// and on a SYN flood past its threshold, against a bare XDP_DROP, each run
// by plain BPF_PROG_RUN with a large repeat count on one frame (a dropped
// frame is never rewritten, so every repeat judges the same packet). The
// kernel's own average per run leaves out the live-frame machinery the
// `screens` benchmark includes: these are the nanoseconds the screens and
// their accounting add, the figures BENCHMARKS.md breaks down.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';

reexecInNetns(import.meta.url, [
  'ip link add name bench0 type veth peer name bench0p',
  'ip link set bench0 up && ip link set bench0p up',
]);

const { compileText } = await import('../../lib/config/compile.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const native = await import('../../lib/dataplane/native.js');
const { XDP_DROP } = await import('../../lib/dataplane/xdp-abi.js');
const { applyScreens } = await import('../../lib/screens/apply.js');
const { bpfObjectPath } = await import('../../lib/util/paths.js');
const { frame } = await import('../helpers/packets.js');
const { compare, fmt, report } = await import('./lib/report.js');

const ROUNDS = 7;
const REPEAT = 1_000_000;

if (!insideTestNetns()) throw new Error('not in the bench namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
const sink = native.openObject(bpfObjectPath('bench/sink'));
try {
  const ifindex = native.ifNameToIndex('bench0');
  dp.setInterfaceZone(ifindex, 0, 1);
  const r = compileText(`security {
    zones { security-zone flood { interfaces { bench0; } screen s; } }
    screen { ids-option s { tcp { land; syn-flood { attack-threshold 1; alarm-threshold 1; } } } }
  }`, 'bench.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  applyScreens(dp, r.config);
  const land = frame({ src: '10.0.0.1', dst: '10.0.0.1', protocol: 'tcp', tcpFlags: 0x02, sport: 1000, dport: 80 });
  const syn = frame({ src: '10.0.0.2', dst: '10.0.0.1', protocol: 'tcp', tcpFlags: 0x02, sport: 1000, dport: 80 });
  const variants: Array<[string, number, Buffer]> = [
    ['bare XDP_DROP', sink.progFd('bare_drop'), syn],
    ['xdpfw_rx: land screen', dp.progs.rx, land],
    ['xdpfw_rx: SYN flood screen', dp.progs.rx, syn],
  ];
  const ns = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let round = -1; round < ROUNDS; round++) { // round -1: warm-up
    for (const [name, prog, data] of variants) {
      const res = native.progTestRun(prog, { data, ifindex, rxQueue: 0, repeat: REPEAT });
      if (res.retval !== XDP_DROP) throw new Error(`${name}: verdict ${res.retval}, expected a drop`);
      if (round >= 0) ns.get(name)!.push(res.duration);
    }
  }
  const series = (name: string): number[] => ns.get(name)!;
  const median = (name: string): number => [...series(name)].sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
  report({
    id: 'screen-costs',
    title: 'What a screen drop costs the program',
    method: `Plain BPF_PROG_RUN (no live frames) of each program on one frame, ${fmt(REPEAT)} repeats per call (the kernel's average per run), the three in turn in each of ${ROUNDS} rounds after a warm-up. Ratios: time over the bare XDP_DROP's (lower is better).`,
    comparisons: variants.slice(1).map(([name]) => compare(name, 'ns/packet', ['xdpfw', series(name)], ['bare XDP_DROP', series('bare XDP_DROP')])),
    facts: variants.map(([name]) => [name, `${fmt(median(name))} ns (median of ${ROUNDS} rounds)`] as [string, string]),
  });
} finally {
  sink.close();
  dp.close();
  purgePins(paths);
}

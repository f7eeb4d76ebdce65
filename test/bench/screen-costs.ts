// What one screen drop costs the program itself: xdpfw_rx on a land attack
// and on a SYN flood past its threshold, against a bare XDP_DROP, each run
// by plain BPF_PROG_RUN with a large repeat count on one frame (a dropped
// frame is never rewritten, so every repeat judges the same packet). The
// kernel's own average per run leaves out the live-frame machinery the
// `screens` benchmark includes: these are the nanoseconds the screens and
// their accounting add, the figures BENCHMARKS.md breaks down. least_land
// (the least a counting land screen does) is the floor a land drop could
// reach.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';

import { SCREEN_RIG_NETNS } from './lib/screen-rig-netns.js';

reexecInNetns(import.meta.url, SCREEN_RIG_NETNS);

const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const native = await import('../../lib/dataplane/native.js');
const { XDP_DROP } = await import('../../lib/dataplane/xdp-abi.js');
const { screenRig } = await import('./lib/screen-rig.js');
const { compare, fmt, report } = await import('./lib/report.js');

const ROUNDS = 7;
const REPEAT = 1_000_000;

if (!insideTestNetns()) throw new Error('not in the bench namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
const rig = screenRig(dp);
try {
  const { ifindex, land, syn } = rig;
  const variants: Array<[string, number, Buffer]> = [
    ['bare XDP_DROP', rig.bareDrop, syn],
    ['least_land', rig.leastLand, land],
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
    method: `Plain BPF_PROG_RUN (no live frames) of each program on one frame, ${fmt(REPEAT)} repeats per call (the kernel's average per run), all in turn in each of ${ROUNDS} rounds after a warm-up. Ratios: time over the baseline's (lower is better).`,
    comparisons: [
      ...variants.slice(1).map(([name]) => compare(name, 'ns/packet', [name === 'least_land' ? 'least_land' : 'xdpfw', series(name)], ['bare XDP_DROP', series('bare XDP_DROP')])),
      compare('xdpfw_rx: land screen against least_land', 'ns/packet', ['xdpfw', series('xdpfw_rx: land screen')], ['least_land', series('least_land')]),
    ],
    facts: variants.map(([name]) => [name, `${fmt(median(name))} ns (median of ${ROUNDS} rounds)`] as [string, string]),
  });
} finally {
  rig.sink.close();
  dp.close();
  purgePins(paths);
}

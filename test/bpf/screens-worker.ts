// One CPU's share of a flood for screens.test.ts (run under `taskset`):
// opens the xdpfw object on the test's pinned maps, waits for the common
// start time, runs xdpfw_rx `repeat` times on one frame with BPF_PROG_RUN,
// and prints when it ran, so the test can check the runs overlapped.
import { statePaths } from '../../lib/daemon/state-paths.js';
import { Dataplane } from '../../lib/dataplane/dataplane.js';
import { ifNameToIndex, monotonicNs, progTestRun } from '../../lib/dataplane/native.js';

const [stateDir, ifname, hex, repeat, startNs] = process.argv.slice(2) as [string, string, string, string, string];
const dp = new Dataplane(statePaths(stateDir));
const data = Buffer.from(hex, 'hex');
const ifindex = ifNameToIndex(ifname);
const start = BigInt(startNs);
while (monotonicNs() < start) {
  // spin: every worker starts at the same instant
}
const began = monotonicNs();
progTestRun(dp.progs.rx, { data, ifindex, rxQueue: 0, repeat: Number(repeat) });
process.stdout.write(`${JSON.stringify({ began: String(began), ended: String(monotonicNs()) })}\n`);
dp.close();

// One CPU's share of a flood for screens.test.ts (run under `taskset`):
// opens the xdpfw object on the test's pinned maps, says it is ready, reads
// the common start time from stdin, waits for it, runs xdpfw_rx `repeat`
// times on one frame with BPF_PROG_RUN, and prints when it ran, so the test
// can check the runs fell in one window.
import { statePaths } from '../../lib/daemon/state-paths.js';
import { Dataplane } from '../../lib/dataplane/dataplane.js';
import { ifNameToIndex, monotonicNs, progTestRun } from '../../lib/dataplane/native.js';

const [stateDir, ifname, hex, repeat] = process.argv.slice(2) as [string, string, string, string];
const dp = new Dataplane(statePaths(stateDir));
const data = Buffer.from(hex, 'hex');
const ifindex = ifNameToIndex(ifname);

let input = '';
process.stdin.on('data', (d: Buffer) => {
  input += d.toString();
  if (!input.includes('\n')) return;
  process.stdin.destroy();
  const start = BigInt(input.trim());
  while (monotonicNs() < start) {
    // spin: every worker starts at the same instant
  }
  const began = monotonicNs();
  progTestRun(dp.progs.rx, { data, ifindex, rxQueue: 0, repeat: Number(repeat) });
  process.stdout.write(`${JSON.stringify({ began: String(began), ended: String(monotonicNs()) })}\n`);
  dp.close();
});
process.stdout.write('{"ready":true}\n');

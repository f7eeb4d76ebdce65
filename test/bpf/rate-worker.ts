// One CPU of rate-accuracy.test.ts (run under `taskset`): opens the xdpfw
// object on the test's pinned maps once, says it is ready, then for every
// line {start, hex, repeat} on stdin waits for `start` (CLOCK_MONOTONIC),
// runs xdpfw_rx `repeat` times on the frame with BPF_PROG_RUN, and prints
// when it ran, so the test can check every run fell in one window.
import { statePaths } from '../../lib/daemon/state-paths.js';
import { Dataplane } from '../../lib/dataplane/dataplane.js';
import { ifNameToIndex, monotonicNs, progTestRun } from '../../lib/dataplane/native.js';

const [stateDir, ifname] = process.argv.slice(2) as [string, string];
const dp = new Dataplane(statePaths(stateDir));
const ifindex = ifNameToIndex(ifname);

let input = '';
process.stdin.on('data', (d: Buffer) => {
  input += d.toString();
  const lines = input.split('\n');
  input = lines.pop()!;
  for (const line of lines) {
    const job = JSON.parse(line) as { start: string; hex: string; repeat: number };
    const start = BigInt(job.start);
    const data = Buffer.from(job.hex, 'hex');
    while (monotonicNs() < start) {
      // spin: the workers start at the same instant
    }
    const began = monotonicNs();
    if (job.repeat > 0) progTestRun(dp.progs.rx, { data, ifindex, rxQueue: 0, repeat: job.repeat });
    process.stdout.write(`${JSON.stringify({ began: String(began), ended: String(monotonicNs()) })}\n`);
  }
});
process.stdin.on('end', () => dp.close());
process.stdout.write('{"ready":true}\n');

// One CPU of the screens benchmark's two-CPU floods (run under `taskset`):
// opens the xdpfw object on the benchmark's pinned maps and the bare
// XDP_DROP program once, says it is ready, then for every line
// {start, prog, hex, frames} on stdin waits for `start` (CLOCK_MONOTONIC),
// runs the program on `frames` live frames with BPF_PROG_RUN, and prints
// when it ran.
import { statePaths } from '../../../lib/daemon/state-paths.js';
import { Dataplane } from '../../../lib/dataplane/dataplane.js';
import { ifNameToIndex, monotonicNs, openObject, progTestRun } from '../../../lib/dataplane/native.js';
import { bpfObjectPath } from '../../../lib/util/paths.js';

const [stateDir, ifname] = process.argv.slice(2) as [string, string];
const dp = new Dataplane(statePaths(stateDir));
const sink = openObject(bpfObjectPath('bench/sink'));
const progs: Record<string, number> = { rx: dp.progs.rx, bare: sink.progFd('bare_drop') };
const ifindex = ifNameToIndex(ifname);

let input = '';
process.stdin.on('data', (d: Buffer) => {
  input += d.toString();
  const lines = input.split('\n');
  input = lines.pop()!;
  for (const line of lines) {
    const job = JSON.parse(line) as { start: string; prog: string; hex: string; frames: number };
    const data = Buffer.from(job.hex, 'hex');
    const start = BigInt(job.start);
    while (monotonicNs() < start) {
      // spin: the workers start at the same instant
    }
    const began = monotonicNs();
    progTestRun(progs[job.prog]!, { data, ifindex, live: true, repeat: job.frames, batchSize: 256 });
    process.stdout.write(`${JSON.stringify({ began: String(began), ended: String(monotonicNs()) })}\n`);
  }
});
process.stdin.on('end', () => {
  sink.close();
  dp.close();
});
process.stdout.write('{"ready":true}\n');

// Profiles the daemon under the new-flow load of `BENCH=sessions` (each frame a new UDP flow,
// offered above what the slow path takes): `perf record` of the daemon for a few seconds, then
// `perf report` by symbol, inclusive. The daemon runs with --perf-basic-prof so that JavaScript
// frames have names. Not part of `make bench`: run as root after `make all`,
//   node dist/test/bench/tools/profile-new-flows.js [seconds] [rate] [perf.data path]
import { execFileSync } from 'node:child_process';
import { basicConfig } from '../../helpers/topology.js';
import { BenchNet, METERS_OFF } from '../lib/net.js';

const seconds = Number(process.argv[2] ?? 4);
const rate = Number(process.argv[3] ?? 150_000);
const data = process.argv[4] ?? '/tmp/xdpfw-new-flows.perf.data';

if (process.env.XDPFW_PROFILE_NO_PERF_MAP === undefined) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --perf-basic-prof`.trim();
const net = await BenchNet.create();
try {
  await net.loadXdpfw(basicConfig().replace('flow {', `flow { ${METERS_OFF}`));
  const pid = net.daemonPid();
  const frames = Math.round(rate * (seconds + 3));
  const load = await net.startBackground({ frames, rate, flows: 2 ** 32 - 1, ports: 60_000, firstFlow: 0 });
  await new Promise((r) => setTimeout(r, 1000));
  const before = await net.topo.xdpfwJson<{ sessions: { created: number } }>(['show', 'counters']);
  const t0 = Date.now();
  execFileSync('perf', ['record', '-F', '1999', '-g', '-p', String(pid), '-o', data, '--', 'sleep', String(seconds)], { stdio: 'inherit' });
  const after = await net.topo.xdpfwJson<{ sessions: { created: number } }>(['show', 'counters']);
  const elapsed = (Date.now() - t0) / 1000;
  load.stop();
  process.stdout.write(`sessions created while recording: ${after.sessions.created - before.sessions.created} in ${elapsed.toFixed(1)} s `
    + `(${Math.round((after.sessions.created - before.sessions.created) / elapsed)}/s); perf data: ${data}\n`);
} finally {
  await net.destroy();
}

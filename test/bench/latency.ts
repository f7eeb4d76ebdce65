// TCP connect latency: a client in the client namespace makes sequential
// connections to a server in the server namespace, through plain kernel
// forwarding (baseline), through the minimal AF_XDP relay (tools/xsk-relay.c:
// the SYN crosses to userspace and is sent on unjudged, the rest forwarded in
// XDP: the floor under any userspace slow path here), through the same relay
// written in Node on the daemon's native AF_XDP socket and event-loop wake-up
// (tools/xsk-relay-node.ts: the floor under a slow path in Node) and through xdpfw (the
// SYN goes through the slow path, the rest of each connection is tracked in
// XDP). p50 and p99 of each run of CONNECTS connections, and the packets the
// slow path saw per connection (`show counters`).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../../lib/util/paths.js';
import type { CountersReport } from '../../lib/daemon/reports.js';
import { ADDR, basicConfig } from '../helpers/topology.js';
import { BenchNet } from './lib/net.js';
import { compare, report } from './lib/report.js';
import { percentile } from './lib/stats.js';

const RUNS = 5;
const CONNECTS = 1000;
const PORT = 5001;
const CLIENT = resolve(packageRoot, 'dist', 'test', 'bench', 'tools', 'connect.js');
const RELAY = [resolve(packageRoot, 'dist', 'test', 'bench', 'tools', 'xsk-relay')];
const NODE_RELAY = [process.execPath, resolve(packageRoot, 'dist', 'test', 'bench', 'tools', 'xsk-relay-node.js')];
const RELAY_OBJ = resolve(packageRoot, 'dist', 'bpf', 'bench', 'relay.bpf.o');

/** What the relay timed per SYN: XDP to userspace taking it, and its send (nanoseconds). */
interface RelayTimes {
  frames: number;
  wakeNs: { p50: number; p99: number };
  sendNs: { p50: number; p99: number };
}

/** Runs `measure` with a minimal AF_XDP relay (`command`) on the firewall's interfaces; detached after. */
async function throughRelay<T>(net: BenchNet, command: string[], measure: () => Promise<T>): Promise<{ result: T; times: RelayTimes }> {
  const child = spawn('ip', ['netns', 'exec', net.topo.ns.fw, ...command, RELAY_OBJ, 'trust0', 'untrust0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  try {
    const ready = await lines.next();
    if (ready.done || ready.value !== 'ready') throw new Error(`${command.at(-1)} did not start`);
    const result = await measure();
    child.kill('SIGTERM');
    const report = await lines.next();
    if (report.done) throw new Error(`${command.at(-1)} ended without its report`);
    return { result, times: JSON.parse(report.value) as RelayTimes };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
}

/** The slow path's packet count, when xdpfw runs. */
async function slowPathPackets(net: BenchNet, xdpfw: boolean): Promise<number> {
  return xdpfw ? (await net.topo.xdpfwJson<CountersReport>(['show', 'counters'])).slowPathPackets : 0;
}

/** The daemon's wake-up waits (XDP to the slow path) so far, by bucket, and their sum in µs. */
async function wakeUps(net: BenchNet): Promise<{ byWakeUs: Record<string, number>; wakeUsTotal: number }> {
  return (await net.topo.xdpfwJson<CountersReport>(['show', 'counters'])).slowPathBatches;
}

/** Mean and median bucket of the waits between two readings. */
function wakeFigures(a: Awaited<ReturnType<typeof wakeUps>>, b: Awaited<ReturnType<typeof wakeUps>>): string {
  const counts = Object.entries(b.byWakeUs).map(([k, n]): [string, number] => [k, n - (a.byWakeUs[k] ?? 0)]);
  const total = counts.reduce((s, [, n]) => s + n, 0);
  let seen = 0;
  const median = counts.find(([, n]) => (seen += n) >= total / 2)?.[0] ?? '-';
  const p99 = (seen = 0, counts.find(([, n]) => (seen += n) >= total * 0.99)?.[0] ?? '-');
  return `mean ${((b.wakeUsTotal - a.wakeUsTotal) / Math.max(total, 1)).toFixed(1)}, median ${median}, p99 ${p99} (${total} wake-ups)`;
}

async function latencies(net: BenchNet, port: number, xdpfw = false): Promise<{ p50: number[]; p99: number[]; slowPerConnection: number[] }> {
  const out = { p50: [] as number[], p99: [] as number[], slowPerConnection: [] as number[] };
  for (let i = -1; i < RUNS; i++) { // run -1 warms up
    const slowBefore = await slowPathPackets(net, xdpfw);
    const r = await net.topo.exec('client', process.execPath, [CLIENT, ADDR.server4, String(port), String(CONNECTS)]);
    const { us, error } = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { us?: number[]; error?: string };
    if (!us) throw new Error(`connect client: ${error ?? r.stderr}`);
    if (i < 0) continue;
    out.slowPerConnection.push((await slowPathPackets(net, xdpfw) - slowBefore) / CONNECTS);
    out.p50.push(percentile(us, 50));
    out.p99.push(percentile(us, 99));
  }
  return out;
}

function us(ns: number): string {
  return (ns / 1e3).toFixed(1);
}

const net = await BenchNet.create();
try {
  // A server port per side: the client's connections of one side leave thousands of its
  // ports in TIME-WAIT, and a third side to the same port waited a timer tick (4 ms) on most
  // connects as the client looked for a free one.
  for (let p = PORT; p < PORT + 4; p++) await net.topo.startTraffic('server', ['tcp-sink', '--port', String(p)]);
  const kernel = await latencies(net, PORT);
  const relay = await throughRelay(net, RELAY, () => latencies(net, PORT + 1));
  const nodeRelay = await throughRelay(net, NODE_RELAY, () => latencies(net, PORT + 2));
  await net.loadXdpfw(basicConfig());
  const wakeBefore = await wakeUps(net);
  const xdpfw = await latencies(net, PORT + 3, true);
  const wake = wakeFigures(wakeBefore, await wakeUps(net));

  report({
    id: 'latency',
    title: 'TCP connect latency',
    method: `${CONNECTS} sequential connections per run (client namespace → server namespace, IPv4), connect() to handshake complete as the client sees it; ${RUNS} runs after a warm-up run, each side.`,
    comparisons: [
      compare('connect p50', 'µs', ['xdpfw', xdpfw.p50], ['kernel forwarding', kernel.p50], { op: '<=', value: 1.3 }),
      compare('connect p99', 'µs', ['xdpfw', xdpfw.p99], ['kernel forwarding', kernel.p99], { op: '<=', value: 1.5 }),
      compare('connect p50', 'µs', ['xdpfw', xdpfw.p50], ['minimal AF_XDP relay', relay.result.p50]),
      compare('connect p99', 'µs', ['xdpfw', xdpfw.p99], ['minimal AF_XDP relay', relay.result.p99]),
      compare('connect p50', 'µs', ['minimal AF_XDP relay', relay.result.p50], ['kernel forwarding', kernel.p50]),
      compare('connect p99', 'µs', ['minimal AF_XDP relay', relay.result.p99], ['kernel forwarding', kernel.p99]),
      compare('connect p50', 'µs', ['xdpfw', xdpfw.p50], ['minimal AF_XDP relay in Node', nodeRelay.result.p50]),
      compare('connect p50', 'µs', ['minimal AF_XDP relay in Node', nodeRelay.result.p50], ['minimal AF_XDP relay', relay.result.p50]),
      compare('connect p99', 'µs', ['minimal AF_XDP relay in Node', nodeRelay.result.p99], ['minimal AF_XDP relay', relay.result.p99]),
    ],
    facts: [
      ['slow-path packets per TCP connection (target 1), by run', xdpfw.slowPerConnection.map((n) => n.toFixed(3)).join(', ')],
      ['relay: SYN from XDP to userspace taking it, p50 / p99 (µs)', `${us(relay.times.wakeNs.p50)} / ${us(relay.times.wakeNs.p99)} (${relay.times.frames} SYNs)`],
      ['relay: taking it to its send returning, p50 / p99 (µs)', `${us(relay.times.sendNs.p50)} / ${us(relay.times.sendNs.p99)}`],
      ['relay in Node: SYN from XDP to its callback taking it, p50 / p99 (µs)', `${us(nodeRelay.times.wakeNs.p50)} / ${us(nodeRelay.times.wakeNs.p99)} (${nodeRelay.times.frames} SYNs)`],
      ['xdpfw: SYN from XDP to the slow path taking it (µs; buckets, warm-up run included)', wake],
    ],
  });
} finally {
  await net.destroy();
}

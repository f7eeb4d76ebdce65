// New flows per second with one and with two RX queues, the slow path's
// sockets served by queue workers (one thread per queue) and, for comparison,
// by the main thread (XDPFW_QUEUE_WORKERS=0). Every frame is a new UDP flow,
// as in sessions.ts. With two queues, two generators run at once, pinned one
// per CPU: a veth hands what a CPU sends by XDP to its peer's RX queue
// `cpu % queues`, so each queue gets half the flows.
import { cpus } from 'node:os';
import type { CountersReport } from '../../lib/daemon/reports.js';
import { basicConfig } from '../helpers/topology.js';
import { type Agent, BenchNet, type FlowSpec, METERS_OFF } from './lib/net.js';
import { compare, fmt, report } from './lib/report.js';

const RUNS = 3;
const SECONDS = 2;

let nextFlow = 0;
function fresh(rate: number, frames: number): FlowSpec {
  const f = { frames, rate, flows: 2 ** 32 - 1, ports: 60_000, firstFlow: nextFlow };
  nextFlow += frames;
  return f;
}

interface Case { queues: number; workers: boolean; rates: number[]; perQueue: number[] }

async function measure(queues: number, workers: boolean): Promise<Case> {
  const net = await BenchNet.create({ queues });
  try {
    const previous = process.env.XDPFW_QUEUE_WORKERS;
    process.env.XDPFW_QUEUE_WORKERS = workers ? '1' : '0';
    try {
      await net.loadXdpfw(basicConfig().replace('flow {', `flow { ${METERS_OFF}`));
    } finally {
      if (previous === undefined) delete process.env.XDPFW_QUEUE_WORKERS;
      else process.env.XDPFW_QUEUE_WORKERS = previous;
    }
    const cpuCount = cpus().length;
    const gens: Agent[] = await net.pinnedGenerators(Array.from({ length: queues }, (_, q) => q % cpuCount));
    const clear = async (): Promise<void> => void (await net.topo.xdpfw(['clear', 'sessions']));
    const run = (rate: number) => net.deliveredFrom(gens, gens.map(() => fresh(Math.round(rate / gens.length), Math.round((rate * SECONDS) / gens.length))));
    const warm = await run(100_000);
    const offered = Math.max(1000, Math.round(warm.pps * 1.5));
    const rates: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await clear();
      rates.push((await run(offered)).pps);
    }
    const c = await net.topo.xdpfwJson<CountersReport>(['show', 'counters']);
    return { queues, workers, rates, perQueue: c.queueWorkers.map((w) => w.rxFrames) };
  } finally {
    await net.destroy();
  }
}

// Alternated, so that the machine's other load falls on both alike.
const cases: Case[] = [];
for (const queues of [1, 2]) {
  for (const workers of [false, true]) cases.push(await measure(queues, workers));
}
const find = (queues: number, workers: boolean): Case => cases.find((c) => c.queues === queues && c.workers === workers)!;
const name = (c: Case) => `${c.queues} RX queue${c.queues > 1 ? 's' : ''}, ${c.workers ? 'queue workers' : 'main thread'}`;

report({
  id: 'queues',
  title: 'New flows per second by RX queues and slow-path threads',
  method: `Each frame a new UDP flow, counted by the XDP sink on the server while the generators run (${RUNS} runs of ${SECONDS} s, sessions cleared before each, offered at 1.5× a warm-up run). One generator per RX queue, pinned one per CPU. "queue workers": each queue's AF_XDP sockets owned by a thread of its own, frames judged by the main thread's slow path; "main thread": XDPFW_QUEUE_WORKERS=0.`,
  comparisons: [
    compare('new flows, 1 queue: workers vs main thread', 'flows/s', [name(find(1, true)), find(1, true).rates], [name(find(1, false)), find(1, false).rates]),
    compare('new flows, 2 queues: workers vs main thread', 'flows/s', [name(find(2, true)), find(2, true).rates], [name(find(2, false)), find(2, false).rates]),
    compare('new flows with queue workers: 2 queues vs 1', 'flows/s', [name(find(2, true)), find(2, true).rates], [name(find(1, true)), find(1, true).rates]),
  ],
  facts: cases.filter((c) => c.workers).map((c): [string, string] => [`frames per queue worker, ${c.queues} queue(s)`, c.perQueue.map(fmt).join(' / ')]),
});

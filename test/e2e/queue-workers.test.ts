// The slow path's queue workers, end to end: with two RX queues on every
// veth, each queue's AF_XDP sockets are owned by a thread of their own. The
// client's transmit queue is chosen by XPS (all CPUs on one queue), so what it
// sends arrives on that RX queue of trust0. First packets on either queue get
// the verdicts and events the slow path gives (a permit with its session, a
// deny), each queue counted by its own worker; and a worker that dies closes
// its queue in XDP (new flows dropped and counted, never passed unjudged)
// until it runs again, or for good after too many deaths.
import { cpus } from 'node:os';
import t from 'tap';
import type { EventJson } from '../../lib/cli/format-events.js';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { SessionView } from '../../lib/session/table.js';
import type { QueueWorkerStats } from '../../lib/workers/pool.js';
import { ADDR, Topology } from '../helpers/topology.js';

const FAULT_PORT = 5997;

const CONFIG = `
applications {
    application deny-me { protocol udp; destination-port 5998; }
}
security {
    zones {
        security-zone trust { interfaces { trust0; } }
        security-zone untrust { interfaces { untrust0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy block { match { source-address any; destination-address any; application deny-me; } then { deny; log { session-init; } } }
            policy allow-out { match { source-address any; destination-address any; application any; } then { permit; log { session-init; } } }
        }
        default-policy { deny-all; }
    }
    flow { timeouts { udp 60; } }
}
`;

/** One UDP datagram from each of `count` source ports from `first` on; prints how many were echoed. */
const FLOWS = `
import socket, sys, select, time
host, port, first, count, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
socks = []
for i in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('', first + i))
    s.connect((host, port))
    s.send(b'q' * 32)
    socks.append(s)
echoed = set()
end = time.time() + timeout
while len(echoed) < count and time.time() < end:
    ready, _, _ = select.select([s for s in socks if s not in echoed], [], [], max(0, end - time.time()))
    for s in ready:
        try:
            s.recv(2048)
            echoed.add(s)
        except OSError:
            echoed.add(s)
print(sum(1 for s in echoed))
`;

let topo: Topology;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const counters = () => topo.xdpfwJson<CountersReport>(['show', 'counters']);
const worker = (c: CountersReport, queue: number): QueueWorkerStats => {
  const w = c.queueWorkers.find((x) => x.queue === queue);
  if (!w) throw new Error(`no worker for queue ${queue}`);
  return w;
};

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (let i = 0; i < 300 && !done(v); i++) {
    await sleep(100);
    v = await read();
  }
  return v;
}

/** Every CPU transmits on the client's `queue` (XPS), so it arrives on trust0's RX queue `queue`. */
async function steer(queue: number): Promise<void> {
  const all = ((1 << cpus().length) - 1).toString(16);
  const cmd = [0, 1].map((q) => `echo ${q === queue ? all : 0} > /sys/class/net/eth0/queues/tx-${q}/xps_cpus`).join('; ');
  const r = await topo.exec('client', 'sh', ['-c', cmd], undefined, 'ip-netns-exec');
  if (r.code !== 0) throw new Error(`xps: ${r.stderr}`);
}

async function flows(port: number, first: number, count: number, timeoutS = 3): Promise<number> {
  const r = await topo.exec('client', 'python3', ['-c', FLOWS, ADDR.server4, String(port), String(first), String(count), String(timeoutS)]);
  if (r.code !== 0) throw new Error(`flows: ${r.stderr}`);
  return Number(r.stdout.trim());
}

t.before(async () => {
  topo = await Topology.create({ queues: 2 });
  process.env.XDPFW_FAULT_WORKER_EXIT_PORT = String(FAULT_PORT);
  process.env.XDPFW_QUEUE_WORKERS = 'multi';
  try {
    const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG)]);
    if (r.code !== 0) throw new Error(`load failed: ${r.stderr}`);
  } finally {
    delete process.env.XDPFW_FAULT_WORKER_EXIT_PORT;
    delete process.env.XDPFW_QUEUE_WORKERS;
  }
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
});
t.teardown(async () => {
  // The daemon's log tells what a failure here did (the state directory goes with the topology).
  if (process.env.XDPFW_KEEP_LOG) await topo?.sh('fw', `cp ${topo.stateDir}/*.log ${process.env.XDPFW_KEEP_LOG} || true`);
  await topo?.destroy();
});

t.test('each RX queue has a worker of its own, with the verdicts and events of the slow path', async (t) => {
  const before = await counters();
  t.equal(before.queueWorkers.length, 2, 'two queue workers');
  const threads = before.queueWorkers.map((w) => w.threadId);
  t.ok(threads.every((id) => id > 0) && new Set(threads).size === 2, `each a thread of its own (${threads.join(', ')})`);

  const N = 10;
  for (const queue of [1, 0]) {
    await steer(queue);
    const was = await counters();
    const first = 4100 + queue * 100;
    t.equal(await flows(5002, first, N), N, `queue ${queue}: ${N} new flows permitted, every one echoed`);
    t.equal(await flows(5998, first + 50, 2, 1), 0, `queue ${queue}: denied flows not echoed`);
    const now = await until(counters, (c) => worker(c, queue).rxFrames - worker(was, queue).rxFrames >= N + 2);
    const mine = worker(now, queue).rxFrames - worker(was, queue).rxFrames;
    const other = worker(now, 1 - queue).rxFrames - worker(was, 1 - queue).rxFrames;
    t.ok(mine >= N + 2, `queue ${queue}: its worker received the ${N + 2} first packets (${mine})`);
    t.ok(other < N, `queue ${queue}: the other worker did not (${other})`);
    t.equal(worker(now, queue).backlogDrops + worker(now, queue).txRingFull + worker(now, queue).txLost, 0, `queue ${queue}: nothing lost on the way`);
    t.equal((now.drops.policy_deny ?? 0) - (was.drops.policy_deny ?? 0), 2, `queue ${queue}: the denied flows dropped as policy_deny`);
    t.equal(now.sessions.created - was.sessions.created, N, `queue ${queue}: a session per permitted flow`);

    const sessions = await topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
    const ours = sessions.filter((s) => s.sourcePort >= first && s.sourcePort < first + N);
    t.equal(ours.length, N, `queue ${queue}: the sessions are shown`);
    t.ok(ours.every((s) => s.policy === 'allow-out' && s.fromZone === 'trust' && s.toZone === 'untrust'), `queue ${queue}: trust to untrust by allow-out`);
    const log = await until(() => topo.xdpfwJson<EventJson[]>(['show', 'log']),
      (l) => l.filter((e) => e.sourcePort >= first && e.sourcePort < first + 52).length >= N + 2);
    const ev = log.filter((e) => e.sourcePort >= first && e.sourcePort < first + 52);
    t.equal(ev.filter((e) => e.kind === 'session-create').length, N, `queue ${queue}: a SESSION_CREATE per permitted flow`);
    t.equal(ev.filter((e) => e.kind === 'policy-deny' && e.action === 'deny').length, 2, `queue ${queue}: a POLICY_DENY per denied flow`);
  }

  const text = (await topo.xdpfw(['show', 'counters'])).stdout;
  t.match(text, /Queue worker\s+Thread\s+Running\s+Rx frames/, 'show counters: the workers table');
  t.match(text, /^\s*1\s+\d+\s+yes\s+[1-9]/m, 'show counters: queue 1 running, with its frames');
  const scraped = await topo.traffic<{ status: number; body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  t.match(scraped.body, /^xdpfw_queue_worker_rx_frames_total\{queue="1"\} [1-9]/m, 'metrics: queue 1 frames');
  t.match(scraped.body, /^xdpfw_queue_worker_rx_frames_total\{queue="0"\} [1-9]/m, 'metrics: queue 0 frames');
  t.match(scraped.body, /^xdpfw_queue_worker_up\{queue="1"\} 1/m, 'metrics: queue 1 up');
});

t.test('a worker that dies closes its queue in XDP; it is started again, and after too many deaths its queue stays closed', async (t) => {
  await steer(1);
  const before = await counters();
  // One death: the worker is started again and its queue judges new flows again.
  await flows(FAULT_PORT, 4400, 1, 1);
  const restarted = await until(counters, (c) => worker(c, 1).restarts > worker(before, 1).restarts && worker(c, 1).running);
  t.equal(worker(restarted, 1).deaths - worker(before, 1).deaths, 1, 'the worker died once');
  t.equal(worker(restarted, 1).restarts - worker(before, 1).restarts, 1, 'and was started again');
  t.not(worker(restarted, 1).threadId, worker(before, 1).threadId, 'as a new thread');
  t.equal(await flows(5002, 4410, 3), 3, 'its queue judges new flows again');
  t.ok(worker(restarted, 0).running && worker(restarted, 0).threadId === worker(before, 0).threadId, 'the other worker ran on untouched');

  // Deaths until the restart limit: the queue stays closed.
  for (let i = 0; i < 6; i++) {
    const was = await counters();
    if (!worker(was, 1).running) break;
    await flows(FAULT_PORT, 4420 + i, 1, 1);
    await until(counters, (c) => worker(c, 1).deaths > worker(was, 1).deaths);
    await until(counters, (c) => worker(c, 1).running || worker(c, 1).deaths - worker(before, 1).deaths > 5);
  }
  const closed = await counters();
  t.notOk(worker(closed, 1).running, 'after six deaths in a minute the worker is not started again');
  const drops = closed.drops.no_slow_path_socket ?? 0;
  t.equal(await flows(5002, 4430, 3, 2), 0, 'a new permitted flow on the closed queue does not pass');
  t.equal(await flows(5998, 4440, 2, 1), 0, 'nor a denied one');
  const after = await until(counters, (c) => (c.drops.no_slow_path_socket ?? 0) - drops >= 5);
  t.ok((after.drops.no_slow_path_socket ?? 0) - drops >= 5, 'dropped in XDP and counted as no_slow_path_socket');
  t.equal(after.sessions.created, closed.sessions.created, 'no session was made for them');
  const scraped = await topo.traffic<{ status: number; body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  t.match(scraped.body, /^xdpfw_queue_worker_up\{queue="1"\} 0/m, 'metrics: queue 1 down');
  t.match(scraped.body, /^xdpfw_queue_worker_deaths_total\{queue="1"\} [1-9]/m, 'metrics: its deaths');

  await steer(0);
  t.equal(await flows(5002, 4450, 3), 3, 'the other queue still judges new flows');
});

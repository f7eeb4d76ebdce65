// A deny storm: new UDP flows from spoofed sources (a new source address per
// frame) that a policy denies with `log { session-init; }`, offered at 10×
// what the slow path judges per second. Measured, run by run against the
// same without the storm (interleaved): a legitimate client's TCP connects
// (success and p99), and an established TCP transfer's throughput. The slow
// path's capacity is probed first with the flood meters off (every frame
// judged); the storm runs with the default budgets of `security flow
// slow-path-budget`, as a fresh installation has them. Also: what XDP shed by
// reason, and the POLICY_DENY event accounting (generated = sent +
// rate-limited + queue-full + sink-failed) with a JSON-file sink.
import { resolve } from 'node:path';
import { packageRoot } from '../../lib/util/paths.js';
import { ADDR } from '../helpers/topology.js';
import { BenchNet, METERS_OFF } from './lib/net.js';
import { compare, fmt, report } from './lib/report.js';
import { percentile } from './lib/stats.js';

const RUNS = 5;
const BYTES = 20 << 20;
const PORT = 5001;
const CONNECTS = 50;
/** A connect not done in this time failed (a lost SYN is retransmitted after 1 s, then 3 s). */
const CONNECT_TIMEOUT_MS = 5000;
const STORM_FACTOR = 10;
const CONNECT_CLIENT = resolve(packageRoot, 'dist', 'test', 'bench', 'tools', 'connect-tries.js');

function config(eventsFile: string, flow = ''): string {
  return `
system { syslog { file-json ${eventsFile}; } }
applications { application bench-discard { protocol udp; destination-port 9; } }
security {
    zones {
        security-zone trust { interfaces { trust0; } }
        security-zone untrust { interfaces { untrust0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy deny-discard {
                match { source-address any; destination-address any; application bench-discard; }
                then { deny; log { session-init; } }
            }
            policy allow-out {
                match { source-address any; destination-address any; application any; }
                then { permit; }
            }
        }
        default-policy { deny-all; }
    }
    flow { ${flow} }
}`;
}

interface EventCounters { generated: number; sent: number; rateLimited: number; queueFull: number; sinkFailed: number }
interface Counters {
  slowPathPackets: number;
  drops: Record<string, number>;
  events: Record<string, EventCounters>;
  xdp: Record<string, { packets: number }>;
}
interface Status { interfaces: Array<{ name: string; queues: Array<{ rxDropped: number; rxRingFull: number }> }> }

/** MB/s of one 20 MB transfer client → server. */
async function transfer(net: BenchNet): Promise<number> {
  const r = await net.topo.traffic<{ ok: boolean; ms: number; received: number }>('client', ['tcp-send', '--host', ADDR.server4, '--port', String(PORT), '--bytes', String(BYTES)]);
  if (!r.ok || r.received !== BYTES) throw new Error(`transfer failed (${r.received} of ${BYTES} bytes)`);
  return BYTES / 2 ** 20 / (r.ms / 1000);
}

/** CONNECTS sequential connects: the share that succeeded (%) and the p99 of those that did (µs). */
async function connects(net: BenchNet): Promise<{ success: number; p99: number; failed: number }> {
  const r = await net.topo.exec('client', process.execPath, [CONNECT_CLIENT, ADDR.server4, String(PORT), String(CONNECTS), String(CONNECT_TIMEOUT_MS)], 600_000);
  const { us, failed } = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { us?: number[]; failed?: number };
  if (!us || failed === undefined) throw new Error(`connect client: ${r.stderr}`);
  return { success: (100 * us.length) / CONNECTS, p99: us.length ? percentile(us, 99) : CONNECT_TIMEOUT_MS * 1000, failed };
}

const net = await BenchNet.create();
try {
  const eventsFile = `${net.topo.stateDir}/events.json`;
  await net.topo.startTraffic('server', ['tcp-sink', '--port', String(PORT)], 3_600_000);
  await net.loadXdpfw(config(eventsFile, METERS_OFF));
  const counters = (): Promise<Counters> => net.topo.xdpfwJson<Counters>(['show', 'counters']);

  // What the slow path judges in a second when flooded, every frame sent up: the capacity.
  const before = (await counters()).drops.policy_deny ?? 0;
  const probe = await net.generate({ frames: 200_000, rate: 200_000, flows: 2 ** 32 - 1, ports: 1, firstFlow: 1000 });
  const capacity = ((await counters()).drops.policy_deny! - before) / probe.seconds;
  const offered = Math.round(capacity * STORM_FACTOR);

  // The storm with the flood meters as a fresh installation has them.
  const reload = await net.topo.xdpfw(['reload', '-c', net.topo.writeConfig(config(eventsFile))]);
  if (reload.code !== 0) throw new Error(`reload: ${reload.stderr}`);
  const start = await counters();
  const ringLosses = async (): Promise<number> => (await net.topo.xdpfwJson<Status>(['status'])).interfaces
    .find((x) => x.name === 'trust0')!.queues.reduce((sum, q) => sum + q.rxDropped + q.rxRingFull, 0);
  const ringAtStart = await ringLosses();

  await transfer(net); // warm-up
  await connects(net);
  const quiet = { mbps: [] as number[], success: [] as number[], p99: [] as number[] };
  const stormy = { mbps: [] as number[], success: [] as number[], p99: [] as number[] };
  let stormSeconds = 0;
  let failedConnects = 0;
  for (let i = 0; i < RUNS; i++) {
    const q = await connects(net);
    quiet.success.push(q.success);
    quiet.p99.push(q.p99);
    quiet.mbps.push(await transfer(net));
    // Every frame from another source address: only the class budget can shed them.
    const storm = await net.startBackground({ frames: 2 ** 31 - 1, rate: offered, flows: 2 ** 32 - 1, ports: 1, firstFlow: 1000 + 1e7 * (i + 1) });
    const t0 = Date.now();
    try {
      await new Promise((r) => setTimeout(r, 500)); // the storm under way
      const s = await connects(net);
      stormy.success.push(s.success);
      stormy.p99.push(s.p99);
      failedConnects += s.failed;
      stormy.mbps.push(await transfer(net));
    } finally {
      storm.stop();
    }
    stormSeconds += (Date.now() - t0) / 1000;
  }
  await new Promise((r) => setTimeout(r, 500)); // let the producer drain
  const c = await counters();
  const ringAtEnd = await ringLosses();
  const e = c.events['policy-deny']!;
  const accounted = e.sent + e.rateLimited + e.queueFull + e.sinkFailed;
  const during = (k: string) => (c.drops[k] ?? 0) - (start.drops[k] ?? 0);
  const denied = c.drops.policy_deny ?? 0;
  report({
    id: 'storm',
    title: 'Deny storm',
    method: `New UDP flows to port 9 from spoofed sources (a new source address per frame), denied by a policy that logs session-init (JSON-file sink, default rate limits), offered at ${fmt(offered)}/s: ${STORM_FACTOR}× the ${fmt(capacity)}/s the slow path judged in a probe with the flood meters off. The storm runs with the default flood meters. A legitimate client: ${CONNECTS} sequential TCP connects (${CONNECT_TIMEOUT_MS / 1000} s each at most) and a ${BYTES >> 20} MB transfer client → server, ${RUNS} runs without and ${RUNS} with the storm, interleaved.`,
    comparisons: [
      compare('TCP connects that succeed', '%', ['with storm', stormy.success], ['without storm', quiet.success], { op: '>=', value: 1 }),
      compare('TCP connect p99', 'µs', ['with storm', stormy.p99], ['without storm', quiet.p99], { op: '<=', value: 2 }),
      compare('TCP transfer throughput', 'MB/s', ['with storm', stormy.mbps], ['without storm', quiet.mbps], { op: '>=', value: 0.95 }),
    ],
    facts: [
      ['slow path capacity (probe, meters off: denies judged per second)', fmt(capacity)],
      ['probe: frames offered per second', fmt(probe.sent / probe.seconds)],
      ['storm time (s)', fmt(stormSeconds)],
      ['connects failed during the storm', String(failedConnects)],
      ['shed by XDP during the storm runs: new flows (class budget)', String(during('slow_path_shed_new_flow'))],
      ['… per source', String(during('slow_path_shed_source'))],
      ['… TCP SYN', String(during('slow_path_shed_syn'))],
      ['… exceptions', String(during('slow_path_shed_exception'))],
      ['… deny cache hits', String(during('deny_cache_hit'))],
      ['denied by the slow path during the storm runs', String(during('policy_deny'))],
      ['frames sent to the slow path by XDP (all traffic, whole run)', String(c.xdp.slowPath?.packets ?? 0)],
      ['lost in the AF_XDP rx ring during the storm runs (trust0, rx_dropped + rx_ring_full)', String(ringAtEnd - ringAtStart)],
      ['… in the whole run (the probe, meters off, included)', String(ringAtEnd)],
      ['judged by the slow path (all traffic)', String(c.slowPathPackets)],
      ['denied by policy (slow path drop counter)', String(denied)],
      ['POLICY_DENY events generated', String(e.generated)],
      ['… sent', String(e.sent)],
      ['… rate-limited', String(e.rateLimited)],
      ['… queue-full', String(e.queueFull)],
      ['… sink-failed', String(e.sinkFailed)],
      ['generated = sent + rate-limited + queue-full + sink-failed', `${accounted === e.generated ? 'holds' : '**does not hold**'} (${e.generated} vs ${accounted})`],
      // Repeats dropped by the deny cache are logged from XDP, within its budget: more events than slow-path denies then.
      ['every deny the slow path judged generated an event', `${e.generated >= denied ? 'yes' : '**no**'}`],
    ],
  });
} finally {
  await net.destroy();
}

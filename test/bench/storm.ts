// A deny storm: new UDP flows that a policy denies with `log { session-init;
// }`, offered above what the slow path can judge so it runs at its maximum
// rate. Measured: an established TCP transfer's throughput with the storm
// against the same transfer without it (interleaved, run by run), and the
// POLICY_DENY event accounting (generated = sent + rate-limited +
// queue-full + sink-failed) with a JSON-file sink.
import { ADDR } from '../helpers/topology.js';
import { BenchNet } from './lib/net.js';
import { compare, fmt, report } from './lib/report.js';

const RUNS = 5;
const BYTES = 20 << 20;
const PORT = 5001;

function config(eventsFile: string): string {
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
  if (!r.ok || r.received !== BYTES) throw new Error('transfer failed');
  return BYTES / 2 ** 20 / (r.ms / 1000);
}

const net = await BenchNet.create();
try {
  await net.topo.startTraffic('server', ['tcp-sink', '--port', String(PORT)]);
  await net.loadXdpfw(config(`${net.topo.stateDir}/events.json`));
  const counters = (): Promise<Counters> => net.topo.xdpfwJson<Counters>(['show', 'counters']);

  // What the slow path judges in a second when flooded: the storm's rate.
  const before = (await counters()).drops.policy_deny ?? 0;
  const probe = await net.generate({ frames: 100_000, rate: 100_000, flows: 2 ** 32 - 1 });
  const capacity = ((await counters()).drops.policy_deny! - before) / probe.seconds;
  const offered = Math.round(capacity * 1.5);

  await transfer(net); // warm-up
  const quiet: number[] = [];
  const stormy: number[] = [];
  let stormSeconds = 0;
  for (let i = 0; i < RUNS; i++) {
    quiet.push(await transfer(net));
    const storm = await net.startBackground({ frames: 2 ** 31 - 1, rate: offered, flows: 2 ** 32 - 1, firstFlow: 1e6 * (i + 1) });
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 500)); // the storm under way
    stormy.push(await transfer(net));
    storm.stop();
    stormSeconds += (Date.now() - t0) / 1000;
  }
  await new Promise((r) => setTimeout(r, 500)); // let the producer drain
  const c = await counters();
  const status = await net.topo.xdpfwJson<Status>(['status']);
  const trust = status.interfaces.find((x) => x.name === 'trust0')!.queues;
  const e = c.events['policy-deny']!;
  const accounted = e.sent + e.rateLimited + e.queueFull + e.sinkFailed;
  report({
    id: 'storm',
    title: 'Deny storm',
    method: `New UDP flows to port 9, denied by a policy that logs session-init (JSON-file sink, default rate limits), offered at ${fmt(offered)}/s (1.5× what the slow path judged per second in a flooded probe). An established TCP flow: ${BYTES >> 20} MB transfers client → server, ${RUNS} without and ${RUNS} with the storm, interleaved.`,
    comparisons: [compare('TCP transfer throughput', 'MB/s', ['with storm', stormy], ['without storm', quiet])],
    facts: [
      ['storm time (s)', fmt(stormSeconds)],
      ['frames sent to the slow path by XDP (all traffic)', String(c.xdp.slowPath?.packets ?? 0)],
      ['lost in the AF_XDP rx ring (trust0, rx_dropped + rx_ring_full)', String(trust.reduce((s, q) => s + q.rxDropped + q.rxRingFull, 0))],
      ['judged by the slow path (all traffic)', String(c.slowPathPackets)],
      ['denied by policy (slow path drop counter)', String(c.drops.policy_deny ?? 0)],
      ['POLICY_DENY events generated', String(e.generated)],
      ['… sent', String(e.sent)],
      ['… rate-limited', String(e.rateLimited)],
      ['… queue-full', String(e.queueFull)],
      ['… sink-failed', String(e.sinkFailed)],
      ['generated = sent + rate-limited + queue-full + sink-failed', `${accounted === e.generated ? 'holds' : '**does not hold**'} (${e.generated} vs ${accounted})`],
      ['every deny generated an event', `${e.generated === c.drops.policy_deny ? 'yes' : '**no**'}`],
    ],
  });
} finally {
  await net.destroy();
}

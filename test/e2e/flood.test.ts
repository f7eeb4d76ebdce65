// Floods cannot starve the slow path, end to end with the real daemon: UDP
// new-flow floods generated in the client namespace (the benchmarks' generator: BPF_PROG_RUN live frames, or plain runs and AF_PACKET sends where the kernel refuses live frames)
// far above the slow path's budget while a
// legitimate client keeps connecting through the firewall; a flow the policy
// denied is then dropped in XDP on its repeats (deny cache) until a reload
// permits it.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import t from 'tap';
import { resolve } from 'node:path';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { EventJson } from '../../lib/cli/format-events.js';
import { packageRoot } from '../../lib/util/paths.js';
import { ADDR } from '../helpers/topology.js';
import { BenchNet } from '../bench/lib/net.js';

const CONNECTS = resolve(packageRoot, 'dist', 'test', 'bench', 'tools', 'connect-tries.js');
/** Far above the budget below (a capacity of 4,000/s: 1,000/s per source, 1,200/s of new UDP flows). */
const FLOOD_PPS = 100_000;

function config(echo: 'permit' | 'deny'): string {
  return `
system { syslog { rate-limit 1000; } }
applications {
    application flood-discard { protocol udp; destination-port 9; }
    application echo { protocol udp; destination-port 5002; }
}
security {
    zones {
        security-zone trust { interfaces { trust0; } }
        security-zone untrust { interfaces { untrust0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy deny-flood {
                match { source-address any; destination-address any; application flood-discard; }
                then { deny; log { session-init; } }
            }
            policy echo {
                match { source-address any; destination-address any; application echo; }
                then { ${echo}; log { session-init; } }
            }
            policy allow-out {
                match { source-address any; destination-address any; application any; }
                then { permit; }
            }
        }
        default-policy { deny-all; }
    }
    flow { slow-path-budget { capacity 4000; deny-cache-timeout 60; } }
}`;
}

let net: BenchNet;
t.before(async () => {
  net = await BenchNet.create();
  await net.topo.startTraffic('server', ['tcp-sink', '--port', '5001'], 600_000);
  await net.topo.startTraffic('server', ['udp-echo', '--port', '5002'], 600_000);
  await net.loadXdpfw(config('deny'));
});
t.teardown(() => net?.destroy());

const counters = () => net.topo.xdpfwJson<CountersReport>(['show', 'counters']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 20 sequential TCP connects from the client (10.1.0.2) to the server; each may take 5 s. */
async function connects(): Promise<{ us: number[]; failed: number }> {
  const r = await net.topo.exec('client', process.execPath, [CONNECTS, ADDR.server4, '5001', '20', '5000'], 300_000);
  if (r.code !== 0) throw new Error(`connect client: ${r.stderr}`);
  return JSON.parse(r.stdout) as { us: number[]; failed: number };
}

/** Connects while a flood runs, and what the counters saw meanwhile. */
async function connectsDuring(flood: Parameters<BenchNet['startBackground']>[0]) {
  const before = await counters();
  const storm = await net.startBackground(flood);
  let result: { us: number[]; failed: number };
  try {
    await sleep(500); // the flood under way
    result = await connects();
  } finally {
    storm.stop();
  }
  await sleep(300);
  const after = await counters();
  const delta = (k: string) => (after.drops[k] ?? 0) - (before.drops[k] ?? 0);
  const xdp = (k: string) => (after.xdp[k]?.packets ?? 0) - (before.xdp[k]?.packets ?? 0);
  return { ...result, delta, xdp };
}

t.test('a new-flow flood from one source does not stop another source\'s TCP connects', async (t) => {
  // Flow n comes from 10.1.0.2 + n / ports: all of these from 10.1.0.3, a new source port each.
  const r = await connectsDuring({ frames: 2 ** 31 - 1, rate: FLOOD_PPS, flows: 2 ** 32 - 1, ports: 2 ** 31, firstFlow: 2 ** 31 });
  t.equal(r.failed, 0, `all 20 connects succeeded (${r.us.length}; slowest ${Math.round(Math.max(...r.us) / 1000)} ms)`);
  t.ok(r.delta('slow_path_shed_source') > 0, `the flood was shed by its source's budget (${r.delta('slow_path_shed_source')})`);
  t.ok(r.delta('policy_deny') > 0, `and what it was allowed to send up was judged (${r.delta('policy_deny')} denied)`);
});

t.test('a spoofed-source flood of denied new UDP flows does not stop TCP connects', async (t) => {
  // One flow per source address (ports 1): every packet from another source.
  const r = await connectsDuring({ frames: 2 ** 31 - 1, rate: FLOOD_PPS, flows: 2 ** 32 - 1, ports: 1, firstFlow: 1000 });
  t.equal(r.failed, 0, `all 20 connects succeeded (${r.us.length}; slowest ${Math.round(Math.max(...r.us) / 1000)} ms)`);
  t.ok(r.delta('slow_path_shed_new_flow') > 0, `the flood was shed by the budget of new flows (${r.delta('slow_path_shed_new_flow')})`);
  t.equal(r.delta('slow_path_shed_syn'), 0, 'no SYN was shed');
});

/** `count` UDP datagrams from client port 40404 to the echo server; how many echoes came back. */
async function echo(count = 1): Promise<number> {
  const r = await net.topo.traffic<{ received: number }>('client', [
    'udp-ping', '--host', ADDR.server4, '--port', '5002', '--sport', '40404', '--count', String(count), '--interval', '50', '--timeout', '1000',
  ]);
  return r.received;
}

t.test('a denied flow\'s repeats are dropped in XDP, logged, and pass after a reload permits them', async (t) => {
  await sleep(1100); // a new second of event budgets after the floods
  const before = await counters();
  t.equal(await echo(), 0, 'denied by policy');
  const judged = await counters();
  t.equal((judged.drops.policy_deny ?? 0) - (before.drops.policy_deny ?? 0), 1, 'the slow path denied it once');
  t.equal(await echo(4), 0, 'its 4 repeats denied');
  const after = await counters();
  t.equal(after.drops.policy_deny, judged.drops.policy_deny, 'the slow path saw none of the repeats');
  t.equal((after.drops.deny_cache_hit ?? 0) - (judged.drops.deny_cache_hit ?? 0), 4, 'deny_cache_hit counted all 4');
  await sleep(500); // the events reach the log
  const events = (await net.topo.xdpfwJson<EventJson[]>(['show', 'log', '--kind', 'policy-deny']))
    .filter((e) => e.sourcePort === 40404 && e.destinationPort === 5002);
  t.equal(events.length, 5, 'every attempt logged as a policy deny (the first by the slow path, the repeats by XDP)');
  t.ok(events.every((e) => e.policy === 'echo' && e.action === 'deny' && e.sourceZone === 'trust'), 'with the policy and zones of the decision');

  const r = await net.topo.xdpfw(['reload', '-c', net.topo.writeConfig(config('permit'))]);
  t.equal(r.code, 0, r.stderr);
  t.equal(await echo(), 1, 'after the reload permits it: the same flow passes');
});

t.test('the shed counters are in show counters and the metrics', async (t) => {
  const c = await counters();
  for (const k of ['slow_path_shed_source', 'slow_path_shed_syn', 'slow_path_shed_new_flow', 'slow_path_shed_exception', 'deny_cache_hit']) {
    t.type(c.drops[k], 'number', `show counters --json: drops.${k}`);
  }
  const text = await net.topo.xdpfw(['show', 'counters']);
  t.match(text.stdout, /slow_path_shed_new_flow/, 'show counters');
  const scraped = await net.topo.traffic<{ status: number; body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  const drops = parsePrometheusTextFormat(scraped.body).find((f) => f.name === 'xdpfw_drops_total');
  const sample = (reason: string) => Number(drops?.metrics.find((m) => m.labels?.stage === 'xdp' && m.labels?.reason === reason)?.value ?? -1);
  t.equal(sample('slow_path_shed_new_flow'), c.drops.slow_path_shed_new_flow, 'metrics: xdpfw_drops_total{stage="xdp",reason="slow_path_shed_new_flow"}');
  t.equal(sample('deny_cache_hit'), c.drops.deny_cache_hit, 'metrics: xdpfw_drops_total{stage="xdp",reason="deny_cache_hit"}');
});

// The syn-ack-ack-proxy screen end to end: real TCP connections from the
// client namespace through the real daemon complete their handshakes and stay
// idle; once the client holds the threshold of them, its next connection is
// refused in XDP (its SYNs dropped, logged as 'SYN-ACK-ACK Proxy DoS!',
// counted in `show screen statistics`, `show counters` and the metrics),
// another source still connects, and one held connection sending data, or
// clearing the held sessions, gives their places back.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import t from 'tap';
import type { EventJson } from '../../lib/cli/format-events.js';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { ScreenStatsReport } from '../../lib/screens/stats.js';
import { ADDR, type RunningTraffic, Topology } from '../helpers/topology.js';

const THRESHOLD = 3;

const CONFIG = `
security {
    zones {
        security-zone trust { interfaces { trust0; } host-inbound-traffic { system-services { ping; } } screen guard; }
        security-zone untrust { interfaces { untrust0; } }
    }
    screen {
        ids-option guard {
            tcp { syn-ack-ack-proxy { threshold ${THRESHOLD}; } }
        }
    }
    policies {
        from-zone trust to-zone untrust {
            policy allow-out {
                match { source-address any; destination-address any; application any; }
                then { permit; }
            }
        }
        default-policy { deny-all; }
    }
}
`;

let topo: Topology;

t.before(async () => {
  topo = await Topology.create();
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG)]);
  if (r.code !== 0) throw new Error(r.stderr);
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
});
t.teardown(() => topo?.destroy());

const proxyStats = async () =>
  (await topo.xdpfwJson<ScreenStatsReport>(['show', 'screen', 'statistics', '--zone', 'trust'])).zones[0]!.screens['syn-ack-ack-proxy'];
const screenDrops = async () => (await topo.xdpfwJson<CountersReport>(['show', 'counters'])).xdp.dropScreen?.packets ?? 0;
const send = (source = '') =>
  topo.traffic<{ ok: boolean; error?: string; received?: number }>('client', [
    'tcp-send', '--host', ADDR.server4, '--port', '5001', '--bytes', '100', '--timeout', '4000', ...(source ? ['--source', source] : []),
  ]);

let held: RunningTraffic;

t.test(`${THRESHOLD} idle connections: the next one from the source is refused in XDP and logged`, async (t) => {
  held = await topo.startTraffic('client', ['tcp-hold', '--host', ADDR.server4, '--port', '5001', '--count', String(THRESHOLD), '--timeout', '20000'], 120_000);
  t.same(JSON.parse(held.lines[0]!), { connected: THRESHOLD }, 'every held connection completed its handshake');
  t.same(await proxyStats(), { drops: 0, alarms: 0, eventsSuppressed: 0 }, 'the screen is on and has dropped nothing');
  const before = await screenDrops();
  const r = await send();
  t.equal(r.ok, false, 'the next connection does not open');
  const stats = await proxyStats();
  t.ok(stats!.drops >= 1, `its SYNs were dropped by the screen (${stats!.drops})`);
  t.ok((await screenDrops()) - before >= stats!.drops, 'and counted as screen drops in show counters');
  const events = (await topo.xdpfwJson<EventJson[]>(['show', 'log', '--kind', 'screen-drop'])).filter((e) => e.screen === 'syn-ack-ack-proxy');
  t.ok(events.length >= 1, 'logged');
  t.match(events[0], {
    kind: 'screen-drop', attackName: 'SYN-ACK-ACK Proxy DoS!', action: 'drop', sourceAddress: ADDR.client4,
    destinationAddress: ADDR.server4, destinationPort: 5001, sourceZone: 'trust', ingressInterface: 'trust0',
  }, 'with the Junos attack name, the tuple, zone and interface');
  const m = await topo.traffic<{ status: number; body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  const sample = parsePrometheusTextFormat(m.body).find((f) => f.name === 'xdpfw_screen_drops_total')?.metrics
    .find((s) => s.labels?.zone === 'trust' && s.labels.screen === 'syn-ack-ack-proxy');
  t.equal(Number(sample?.value), stats!.drops, 'the metrics carry the same count');
});

t.test('another source connects; data on a held connection gives its place back', async (t) => {
  await topo.sh('client', `ip addr add 10.1.0.3/24 dev eth0`);
  const other = await send('10.1.0.3');
  t.same({ ok: other.ok, received: other.received }, { ok: true, received: 100 }, 'another source is not limited');
  held.child.kill('SIGUSR1');
  while (!held.lines.some((l) => l.includes('"sent"'))) await new Promise((r) => setTimeout(r, 100));
  // The byte crosses XDP before the sink sees it; a new connection then finds a place.
  let r = await send();
  for (let i = 0; !r.ok && i < 5; i++) r = await send();
  t.same({ ok: r.ok, received: r.received }, { ok: true, received: 100 }, 'the source connects again');
});

t.test('sessions the daemon removes while handshake-only give their places back (clear sessions)', async (t) => {
  // Two of the first held connections are still handshake-only; one more reaches the threshold.
  const more = await topo.startTraffic('client', ['tcp-hold', '--host', ADDR.server4, '--port', '5001', '--count', '1', '--timeout', '20000'], 120_000);
  t.same(JSON.parse(more.lines[0]!), { connected: 1 });
  const before = (await proxyStats())!.drops;
  t.equal((await send()).ok, false, 'at the threshold again: refused');
  t.ok((await proxyStats())!.drops > before, 'by the screen');
  const cleared = await topo.xdpfwJson<{ cleared: number }>(['clear', 'sessions', '--destination-port', '5001']);
  t.ok(cleared.cleared >= THRESHOLD, `the held sessions are cleared (${cleared.cleared})`);
  const r = await send();
  t.same({ ok: r.ok, received: r.received }, { ok: true, received: 100 }, 'the source connects again');
  held.child.kill('SIGTERM');
  more.child.kill('SIGTERM');
});

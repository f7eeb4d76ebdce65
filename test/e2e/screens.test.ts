// Screens end to end: crafted frames from the client namespace (raw sockets)
// through the real daemon. A land-attack packet and a SYN flood are dropped
// in XDP before the slow path sees them, logged with their Junos attack
// names, counted per zone and screen (in `show screen statistics` and in
// the Prometheus metrics, scraped over HTTP); legitimate traffic flows
// meanwhile.
import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format';
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { ScreenStatsReport } from '../../lib/screens/stats.js';
import { frame } from '../helpers/packets.js';
import { ADDR, Topology } from '../helpers/topology.js';
import type { EventJson } from '../../lib/cli/format-events.js';

const ATTACK_THRESHOLD = 50;

const CONFIG = `
security {
    zones {
        security-zone trust { interfaces { trust0; } host-inbound-traffic { system-services { ping; } } screen guard; }
        security-zone untrust { interfaces { untrust0; } }
    }
    screen {
        ids-option guard {
            tcp {
                land;
                syn-flood { attack-threshold ${ATTACK_THRESHOLD}; alarm-threshold 1; source-threshold 1000000; destination-threshold 1000000; }
            }
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
    flow { timeouts { tcp-closing 1; udp 5; icmp 5; } }
}
`;


let topo: Topology;
let macs: { client: string; fw: string };

t.before(async () => {
  topo = await Topology.create();
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG)]);
  if (r.code !== 0) throw new Error(r.stderr);
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  const mac = async (host: 'client' | 'fw', dev: string) => (JSON.parse(await topo.sh(host, `ip -j link show dev ${dev}`)) as Array<{ address: string }>)[0]!.address;
  macs = { client: await mac('client', 'eth0'), fw: await mac('fw', 'trust0') };
});
t.teardown(() => topo?.destroy());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends a crafted TCP frame from the client `count` times; `varySport`: a new source port each time. */
async function rawSend(spec: { src: string; dst: string; sport: number; dport: number; tcpFlags: number }, count: number, rate = 0, varySport = false): Promise<number> {
  const data = frame({ ...spec, protocol: 'tcp', srcMac: macs.client, dstMac: macs.fw });
  const r = await topo.traffic<{ sent: number }>('client', [
    'raw-send', '--iface', 'eth0', '--frame', data.toString('hex'), '--count', String(count), '--rate', String(rate),
    ...(varySport ? ['--vary-at', String(14 + 20)] : []),
  ]);
  return r.sent;
}

const counters = () => topo.xdpfwJson<CountersReport>(['show', 'counters']);
const trustScreens = async () => (await topo.xdpfwJson<ScreenStatsReport>(['show', 'screen', 'statistics', '--zone', 'trust'])).zones[0]!;
const screenEvents = async () => (await topo.xdpfwJson<EventJson[]>(['show', 'log', '--kind', 'screen-drop'])).filter((e) => e.kind === 'screen-drop');

t.test('a land attack is dropped in XDP, logged as Land attack!, counted', async (t) => {
  const before = await counters();
  t.equal(await rawSend({ src: ADDR.server4, dst: ADDR.server4, sport: 4444, dport: 80, tcpFlags: 0x02 }, 1), 1);
  await sleep(500);
  const after = await counters();
  t.equal(after.xdp.dropScreen!.packets - (before.xdp.dropScreen?.packets ?? 0), 1, 'one screen drop in XDP');
  t.equal(after.slowPathPackets, before.slowPathPackets, 'the slow path never saw it');
  const stats = await trustScreens();
  t.equal(stats.profile, 'guard');
  t.match(stats.screens.land, { drops: 1, alarms: 0 }, 'counted for the zone and the screen');
  const land = (await screenEvents()).find((e) => e.screen === 'land');
  t.match(land, {
    tag: 'RT_SCREEN_TCP',
    attackName: 'Land attack!',
    action: 'drop',
    sourceAddress: ADDR.server4,
    sourcePort: 4444,
    destinationAddress: ADDR.server4,
    destinationPort: 80,
    protocol: 6,
    sourceZone: 'trust',
    ingressInterface: 'trust0',
  }, 'logged with the attack name, zone, interface and tuple');
});

/** GET /metrics in the firewall's namespace; samples by family name. */
async function scrape(): Promise<Map<string, PromFamily>> {
  const r = await topo.traffic<{ status: number; body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  if (r.status !== 200) throw new Error(`scrape answered ${r.status}`);
  return new Map(parsePrometheusTextFormat(r.body).map((f) => [f.name, f]));
}

/** Every sample of a family as `zone/screen value`, sorted. */
function screenSamples(m: Map<string, PromFamily>, name: string): string[] {
  const fam = m.get(name);
  if (!fam) throw new Error(`no metric ${name}`);
  return fam.metrics.map((s) => `${s.labels?.zone}/${s.labels?.screen} ${s.value}`).sort();
}

t.test('the screen counters are in the metrics: exactly the land drop, per zone and screen', async (t) => {
  // Runs after the land attack (one drop) and before the SYN flood.
  const m = await scrape();
  for (const name of ['xdpfw_screen_drops_total', 'xdpfw_screen_alarms_total', 'xdpfw_screen_events_suppressed_total']) {
    t.equal(m.get(name)?.type, 'COUNTER', `${name} is a counter`);
  }
  // The trust zone's profile turns on land and syn-flood (with its source and
  // destination thresholds: the per-address SYN floods); untrust has no screen.
  const zeroes = ['trust/syn-flood 0', 'trust/syn-flood-dst-ip 0', 'trust/syn-flood-src-ip 0'];
  t.same(screenSamples(m, 'xdpfw_screen_drops_total'), ['trust/land 1', ...zeroes]);
  t.same(screenSamples(m, 'xdpfw_screen_alarms_total'), ['trust/land 0', ...zeroes]);
  t.same(screenSamples(m, 'xdpfw_screen_events_suppressed_total'), ['trust/land 0', ...zeroes]);
});

t.test('a SYN flood is dropped in XDP while legitimate traffic flows', async (t) => {
  const flood = 6000;
  const rate = 3000; // two seconds of flood
  const trickle = await topo.startTraffic('client', ['tcp-trickle', '--host', ADDR.server4, '--port', '5001', '--count', '30', '--interval', '100', '--timeout', '3000']);
  const before = await counters();
  const statsBefore = (await trustScreens()).screens['syn-flood']!;
  const [sent, pings] = await Promise.all([
    rawSend({ src: ADDR.client4, dst: ADDR.server4, sport: 10000, dport: 5003, tcpFlags: 0x02 }, flood, rate, true),
    topo.traffic<{ sent: number; received: number }>('client', ['udp-ping', '--host', ADDR.server4, '--port', '5002', '--count', '20', '--interval', '100', '--timeout', '1000']),
  ]);
  t.equal(sent, flood);
  t.equal(pings.received, 20, 'UDP echoes kept coming back during the flood');
  const done = JSON.parse(await trickle.exited) as { ok: boolean; received: number };
  t.same(done, { ok: true, received: 30_000 }, 'an established TCP stream kept flowing');
  const fresh = await topo.traffic<{ ok: boolean }>('client', ['tcp-send', '--host', ADDR.server4, '--port', '5001', '--bytes', '1000']);
  t.ok(fresh.ok, 'and a new connection to another port opens');
  await sleep(500);

  const after = await counters();
  const passedAtMost = ATTACK_THRESHOLD * 4; // at most threshold per second, over 2-3 seconds of flood
  const screened = after.xdp.dropScreen!.packets - before.xdp.dropScreen!.packets;
  t.ok(screened >= flood - passedAtMost, `dropped in XDP: ${screened} of ${flood}`);
  const slow = after.slowPathPackets - before.slowPathPackets;
  t.ok(slow <= passedAtMost + 20, `the slow path saw ${slow} packets: the flood's first ${ATTACK_THRESHOLD} per second and the legitimate flows' setup`);
  const stats = (await trustScreens()).screens['syn-flood']!;
  t.equal(stats.drops - statsBefore.drops, screened, 'every drop counted for the zone and screen');
  const events = (await screenEvents()).filter((e) => e.screen === 'syn-flood');
  t.ok(events.length > 0, `${events.length} SYN flood events logged (rate limited)`);
  t.match(events[0], {
    tag: 'RT_SCREEN_TCP',
    attackName: 'SYN flood!',
    action: 'drop',
    sourceAddress: ADDR.client4,
    destinationAddress: ADDR.server4,
    destinationPort: 5003,
    sourceZone: 'trust',
    ingressInterface: 'trust0',
  });
  t.ok(events.every((e) => e.sourcePort >= 10000 && e.sourcePort < 10000 + flood), 'each with the source port of its own SYN');
  const m = await scrape();
  const scraped = (name: string) => Number(m.get(name)?.metrics.find((s) => s.labels?.zone === 'trust' && s.labels.screen === 'syn-flood')?.value);
  t.equal(scraped('xdpfw_screen_drops_total'), stats.drops, 'the scraped drops are those of show screen statistics');
  t.equal(scraped('xdpfw_screen_events_suppressed_total'), stats.eventsSuppressed, 'and so are the events not logged');
  t.ok(stats.eventsSuppressed > 0, `${stats.eventsSuppressed} events over the per-second budget were counted, not logged`);
});

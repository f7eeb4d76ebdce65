// The `limit-session` screen end to end: real TCP and UDP sessions from the
// client namespace through the real daemon, judged by the slow path when it
// is about to create a session. A refused session never exists (the client
// times out), is logged as RT_SCREEN_* to a real syslog collector with the
// Junos attack name, counted per zone and screen (CLI and Prometheus) and as
// a slow path drop; its place comes back when a session closes or is
// cleared. alarm-without-drop admits the session and logs it all the same.
import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format';
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { ScreenCounts, ScreenStatsReport } from '../../lib/screens/stats.js';
import type { SessionView } from '../../lib/session/table.js';
import { ADDR, type RunningTraffic, Topology } from '../helpers/topology.js';
import type { EventJson } from '../../lib/cli/format-events.js';

/** The configuration with the trust zone's screen profile `limits` holding `profile`. */
function config(profile: string): string {
  return `
system {
    host-name fw1;
    syslog { host 127.0.0.1 { port 5514; transport udp; format structured; } }
}
security {
    zones {
        security-zone trust { interfaces { trust0; } screen limits; }
        security-zone untrust { interfaces { untrust0; } }
    }
    screen { ids-option limits { ${profile} } }
    policies {
        from-zone trust to-zone untrust {
            policy allow-out {
                match { source-address any; destination-address any; application any; }
                then { permit; }
            }
        }
        default-policy { deny-all; }
    }
    flow { timeouts { tcp-closing 1; udp 60; } }
}
`;
}


let topo: Topology;
let syslog: RunningTraffic;

t.before(async () => {
  topo = await Topology.create();
  syslog = await topo.startTraffic('fw', ['syslog-listen', '--transport', 'udp', '--listen', '127.0.0.1', '--port', '5514'], 300_000);
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(config('limit-session { source-ip-based 2; }'))]);
  if (r.code !== 0) throw new Error(r.stderr);
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
});
t.teardown(() => topo?.destroy());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const sessions = () => topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
const clientSessions = async (protocol: string) =>
  (await sessions()).filter((s) => s.sourceAddress === ADDR.client4 && s.protocol === protocol && s.fromZone === 'trust');
const counters = () => topo.xdpfwJson<CountersReport>(['show', 'counters']);
const trustScreens = async () => (await topo.xdpfwJson<ScreenStatsReport>(['show', 'screen', 'statistics', '--zone', 'trust'])).zones[0]!;
const limitEvents = async (screen: string) =>
  (await topo.xdpfwJson<EventJson[]>(['show', 'log', '--kind', 'screen-drop'])).filter((e) => e.kind === 'screen-drop' && e.screen === screen);

async function reload(profile: string): Promise<void> {
  const cleared = await topo.xdpfw(['clear', 'sessions']);
  if (cleared.code !== 0) throw new Error(cleared.stderr);
  const r = await topo.xdpfw(['reload', '-c', topo.writeConfig(config(profile))]);
  if (r.code !== 0) throw new Error(r.stderr);
}

/** One UDP datagram from the client's port `sport`; whether its echo came back. */
async function udpSession(sport: number, host: string = ADDR.server4): Promise<boolean> {
  const r = await topo.traffic<{ sent: number; received: number }>('client', [
    'udp-ping', '--host', host, '--port', '5002', '--sport', String(sport), '--count', '1', '--interval', '0', '--timeout', '1000',
  ]);
  return r.received === 1;
}

/** The syslog messages received so far. */
const messages = () => syslog.lines.map((x) => JSON.parse(x) as { msg?: string }).flatMap((x) => (x.msg ? [x.msg] : []));

async function waitForSyslog(pred: (msg: string) => boolean, ms = 10_000): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hits = messages().filter(pred);
    if (hits.length > 0 || Date.now() > deadline) return hits;
    await sleep(100);
  }
}

/** A structured RT_IDS line, timestamp left out: what a SIEM's Juniper SRX parser reads. */
function screenLine(attackName: string, destination: string, protocol: number, action: string): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `^<11>1 \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d\\d:\\d\\d fw1 RT_IDS - RT_SCREEN_IP ` +
    esc(`[junos@2636.1.1.1.2.129 attack-name="${attackName}" source-address="${ADDR.client4}" destination-address="${destination}" ` +
      `protocol-id="${protocol}" source-zone-name="trust" interface-name="trust0" action="${action}"]`) + '$',
  );
}

async function scrape(): Promise<Map<string, PromFamily>> {
  const r = await topo.traffic<{ status: number; body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  if (r.status !== 200) throw new Error(`scrape answered ${r.status}`);
  return new Map(parsePrometheusTextFormat(r.body).map((f) => [f.name, f]));
}

function sample(m: Map<string, PromFamily>, name: string, labels: Record<string, string>): number | undefined {
  const s = m.get(name)?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return s === undefined ? undefined : Number(s.value);
}

const counts = (drops: number, alarms: number): ScreenCounts => ({ drops, alarms, eventsSuppressed: 0 });

t.test('source-ip-based 2: two TCP sessions from the client, the third refused until one closes', async (t) => {
  const before = await counters();
  // Streams that run until SIGUSR1 (or 2 minutes): both still hold their
  // sessions when the third connection tries, however slow the machine.
  const trickle = () => topo.startTraffic('client', [
    'tcp-trickle', '--host', ADDR.server4, '--port', '5001', '--count', '1200', '--interval', '100', '--timeout', '20000',
  ], 180_000);
  const [a, b] = [await trickle(), await trickle()];
  t.equal((await clientSessions('tcp')).length, 2, 'two concurrent TCP sessions from the client');

  // Below the SYN retransmit time (1 s): exactly one SYN is refused.
  const third = await topo.traffic<{ ok: boolean; error?: string }>('client', [
    'tcp-send', '--host', ADDR.server4, '--port', '5001', '--bytes', '1000', '--timeout', '700',
  ]);
  t.same(third, { ok: false, error: 'ETIMEDOUT' }, 'the third connection times out');
  t.equal((await clientSessions('tcp')).length, 2, 'no session was created for it');

  const lines = await waitForSyslog((m) => m.includes('attack-name="Src IP session limit!"'));
  t.equal(lines.length, 1, 'one RT_IDS line at the syslog collector');
  t.match(lines[0], screenLine('Src IP session limit!', ADDR.server4, 6, 'drop'), 'with the Junos attack name, tuple, zone, interface and action');

  t.same((await trustScreens()).screens, { 'src-ip-session-limit': counts(1, 0) }, 'show screen statistics counts one drop');
  const after = await counters();
  t.equal((after.drops.session_limit ?? 0) - (before.drops.session_limit ?? 0), 1, 'one slow path drop, reason session_limit');
  t.match(await limitEvents('src-ip-session-limit'), [{
    attackName: 'Src IP session limit!', action: 'drop', sourceAddress: ADDR.client4, destinationAddress: ADDR.server4,
    destinationPort: 5001, protocol: 6, sourceZone: 'trust', ingressInterface: 'trust0',
  }], 'one event in the log');
  const m = await scrape();
  t.equal(sample(m, 'xdpfw_screen_drops_total', { zone: 'trust', screen: 'src-ip-session-limit' }), 1, 'scraped: one screen drop');
  t.equal(sample(m, 'xdpfw_screen_alarms_total', { zone: 'trust', screen: 'src-ip-session-limit' }), 0, 'scraped: no alarm');
  t.equal(sample(m, 'xdpfw_drops_total', { stage: 'slowpath', reason: 'session_limit' }), 1, 'scraped: one slow path drop');

  for (const s of [a, b]) {
    s.child.kill('SIGUSR1');
    const end = JSON.parse(await s.exited) as { ok: boolean; received: number };
    const stopped = s.lines.map((l) => JSON.parse(l) as { stopped?: boolean; sent?: number }).find((l) => l.stopped);
    t.same(end, { ok: true, received: stopped?.sent }, 'the admitted streams ran to their end, every byte received');
  }
  // FIN, then the tcp-closing timeout (1 s): the sessions close and give their places back.
  const deadline = Date.now() + 30_000;
  while ((await clientSessions('tcp')).length > 0 && Date.now() < deadline) await sleep(200);
  t.same(await clientSessions('tcp'), [], 'both sessions closed');
  const fresh = await topo.traffic<{ ok: boolean; received?: number }>('client', [
    'tcp-send', '--host', ADDR.server4, '--port', '5001', '--bytes', '1000', '--timeout', '3000',
  ]);
  t.match(fresh, { ok: true, received: 1000 }, 'a new connection is admitted again');
  t.same((await trustScreens()).screens, { 'src-ip-session-limit': counts(1, 0) }, 'and not counted');
});

t.test('destination-ip-based 2: a third UDP session to the same server refused, another destination admitted, clear frees', async (t) => {
  await reload('limit-session { destination-ip-based 2; }');
  t.ok(await udpSession(41001), 'first UDP session to the server');
  t.ok(await udpSession(41002), 'second UDP session to the server');
  t.notOk(await udpSession(41003), 'the third gets no answer');
  t.same((await clientSessions('udp')).map((s) => s.sourcePort).sort(), [41001, 41002], 'no session was created for it');
  t.ok(await udpSession(41003, ADDR.server6), 'the same client port to another destination is admitted');

  const lines = await waitForSyslog((m) => m.includes('attack-name="Dst IP session limit!"'));
  t.equal(lines.length, 1, 'one RT_IDS line at the syslog collector');
  t.match(lines[0], screenLine('Dst IP session limit!', ADDR.server4, 17, 'drop'));
  t.match(await limitEvents('dst-ip-session-limit'), [{
    attackName: 'Dst IP session limit!', action: 'drop', sourceAddress: ADDR.client4, sourcePort: 41003,
    destinationAddress: ADDR.server4, destinationPort: 5002, protocol: 17, sourceZone: 'trust', ingressInterface: 'trust0',
  }]);
  t.same((await trustScreens()).screens, {
    'src-ip-session-limit': counts(1, 0), // from the first test: counts survive a reload
    'dst-ip-session-limit': counts(1, 0),
  }, 'show screen statistics counts one drop');
  const m = await scrape();
  t.equal(sample(m, 'xdpfw_screen_drops_total', { zone: 'trust', screen: 'dst-ip-session-limit' }), 1, 'scraped: one screen drop');

  const cleared = await topo.xdpfw(['clear', 'sessions']);
  t.equal(cleared.code, 0);
  t.ok(await udpSession(41003), 'after clear sessions the refused flow is admitted');
  t.same((await clientSessions('udp')).map((s) => s.sourcePort), [41003], 'as a session');
  t.same((await trustScreens()).screens['dst-ip-session-limit'], counts(1, 0), 'and not counted');
});

t.test('alarm-without-drop: the session over the limit is admitted, logged and counted as an alarm', async (t) => {
  await reload('limit-session { source-ip-based 1; } alarm-without-drop;');
  const before = await counters();
  t.ok(await udpSession(42001), 'first UDP session');
  t.ok(await udpSession(42002), 'the second, over the limit, is answered');
  t.same((await clientSessions('udp')).map((s) => s.sourcePort).sort(), [42001, 42002], 'both are sessions');

  const lines = await waitForSyslog((m) => m.includes('action="alarm-without-drop"'));
  t.equal(lines.length, 1, 'one RT_IDS line at the syslog collector');
  t.match(lines[0], screenLine('Src IP session limit!', ADDR.server4, 17, 'alarm-without-drop'));
  t.match((await limitEvents('src-ip-session-limit')).at(-1), {
    action: 'alarm', sourcePort: 42002, destinationAddress: ADDR.server4, destinationPort: 5002, protocol: 17,
  });
  t.same((await trustScreens()).screens, {
    'src-ip-session-limit': counts(1, 1),
    'dst-ip-session-limit': counts(1, 0),
  }, 'one alarm, no new drop');
  const after = await counters();
  t.equal(after.drops.session_limit ?? 0, before.drops.session_limit ?? 0, 'no slow path drop');
  const m = await scrape();
  t.equal(sample(m, 'xdpfw_screen_alarms_total', { zone: 'trust', screen: 'src-ip-session-limit' }), 1, 'scraped: one alarm');
  t.equal(sample(m, 'xdpfw_screen_drops_total', { zone: 'trust', screen: 'src-ip-session-limit' }), 1, 'scraped: still one drop');
});

// Established flows and cached filter verdicts, end to end: XDP replays the
// verdict the slow path cached in the session entry on every packet (one
// FILTER_LOG per packet, with the zones the first packet was judged in), and
// a reload re-judges the cached verdicts of running sessions.
import t from 'tap';
import type { CountersReport, ReloadReport } from '../../lib/daemon/reports.js';
import { ADDR, Topology } from '../helpers/topology.js';
import { type FilterLogJson, apply, filterId, filtersConfig, firewallCounter, tcp, udp, waitForLogs } from '../helpers/filters.js';

const ECHO = 5002;
const TCP_SINK = 5001;
/** Client source ports: one UDP flow per test. */
const SPORT = { logged: 43001, reloaded: 43002, replies: 43003 } as const;

interface SessionJson { sessionId: number; family: string; sourcePort: number; destinationPort: number; packetsFromClient: number; packetsFromServer: number; fromZone: string }

/** trust0's input filter: the then-clauses of `flow` and `tcp-logged` are what the reload tests change. */
function filter(family: 'inet' | 'inet6', flow: string, tcpThen: string): string {
  const proto = family === 'inet6' ? 'next-header' : 'protocol';
  return `
        filter in-${family} {
            term logged { from { ${proto} udp; source-port ${SPORT.logged}; } then { log; accept; } }
            term flow { from { ${proto} udp; source-port ${SPORT.reloaded}; } then { ${flow} } }
            term tcp-logged { from { ${proto} tcp; destination-port ${TCP_SINK}; } then { ${tcpThen} } }
            term rest { then accept; }
        }
        filter back-${family} {
            term replies { from { ${proto} udp; destination-port ${SPORT.replies}; } then { log; count replies; accept; } }
            term rest { then accept; }
        }`;
}

function config(flow: string, tcpThen = 'log; accept;'): string {
  return filtersConfig(`
firewall {
    family inet {${filter('inet', flow, tcpThen)}
    }
    family inet6 {${filter('inet6', flow, tcpThen)}
    }
}
interfaces {
    trust0 { unit 0 { family inet { filter { input in-inet; } } family inet6 { filter { input in-inet6; } } } }
    untrust0 { unit 0 { family inet { filter { input back-inet; } } family inet6 { filter { input back-inet6; } } } }
}`);
}

let topo: Topology;
const loaded = { done: false };

t.before(async () => {
  topo = await Topology.create();
  await apply(topo, config('count flow; accept;'), loaded);
  await topo.startTraffic('server', ['udp-echo', '--port', String(ECHO)]);
  await topo.startTraffic('server', ['tcp-sink', '--port', String(TCP_SINK)]);
});
t.teardown(() => topo?.destroy());

const addrs = (family: 'inet' | 'inet6') =>
  family === 'inet' ? { client: ADDR.client4, server: ADDR.server4 } : { client: ADDR.client6, server: ADDR.server6 };
const sessions = () => topo.xdpfwJson<SessionJson[]>(['show', 'sessions']);
const xdpFilterDrops = async () => (await topo.xdpfwJson<CountersReport>(['show', 'counters'])).xdp.dropFilter?.packets ?? 0;

async function reload(flow: string, tcpThen?: string): Promise<ReloadReport> {
  const r = await topo.xdpfw(['reload', '-c', topo.writeConfig(config(flow, tcpThen)), '--json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as ReloadReport;
}

for (const family of ['inet', 'inet6'] as const) {
  const a = addrs(family);
  const mine = (sport: number) => (e: FilterLogJson) => e.family === family && e.sourcePort === sport;

  t.test(`${family}: N packets of one flow through a logged input term: 1 input + N-1 cached-input, all in the client's zone`, async (t) => {
    const n = 12;
    const u = await udp(topo, 'client', a.server, ECHO, SPORT.logged, n);
    t.equal(u.received, n, 'accepted: all echoed');
    const logs = await waitForLogs(topo, mine(SPORT.logged), n);
    t.equal(logs.length, n, `exactly ${n} events, one per packet`);
    const input = logs.filter((e) => e.filterSource === 'input');
    const cached = logs.filter((e) => e.filterSource === 'cached-input');
    t.equal(input.length, 1, 'the first packet: source input (slow path)');
    t.equal(cached.length, n - 1, 'the rest: source cached-input (XDP)');
    const s = (await sessions()).find((x) => x.family === family && x.sourcePort === SPORT.logged);
    t.ok(s, 'one session');
    t.equal(s?.packetsFromClient, n);
    for (const e of logs) {
      t.match(e, {
        filter: `in-${family}`, filterId: filterId(family, 1), term: 'logged', termId: 1, action: 'accept',
        sourceAddress: a.client, destinationAddress: a.server, sourcePort: SPORT.logged, destinationPort: ECHO,
        protocolName: 'udp', ingressInterface: 'trust0', filterInterface: 'trust0',
        sourceZone: 'trust',
      }, `${e.filterSource} event`);
      t.not(e.sourceZoneId, 0, 'a real zone id, never 0');
    }
    for (const e of cached) {
      t.equal(e.sessionId, s?.sessionId, 'cached: the session it replayed');
      t.equal(e.destinationZone, 'untrust', 'cached: the session\'s egress zone');
    }
    t.equal(input[0]?.sessionId, 0, 'the slow path judged it before the session existed');
    const stamps = logs.map((e) => Date.parse((e as unknown as { timestamp: string }).timestamp));
    t.ok(stamps.every((x) => Math.abs(x - Date.now()) < 60_000), 'XDP events carry the real time too');
  });

  t.test(`${family}: the reply direction replays untrust0's input filter, in the server's zone`, async (t) => {
    const n = 6;
    const before = (await firewallCounter(topo, `back-${family}`, 'replies'))?.packets ?? 0;
    const u = await udp(topo, 'client', a.server, ECHO, SPORT.replies, n);
    t.equal(u.received, n);
    // The echoes match back-*'s `replies` term (destination port = the client's port).
    const logs = await waitForLogs(topo, (e) => e.family === family && e.destinationPort === SPORT.replies, n);
    t.equal(logs.length, n, 'one event per echo');
    for (const e of logs) {
      t.match(e, {
        filter: `back-${family}`, filterId: filterId(family, 2), term: 'replies', termId: 1, action: 'accept',
        filterSource: 'cached-input', sourceAddress: a.server, destinationAddress: a.client, sourcePort: ECHO,
        ingressInterface: 'untrust0', sourceZone: 'untrust', destinationZone: 'trust',
      }, 'an echo, replayed from the session judged on the first request');
    }
    t.equal((await firewallCounter(topo, `back-${family}`, 'replies'))?.packets, before + n, 'and counted, each once');
  });

  t.test(`${family}: a reload that turns the term to discard stops the established flow, in XDP, logged cached-input discard`, async (t) => {
    const warm = await udp(topo, 'client', a.server, ECHO, SPORT.reloaded, 3);
    t.equal(warm.received, 3, 'the flow runs');
    const s = (await sessions()).find((x) => x.family === family && x.sourcePort === SPORT.reloaded);
    t.ok(s, 'as a session');
    const counted = (await firewallCounter(topo, `in-${family}`, 'flow'))?.packets;
    t.equal(counted, 3, 'count flow: 3');

    const report = await reload('count flow; discard; log;');
    t.ok(report.sessions.refiltered >= 1, `the reload re-judged the cached verdicts (${report.sessions.refiltered} sessions)`);
    t.equal(report.sessions.closed, 0, 'filters close no session');
    const drops = await xdpFilterDrops();
    const stopped = await udp(topo, 'client', a.server, ECHO, SPORT.reloaded, 4, { timeoutMs: 800 });
    t.equal(stopped.received, 0, 'the established flow is now dropped');
    t.equal(await xdpFilterDrops(), drops + 4, 'by XDP: four filter drops');
    const logs = await waitForLogs(topo, (e) => mine(SPORT.reloaded)(e) && e.action === 'discard', 4);
    t.equal(logs.length, 4, 'one event per dropped packet');
    for (const e of logs) {
      t.match(e, {
        filterSource: 'cached-input', action: 'discard', term: 'flow', termId: 2, filter: `in-${family}`,
        sourceZone: 'trust', destinationZone: 'untrust', ingressInterface: 'trust0', sessionId: s?.sessionId,
        sourceAddress: a.client, destinationAddress: a.server, destinationPort: ECHO,
      });
    }
    const still = (await sessions()).find((x) => x.family === family && x.sourcePort === SPORT.reloaded);
    t.equal(still?.sessionId, s?.sessionId, 'the session is still there');
    t.equal(still?.packetsFromClient, 3, 'the dropped packets were not forwarded');

    const r2 = await reload('count flow; reject port-unreachable; log;');
    t.ok(r2.sessions.refiltered >= 1);
    const refused = await udp(topo, 'client', a.server, ECHO, SPORT.reloaded, 3, { connect: true, timeoutMs: 3000, intervalMs: 500 });
    t.equal(refused.error, 'ECONNREFUSED', 'a cached reject is answered: the slow path sends port unreachable');
    const rl = await waitForLogs(topo, (e) => mine(SPORT.reloaded)(e) && e.action === 'reject', 1);
    t.ok(rl.length >= 1 && rl.length <= refused.sent, `and logs it, once per packet sent before the error (${rl.length})`);
    t.match(rl[0], { filterSource: 'cached-input', term: 'flow', sourceZone: 'trust', sessionId: s?.sessionId });

    await reload('count flow; accept;');
    const back = await udp(topo, 'client', a.server, ECHO, SPORT.reloaded, 3);
    t.equal(back.received, 3, 'accepting again: the same session forwards again');
    const again = (await sessions()).find((x) => x.family === family && x.sourcePort === SPORT.reloaded);
    t.equal(again?.sessionId, s?.sessionId, 'the same session');
    t.equal((await firewallCounter(topo, `in-${family}`, 'flow'))?.packets, 3 + 4 + rl.length + 3,
      `count flow: every packet that met the term, whatever it did with it (3 accepted, 4 discarded, ${rl.length} rejected, 3 accepted), kept across the reloads`);
  });

  t.test(`${family}: a TCP stream cut by a reload that discards it`, async (t) => {
    const trickle = await topo.startTraffic('client', ['tcp-trickle', '--host', a.server, '--port', String(TCP_SINK), '--count', '100', '--interval', '100', '--timeout', '2500']);
    const port = (JSON.parse(trickle.lines[0]!) as { localPort: number }).localPort;
    await new Promise((r) => setTimeout(r, 600));
    const before = await waitForLogs(topo, (e) => e.family === family && e.sourcePort === port && e.action === 'accept', 3, 0);
    t.equal(before.filter((e) => e.filterSource === 'input').length, 1, 'the SYN: source input');
    t.ok(before.filter((e) => e.filterSource === 'cached-input').length >= 3, 'the stream: cached-input, per packet');
    const started = Date.now();
    const report = await reload('count flow; accept;', 'log; discard;');
    t.comment(`reload took ${Date.now() - started} ms, ${JSON.stringify(report.sessions)}`);
    t.ok(report.sessions.refiltered >= 1, 'the reload re-judged the stream\'s cached verdicts');
    const end = JSON.parse(await trickle.exited) as { ok: boolean; error?: string };
    t.notOk(end.ok, 'the client never gets its answer');
    t.equal(end.error, 'ETIMEDOUT', 'the stream stalls: its segments are dropped');
    const dropped = await waitForLogs(topo, (e) => e.family === family && e.sourcePort === port && e.action === 'discard', 1);
    t.ok(dropped.length >= 1, `discards logged (${dropped.length})`);
    t.ok(dropped.every((e) => e.filterSource === 'cached-input' && e.sourceZone === 'trust'), 'as cached-input in zone trust');
    await reload('count flow; accept;');
    const fresh = await tcp(topo, 'client', a.server, TCP_SINK);
    t.ok(fresh.ok, 'a new connection works once the filter accepts again');
  });
}

// End to end, real daemon and real traffic: a route change in the firewall
// that moves an established session to another interface (and zone) is
// judged by the policy of the new zone pair (moved when permitted, closed
// with reason route change when not); and a daemon started on the pinned
// sessions of a stopped one judges them against its own configuration.
import { readFileSync } from 'node:fs';
import t from 'tap';
import type { EventJson } from '../../lib/cli/format-events.js';
import type { CountersReport, StatusReport } from '../../lib/daemon/reports.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import type { SessionView } from '../../lib/session/table.js';
import { waitGone } from '../helpers/fail-closed.js';
import { ADDR, Topology } from '../helpers/topology.js';

/** Held by both the server and alt: reachable through untrust0 or alt0, whichever the firewall's route says. */
const SERVICE = 'fd00:99::9';

let topo: Topology;

/** A policy that permits and logs its sessions' close. */
const pol = (name: string, match = 'application any;') => `
            policy ${name} {
                match { source-address any; destination-address any; ${match} }
                then { permit; log { session-close; } }
            }`;
const pair = (from: string, to: string, ...policies: string[]) => `
        from-zone ${from} to-zone ${to} {${policies.join('')}
        }`;

function config(policies: string): string {
  return `
security {
    zones {
        security-zone trust { interfaces { trust0; } }
        security-zone untrust { interfaces { untrust0; } }
        security-zone dmz { interfaces { alt0; } }
    }
    policies {${policies}
        default-policy { deny-all; }
    }
}`;
}

t.before(async () => {
  topo = await Topology.create();
  await topo.addAlt();
  for (const host of ['server', 'alt'] as const) {
    await topo.sh(host, `ip -6 addr add ${SERVICE}/128 dev lo`);
    await topo.startTraffic(host, ['udp-echo', '--port', '5002', '--listen', SERVICE]);
  }
  await topo.startTraffic('server', ['udp-echo', '--port', '5003']);
  await topo.sh('fw', `ip -6 route add ${SERVICE}/128 via ${ADDR.server6} dev untrust0`);
});

t.teardown(async () => {
  await topo?.destroy();
});

const counters = () => topo.xdpfwJson<CountersReport>(['show', 'counters']);
const sessions = () => topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
const closeEvents = async () => (await topo.xdpfwJson<EventJson[]>(['show', 'log', '--kind', 'session-close'])).filter((e) => e.kind === 'session-close');

/** `count` datagrams from the client's port `sport` to host:port; how many echoes came back. */
async function ping(host: string, port: number, sport: number, count: number): Promise<number> {
  const r = await topo.traffic<{ received: number }>('client', [
    'udp-ping', '--host', host, '--port', String(port), '--sport', String(sport), '--count', String(count), '--timeout', '2000',
  ]);
  return r.received;
}

async function routeVia(dev: 'untrust0' | 'alt0'): Promise<void> {
  await topo.sh('fw', `ip -6 route replace ${SERVICE}/128 via ${dev === 'alt0' ? ADDR.alt6 : ADDR.server6} dev ${dev}`);
}

async function load(policies: string, name: string): Promise<void> {
  const path = topo.writeConfig(config(policies));
  const r = await topo.xdpfw(['load', '-c', path]);
  if (r.code !== 0) throw new Error(`load ${name}: ${r.stderr}`);
}

t.test('a route change is judged by the policy of the new zone pair', async (t) => {
  await load(pair('trust', 'untrust', pol('allow-out')) + pair('trust', 'dmz', pol('allow-dmz')), 'both');
  const SPORT = 6001;
  t.equal(await ping(SERVICE, 5002, SPORT, 2), 2, 'the flow works through untrust');
  const first = (await sessions()).find((s) => s.sourcePort === SPORT);
  t.match(first, { toZone: 'untrust', policy: 'allow-out' }, 'its session goes to untrust');
  const before = await counters();

  await routeVia('alt0');
  t.equal(await ping(SERVICE, 5002, SPORT, 3), 3, 'after the route moved to alt0, trust -> dmz permits it: it goes on');
  const moved = (await sessions()).find((s) => s.sourcePort === SPORT);
  t.match(moved, { sessionId: first?.sessionId, toZone: 'dmz', policy: 'allow-dmz' }, 'the same session, now to dmz under allow-dmz');
  t.equal(moved?.packetsFromClient, (first?.packetsFromClient ?? 0) + 3, 'each datagram counted once, the one handed up included');
  t.equal(moved?.packetsFromServer, (first?.packetsFromServer ?? 0) + 3, 'the replies from alt use it');
  const after = await counters();
  t.ok((after.xdp.sessionRerouted?.packets ?? 0) > (before.xdp.sessionRerouted?.packets ?? 0), 'XDP handed the moved flow up (session_rerouted)');

  // Back through untrust, then a configuration without trust -> dmz.
  await routeVia('untrust0');
  t.equal(await ping(SERVICE, 5002, SPORT, 2), 2, 'moved back to untrust');
  t.match((await sessions()).find((s) => s.sourcePort === SPORT), { sessionId: first?.sessionId, toZone: 'untrust' });
  const reload = await topo.xdpfw(['reload', '-c', topo.writeConfig(config(pair('trust', 'untrust', pol('allow-out'))))]);
  t.equal(reload.code, 0, `reload without trust -> dmz (${reload.stderr.trim()})`);
  t.ok((await sessions()).some((s) => s.sourcePort === SPORT), 'the session is still permitted');

  const denied0 = await counters();
  await routeVia('alt0');
  t.equal(await ping(SERVICE, 5002, SPORT, 3), 0, 'after the route moved to alt0, nothing passes: no policy permits trust -> dmz');
  t.notOk((await sessions()).some((s) => s.sourcePort === SPORT), 'the session is closed');
  const denied = await counters();
  t.equal((denied.sessions.closed['route change'] ?? 0) - (denied0.sessions.closed['route change'] ?? 0), 1, 'closed for a route change');
  t.ok((denied.drops.route_change_denied ?? 0) > (denied0.drops.route_change_denied ?? 0), 'the packet that found it counted as route_change_denied');
  const close = (await closeEvents()).find((e) => e.sessionId === first?.sessionId);
  t.match(close, { reasonText: /route change/ }, 'the close is logged with its reason');
  await routeVia('untrust0');
  await topo.xdpfw(['unload']);
});

t.test('a daemon started on pinned sessions judges them against its configuration', async (t) => {
  const SPORT = 6100;
  const stop = async () => {
    const pid = (await topo.xdpfwJson<StatusReport>(['status'])).pid;
    process.kill(pid, 'SIGTERM');
    await waitGone(pid);
  };
  await load(pair('trust', 'untrust', pol('allow-out')), 'first');
  t.equal(await ping(ADDR.server4, 5003, SPORT, 2), 2, 'a UDP flow through the first daemon');
  const first = (await sessions()).find((s) => s.sourcePort === SPORT);
  t.match(first, { policy: 'allow-out' });
  await stop();
  t.equal(await ping(ADDR.server4, 5003, SPORT, 2), 2, 'with no daemon, XDP forwards the pinned session');

  // Another policy permits it now: kept, relabelled, still working.
  await load(pair('trust', 'untrust', pol('ssh-only', 'application junos-ssh;'), pol('all-out')), 'permitting');
  const kept = (await sessions()).find((s) => s.sourcePort === SPORT);
  t.match(kept, { sessionId: first?.sessionId, policy: 'all-out' }, 'the adopted session is kept, under the policy that permits it now');
  t.equal(await ping(ADDR.server4, 5003, SPORT, 2), 2, 'and it still works');
  await stop();

  // No policy permits it: closed with reason policy change, logged, and its packets dropped.
  const log = statePaths(topo.stateDir).logFile;
  // The same policies, the second one narrowed: it no longer matches the flow.
  await load(pair('trust', 'untrust', pol('ssh-only', 'application junos-ssh;'), pol('all-out', 'application junos-ssh;')), 'denying');
  t.notOk((await sessions()).some((s) => s.sourcePort === SPORT), 'the adopted session is closed');
  const c = await counters();
  t.equal(c.sessions.closed['policy change'], 1, 'closed for a policy change');
  t.match(readFileSync(log, 'utf8'), /pinned sessions judged against this configuration: 0 kept .*1 closed \(policy change\)/, 'the daemon log says so');
  const close = (await closeEvents()).find((e) => e.sessionId === first?.sessionId);
  t.match(close, { reasonText: /policy delete/ }, 'the close event carries its reason');
  t.equal(await ping(ADDR.server4, 5003, SPORT, 2), 0, 'the flow no longer passes');
});

// `show sessions` and `clear sessions` with Junos-style filters on real
// flows through the real daemon: each filter kind selects exactly the
// matching sessions (IPv4 and IPv6), the views (summary, extensive) and
// pages (--limit, cursor) say what the map holds, and a filtered clear
// closes only its sessions (close event reason CLI) while the others keep
// forwarding. Then a large table (sessions written straight into the pinned
// map and adopted by a restarted daemon): a listing that a slow reader holds
// up does not hold up the slow path, and a filtered clear leaves the rest.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import t from 'tap';
import { packageRoot } from '../../lib/util/paths.js';
import type { StatusReport } from '../../lib/daemon/reports.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import type { ExtensiveSessionView, PageEnd, SessionSummary } from '../../lib/session/query.js';
import type { FlowFilterSpec } from '../../lib/session/filter-spec.js';
import { request, requestStream } from '../../lib/control/client.js';
import type { SessionView } from '../../lib/session/table.js';
import type { EventJson } from '../../lib/cli/format-events.js';
import { waitGone } from '../helpers/fail-closed.js';
import { FILL_BASE, fillSessions } from '../helpers/session-fill.js';
import { ADDR, Topology } from '../helpers/topology.js';

const CONFIG = `
security {
    zones {
        security-zone trust { interfaces { trust0; } }
        security-zone untrust { interfaces { untrust0; } }
        security-zone dmz { interfaces { alt0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy allow-out { match { source-address any; destination-address any; application any; } then { permit; log { session-close; } } }
        }
        from-zone untrust to-zone trust {
            policy allow-in { match { source-address any; destination-address any; application any; } then { permit; log { session-close; } } }
        }
        from-zone trust to-zone dmz {
            policy allow-dmz { match { source-address any; destination-address any; application any; } then { permit; } }
        }
        default-policy { deny-all; }
    }
    flow { max-sessions 400000; timeouts { tcp-closing 1; udp 900; icmp 60; } }
}
`;

let topo: Topology;
t.before(async () => {
  topo = await Topology.create();
  await topo.addAlt();
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  await topo.startTraffic('client', ['udp-echo', '--port', '5003']);
  await topo.startTraffic('alt', ['udp-echo', '--port', '5002']);
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG)]);
  if (r.code !== 0) throw new Error(r.stderr);
});
t.teardown(() => topo?.destroy());

/** The CLI's JSON listing with these flags. */
const show = (...args: string[]) => topo.xdpfwJson<SessionView[]>(['show', 'sessions', ...args]);

/** The listing of `filter`, asked on the control socket as the CLI asks it (streamed, chunk by chunk). */
async function list(filter: FlowFilterSpec = {}): Promise<SessionView[]> {
  const out: SessionView[] = [];
  await requestStream<PageEnd, SessionView[]>(statePaths(topo.stateDir).socket, { command: 'show-sessions', filter }, (chunk) => void out.push(...chunk));
  return out;
}
const closeEvents = async () => (await topo.xdpfwJson<EventJson[]>(['show', 'log', '--kind', 'session-close'])).filter((e) => e.kind === 'session-close');

/** One UDP datagram from `host` (its port `sport`) to dst:port and its echo; true if it came back. */
async function udp(host: 'client' | 'server', dst: string, port: number, sport: number): Promise<boolean> {
  const r = await topo.traffic<{ received: number }>(host, [
    'udp-ping', '--host', dst, '--port', String(port), '--sport', String(sport), '--count', '1', '--timeout', '3000',
  ]);
  return r.received === 1;
}

/** The flows every test below sees, by name: their client ports. */
const PORT = { udp4: 42001, udp6: 42002, udpIn: 42003, dmz: 42004 } as const;
let tcpKept: { port: number; stop: () => Promise<{ ok: boolean }> };
let tcpCleared: { port: number; stop: () => Promise<{ ok: boolean }> };

async function trickle(): Promise<{ port: number; stop: () => Promise<{ ok: boolean }> }> {
  // Runs until SIGUSR1 (or long after the test); a stream cut by the firewall ends with ETIMEDOUT.
  const run = await topo.startTraffic('client', [
    'tcp-trickle', '--host', ADDR.server4, '--port', '5001', '--count', '3000', '--interval', '100', '--timeout', '4000',
  ], 300_000);
  const port = (JSON.parse(run.lines[0]!) as { localPort: number }).localPort;
  return {
    port,
    stop: async () => {
      run.child.kill('SIGUSR1');
      return JSON.parse(await run.exited) as { ok: boolean };
    },
  };
}

/** Client ports of the listed sessions, sorted. */
const ports = (list: SessionView[]): number[] => list.map((s) => s.sourcePort).sort((a, b) => a - b);

t.test('set up: TCP and UDP over IPv4, UDP over IPv6, a flow from untrust, one to the dmz', async (t) => {
  tcpKept = await trickle();
  tcpCleared = await trickle();
  t.ok(await udp('client', ADDR.server4, 5002, PORT.udp4));
  t.ok(await udp('client', ADDR.server6, 5002, PORT.udp6));
  t.ok(await udp('server', ADDR.client4, 5003, PORT.udpIn));
  t.ok(await udp('client', ADDR.alt4, 5002, PORT.dmz));
  t.same(ports(await show()), [PORT.udp4, PORT.udp6, PORT.udpIn, PORT.dmz, tcpKept.port, tcpCleared.port].sort((a, b) => a - b), 'six sessions');
});

t.test('each filter kind selects exactly the matching sessions', async (t) => {
  const tcp = [tcpKept.port, tcpCleared.port].sort((a, b) => a - b);
  const cases: Array<[FlowFilterSpec, number[]]> = [
    [{ family: 'inet6' }, [PORT.udp6]],
    [{ family: 'inet' }, [PORT.udp4, PORT.udpIn, PORT.dmz, ...tcp]],
    [{ sourcePrefix: '10.1.0.0/24' }, [PORT.udp4, PORT.dmz, ...tcp]],
    [{ sourcePrefix: 'fd00:1::/64' }, [PORT.udp6]],
    [{ sourcePrefix: ADDR.server4 }, [PORT.udpIn]],
    [{ destinationPrefix: ADDR.client4 }, [PORT.udpIn]],
    [{ destinationPrefix: 'fd00:2::2/128' }, [PORT.udp6]],
    [{ destinationPrefix: '10.3.0.0/16' }, [PORT.dmz]],
    [{ sourcePort: String(PORT.udp4) }, [PORT.udp4]],
    [{ sourcePort: `${PORT.udp4}-${PORT.udpIn}` }, [PORT.udp4, PORT.udp6, PORT.udpIn]],
    [{ destinationPort: '5002' }, [PORT.udp4, PORT.udp6, PORT.dmz]],
    [{ destinationPort: '5001-5002' }, [PORT.udp4, PORT.udp6, PORT.dmz, ...tcp]],
    [{ protocol: 'tcp' }, tcp],
    [{ protocol: '17' }, [PORT.udp4, PORT.udp6, PORT.udpIn, PORT.dmz]],
    [{ fromZone: 'untrust' }, [PORT.udpIn]],
    [{ toZone: 'dmz' }, [PORT.dmz]],
    [{ toZone: 'untrust' }, [PORT.udp4, PORT.udp6, ...tcp]],
    [{ policy: 'allow-in' }, [PORT.udpIn]],
    [{ policy: 'allow-dmz' }, [PORT.dmz]],
    [{ interface: 'alt0' }, [PORT.dmz]],
    [{ interface: 'untrust0' }, [PORT.udp4, PORT.udp6, PORT.udpIn, ...tcp]],
    // Combined: every filter must match.
    [{ protocol: 'udp', family: 'inet', fromZone: 'trust' }, [PORT.udp4, PORT.dmz]],
    [{ protocol: 'udp', family: 'inet6', toZone: 'dmz' }, []],
  ];
  for (const [filter, want] of cases) t.same(ports(await list(filter)), want.sort((a, b) => a - b), JSON.stringify(filter));

  // The CLI's flags, all at once.
  t.same(ports(await show('--source-prefix', '10.1.0.2', '--destination-prefix', '10.2.0.0/16', '--source-port', String(tcpKept.port),
    '--destination-port', '5001', '--protocol', 'tcp', '--from-zone', 'trust', '--to-zone', 'untrust', '--policy', 'allow-out',
    '--interface', 'trust0', '--family', 'inet')), [tcpKept.port], 'every flag of the CLI');
  const text = await topo.xdpfw(['show', 'sessions', '--family', 'inet6']);
  t.equal(text.code, 0, text.stderr);
  t.match(text.stdout, /\[fd00:1::2\]:42002 +\[fd00:2::2\]:5002 +trust->untrust +allow-out/, 'the text form lists the IPv6 session');
  t.match(text.stdout, /Total sessions: 1$/m);

  const bad = await topo.xdpfw(['show', 'sessions', '--source-prefix', '10.0.0.0/33']);
  t.not(bad.code, 0, 'a bad filter is refused');
  t.match(bad.stderr, /source-prefix: invalid prefix length in '10\.0\.0\.0\/33'/);
  const contradiction = await topo.xdpfw(['clear', 'sessions', '--source-prefix', '10.0.0.0/8', '--family', 'inet6']);
  t.not(contradiction.code, 0, 'a filter no flow can match is refused, not taken as "clear nothing"');
  t.equal((await list()).length, 6, 'nothing was cleared by refused requests');
});

t.test('summary counts by state, protocol and zone pair; extensive shows both directions', async (t) => {
  const s = await topo.xdpfwJson<SessionSummary>(['show', 'sessions', '--summary']);
  t.equal(s.total, 6);
  t.same(s.byProtocol, { udp: 4, tcp: 2 });
  t.same(s.byFamily, { inet: 5, inet6: 1 });
  t.equal(s.byState.established, 2, 'the TCP connections are established');
  t.equal(s.byState.active, 4, 'the UDP sessions are active');
  t.same(s.byZonePair, [
    { fromZone: 'trust', toZone: 'untrust', sessions: 4 }, { fromZone: 'untrust', toZone: 'trust', sessions: 1 }, { fromZone: 'trust', toZone: 'dmz', sessions: 1 },
  ]);
  const filtered = await request<SessionSummary>(statePaths(topo.stateDir).socket, { command: 'show-sessions', view: 'summary', filter: { protocol: 'tcp' } });
  t.same({ total: filtered.total, byProtocol: filtered.byProtocol }, { total: 2, byProtocol: { tcp: 2 } }, 'a summary takes the filters too');
  t.match((await topo.xdpfw(['show', 'sessions', '--summary'])).stdout, /^Sessions: 6\n {2}by state: +.*established 2/m);

  const text = (await topo.xdpfw(['show', 'sessions', '--extensive', '--source-port', String(tcpKept.port)])).stdout;
  const [e] = await topo.xdpfwJson<ExtensiveSessionView[]>(['show', 'sessions', '--extensive', '--source-port', String(tcpKept.port)]);
  t.ok(e, 'one session');
  t.match(e, {
    sourcePort: tcpKept.port, destinationPort: 5001, fromZone: 'trust', toZone: 'untrust', policy: 'allow-out', state: 'established',
    flags: ['log-close'], translation: null,
    tcp: { state: 'established', closeReason: null },
    client: { ingressInterface: 'trust0', egressInterface: 'untrust0', inputFilter: null, outputFilter: null },
    server: { ingressInterface: 'untrust0', egressInterface: 'trust0' },
  });
  t.ok(e!.client.packets >= 3 && e!.server!.packets >= 2, `counters both ways (${e!.client.packets} / ${e!.server!.packets})`);
  t.ok(e!.tcp!.client.maxWindow > 0 && e!.tcp!.server.maxWindow > 0, 'sequence tracking both ways');
  t.equal(e!.timeoutSeconds, 1800, 'established TCP: the tcp timeout');
  t.ok(e!.timeLeftSeconds > 1700, 'time left');
  t.match(text, new RegExp(`^Session ID: ${e!.sessionId}, Policy name: allow-out/\\d+, State: established`, 'm'));
  t.match(text, new RegExp(`^  In: 10\\.1\\.0\\.2/${tcpKept.port} --> 10\\.2\\.0\\.2/5001;tcp, If: trust0 -> untrust0, Pkts: \\d+`, 'm'));
  t.match(text, /^ {2}Out: 10\.2\.0\.2\/5001 --> 10\.1\.0\.2\/\d+;tcp, If: untrust0 -> trust0/m);
  t.match(text, /^ {2}Translation: none$/m);
});

t.test('pages: --limit and the cursor walk every session once, in id order', async (t) => {
  const all = await list();
  const seen: number[] = [];
  let cursor: number | undefined;
  let pages = 0;
  do {
    const page: SessionView[] = [];
    const end = await requestStream<PageEnd, SessionView[]>(statePaths(topo.stateDir).socket, { command: 'show-sessions', limit: 4, cursor },
      (chunk) => void page.push(...chunk));
    t.ok(page.length <= 4 && end.shown === page.length);
    seen.push(...page.map((s) => s.sessionId));
    cursor = end.nextCursor ?? undefined;
    pages++;
  } while (cursor !== undefined && pages < 10);
  t.equal(pages, 2, 'six sessions, four a page');
  t.same(seen, all.map((s) => s.sessionId), 'every session once, in order');
  t.same(seen, [...seen].sort((a, b) => a - b), 'ids ascending');
  const json = await topo.xdpfwJson<{ sessions: SessionView[]; nextCursor: number }>(['show', 'sessions', '--limit', '5']);
  t.same(json.sessions.map((s) => s.sessionId), seen.slice(0, 5), 'a JSON page');
  t.equal(json.nextCursor, seen[4], 'with the cursor of the next');
  const text = await topo.xdpfw(['show', 'sessions', '--protocol', 'udp', '--limit', '3']);
  const next = /next page: (xdpfw show sessions .*)$/m.exec(text.stdout);
  t.ok(next, 'the text form says how to get the next page');
  t.match(next?.[1], /^xdpfw show sessions --protocol udp --limit 3 --cursor \d+$/);
  const rest = await topo.xdpfw(next![1]!.split(' ').slice(1));
  t.match(rest.stdout, /^Shown: 1 sessions \(the last page\)$/m, 'the command it gives shows the rest');
  const wrong = await topo.xdpfw(['show', 'counters', '--protocol', 'tcp', '--limit', '3']);
  t.not(wrong.code, 0, 'session flags on another show are refused');
  t.match(wrong.stderr, /--protocol, --limit: only for show sessions, not show counters/);
});

t.test('clear with a filter closes only its sessions; the others keep forwarding', async (t) => {
  const [victim] = await list({ sourcePort: String(tcpCleared.port) });
  const r = await topo.xdpfw(['clear', 'sessions', '--protocol', 'tcp', '--source-port', String(tcpCleared.port)]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), '1 session cleared');
  t.same(ports(await list({ protocol: 'tcp' })), [tcpKept.port], 'the cleared session is gone, the other TCP one stays');
  t.equal((await list()).length, 5);

  const close = (await closeEvents()).filter((e) => e.sessionId === victim?.sessionId);
  t.equal(close.length, 1, 'one close event for the cleared session');
  t.match(close[0], { reason: 'cleared', reasonText: 'CLI', sourcePort: tcpCleared.port, destinationPort: 5001 }, 'its reason: the clear command');
  t.notOk((await closeEvents()).some((e) => e.sourcePort === tcpKept.port), 'no close event for the session left alone');

  t.ok(await udp('client', ADDR.server4, 5002, PORT.udp4), 'a kept UDP session still forwards');
  t.ok(await udp('client', ADDR.server6, 5002, PORT.udp6 + 100), 'a new IPv6 flow goes through');
  const kept = await tcpKept.stop();
  t.ok(kept.ok, 'the TCP connection not cleared works to its end: the server answers with its byte count');
  const cut = await tcpCleared.stop();
  t.notOk(cut.ok, 'the cleared connection is cut (its next segment finds no session and is no SYN)');

  t.same(await topo.xdpfwJson(['clear', 'sessions', '--family', 'inet6']), { cleared: 2 }, 'clear by family (--json)');
  t.same(await list({ family: 'inet6' }), [], 'no IPv6 session left');
  t.same(ports(await list({ protocol: 'udp' })), [PORT.udp4, PORT.udpIn, PORT.dmz], 'the IPv4 ones stay');
  t.ok(await udp('client', ADDR.server6, 5002, PORT.udp6), 'an IPv6 flow makes a new session');
  t.equal((await list({ family: 'inet6' })).length, 1);
});

/**
 * Runs the CLI in the firewall's namespace and stops reading its output once the first bytes
 * came; resumeToEnd() reads the rest and resolves with all of it when the CLI exits 0.
 */
async function heldListing(args: string[]): Promise<{ resumeToEnd: () => Promise<string> }> {
  const child = spawn('nsenter', [`--net=/run/netns/${topo.ns.fw}`, process.execPath, resolve(packageRoot, 'bin', 'xdpfw'), ...args, '--state-dir', topo.stateDir],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  await new Promise<void>((started, failed) => {
    child.stdout.once('data', (d: Buffer) => {
      chunks.push(d);
      child.stdout.pause();
      started();
    });
    child.once('exit', (code) => failed(new Error(`xdpfw ${args.join(' ')} exited (${code}) before any output: ${stderr}`)));
  });
  return {
    resumeToEnd: async () => {
      const ended = new Promise<void>((done) => child.stdout.on('end', () => done()));
      child.stdout.on('data', (d: Buffer) => chunks.push(d));
      child.stdout.resume();
      await ended;
      const code = await exited;
      if (code !== 0) throw new Error(`xdpfw ${args.join(' ')}: exit ${code}: ${stderr}`);
      return Buffer.concat(chunks).toString();
    },
  };
}

t.test('a large table: a listing held up by its reader does not hold up new flows; a filtered clear leaves the rest', async (t) => {
  const LARGE = 20_000;
  const [template] = await list({ sourcePort: String(PORT.udp4) });
  const status = await topo.xdpfwJson<StatusReport>(['status']);
  // The daemon stops (XDP stays, the pins too), the table grows behind its back, the next one adopts it.
  process.kill(status.pid, 'SIGTERM');
  await waitGone(status.pid);
  fillSessions(topo.stateDir, template!, FILL_BASE, 1_000_000, LARGE);
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG)], 300_000);
  t.equal(r.code, 0, r.stderr);
  const before = await request<SessionSummary>(statePaths(topo.stateDir).socket, { command: 'show-sessions', view: 'summary', filter: { protocol: 'udp' } });
  t.equal(before.total, LARGE + 4, 'the restarted daemon adopted every session');

  // A listing of every UDP session whose reader stops reading after its first lines: the
  // daemon's writes back up and its walk waits, mid-table.
  const listing = await heldListing(['show', 'sessions', '--protocol', 'udp', '--json']);
  t.ok(await udp('client', ADDR.server4, 5002, 42100), 'a new flow goes through while the listing waits for its reader');
  const [fresh] = await list({ sourcePrefix: ADDR.client4, sourcePort: '42100' });
  t.ok(fresh, 'and got its session');
  const listed = JSON.parse(await listing.resumeToEnd()) as SessionView[];
  t.equal(listed.length, LARGE + 5, 'the listing is complete');
  t.equal(listed.at(-1)?.sessionId, fresh?.sessionId, 'and ends with the session made while it was under way: the walk yielded to the slow path');
  t.same(listed.filter((s) => s.protocol !== 'udp'), [], 'only what the filter selects');

  const cleared = await topo.xdpfw(['clear', 'sessions', '--source-prefix', '10.1.128.0/17'], 300_000);
  t.equal(cleared.stdout.trim(), `${LARGE} sessions cleared`, cleared.stderr);
  t.same(ports(await list({ protocol: 'udp' })), [PORT.udp4, PORT.udp6, PORT.udpIn, PORT.dmz, 42100].sort((a, b) => a - b), 'the real sessions stay');
  t.ok(await udp('client', ADDR.server4, 5002, PORT.udp4), 'and forward');
});

t.test('a restart adopts a table of 200,000 sessions: each one kept and listed, and new flows still pass', async (t) => {
  const HUGE = 200_000;
  const FIRST_ID = 5_000_000;
  const [template] = await list({ sourcePort: String(PORT.udp4) });
  const status = await topo.xdpfwJson<StatusReport>(['status']);
  process.kill(status.pid, 'SIGTERM');
  await waitGone(status.pid);
  fillSessions(topo.stateDir, template!, FILL_BASE, FIRST_ID, HUGE);
  // `load` waits for the daemon's ready message as long as it waits for any start (its own timeout).
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG)], 300_000);
  t.equal(r.code, 0, r.stderr);
  const summary = await request<SessionSummary>(statePaths(topo.stateDir).socket, { command: 'show-sessions', view: 'summary', filter: { sourcePrefix: '10.1.128.0/17' } });
  t.equal(summary.total, HUGE, 'every pinned session adopted');
  const some = await list({ sourcePrefix: '10.1.128.0/17', sourcePort: '10000-10002' });
  // Ports 10000-10002 of each of the four client addresses the fill used (50,000 ports each).
  t.same(some.map((s) => s.sessionId).sort((a, b) => a - b),
    [0, 1, 2, 50_000, 50_001, 50_002, 100_000, 100_001, 100_002, 150_000, 150_001, 150_002].map((i) => FIRST_ID + i), 'listed with their ids');
  t.same([...new Set(some.map((s) => `${s.fromZone}>${s.toZone} ${s.policy} ${s.protocol}`))], ['trust>untrust allow-out udp'], 'judged against the configuration');
  t.ok(await udp('client', ADDR.server4, 5002, 42200), 'a new flow goes through');
  const [fresh] = await list({ sourcePrefix: ADDR.client4, sourcePort: '42200' });
  t.ok(fresh && fresh.sessionId >= FIRST_ID + HUGE, 'with a new session after the adopted ones');
  t.ok(await udp('client', ADDR.server4, 5002, PORT.udp4), 'the sessions of before forward');
});

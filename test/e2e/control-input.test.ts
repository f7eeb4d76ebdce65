// Malformed control requests over the real control socket of a running daemon: each is
// answered {ok:false,error} naming what is wrong, the connection closes, nothing else happens
// (no unload, no cleared session), and afterwards the daemon answers, forwards and counts them.
import { connect } from 'node:net';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import t from 'tap';
import type { CountersReport, StatusReport } from '../../lib/daemon/reports.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import type { SessionView } from '../../lib/session/table.js';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';

let topo: Topology;
t.before(async () => {
  topo = await Topology.create();
  const config = basicConfig().replace('then { permit; }', 'then { permit; log { session-init; } }');
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(config)]);
  if (r.code !== 0) throw new Error(r.stderr);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
});
t.teardown(() => topo?.destroy());

/** Writes `payload` to the control socket; resolves with all the daemon sent once it closed its end. */
function exchange(payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(statePaths(topo.stateDir).socket);
    let text = '';
    const guard = setTimeout(() => {
      c.destroy();
      reject(new Error(`no end of answer to ${payload.slice(0, 60)}`));
    }, 120_000);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(payload));
    c.on('data', (d: string) => (text += d));
    c.on('end', () => {
      clearTimeout(guard);
      c.destroy();
      resolve(text);
    });
    c.on('error', (err) => {
      clearTimeout(guard);
      reject(err);
    });
  });
}

const ping = (sport: number) => topo.traffic<{ received: number }>('client', [
  'udp-ping', '--host', ADDR.server4, '--port', '5002', '--sport', String(sport), '--count', '1', '--timeout', '3000',
]);

const KINDS = 'session-create, session-close, policy-deny, screen-drop, filter-log';
const MALFORMED: Array<[string, string, RegExp]> = [
  ['monitor-events with kinds an object', '{"command":"monitor-events","kinds":{"length":1}}\n', /^monitor-events: kinds must be an array of at most 32 items$/],
  ['monitor-events with an unknown kind', '{"command":"monitor-events","kinds":["session-create","nope"]}\n', new RegExp(`^monitor-events: kinds\\[1\\] must be one of ${KINDS}$`)],
  ['show-log with kinds a string', '{"command":"show-log","kinds":"policy-deny"}\n', /^show-log: kinds must be an array/],
  ['reload with a number for a path', '{"command":"reload","configPath":42}\n', /^reload: configPath must be a string of 1 to 4096 characters$/],
  ['reload without a path', '{"command":"reload"}\n', /^reload: configPath is missing$/],
  ['a huge string', `{"command":"reload","configPath":"${'a'.repeat(60_000)}"}\n`, /^reload: configPath must be a string of 1 to 4096 characters$/],
  ['match-policies with wrong types', '{"command":"match-policies","query":{"fromZone":1}}\n', /^match-policies: query\.fromZone must be a string/],
  ['match-policies with a port out of range', `{"command":"match-policies","query":{"fromZone":"trust","toZone":"untrust","sourceIp":"10.1.0.2","destinationIp":"10.2.0.2","protocol":"udp","destinationPort":70000}}\n`, /^match-policies: query\.destinationPort must be an integer from 0 to 65535$/],
  ['show-config with an unknown format', '{"command":"show-config","format":"xml"}\n', /^show-config: format must be one of hierarchical, set$/],
  ['an unknown command', '{"command":"format-disk"}\n', /^unknown command "format-disk"; known: status, /],
  ['a command that is no string', '{"command":["status"]}\n', /^command must be a string$/],
  ['unload with an extra field', '{"command":"unload","now":true}\n', /^unload: an unknown field "now"$/],
  ['clear-sessions with an extra field', '{"command":"clear-sessions","all":true}\n', /^clear-sessions: an unknown field "all"$/],
  ['not JSON', 'status please\n', /^not JSON: /],
  ['a JSON array', '["status"]\n', /^a request must be a JSON object with a command$/],
  ['deeply nested JSON', `${'['.repeat(30_000)}${']'.repeat(30_000)}\n`, /^a request must be a JSON object with a command$/],
  ['deeply nested JSON in a field', `{"command":"show-log","kinds":${'['.repeat(30_000)}${']'.repeat(30_000)}}\n`, /^show-log: kinds\[0\] must be one of /],
  ['a 64 KiB line without a newline', 'x'.repeat(64 * 1024 + 1), /^request line longer than 65536 characters$/],
];

t.test('malformed requests are answered with what is wrong, and nothing else happens', async (t) => {
  t.equal((await ping(43001)).received, 1, 'a flow with a session, to see that nothing clears it');
  for (const [what, payload, error] of MALFORMED) {
    const answer = await exchange(payload);
    const lines = answer.split('\n').filter((l) => l !== '');
    t.equal(lines.length, 1, `${what}: one line, then the daemon closed the connection`);
    const res = JSON.parse(lines[0] ?? '{}') as { ok?: boolean; error?: string };
    t.equal(res.ok, false, `${what}: ok false`);
    t.match(res.error ?? '', error, `${what}: ${res.error}`);
  }

  const status = await topo.xdpfwJson<StatusReport>(['status']);
  t.ok(status.pid > 0, 'the daemon answers status');
  const sessions = await topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
  t.same(sessions.map((s) => s.sourcePort), [43001], 'the session is still there: clear-sessions with a bad field cleared nothing');
  t.equal((await ping(43002)).received, 1, 'a new flow goes through');
  t.equal((await ping(43001)).received, 1, 'and the established one');

  const c = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.equal(c.controlRequestsRejected, MALFORMED.length, 'every malformed request counted');
  t.match((await topo.xdpfw(['show', 'counters'])).stdout, new RegExp(`Control requests rejected: ${MALFORMED.length}\\n`));
  const scrape = await topo.traffic<{ status: number; body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  const family = parsePrometheusTextFormat(scrape.body).find((f) => f.name === 'xdpfw_control_requests_rejected_total');
  t.equal(Number(family?.metrics[0]?.value), MALFORMED.length, 'and in the metrics');
});

t.test('afterwards a valid request answers and a well-formed monitor-events streams', async (t) => {
  const res = JSON.parse(await exchange('{"command":"status"}\n')) as { ok: boolean; data: StatusReport };
  t.equal(res.ok, true, 'status over the raw socket');
  t.ok(res.data.pid > 0);

  const c = connect(statePaths(topo.stateDir).socket);
  c.setEncoding('utf8');
  let text = '';
  c.on('data', (d: string) => (text += d));
  await new Promise<void>((resolve) => c.on('connect', () => resolve()));
  c.write('{"command":"monitor-events","kinds":["session-create"]}\n');
  // New flows until one is seen: the monitor subscribes once the daemon has read its line.
  for (let sport = 43100; sport < 43110 && !text.includes('\n'); sport++) await ping(sport);
  c.destroy();
  const first = JSON.parse(text.split('\n')[0] ?? '{}') as { kind?: string; sourceAddress?: string };
  t.equal(first.kind, 'session-create', 'the monitor got a session-create event');
  t.equal(first.sourceAddress, ADDR.client4);
});

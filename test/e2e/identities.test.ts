// Policy identities across reloads and restarts, end to end: events name the
// policy a flow was judged under, whatever the configuration became since,
// in `show log`, the JSON sink and syslog; a policy keeps its id while it
// exists under its name and zone pair, also across a daemon restart.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { PoliciesReport } from '../../lib/daemon/policies-report.js';
import type { StatusReport } from '../../lib/daemon/reports.js';
import type { SessionView } from '../../lib/session/table.js';
import { request, requestStream } from '../../lib/control/client.js';
import type { ControlRequest } from '../../lib/control/protocol.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import { waitGone } from '../helpers/fail-closed.js';
import { ADDR, type RunningTraffic, Topology } from '../helpers/topology.js';

interface LogEvent { kind: string; sourcePort: number; policy: string | null; policyId: number; reason?: string }

let topo: Topology;
let syslog: RunningTraffic;
let brief: RunningTraffic;
let jsonFile: string;

const policy = (name: string, app: string, action: string, log = 'log { session-init; session-close; }') => `
            policy ${name} {
                match { source-address any; destination-address any; application ${app}; }
                then { ${action}; ${log} }
            }`;

/** trust -> untrust with the given policies, events to a UDP collector (structured) and a JSON file. */
const config = (...policies: string[]) => `
system {
    host-name fw1;
    syslog {
        host 127.0.0.1 { port 5514; transport udp; format structured; }
        host 127.0.0.2 { port 5515; transport udp; format brief; }
        file-json ${jsonFile};
    }
}
security {
    zones {
        security-zone trust { interfaces { trust0; } }
        security-zone untrust { interfaces { untrust0; } }
    }
    policies {
        from-zone trust to-zone untrust {${policies.join('')}
        }
        default-policy { deny-all; }
    }
    flow { timeouts { udp 120; } }
}
`;

const ALLOW_OUT = policy('allow-out', 'any', 'permit');
const UNRELATED = policy('unrelated', 'junos-ssh', 'deny', 'log { session-init; }');
const FIRST_NEW = policy('first-new', 'junos-ssh', 'deny', 'log { session-init; }');
const SECOND_NEW = policy('second-new', 'junos-telnet', 'deny', 'log { session-init; }');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Reads straight from the control socket (what the CLI's --json prints), sparing a CLI start per poll. */
const ctl = <T>(req: ControlRequest) => request<T>(statePaths(topo.stateDir).socket, req);
const showLog = () => ctl<LogEvent[]>({ command: 'show-log' });
/** Every session: the listing streams in chunks. */
const sessions = async (): Promise<SessionView[]> => {
  const out: SessionView[] = [];
  await requestStream<unknown, SessionView[]>(statePaths(topo.stateDir).socket, { command: 'show-sessions' }, (chunk) => void out.push(...chunk));
  return out;
};
const policyIds = async () => new Map((await ctl<PoliciesReport>({ command: 'show-policies' })).policies.map((p) => [p.name, p.id]));
const sinkEvents = (): LogEvent[] => existsSync(jsonFile)
  ? readFileSync(jsonFile, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l) as LogEvent)
  : [];

async function reload(text: string): Promise<void> {
  const r = await topo.xdpfw(['reload', '-c', topo.writeConfig(text)]);
  if (r.code !== 0) throw new Error(r.stderr);
}

/** One datagram from `sport` to the server's echo service: a UDP session that stays (timeout 120 s). */
async function flow(sport: number): Promise<void> {
  const r = await topo.traffic<{ received: number }>('client', ['udp-ping', '--host', ADDR.server4, '--port', '5002', '--sport', String(sport), '--count', '1']);
  if (r.received !== 1) throw new Error(`flow from ${sport} not answered`);
}

/** Waits until `read` yields an event of `kind` from `sport` (events reach the sinks asynchronously). */
async function eventOf(read: () => LogEvent[] | Promise<LogEvent[]>, kind: string, sport: number): Promise<LogEvent | undefined> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const hit = (await read()).find((e) => e.kind === kind && e.sourcePort === sport);
    if (hit || Date.now() > deadline) return hit;
    await sleep(100);
  }
}

function syslogPolicy(kind: string, sport: number): string | undefined {
  const msgs = syslog.lines.map((x) => JSON.parse(x) as { msg?: string }).flatMap((x) => (x.msg ? [x.msg] : []));
  const line = msgs.find((m) => m.includes(kind) && m.includes(`source-port="${sport}"`));
  return line ? /\bpolicy-name="([^"]*)"/.exec(line)?.[1] : undefined;
}

/** The policy of the brief (Junos text) close line of a flow: `... 17 <policy> <from-zone> <to-zone> <session id> ...`. */
async function briefClosePolicy(sport: number): Promise<string | undefined> {
  const re = new RegExp(`RT_FLOW_SESSION_CLOSE: session closed [^:]+: ${ADDR.client4.replace(/\./g, '\\.')}/${sport}->\\S+ \\S+ \\S+ None None 17 (\\S+) trust untrust `);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const msgs = brief.lines.map((x) => JSON.parse(x) as { msg?: string }).flatMap((x) => (x.msg ? [x.msg] : []));
    const hit = msgs.map((m) => re.exec(m)?.[1]).find((p) => p !== undefined);
    if (hit !== undefined || Date.now() > deadline) return hit;
    await sleep(100);
  }
}

async function syslogPolicyOf(kind: string, sport: number): Promise<string | undefined> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const p = syslogPolicy(kind, sport);
    if (p !== undefined || Date.now() > deadline) return p;
    await sleep(100);
  }
}

t.before(async () => {
  topo = await Topology.create();
  jsonFile = join(topo.stateDir, 'events.jsonl');
  syslog = await topo.startTraffic('fw', ['syslog-listen', '--transport', 'udp', '--listen', '127.0.0.1', '--port', '5514'], 600_000);
  brief = await topo.startTraffic('fw', ['syslog-listen', '--transport', 'udp', '--listen', '127.0.0.2', '--port', '5515'], 600_000);
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(config(ALLOW_OUT))]);
  if (r.code !== 0) throw new Error(r.stderr);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002'], 600_000);
});
t.teardown(() => topo?.destroy());

t.test('a reload that removes the permitting policy: create and close stay under it', async (t) => {
  const SPORT = 42001;
  await flow(SPORT);
  t.equal((await eventOf(showLog, 'session-create', SPORT))?.policy, 'allow-out', 'created under allow-out');
  // `unrelated` takes allow-out's place; the flow matches neither and is closed.
  await reload(config(UNRELATED));
  const create = await eventOf(showLog, 'session-create', SPORT);
  const close = await eventOf(showLog, 'session-close', SPORT);
  t.equal(create?.policy, 'allow-out', 'show log: the create event still names allow-out');
  t.equal(close?.policy, 'allow-out', 'show log: the close event names allow-out, the policy that permitted it');
  t.equal(close?.reason, 'policy-change');
  const cli = await topo.xdpfwJson<LogEvent[]>(['show', 'log']);
  t.same(cli.filter((e) => e.sourcePort === SPORT).map((e) => `${e.kind}:${e.policy}`), ['session-create:allow-out', 'session-close:allow-out'],
    'xdpfw show log prints them so');
  t.equal((await eventOf(sinkEvents, 'session-close', SPORT))?.policy, 'allow-out', 'the JSON sink names allow-out too');
  t.equal(await syslogPolicyOf('RT_FLOW_SESSION_CLOSE', SPORT), 'allow-out', 'and the syslog line');
  t.equal(await briefClosePolicy(SPORT), 'allow-out', 'and the brief syslog line');
});

t.test('inserting a policy in front: old events keep their names, the session its policy', async (t) => {
  const SPORT = 42002;
  await reload(config(ALLOW_OUT));
  const idBefore = (await policyIds()).get('allow-out');
  await flow(SPORT);
  await reload(config(FIRST_NEW, ALLOW_OUT));
  t.equal((await policyIds()).get('allow-out'), idBefore, 'allow-out keeps its id with a policy in front of it');
  t.equal((await eventOf(showLog, 'session-create', SPORT))?.policy, 'allow-out', 'the create event is not re-rendered as first-new');
  t.match((await sessions()).find((s) => s.sourcePort === SPORT), { policy: 'allow-out' }, 'the session stays under allow-out');
  await ctl({ command: 'clear-sessions' });
  const close = await eventOf(showLog, 'session-close', SPORT);
  t.equal(close?.policy, 'allow-out', 'the close event names its policy (not null)');
  t.equal(close?.policyId, idBefore);
  t.equal((await eventOf(sinkEvents, 'session-close', SPORT))?.policy, 'allow-out', 'in the JSON sink as well');
});

t.test('ids survive a daemon restart with a changed config; adopted sessions keep their policy', async (t) => {
  const SPORT = 42003;
  const ids = await policyIds();
  await flow(SPORT);
  const pid = (await ctl<StatusReport>({ command: 'status' })).pid;
  process.kill(pid, 'SIGTERM');
  await waitGone(pid);
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(config(SECOND_NEW, FIRST_NEW, ALLOW_OUT))]);
  t.equal(r.code, 0, r.stderr);
  const after = await policyIds();
  t.equal(after.get('allow-out'), ids.get('allow-out'), 'allow-out keeps its id across the restart');
  t.equal(after.get('first-new'), ids.get('first-new'), 'so does first-new');
  t.not(after.get('second-new'), ids.get('allow-out'), 'the new policy takes no id in use');
  t.not(after.get('second-new'), ids.get('first-new'));
  t.match((await sessions()).find((s) => s.sourcePort === SPORT), { policy: 'allow-out' }, 'the adopted session is under allow-out');
  await ctl({ command: 'clear-sessions' });
  t.equal((await eventOf(sinkEvents, 'session-close', SPORT))?.policy, 'allow-out', 'its close event names allow-out');
});

// Reload and the configuration operations, end to end with the real daemon.
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { MatchResult, PoliciesReport } from '../../lib/daemon/policies-report.js';
import type { SessionView } from '../../lib/session/table.js';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';

let topo: Topology;
let confPath: string;
t.before(async () => {
  topo = await Topology.create();
  confPath = topo.writeConfig(basicConfig());
  const r = await topo.xdpfw(['load', '-c', confPath]);
  if (r.code !== 0) throw new Error(r.stderr);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
});
t.teardown(() => topo?.destroy());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sessions = () => topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
const counters = () => topo.xdpfwJson<CountersReport>(['show', 'counters']);

/** The basic config with the trust->untrust policy renamed and a deny rule for port 9 in front. */
const permittingVariant = () => basicConfig('applications { application discard-udp { protocol udp; destination-port 9; } }').replace(
  'policy allow-out {',
  `policy no-discard {
                match { source-address any; destination-address any; application discard-udp; }
                then { deny; }
            }
            policy allow-out-v2 {`,
);
const denyingVariant = () => basicConfig().replace('then { permit; }', 'then { deny; }');

t.test('check validates a file without touching the daemon', async (t) => {
  const good = await topo.xdpfw(['check', '-c', confPath]);
  t.equal(good.code, 0, good.stderr);
  const bad = topo.writeConfig(basicConfig().replace('security-zone untrust {', 'security-zone untrust { screen nope;'));
  const r = await topo.xdpfw(['check', '-c', bad]);
  t.not(r.code, 0);
  t.match(r.stderr, /xdpfw\.conf:\d+:\d+: /, 'errors carry file:line:column');
  topo.writeConfig(basicConfig()); // restore
});

t.test('a reload that still permits a running flow keeps its session and loses nothing', async (t) => {
  const ping = topo.traffic<{ sent: number; received: number }>('client', [
    'udp-ping', '--host', ADDR.server4, '--port', '5002', '--sport', '42000', '--count', '60', '--interval', '25',
  ]);
  await sleep(500);
  const before = (await sessions()).find((s) => s.sourcePort === 42000);
  t.ok(before, 'flow running');
  const r = await topo.xdpfw(['reload', '-c', topo.writeConfig(permittingVariant()), '--json']);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { sessions: { kept: number; closed: number; relabelled: number } };
  t.equal(report.sessions.closed, 0, 'nothing closed');
  t.ok(report.sessions.relabelled >= 1, 'sessions now carry the renamed policy');
  const result = await ping;
  t.equal(result.received, 60, 'all 60 datagrams echoed across the reload');
  const after = (await sessions()).find((s) => s.sourcePort === 42000);
  t.equal(after?.sessionId, before?.sessionId, 'same session');
  t.equal(after?.policy, 'allow-out-v2', 'relabelled with the policy that now permits it');
});

t.test('new sessions see the new config at once', async (t) => {
  const m = await topo.xdpfwJson<MatchResult>(['match-policies', '--from-zone', 'trust', '--to-zone', 'untrust',
    '--source-ip', ADDR.client4, '--destination-ip', ADDR.server4, '--protocol', 'udp', '--destination-port', '9']);
  t.match(m, { policy: 'no-discard', action: 'deny' }, 'match-policies names the new deny rule');
  const denied = await topo.traffic<{ received: number }>('client', ['udp-ping', '--host', ADDR.server4, '--port', '9', '--count', '2', '--timeout', '800']);
  t.equal(denied.received, 0);
  const pol = await topo.xdpfwJson<PoliciesReport>(['show', 'policies']);
  t.same(pol.policies.map((p) => p.name), ['no-discard', 'allow-out-v2']);
  t.equal(pol.defaultPolicy, 'deny-all');
});

t.test('a broken config on reload changes nothing and says why', async (t) => {
  const shown = (await topo.xdpfwJson<{ text: string }>(['show', 'config'])).text;
  const broken = topo.writeConfig(basicConfig().replace('application any;', 'application no-such-app;'));
  const r = await topo.xdpfw(['reload', '-c', broken]);
  t.not(r.code, 0);
  t.match(r.stderr, /the running one stays/);
  t.match(r.stderr, /xdpfw\.conf:\d+:\d+: .*no-such-app/, 'the error names the position and the bad reference');
  t.equal((await topo.xdpfwJson<{ text: string }>(['show', 'config'])).text, shown, 'running config unchanged');
  const udp = await topo.traffic<{ received: number }>('client', ['udp-ping', '--host', ADDR.server4, '--port', '5002', '--count', '3']);
  t.equal(udp.received, 3, 'traffic still flows');
});

t.test('a reload that denies a running flow closes it with reason policy change', async (t) => {
  // The stream runs until SIGUSR1 (or 2 minutes): it is still running when the
  // reload comes, however slow the machine. The 10 s idle timeout then ends
  // the client that waits in vain for its answer.
  const trickle = await topo.startTraffic('client', [
    'tcp-trickle', '--host', ADDR.server4, '--port', '5001', '--count', '1200', '--interval', '100', '--timeout', '10000',
  ], 180_000);
  const port = (JSON.parse(trickle.lines[0]!) as { localPort: number }).localPort;
  t.ok((await sessions()).some((s) => s.sourcePort === port), 'TCP session up');
  const closedBefore = (await counters()).sessions.closed['policy change'] ?? 0;
  const r = await topo.xdpfw(['reload', '-c', topo.writeConfig(denyingVariant())]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /closed [1-9]\d* \(policy change\)/);
  t.notOk((await sessions()).some((s) => s.sourcePort === port), 'the session is gone');
  t.ok(((await counters()).sessions.closed['policy change'] ?? 0) > closedBefore, 'counted as closed by policy change');
  trickle.child.kill('SIGUSR1');
  const end = JSON.parse(await trickle.exited) as { ok: boolean };
  t.notOk(end.ok, 'the client never gets its answer: the flow is cut');
});

t.test('show config prints the running config back, in both forms', async (t) => {
  const hier = (await topo.xdpfwJson<{ text: string }>(['show', 'config'])).text;
  t.match(hier, /security-zone trust/);
  const set = (await topo.xdpfwJson<{ text: string }>(['show', 'config', '--set'])).text;
  t.match(set, /^set security zones security-zone trust interfaces trust0$/m);
  const again = topo.writeConfig(set);
  t.equal((await topo.xdpfw(['check', '-c', again])).code, 0, 'the set form is itself a valid config');
});

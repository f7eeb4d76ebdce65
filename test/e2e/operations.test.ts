// Operator-facing behaviour of load and the session table: clear errors,
// idle expiry per protocol, a full table refusing new sessions cleanly.
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { SessionView } from '../../lib/session/table.js';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';

let topo: Topology;
t.before(async () => {
  topo = await Topology.create();
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
});
t.teardown(() => topo?.destroy());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ping = (sport: number) => topo.traffic<{ received: number }>('client', [
  'udp-ping', '--host', ADDR.server4, '--port', '5002', '--sport', String(sport), '--count', '1', '--timeout', '800',
]);

t.test('load refuses a broken config with file:line:column and starts nothing', async (t) => {
  const path = topo.writeConfig('security {\n    zones {\n        security-zone trust { interfaces { trust0; } }\n        bogus-statement;\n    }\n}\n');
  const r = await topo.xdpfw(['load', '-c', path]);
  t.not(r.code, 0, 'non-zero exit');
  t.match(r.stderr, new RegExp(`${path.replace(/[.]/g, '\\.')}:4:9: `), 'names the file, line and column');
  t.not((await topo.xdpfw(['status'])).code, 0, 'no daemon was left running');
  t.notMatch(await topo.sh('fw', 'ip -d link show dev trust0'), /prog\/xdp/, 'nothing attached');
});

t.test('load refuses an interface that does not exist, clearly', async (t) => {
  const path = topo.writeConfig(basicConfig().replace('untrust0;', 'nosuch9;'));
  const r = await topo.xdpfw(['load', '-c', path]);
  t.not(r.code, 0);
  t.match(r.stderr, /nosuch9/, 'the message names the interface');
  t.notMatch(await topo.sh('fw', 'ip -d link show dev trust0'), /prog\/xdp/, 'nothing left attached');
});

t.test('idle sessions expire after their protocol timeout; a full table refuses new ones, counted', async (t) => {
  // The udp timeout outlasts the pings and CLI calls below however slow the
  // machine, so the sessions are still there to be listed and to fill the table.
  const path = topo.writeConfig(basicConfig('').replace('tcp-closing 1; udp 60; icmp 60;', 'tcp-closing 1; udp 30; icmp 60;')
    .replace('flow { timeouts', 'flow { max-sessions 2; timeouts'));
  const r = await topo.xdpfw(['load', '-c', path]);
  t.equal(r.code, 0, r.stderr);
  t.equal((await ping(41001)).received, 1);
  t.equal((await ping(41002)).received, 1);
  const lastPacket = Date.now();
  t.equal((await ping(41003)).received, 0, 'a third flow is refused: the table holds two');
  const c = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.equal(c.sessions.refusedFull, 1, 'refusal counted');
  t.equal(c.drops.session_table_full, 1, 'and its packet counted as a drop');
  const list = await topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
  t.same(list.map((s) => s.sourcePort).sort(), [41001, 41002]);
  t.equal(list[0]?.timeoutSeconds, 30, 'UDP sessions carry the configured udp timeout');

  // Gone well before the 60 s a session kept by the default udp timeout would last.
  const deadline = lastPacket + 55_000;
  let left = list;
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(1000);
    left = await topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
  }
  t.same(left, [], 'both expired after 30 s idle, not the default 60 s');
  const after = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.equal(after.sessions.closed['idle Timeout'], 2, 'closed with reason idle Timeout');
  t.equal((await ping(41003)).received, 1, 'room again for a new flow');
});

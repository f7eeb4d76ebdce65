// End to end, real daemon and real traffic: established flows leave by the
// egress XDP keeps in their session entries (counted: few route lookups),
// and a change of the next hop's MAC in the firewall's neighbour table
// (the server's interface gets a new address, the firewall's entry for it
// is replaced) reaches the flows that are running, at once: the same
// sessions carry on to the new MAC, nothing is lost.
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { SessionView } from '../../lib/session/table.js';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';

let topo: Topology;

t.before(async () => {
  topo = await Topology.create();
  const conf = topo.writeConfig(basicConfig());
  const r = await topo.xdpfw(['load', '-c', conf]);
  if (r.code !== 0) throw new Error(`load failed: ${r.stderr}`);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
});

t.teardown(async () => {
  await topo?.destroy();
});

const counters = () => topo.xdpfwJson<CountersReport>(['show', 'counters']);
const sessions = () => topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
const FLOWS = [
  { family: 'inet', server: ADDR.server4, sport: 41001 },
  { family: 'inet6', server: ADDR.server6, sport: 41002 },
] as const;

/** `count` datagrams of one flow (fixed source port); how many echoes came back. */
async function ping(server: string, sport: number, count: number, intervalMs = 100): Promise<number> {
  const r = await topo.traffic<{ received: number }>('client', [
    'udp-ping', '--host', server, '--port', '5002', '--sport', String(sport), '--count', String(count),
    '--interval', String(intervalMs), '--timeout', '3000',
  ]);
  return r.received;
}

const sessionOf = (list: SessionView[], f: (typeof FLOWS)[number]) =>
  list.find((s) => s.protocol === 'udp' && s.destinationAddress === f.server && s.sourcePort === f.sport);

t.test('established flows leave by the kept egress, and follow a new next-hop MAC at once', async (t) => {
  for (const f of FLOWS) t.equal(await ping(f.server, f.sport, 3), 3, `${f.family}: the flow is up`);
  const first = await sessions();

  const a = await counters();
  t.equal(a.routeWatch?.leased, true, 'show counters: kept egresses in use');
  for (const f of FLOWS) t.equal(await ping(f.server, f.sport, 50, 10), 50, `${f.family}: every echo came back`);
  const b = await counters();
  const forwarded = b.xdp.fastForward!.packets - a.xdp.fastForward!.packets;
  const lookups = b.xdp.egressLookup!.packets - a.xdp.egressLookup!.packets;
  t.ok(forwarded >= 200, `forwarded in XDP (${forwarded})`);
  // Each unrelated change the netlink listener reports (a neighbour going stale), or a lapse of the
  // daemon's lease on a loaded machine, costs one lookup per session direction (four here).
  t.ok(lookups < forwarded / 4, `most left by the kept egress: ${lookups} route lookups for ${forwarded} packets`);

  // The server's interface gets a new MAC; the firewall's neighbour entries follow it.
  const NEW_MAC = '02:00:00:00:ee:02';
  await topo.sh('server', `ip link set dev eth0 address ${NEW_MAC}`);
  await topo.sh('fw', `ip neigh replace ${ADDR.server4} lladdr ${NEW_MAC} dev untrust0 nud permanent`);
  await topo.sh('fw', `ip -6 neigh replace ${ADDR.server6} lladdr ${NEW_MAC} dev untrust0 nud permanent`);

  const c = await counters();
  for (const f of FLOWS) t.equal(await ping(f.server, f.sport, 10), 10, `${f.family}: every echo came back through the new MAC`);
  const d = await counters();
  t.ok(d.xdp.egressLookup!.packets > c.xdp.egressLookup!.packets, 'the kept egresses were looked up again');
  t.ok(d.routeWatch!.bumps > b.routeWatch!.bumps, 'show counters: the route changes were applied');
  const metrics = await topo.traffic<{ body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  t.match(metrics.body, /^xdpfw_route_egress_kept 1$/m, 'metrics: kept egresses in use');
  const changes = /^xdpfw_route_changes_total (\d+)$/m.exec(metrics.body);
  t.ok(changes && Number(changes[1]) >= d.routeWatch!.bumps, 'metrics: the route changes applied');
  t.equal(d.slowPathPackets, c.slowPathPackets, 'no packet went to the slow path');
  const after = await sessions();
  for (const f of FLOWS) {
    const before = sessionOf(first, f);
    const now = sessionOf(after, f);
    t.ok(before && now, `${f.family}: the session is listed`);
    t.equal(now?.sessionId, before?.sessionId, `${f.family}: the same session carried on`);
    t.equal(now?.packetsFromClient, 63, `${f.family}: every datagram counted on it`);
    t.equal(now?.packetsFromServer, 63, `${f.family}: every echo counted on it`);
  }
});

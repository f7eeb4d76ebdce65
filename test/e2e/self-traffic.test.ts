// Connections the firewall itself opens through a zone that admits no
// service of the box: their replies reach the box (a local session admitted
// as box-connection), while a connection opened from that zone to a service
// of the box is still refused by host-inbound-traffic. IPv4 and IPv6.
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { SessionView } from '../../lib/session/table.js';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';

interface SendResult { ok: boolean; error?: string; received?: number; localPort?: number }

let topo: Topology;
t.before(async () => {
  topo = await Topology.create();
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  await topo.startTraffic('fw', ['tcp-sink', '--port', '5003']);
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(basicConfig())]);
  if (r.code !== 0) throw new Error(r.stderr);
});
t.teardown(() => topo?.destroy());

for (const [family, server, fwUntrust] of [['IPv4', ADDR.server4, ADDR.fwUntrust4], ['IPv6', ADDR.server6, ADDR.fwUntrust6]] as const) {
  t.test(`${family}: the box's own TCP and UDP connections into untrust get their replies`, async (t) => {
    const sent = await topo.traffic<SendResult>('fw', ['tcp-send', '--host', server, '--port', '5001', '--bytes', '200000']);
    t.same({ ok: sent.ok, received: sent.received }, { ok: true, received: 200000 }, 'the server got every byte and answered');
    const udp = await topo.traffic<{ received: number }>('fw', [
      'udp-ping', '--host', server, '--port', '5002', '--count', '3', '--connect', '--timeout', '1000',
    ]);
    t.equal(udp.received, 3, 'every echo came back');
    const sessions = await topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
    const replies = sessions.filter((s) => s.sourceAddress === server && s.local);
    t.ok(replies.some((s) => s.protocol === 'tcp' && s.sourcePort === 5001 && s.destinationPort === sent.localPort),
      'the TCP replies have a local session');
    t.ok(replies.some((s) => s.protocol === 'udp' && s.sourcePort === 5002), 'the UDP replies too');
    for (const s of replies) t.match(s, { fromZone: 'untrust', toZone: 'junos-host', policy: 'box-connection', destinationAddress: fwUntrust });
  });

  t.test(`${family}: a connection from untrust to a service of the box is still refused`, async (t) => {
    const before = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
    const r = await topo.traffic<SendResult>('server', ['tcp-send', '--host', fwUntrust, '--port', '5003', '--bytes', '100', '--timeout', '1500']);
    t.same(r, { ok: false, error: 'ETIMEDOUT' }, 'the SYN is dropped: the zone admits no service');
    const after = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
    t.ok((after.drops.host_inbound_denied ?? 0) > (before.drops.host_inbound_denied ?? 0), 'counted as host_inbound_denied');
    const sessions = await topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
    t.notOk(sessions.some((s) => s.destinationPort === 5003), 'no session was created');
  });
}

// End to end: ICMP and ICMPv6 errors through the real daemon follow the session of the packet
// they quote, and path MTU discovery works through xdpfw, v4 and v6: past a smaller-MTU hop
// behind the firewall (a router namespace with a 1280 link), and with xdpfw itself as the
// smaller hop (it then sends fragmentation-needed / packet-too-big as a router would).
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { SessionView } from '../../lib/session/table.js';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';

interface SendResult { ok: boolean; sent?: number; received?: number; ms?: number; error?: string }

const MB2 = 2 * 1024 * 1024;
let topo: Topology;

t.before(async () => {
  topo = await Topology.create();
  await topo.addFar(1280);
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(basicConfig())]);
  if (r.code !== 0) throw new Error(`load failed: ${r.stderr}`);
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
  await topo.startTraffic('far', ['tcp-sink', '--port', '5001']);
});
t.teardown(() => topo?.destroy());

const counters = () => topo.xdpfwJson<CountersReport>(['show', 'counters']);
const sessions = () => topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
const xdp = (c: CountersReport, name: string) => c.xdp[name]?.packets ?? 0;

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const r = await topo.traffic<{ status: number; body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  const fam = parsePrometheusTextFormat(r.body).find((f) => f.name === name);
  const sample = fam?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return sample ? Number(sample.value) : 0;
}

for (const family of ['inet', 'inet6'] as const) {
  const v6 = family === 'inet6';
  const server = v6 ? ADDR.server6 : ADDR.server4;
  const far = v6 ? ADDR.far6 : ADDR.far4;

  t.test(`${family}: a UDP datagram to a closed port is refused at once: the port unreachable follows the UDP session`, async (t) => {
    const before = await counters();
    const r = await topo.traffic<{ sent: number; received: number; error?: string }>('client', [
      'udp-ping', '--host', server, '--port', '5999', '--connect', '--count', '1', '--timeout', '20000',
    ]);
    t.equal(r.error, 'ECONNREFUSED', 'the connected socket reports the refusal, not a timeout');
    const after = await counters();
    t.ok(xdp(after, 'icmpErrorForward') > xdp(before, 'icmpErrorForward'), 'forwarded by XDP as an ICMP error of a session');
    const list = await sessions();
    const session = list.find((s) => s.protocol === 'udp' && s.destinationAddress === server && s.destinationPort === 5999);
    t.ok(session, 'the UDP session is listed');
    t.equal(session?.packetsFromServer, 1, 'the error is counted on it, as its one packet from the server');
    t.notOk(list.some((s) => s.sourceAddress === server && s.protocol.startsWith('icmp')), 'the error opened no session');
  });

  t.test(`${family}: path MTU discovery past a 1280-byte hop behind the firewall: a 2 MB transfer completes`, async (t) => {
    const before = await counters();
    const r = await topo.traffic<SendResult>('client', ['tcp-send', '--host', far, '--port', '5001', '--bytes', String(MB2), '--timeout', '20000']);
    t.ok(r.ok, `transfer succeeded (${r.error ?? ''})`);
    t.equal(r.received, MB2, 'far received every byte');
    const route = await topo.sh('client', `ip ${v6 ? '-6 ' : ''}route get ${far}`);
    t.match(route, /mtu 1280/, 'the client learned the path MTU from the router\'s ICMP error');
    const after = await counters();
    t.ok(xdp(after, 'icmpErrorForward') > xdp(before, 'icmpErrorForward'), 'the router\'s error went through XDP along the session');
    t.comment(`${family}: 2 MB in ${r.ms?.toFixed(0)} ms`);
  });

  t.test(`${family}: path MTU discovery with xdpfw as the 1280-byte hop: it answers, and a 2 MB transfer completes`, async (t) => {
    const before = await counters();
    // Only the firewall's end is small: the server keeps 1500 and advertises a full-size MSS.
    await topo.sh('fw', 'ip link set untrust0 mtu 1280');
    let r: SendResult;
    try {
      r = await topo.traffic<SendResult>('client', ['tcp-send', '--host', server, '--port', '5001', '--bytes', String(MB2), '--timeout', '20000']);
    } finally {
      await topo.sh('fw', 'ip link set untrust0 mtu 1500');
    }
    t.ok(r.ok, `transfer succeeded (${r.error ?? ''})`);
    t.equal(r.received, MB2, 'the server received every byte');
    const route = await topo.sh('client', `ip ${v6 ? '-6 ' : ''}route get ${server}`);
    t.match(route, /mtu 1280/, 'the client learned the MTU of the firewall\'s egress link');
    const after = await counters();
    t.ok(xdp(after, 'mtuExceeded') > xdp(before, 'mtuExceeded'), 'oversized packets were held back by XDP, counted');
    t.ok(after.tooBig.sent > before.tooBig.sent, `the firewall sent ${v6 ? 'packet-too-big' : 'fragmentation-needed'} replies`);
    t.ok((after.drops.mtu_exceeded ?? 0) > (before.drops.mtu_exceeded ?? 0), 'and forwarded none of them');
    t.ok(await metric('xdpfw_too_big_replies_total', { outcome: 'sent' }) >= after.tooBig.sent, 'the replies are in the metrics');
    const text = await topo.xdpfw(['show', 'counters']);
    t.match(text.stdout, /Too-big replies: +\d+ sent/, '`show counters` reports them');
  });

  t.test(`${family}: the firewall's own connections get their ICMP errors: refused UDP, path MTU past the 1280 hop`, async (t) => {
    const before = await counters();
    const udp = await topo.traffic<{ sent: number; received: number; error?: string }>('fw', [
      'udp-ping', '--host', server, '--port', '5998', '--connect', '--count', '1', '--timeout', '20000',
    ]);
    t.equal(udp.error, 'ECONNREFUSED', 'the box\'s connected UDP socket sees the port unreachable at once');
    const r = await topo.traffic<SendResult>('fw', ['tcp-send', '--host', far, '--port', '5001', '--bytes', String(MB2), '--timeout', '20000']);
    t.ok(r.ok, `the box's own 2 MB transfer past the 1280 hop succeeded (${r.error ?? ''})`);
    t.equal(r.received, MB2);
    t.match(await topo.sh('fw', `ip ${v6 ? '-6 ' : ''}route get ${far}`), /mtu 1280/, 'the box learned the path MTU');
    const after = await counters();
    t.ok(xdp(after, 'icmpErrorLocal') >= xdp(before, 'icmpErrorLocal') + 2, 'both errors delivered locally by XDP');
  });
}

/** A port unreachable from the server to the client about a UDP packet of no session, sent through a raw socket. */
const UNSOLICITED = `
import socket, struct, sys
v6, src, dst = sys.argv[1] == '6', sys.argv[2], sys.argv[3]
udp = struct.pack('!HHHH', 33333, 5999, 8, 0)
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s > 0xffff: s = (s & 0xffff) + (s >> 16)
    return 0xffff - s
if v6:
    inner = struct.pack('!IHBB', 0x60000000, 8, 17, 64) + socket.inet_pton(socket.AF_INET6, dst) + socket.inet_pton(socket.AF_INET6, src) + udp
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.sendto(struct.pack('!BBHI', 1, 4, 0, 0) + inner, (dst, 0))
else:
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 28, 1, 0, 64, 17, 0, socket.inet_aton(dst), socket.inet_aton(src))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    body = struct.pack('!BBHI', 3, 3, 0, 0) + ip + udp
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.sendto(body[:2] + struct.pack('!H', csum(body)) + body[4:], (dst, 0))
`;

t.test('an ICMP error quoting no session\'s packet is dropped, counted, and opens no session (v4 and v6)', async (t) => {
  const before = await counters();
  const metricBefore = await metric('xdpfw_drops_total', { stage: 'xdp', reason: 'drop_icmp_error_no_session' });
  for (const [v, src, dst] of [['4', ADDR.server4, ADDR.client4], ['6', ADDR.server6, ADDR.client6]] as const) {
    const r = await topo.exec('server', 'python3', ['-c', UNSOLICITED, v, src, dst]);
    t.equal(r.code, 0, `sent (${r.stderr})`);
  }
  // Counted in XDP as the frames arrive: wait for both, however slowly the machine goes.
  let after = await counters();
  for (let i = 0; i < 100 && (after.drops.icmp_error_no_session ?? 0) < (before.drops.icmp_error_no_session ?? 0) + 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    after = await counters();
  }
  t.equal((after.drops.icmp_error_no_session ?? 0) - (before.drops.icmp_error_no_session ?? 0), 2, 'counted as icmp_error_no_session');
  t.equal(after.slowPathPackets, before.slowPathPackets, 'never handed to the slow path');
  t.equal(after.sessions.created, before.sessions.created, 'no session created');
  t.equal(await metric('xdpfw_drops_total', { stage: 'xdp', reason: 'drop_icmp_error_no_session' }) - metricBefore, 2, 'in the metrics');
  const text = await topo.xdpfw(['show', 'counters']);
  t.match(text.stdout, /icmp_error_no_session\s+\d+/, '`show counters` lists the drop');
});

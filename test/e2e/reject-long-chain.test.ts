// One IPv6 UDP datagram whose destination-options header is longer than an ICMPv6 error can
// quote (1,467 bytes, 1,400 of them options), sent by a client as users send it, to a flow a
// policy rejects: the daemon answers with an unreachable quoting what fits in the minimum MTU,
// stays up, keeps admitting new flows, and its counters say what happened.
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import { ADDR, Topology } from '../helpers/topology.js';

const CONFIG = `
applications { application refused-udp { protocol udp; destination-port 5003; } }
security {
    zones {
        security-zone trust { interfaces { trust0; } }
        security-zone untrust { interfaces { untrust0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy refuse {
                match { source-address any; destination-address any; application refused-udp; }
                then { reject; }
            }
            policy allow-out {
                match { source-address any; destination-address any; application any; }
                then { permit; }
            }
        }
        default-policy { deny-all; }
    }
}
`;

interface Probe {
  sent: string;
  errors: Array<{ type: number; code: number; from: string; hex: string }>;
}

let topo: Topology;
t.before(async () => {
  topo = await Topology.create();
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG)]);
  if (r.code !== 0) throw new Error(r.stderr);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
});
t.teardown(() => topo?.destroy());

const ping = (host: string, sport: number) => topo.traffic<{ received: number }>('client', [
  'udp-ping', '--host', host, '--port', '5002', '--sport', String(sport), '--count', '1', '--timeout', '3000',
]);

t.test('a 1,467-byte datagram with 1,400 bytes of destination options to a reject policy', async (t) => {
  const probe = await topo.traffic<Probe>('client', [
    'udp-dstopts', '--source', ADDR.client6, '--host', ADDR.server6, '--port', '5003', '--bytes', '19', '--opt-bytes', '1400', '--timeout', '5000',
  ]);
  const sent = Buffer.from(probe.sent, 'hex');
  t.equal(sent.length, 1467, 'the datagram: 40 + 1400 + 8 + 19 bytes');

  t.equal(probe.errors.length, 1, 'one ICMPv6 error came back, its checksum good (the kernel checked it)');
  const e = probe.errors[0];
  if (e) {
    t.equal(e.type, 1, 'destination unreachable');
    t.equal(e.code, 1, 'administratively prohibited');
    t.equal(e.from, ADDR.server6, 'from the address the datagram was sent to');
    const msg = Buffer.from(e.hex, 'hex');
    t.equal(msg.length, 1280 - 40, 'the reply fills the minimum IPv6 MTU and no more (RFC 4443 2.4(c))');
    t.same(msg.subarray(8), sent.subarray(0, 1232), 'it quotes the datagram as far as it fits: the quote ends inside the options');
  }

  const status = await topo.xdpfw(['status']);
  t.equal(status.code, 0, `the daemon still answers status ${status.stderr}`);
  t.equal((await ping(ADDR.server6, 42001)).received, 1, 'a new permitted IPv6 flow goes through');
  t.equal((await ping(ADDR.server4, 42002)).received, 1, 'a new permitted IPv4 flow goes through');

  const c = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.equal(c.drops.policy_reject, 1, 'the datagram: one policy reject');
  t.same(c.rejects, { sent: 1, rateLimited: 0, notDue: 0, partialQuote: 1, tooLarge: 0, txFull: 0 },
    'one reply sent, quoting part of the header chain');
  t.equal(Object.values(c.slowPathErrors).reduce((a, b) => a + b, 0), 0, 'no error inside the slow path');
  t.equal(c.sessions.created, 2, 'the two new flows got their sessions');
  const human = await topo.xdpfw(['show', 'counters']);
  t.match(human.stdout, /Reject replies: +1 sent \(1 quoting part of the header chain\), 0 rate-limited, 0 not due, 0 not sent: too large, 0 tx ring full/);
  t.match(human.stdout, /Slow path errors: +0\n/);
});

// First packets arriving on an interface with an input filter, with the real parts: frames
// redirected by the compiled XDP program into a real AF_XDP socket, drained by the daemon's
// QueueSocket into a SlowPath on the real session map. The input filter judges each packet
// (its counter counts it, its discard drops it) and the routes of the batch are still asked
// with one run, as on an interface without a filter; every permitted flow gets its session.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, TWO_PORTS);

const { default: t } = await import('tap');
const { SlowPath } = await import('../../lib/slowpath/slowpath.js');
const { slowPathRig } = await import('../helpers/slowpath-rig.js');
const { frame } = await import('../helpers/packets.js');
type SecurityEvent = import('../../lib/events/types.js').SecurityEvent;

const CONFIG = `
security {
    zones {
        security-zone trust { interfaces { in0; } }
        security-zone untrust { interfaces { out0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy allow-out {
                match { source-address any; destination-address any; application any; }
                then { permit; log { session-init; } }
            }
        }
        default-policy { deny-all; }
    }
}
firewall {
    family inet {
        filter edge-in {
            term no-telnet { from { protocol udp; destination-port 23; } then { count telnet; discard; } }
            term rest { then { count rest; accept; } }
        }
    }
}
interfaces {
    in0 { unit 0 { family inet { filter { input edge-in; } } } }
}
`;

t.ok(insideTestNetns(), 'runs in its own namespace');
const { config, dp, wire, outIndex, socket, sessions, zones } = slowPathRig(CONFIG, 'filtered-routes.conf', t);

const emitted: SecurityEvent[] = [];
const slowPath = new SlowPath(dp.progs, sessions, config, zones, (ev) => void emitted.push(ev));
slowPath.kernel = dp.kernelPath;

const udp = (sport: number, dport: number) => frame({ src: '10.8.0.2', dst: '10.9.0.2', protocol: 'udp', sport, dport });

t.test('a batch on a filtered interface: filtered one by one, routed with one run', async (t) => {
  const sent = [[2001, 53], [2002, 23], [2003, 53]] as const;
  for (const [sport, dport] of sent) wire.send(udp(sport, dport));
  let handled = 0;
  for (let i = 0; i < 500 && handled < sent.length; i++) {
    handled += socket.drain(slowPath);
    if (handled < sent.length) await new Promise((r) => setTimeout(r, 10));
  }
  t.equal(handled, 3, 'the three first packets reached the slow path');

  const s = slowPath.stats;
  t.ok(s.batches.batches >= 1, 'drained in one batch or more');
  t.equal(s.batches.routeRuns, s.batches.batches, 'their routes asked with one run per receive batch, as without a filter');
  t.equal(s.drops.get('filter_discard'), 1, 'the telnet datagram discarded by the input filter');
  t.equal(s.injected, 2, 'the other two went on');
  t.same([...sessions.sessions()].map((x) => [x.tuple.sourcePort, x.egressIfindex]).sort(), [[2001, outIndex], [2003, outIndex]],
    'sessions of the two permitted flows, out of out0');
  t.same(emitted.map((e) => [e.kind, e.sourcePort]).sort(), [['session-create', 2001], ['session-create', 2003]], 'their session-create logs');
  const counts = new Map(slowPath.flowFilters.engine.counts().map((c) => [c.counter, c.packets]));
  t.same(Object.fromEntries(counts), { telnet: 1, rest: 2 }, 'the filter counted each packet once');
});

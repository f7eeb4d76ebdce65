// Fault isolation in the slow path with the real parts: frames redirected by the compiled XDP
// program into a real AF_XDP socket, drained by the daemon's QueueSocket into a SlowPath on the
// real session map. Where a stage throws (here: the event sink, which the daemon hands in),
// that frame alone is dropped, counted by stage and reported once per interval with a digest;
// the batch goes on, and no session-limit place or half-made session is left behind.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, TWO_PORTS);

const { default: t } = await import('tap');
const { SlowPath } = await import('../../lib/slowpath/slowpath.js');
const { slowPathRig } = await import('../helpers/slowpath-rig.js');
const { Faults } = await import('../../lib/util/faults.js');
const { frame } = await import('../helpers/packets.js');
type SecurityEvent = import('../../lib/events/types.js').SecurityEvent;

const CONFIG = `
security {
    zones {
        security-zone trust { interfaces { in0; } screen limits; }
        security-zone untrust { interfaces { out0; } }
    }
    screen { ids-option limits { limit-session { source-ip-based 1; } alarm-without-drop; } }
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
`;

t.ok(insideTestNetns(), 'runs in its own namespace');
const { config, dp, inIndex, wire, trust, socket, sessions, zones } = slowPathRig(CONFIG, 'faults.conf', t);

/** The event sink: events of flows from these source ports make it throw. */
const explodeFor = new Set([1001, 1002]);
const emitted: SecurityEvent[] = [];
const reports: string[] = [];
const faults = new Faults({ write: (line) => reports.push(line) });
const slowPath = new SlowPath(dp.progs, sessions, config, zones, (ev) => {
  if (explodeFor.has(ev.sourcePort)) throw new TypeError(`sink exploded on port ${ev.sourcePort}`);
  emitted.push(ev);
}, faults);
slowPath.kernel = dp.kernelPath;

const udp = (sport: number) => frame({ src: '10.8.0.2', dst: '10.9.0.2', protocol: 'udp', sport, dport: 53 });

t.test('a frame whose stage throws is dropped and counted alone; the batch goes on; nothing is left half-done', async (t) => {
  // Three first packets from one source, in one batch: the limit of one session per source
  // makes the second and third alarms (alarm-without-drop admits them).
  for (const sport of [1001, 1002, 1003]) wire.send(udp(sport));
  let handled = 0;
  for (let i = 0; i < 500 && handled < 3; i++) {
    handled += socket.drain(slowPath); // never throws
    if (handled < 3) await new Promise((r) => setTimeout(r, 10));
  }
  t.equal(handled, 3, 'the three frames reached the slow path and were all handled');

  const s = slowPath.stats;
  t.equal(s.received, 3);
  t.same(faults.byStage().event, 2, 'two errors, both at the event stage');
  t.equal(s.drops.get('slow_path_error'), 1, 'one frame dropped for it: 1002, refused before its session was made');
  t.equal(s.injected + (s.drops.get('inject_failed') ?? 0), 2, '1001 (sent before its log failed) and 1003 went on');
  t.same([...sessions.sessions()].map((x) => x.tuple.sourcePort).sort(), [1001, 1003], 'sessions of 1001 and 1003, none of 1002');
  const key = Buffer.from([...sessions.sessions()][0]!.key);
  t.same(slowPath.limiter.active(trust.id, key), { source: 2, destination: 2 }, 'the place 1002 took was given back');
  t.same(emitted.map((e) => [e.kind, e.sourcePort]), [['screen-drop', 1003], ['session-create', 1003]], 'the alarm and the log of 1003');
  t.ok(emitted.some((e) => e.kind === 'session-create' && e.sourcePort === 1003), 'the flow after the failing ones logged as usual');

  t.equal(reports.length, 1, 'reported once in the interval, though it failed twice');
  // The batch raises session-create logs once its sessions are written: 1002's limit alarm failed first.
  t.match(reports[0], /^xdpfw: error at event, input dropped, loop goes on: TypeError: sink exploded on port 1002; /);
  t.match(reports[0], new RegExp(`frame of ${udp(1002).length} bytes on ifindex ${inIndex} queue 0: ${udp(1002).subarray(0, 48).toString('hex')}\n$`),
    'with a digest of the frame: length, where it came in, its first bytes');
});

// One receive batch of the slow path, end to end: the daemon is held still
// (SIGSTOP) while the client sends a burst of first packets, so they wait in
// its AF_XDP ring and are judged together when it goes on. Each must get the
// verdict and the event it gets alone: a permit, a deny, a reject (answered),
// two packets to the box itself (one accepted, one discarded by the lo0
// filter) and a permit whose next hop has no neighbour.
import { readFileSync } from 'node:fs';
import t from 'tap';
import type { EventJson } from '../../lib/cli/format-events.js';
import type { CountersReport } from '../../lib/daemon/reports.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import type { SessionView } from '../../lib/session/table.js';
import { frame, type FrameSpec } from '../helpers/packets.js';
import { ADDR, type Host, Topology } from '../helpers/topology.js';

const CONFIG = `
firewall {
    family inet {
        filter lo0-inet {
            term probe { from { source-address { 10.1.0.3/32; } protocol icmp; } then { discard; log; } }
            term rest { then accept; }
        }
    }
}
interfaces { lo0 { unit 0 { family inet { filter { input lo0-inet; } } } } }
applications {
    application reject-me { protocol tcp; destination-port 5999; }
    application deny-me { protocol udp; destination-port 5998; }
}
security {
    zones {
        security-zone trust { interfaces { trust0; } host-inbound-traffic { system-services { ping; } } }
        security-zone untrust { interfaces { untrust0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy refuse { match { source-address any; destination-address any; application reject-me; } then { reject; log { session-init; } } }
            policy block { match { source-address any; destination-address any; application deny-me; } then { deny; log { session-init; } } }
            policy allow-out { match { source-address any; destination-address any; application any; } then { permit; log { session-init; } } }
        }
        default-policy { deny-all; }
    }
    flow { timeouts { udp 60; icmp 60; } }
}
`;

/** A host of the server's subnet that does not exist: its neighbour never resolves. */
const NO_NEIGHBOUR = '10.2.0.77';
const SYN = 0x02;

const BURST: Array<{ name: string; spec: FrameSpec }> = [
  { name: 'permit', spec: { src: ADDR.client4, dst: ADDR.server4, protocol: 'udp', sport: 4001, dport: 5002 } },
  { name: 'deny', spec: { src: ADDR.client4, dst: ADDR.server4, protocol: 'udp', sport: 4002, dport: 5998 } },
  { name: 'reject', spec: { src: ADDR.client4, dst: ADDR.server4, protocol: 'tcp', sport: 4003, dport: 5999, tcpFlags: SYN } },
  { name: 'lo0 accept', spec: { src: ADDR.client4, dst: ADDR.fwTrust4, protocol: 'icmp', icmpType: 8, icmpId: 4004 } },
  { name: 'lo0 discard', spec: { src: '10.1.0.3', dst: ADDR.fwTrust4, protocol: 'icmp', icmpType: 8, icmpId: 4005 } },
  { name: 'no neighbour', spec: { src: ADDR.client4, dst: NO_NEIGHBOUR, protocol: 'udp', sport: 4006, dport: 5002 } },
];

/** Sends every frame given (hex) back to back from one socket. */
const SEND_ALL = `
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for f in sys.argv[2:]:
    s.send(bytes.fromhex(f))
print(len(sys.argv) - 2)
`;

let topo: Topology;
const macs: Record<string, string> = {};

t.before(async () => {
  topo = await Topology.create();
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG)]);
  if (r.code !== 0) throw new Error(`load failed: ${r.stderr}`);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  for (const [host, dev] of [['client', 'eth0'], ['fw', 'trust0']] as Array<[Host, string]>) {
    macs[`${host}:${dev}`] = (JSON.parse(await topo.sh(host, `ip -j link show dev ${dev}`)) as Array<{ address: string }>)[0]!.address;
  }
});
t.teardown(() => topo?.destroy());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const counters = () => topo.xdpfwJson<CountersReport>(['show', 'counters']);

/** Polls until `done` holds for what `read` returns (generous on a loaded machine); returns the last value. */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (let i = 0; i < 150 && !done(v); i++) {
    await sleep(100);
    v = await read();
  }
  return v;
}

t.test('a burst judged as one batch gives each packet its own verdict and event', async (t) => {
  const pid = Number.parseInt(readFileSync(statePaths(topo.stateDir).pidFile, 'utf8'), 10);
  const before = await counters();
  const frames = BURST.map(({ spec }) => frame({ ...spec, srcMac: macs['client:eth0'], dstMac: macs['fw:trust0'] }).toString('hex'));
  // Held still, the daemon finds the whole burst in its ring when it goes on.
  process.kill(pid, 'SIGSTOP');
  try {
    const r = await topo.exec('client', 'python3', ['-c', SEND_ALL, 'eth0', ...frames]);
    t.equal(r.stdout.trim(), String(BURST.length), 'the burst was sent');
    await sleep(200);
  } finally {
    process.kill(pid, 'SIGCONT');
  }

  const after = await until(counters, (c) => c.slowPathPackets - before.slowPathPackets >= BURST.length);
  t.equal(after.slowPathPackets - before.slowPathPackets, BURST.length, 'every packet of the burst reached the slow path');
  const b = after.slowPathBatches;
  t.ok(b.largest >= BURST.length, `judged in one batch (largest batch ${b.largest})`);
  t.ok(b.bySize['4-7']! - before.slowPathBatches.bySize['4-7']! >= 1, 'counted in the batch-size histogram');
  t.ok(b.routeRuns > before.slowPathBatches.routeRuns, 'its routes looked up by one batched run');
  t.ok(b.installWrites > before.slowPathBatches.installWrites, 'its sessions written by one batched update');
  // Stopped for 200 ms at least with the burst in its ring: its first frame waited longer than 4 ms.
  t.ok(b.byWakeUs['>4096']! - before.slowPathBatches.byWakeUs['>4096']! >= 1, 'the wait from XDP to the stopped slow path counted');
  t.ok(b.wakeUsTotal - before.slowPathBatches.wakeUsTotal >= 200_000, `the wait summed (${b.wakeUsTotal - before.slowPathBatches.wakeUsTotal} µs more)`);
  const text = (await topo.xdpfw(['show', 'counters'])).stdout;
  t.match(text, /Slow path batches: +\d+ \(largest \d+; by size [^)]*4-7: [1-9]/, 'show counters: the batch by its size');
  t.match(text, /Slow path wake-up: +mean [\d.]+ µs from XDP to the slow path \(batches by µs [^)]*>4096: [1-9]/, 'show counters: the wait');
  const scraped = await topo.traffic<{ status: number; body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  t.match(scraped.body, /^xdpfw_slowpath_batches_total\{size="4-7"\} [1-9]/m, 'metrics: the batch by its size');
  t.match(scraped.body, /^xdpfw_slowpath_batch_calls_total\{kind="route"\} [1-9]/m, 'metrics: the shared route runs');
  t.match(scraped.body, /^xdpfw_slowpath_wakeups_total\{wait_us=">4096"\} [1-9]/m, 'metrics: the wait');

  const delta = (name: string) => (after.drops[name] ?? 0) - (before.drops[name] ?? 0);
  t.equal(delta('policy_deny'), 1, 'deny: dropped as policy_deny');
  t.equal(delta('policy_reject'), 1, 'reject: dropped as policy_reject');
  t.equal(after.rejects.sent - before.rejects.sent, 1, 'reject: answered (a TCP RST)');
  t.equal(delta('filter_discard'), 1, 'lo0 discard: dropped by the lo0 filter');
  t.equal(delta('no_route') + delta('slow_path_error') + delta('inject_failed'), 0, 'nothing lost on the way');
  t.equal(after.sessions.created - before.sessions.created, 3, 'three sessions: the permit, the lo0 accept, the no-neighbour permit');

  const sessions = await topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
  const find = (dst: string, port: number) => sessions.find((s) => s.destinationAddress === dst && s.sourcePort === port);
  const permit = find(ADDR.server4, 4001);
  t.ok(permit, 'permit: its session exists');
  t.same([permit?.fromZone, permit?.toZone, permit?.policy], ['trust', 'untrust', 'allow-out'], 'permit: trust to untrust by allow-out');
  const echoed = await until(() => topo.xdpfwJson<SessionView[]>(['show', 'sessions']),
    (ss) => (ss.find((s) => s.sourcePort === 4001)?.packetsFromServer ?? 0) >= 1);
  t.ok((echoed.find((s) => s.sourcePort === 4001)?.packetsFromServer ?? 0) >= 1, 'permit: it reached the server, whose echo came back');
  const local = sessions.find((s) => s.destinationAddress === ADDR.fwTrust4 && s.protocol === 'icmp');
  t.same([local?.sourceAddress, local?.toZone, local?.local], [ADDR.client4, 'junos-host', true], 'lo0 accept: a session to the box');
  t.notOk(sessions.some((s) => s.sourceAddress === '10.1.0.3'), 'lo0 discard: no session');
  const unresolved = find(NO_NEIGHBOUR, 4006);
  t.same([unresolved?.toZone, unresolved?.policy], ['untrust', 'allow-out'], 'no neighbour: permitted, its session exists');
  t.notOk(sessions.some((s) => s.destinationPort === 5998 || s.destinationPort === 5999), 'deny and reject: no session');
  t.ok((after.xdp.injectKernel?.packets ?? 0) > (before.xdp.injectKernel?.packets ?? 0), 'no neighbour: handed to the kernel to resolve');

  const log = await until(() => topo.xdpfwJson<EventJson[]>(['show', 'log']),
    (l) => l.filter((e) => [4001, 4002, 4003, 4006].includes(e.sourcePort) || e.sourceAddress === '10.1.0.3').length >= 5);
  const ev = (port: number, action = false) => log.filter((e) => e.sourcePort === port && e.sourceAddress === ADDR.client4)
    .map((e) => [e.kind, e.destinationAddress, ...(action ? [e.action] : [])]);
  t.same(ev(4001), [['session-create', ADDR.server4]], 'permit: SESSION_CREATE with its addresses');
  t.same(ev(4002, true), [['policy-deny', ADDR.server4, 'deny']], 'deny: POLICY_DENY, action deny');
  t.same(ev(4003, true), [['policy-deny', ADDR.server4, 'reject']], 'reject: POLICY_DENY, action reject');
  t.same(ev(4006), [['session-create', NO_NEIGHBOUR]], 'no neighbour: SESSION_CREATE');
  const lo0 = log.filter((e) => e.sourceAddress === '10.1.0.3');
  t.same(lo0.map((e) => [e.kind, e.filterSource, e.action, e.destinationAddress]), [['filter-log', 'lo0', 'discard', ADDR.fwTrust4]],
    'lo0 discard: logged by the lo0 filter as a discard');
});

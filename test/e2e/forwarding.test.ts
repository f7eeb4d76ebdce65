// End to end: the real daemon on client ── firewall ── server namespaces,
// real TCP/UDP/ICMP traffic, asserting what an operator sees.
import t from 'tap';
import type { CountersReport, StatusReport } from '../../lib/daemon/reports.js';
import type { SessionView } from '../../lib/session/table.js';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';

interface SendResult { ok: boolean; sent?: number; received?: number; ms?: number; localPort?: number; error?: string }

const MB20 = 20 * 1024 * 1024;

let topo: Topology;

t.before(async () => {
  topo = await Topology.create();
  const conf = topo.writeConfig(basicConfig());
  const r = await topo.xdpfw(['load', '-c', conf]);
  if (r.code !== 0) throw new Error(`load failed: ${r.stderr}`);
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  await topo.startTraffic('client', ['tcp-sink', '--port', '5003']);
});

t.teardown(async () => {
  await topo?.destroy();
});

const counters = () => topo.xdpfwJson<CountersReport>(['show', 'counters']);
const sessions = () => topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('load attaches XDP to both interfaces and reports them', async (t) => {
  const s = await topo.xdpfwJson<StatusReport>(['status']);
  t.same(s.interfaces.map((i) => i.name).sort(), ['trust0', 'untrust0']);
  for (const i of s.interfaces) {
    t.ok(i.ifindex > 0, `${i.name} has an ifindex`);
    t.equal(i.xdpMode, 'native', `${i.name} attached in native mode`);
    t.ok(i.queues.length >= 1, `${i.name} has an AF_XDP socket per queue`);
  }
  const link = await topo.sh('fw', 'ip -d link show dev trust0');
  t.match(link, /prog\/xdp id \d+/, 'the kernel shows the XDP program on trust0');
});

for (const family of ['inet', 'inet6'] as const) {
  const server = family === 'inet' ? ADDR.server4 : ADDR.server6;

  t.test(`${family}: a permitted 20 MB TCP transfer completes on the fast path`, async (t) => {
    const before = await counters();
    const r = await topo.traffic<SendResult>('client', ['tcp-send', '--host', server, '--port', '5001', '--bytes', String(MB20)]);
    t.ok(r.ok, `transfer succeeded (${r.error ?? ''})`);
    t.equal(r.received, MB20, 'the server received every byte');
    const after = await counters();
    const fast = after.fastPathPackets - before.fastPathPackets;
    const slow = after.slowPathPackets - before.slowPathPackets;
    t.ok(fast + slow > 1000, `a transfer of this size is thousands of packets (${fast + slow})`);
    t.ok(fast / (fast + slow) >= 0.99, `at least 99% fast path: ${fast} fast, ${slow} slow`);
    t.comment(`${family} 20 MB in ${r.ms?.toFixed(0)} ms; fast ${fast}, slow ${slow}`);
  });

  t.test(`${family}: UDP and ICMP echo pass where permitted`, async (t) => {
    const udp = await topo.traffic<{ sent: number; received: number }>('client', ['udp-ping', '--host', server, '--port', '5002', '--count', '5']);
    t.equal(udp.received, 5, 'every UDP datagram came back');
    const ping = await topo.exec('client', 'ping', [family === 'inet' ? '-4' : '-6', '-c', '3', '-i', '0.2', '-W', '2', server]);
    t.equal(ping.code, 0, `ping ${server} answered`);
    t.match(ping.stdout, /3 received/);
    const list = await sessions();
    const udpSession = list.find((s) => s.protocol === 'udp' && s.destinationAddress === server && s.destinationPort === 5002);
    t.ok(udpSession, 'the UDP flow is listed');
    t.equal(udpSession?.fromZone, 'trust');
    t.equal(udpSession?.toZone, 'untrust');
    t.equal(udpSession?.policy, 'allow-out');
    t.equal(udpSession?.packetsFromClient, 5, 'five datagrams from the client');
    t.equal(udpSession?.packetsFromServer, 5, 'five echoes from the server');
    const icmp = list.find((s) => s.protocol === (family === 'inet' ? 'icmp' : 'icmp6') && s.destinationAddress === server);
    t.ok(icmp, 'the ping is listed as a session');
    t.equal(icmp?.packetsFromClient, 3);
  });

  t.test(`${family}: a denied zone pair's connection fails`, async (t) => {
    const before = await counters();
    const client = family === 'inet' ? ADDR.client4 : ADDR.client6;
    const r = await topo.traffic<SendResult>('server', ['tcp-send', '--host', client, '--port', '5003', '--bytes', '100', '--timeout', '2000']);
    t.notOk(r.ok, 'untrust to trust has no policy: the connection does not open');
    t.equal(r.error, 'ETIMEDOUT', 'the SYN is dropped silently');
    const after = await counters();
    t.ok((after.drops.policy_deny ?? 0) > (before.drops.policy_deny ?? 0), 'counted as a policy deny');
    const list = await sessions();
    t.notOk(list.some((s) => s.sourceAddress === (family === 'inet' ? ADDR.server4 : ADDR.server6)), 'no session was created');
  });
}

t.test('show sessions lists a live flow with growing counters, and it closes after FIN', async (t) => {
  // The stream runs until SIGUSR1 (or 2 minutes), so however slowly the
  // observations below come, it is still live for both of them.
  const trickle = await topo.startTraffic('client', [
    'tcp-trickle', '--host', ADDR.server4, '--port', '5001', '--count', '1200', '--interval', '100', '--timeout', '20000',
  ], 180_000);
  const localPort = (JSON.parse(trickle.lines[0]!) as { localPort: number }).localPort;
  const find = async () => (await sessions()).find((s) => s.protocol === 'tcp' && s.sourcePort === localPort);
  const poll = async (done: (s: SessionView | undefined) => boolean): Promise<SessionView | undefined> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const s = await find();
      if (done(s) || Date.now() > deadline) return s;
      await sleep(250);
    }
  };
  const first = await poll((s) => s !== undefined && s.packetsFromClient > 0);
  t.ok(first, 'the connection is listed');
  t.match(first, {
    family: 'inet', sourceAddress: ADDR.client4, destinationAddress: ADDR.server4, destinationPort: 5001,
    fromZone: 'trust', toZone: 'untrust', policy: 'allow-out', state: 'established',
  });
  const second = await poll((s) => !s || !first || (s.packetsFromClient > first.packetsFromClient && s.bytesFromClient > first.bytesFromClient));
  t.ok(second && first && second.packetsFromClient > first.packetsFromClient, 'client packet count grows');
  t.ok(second && first && second.bytesFromClient > first.bytesFromClient, 'client byte count grows');
  const closedBefore = (await counters()).sessions.closed['TCP FIN'] ?? 0;
  trickle.child.kill('SIGUSR1');
  const end = JSON.parse(await trickle.exited) as { ok: boolean; received: number };
  const stopped = trickle.lines.map((l) => JSON.parse(l) as { stopped?: boolean; sent?: number }).find((l) => l.stopped);
  t.same(end, { ok: true, received: stopped?.sent }, 'the client ended the stream and the server answered');
  const deadline = Date.now() + 30_000;
  while ((await find()) && Date.now() < deadline) await sleep(250);
  t.notOk(await find(), 'the session is gone after FIN');
  t.ok(((await counters()).sessions.closed['TCP FIN'] ?? 0) > closedBefore, 'closed with reason TCP FIN');
});

t.test('SIGKILL of the daemon: established flows keep forwarding, the restart adopts them', async (t) => {
  const pid = (await topo.xdpfwJson<StatusReport>(['status'])).pid;
  const trickle = await topo.startTraffic('client', [
    // Idle timeout well past a restart plus the FIN's retransmission backoff.
    'tcp-trickle', '--host', ADDR.server4, '--port', '5001', '--count', '40', '--interval', '100', '--timeout', '20000',
  ]);
  const ping = (sport: number, count: number) => topo.traffic<{ sent: number; received: number }>('client', [
    'udp-ping', '--host', ADDR.server4, '--port', '5002', '--sport', String(sport), '--count', String(count), '--timeout', '1000',
  ]);
  t.equal((await ping(40000, 2)).received, 2, 'UDP flow established');
  const before = await sessions();

  process.kill(pid, 'SIGKILL');
  await sleep(200);
  t.equal((await ping(40000, 5)).received, 5, 'with the daemon dead, the established UDP flow still forwards');
  t.equal((await ping(40001, 3)).received, 0, 'while a new flow finds no slow path and is dropped (fails closed)');

  const restart = await topo.xdpfw(['load', '-c', `${topo.stateDir}/xdpfw.conf`]);
  t.equal(restart.code, 0, `daemon restarted (${restart.stderr})`);
  const after = await sessions();
  t.not((await topo.xdpfwJson<StatusReport>(['status'])).pid, pid, 'a new daemon runs');
  const udpBefore = before.find((s) => s.sourcePort === 40000);
  const udpAfter = after.find((s) => s.sourcePort === 40000);
  t.ok(udpBefore && udpAfter, 'the UDP session is there before and after');
  t.equal(udpAfter?.sessionId, udpBefore?.sessionId, 'adopted with its id');
  t.equal(udpAfter?.fromZone, 'trust', 'and its zones');
  t.equal(udpAfter?.policy, 'allow-out', 'and its policy');
  t.equal(udpAfter?.packetsFromClient, 7, 'counted by XDP while the daemon was down');

  const end = await trickle.exited;
  t.same(JSON.parse(end), { ok: true, received: 40_000 }, 'the TCP stream ran through the kill without loss');
});

t.test('unload leaves no XDP program, pin or process behind', async (t) => {
  const pid = (await topo.xdpfwJson<StatusReport>(['status'])).pid;
  const r = await topo.xdpfw(['unload']);
  t.equal(r.code, 0, r.stderr);
  for (const dev of ['trust0', 'untrust0']) {
    t.notMatch(await topo.sh('fw', `ip -d link show dev ${dev}`), /prog\/xdp/, `no XDP on ${dev}`);
  }
  t.throws(() => process.kill(pid, 0), 'the daemon is gone');
  const pins = await topo.sh('fw', `ls /sys/fs/bpf/xdpfw 2>/dev/null | grep -c . || true`);
  const { statePaths } = await import('../../lib/daemon/state-paths.js');
  const { existsSync } = await import('node:fs');
  t.notOk(existsSync(statePaths(topo.stateDir).pinDir), `no pins left (${pins.trim()} entries under /sys/fs/bpf/xdpfw)`);
  const after = await topo.xdpfw(['status']);
  t.not(after.code, 0, 'status says no daemon runs');
  t.match(after.stderr, /no xdpfw daemon is running/);
});

// The start-up checks, on real veths in real namespaces: what would make
// `xdpfw load` succeed and then lose traffic without a word is named by load
// and status, with the fix, and the fix works; what cannot work is refused.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import type { CountersReport, StatusReport } from '../../lib/daemon/reports.js';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';

const sh = promisify(execFile);

const udpPing = (topo: Topology, count = 3) => topo.traffic<{ received: number }>('client', [
  'udp-ping', '--host', ADDR.server4, '--port', '5002', '--count', String(count), '--interval', '100', '--timeout', '2000',
]);

const checks = (s: StatusReport) => s.warnings.map((w) => `${w.interface} ${w.check}`).sort();

t.test('veth peers with neither XDP nor GRO: load and status name each interface, its peer and the fix', async (t) => {
  const topo = await Topology.create({ peers: 'none' });
  t.teardown(() => topo.destroy());
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(basicConfig())]);
  t.equal(r.code, 0, 'load succeeds: the firewall itself is fine');
  for (const [ifname, host] of [['trust0', 'client'], ['untrust0', 'server']] as const) {
    t.match(r.stderr, new RegExp(`warning: frames forwarded out of ${ifname} are dropped by the kernel: its veth peer eth0 \\(network namespace ${topo.ns[host]}\\) runs no XDP program and has GRO off`), `load names ${ifname} and its peer`);
    t.match(r.stderr, `fix: ip netns exec ${topo.ns[host]} ethtool -K eth0 gro on`, `and the fix for ${ifname}`);
  }
  const status = await topo.xdpfwJson<StatusReport>(['status']);
  t.same(checks(status), ['trust0 veth-peer-drops-redirects', 'untrust0 veth-peer-drops-redirects'], 'status --json lists both');
  const human = (await topo.xdpfw(['status'])).stdout;
  t.match(human, /Warnings \(2\):\n {2}trust0: warning: frames forwarded out of trust0 are dropped/, 'status says it too');

  // What the warning says: the first datagram (sent by the slow path) gets
  // through, the echo XDP forwards back does not.
  t.equal((await udpPing(topo)).received, 0, 'no echo comes back');
  const c = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.ok(c.slowPathInjected >= 1, 'the slow path passed the first datagram on');
  t.ok(c.xdp.fastForward!.packets >= 1, 'XDP redirected the echo, and the kernel dropped it at the peer');

  // The fix the warning gives, run as given: the warnings go, traffic flows.
  for (const w of status.warnings) await sh('sh', ['-c', w.fix.replace(/ \(or attach.*$/, '')]);
  t.same((await topo.xdpfwJson<StatusReport>(['status'])).warnings, [], 'status checks again: nothing left to warn about');
  t.equal((await udpPing(topo)).received, 3, 'every echo comes back');
});

t.test('veth peers with GRO on: no warning, and traffic flows', async (t) => {
  const topo = await Topology.create({ peers: 'gro' });
  t.teardown(() => topo.destroy());
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  await topo.startTraffic('server', ['tcp-sink', '--port', '5003']);
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(basicConfig())]);
  t.equal(r.code, 0, 'load succeeds');
  t.notMatch(r.stderr, /warning/, 'load warns about nothing');
  t.same((await topo.xdpfwJson<StatusReport>(['status'])).warnings, [], 'status neither');
  t.equal((await udpPing(topo, 5)).received, 5, 'UDP echoes come back');
  const tcp = await topo.traffic<{ ok: boolean; received: number }>('client', ['tcp-send', '--host', ADDR.server4, '--port', '5003', '--bytes', '1000000', '--timeout', '20000']);
  t.same({ ok: tcp.ok, received: tcp.received }, { ok: true, received: 1000000 }, 'a TCP transfer completes');
  const c = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.ok(c.xdp.fastForward!.packets > 100, 'forwarded by XDP');
});

t.test('a veth peer that leaves checksums to offload: named with the fix, and the fix works', async (t) => {
  const topo = await Topology.create();
  t.teardown(() => topo.destroy());
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  await topo.sh('client', 'ethtool -K eth0 tx on');
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(basicConfig())]);
  t.equal(r.code, 0, 'load succeeds');
  t.match(r.stderr, `TCP and UDP sent by eth0 (network namespace ${topo.ns.client}), the veth peer of trust0, arrive with checksums left to offload`);
  t.match(r.stderr, `fix: ip netns exec ${topo.ns.client} ethtool -K eth0 tx off`);
  t.same(checks(await topo.xdpfwJson<StatusReport>(['status'])), ['trust0 veth-peer-tx-checksum'], 'only trust0: the server end sends complete checksums');
  t.equal((await udpPing(topo)).received, 0, 'as warned: the server discards the datagrams');
  await sh('sh', ['-c', `ip netns exec ${topo.ns.client} ethtool -K eth0 tx off`]);
  t.same((await topo.xdpfwJson<StatusReport>(['status'])).warnings, [], 'fixed: no warning');
  t.equal((await udpPing(topo)).received, 3, 'and the echoes come back');
});

t.test('an MTU above the slow path frame: warned, and larger first packets are dropped and counted, not lost', async (t) => {
  // The slow path's sockets are multi-buffer: a 9000-byte MTU is served (test/e2e/jumbo.test.ts), 16500 is not.
  const topo = await Topology.create({ mtu: 16500 });
  t.teardown(() => topo.destroy());
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(basicConfig())]);
  t.equal(r.code, 0, 'load succeeds');
  t.match(r.stderr, 'trust0 has MTU 16500, but the slow path takes frames of at most 16384 bytes (MTU 16370)');
  t.match(r.stderr, 'fix: ip link set dev trust0 mtu 16370');
  t.same(checks(await topo.xdpfwJson<StatusReport>(['status'])), ['trust0 mtu-above-slow-path', 'untrust0 mtu-above-slow-path']);

  // An echo request of 16342 bytes of data is a 16384-byte frame: the largest the slow path takes.
  const ping = (size: number) => topo.exec('client', 'ping', ['-c', '1', '-W', '3', '-s', String(size), ADDR.server4]);
  t.match((await ping(56)).stdout, /1 received/, 'the firewall learns the server\'s address');
  t.match((await ping(16342)).stdout, /1 received/, 'a first packet of 16384 bytes gets through');
  t.match((await ping(16343)).stdout, /0 received/, 'one of 16385 bytes does not');
  const c = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.equal(c.drops.too_big_for_slow_path, 1, 'it is counted in show counters --json');
  t.match((await topo.xdpfw(['show', 'counters'])).stdout, /too_big_for_slow_path\s+1/, 'and in show counters');
  const m = await topo.traffic<{ body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  t.match(m.body, /xdpfw_drops_total\{stage="xdp",reason="drop_too_big"\} 1/, 'and in the metrics');
  t.match(m.body, /xdpfw_link_warnings\{interface="trust0",check="mtu-above-slow-path"\} 1/, 'the warning is counted in the metrics too');
});

t.test('more RX queues than XDP has socket slots: load refuses, naming the interface, its queues and the fix', async (t) => {
  const topo = await Topology.create();
  t.teardown(() => topo.destroy());
  await topo.sh('fw', 'ip link add many0 numtxqueues 80 numrxqueues 80 type veth peer name many1 numtxqueues 80 numrxqueues 80');
  await topo.sh('fw', 'ip link set many0 up && ip link set many1 up');
  const path = topo.writeConfig(basicConfig().replace('interfaces { untrust0; }', 'interfaces { untrust0; many0; }'));
  const r = await topo.xdpfw(['load', '-c', path]);
  t.not(r.code, 0, 'load fails');
  t.match(r.stderr, 'interface many0 has 80 receive queues; xdpfw serves at most 64 per interface');
  t.match(r.stderr, 'ethtool -L many0 rx 64 tx 64');
  t.notMatch(await topo.sh('fw', 'ip -d link show dev trust0'), /prog\/xdp/, 'nothing left attached');

  await topo.sh('fw', 'ethtool -L many0 rx 64 tx 64');
  const again = await topo.xdpfw(['load', '-c', path]);
  t.equal(again.code, 0, 'load succeeds');
  const many = (await topo.xdpfwJson<StatusReport>(['status'])).interfaces.find((i) => i.name === 'many0');
  t.equal(many?.queues.length, 64, 'with the fix applied it loads, one socket per queue');
});

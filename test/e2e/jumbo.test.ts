// Jumbo frames end to end: links with MTU 9000 through the real daemon in
// native XDP mode, real TCP and UDP in namespaces. Bulk transfers both ways
// ride the fast path in frames larger than a page (multi-buffer XDP); a
// first UDP datagram of 8500 bytes is judged by the slow path (multi-buffer
// AF_XDP) and sent on, or dropped when the policy denies it. With 9000 on
// the client side only, TCP still transfers (the MSS each side announces).
import t, { type Test } from 'tap';
import type { CountersReport, StatusReport } from '../../lib/daemon/reports.js';
import { ADDR, type LinkMtu, Topology } from '../helpers/topology.js';

const BYTES = 4_000_000;

const CONFIG = `
applications {
    application echo-udp { protocol udp; destination-port 5002; }
    application sink-tcp { protocol tcp; destination-port 5003; }
    application serve-tcp { protocol tcp; destination-port 5004; }
}
security {
    zones {
        security-zone trust { interfaces { trust0; } host-inbound-traffic { system-services { ping; } } }
        security-zone untrust { interfaces { untrust0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy allow-some {
                match { source-address any; destination-address any; application [ echo-udp sink-tcp serve-tcp junos-icmp-all junos-icmp6-all ]; }
                then { permit; }
            }
        }
        default-policy { deny-all; }
    }
}
`;

async function jumboNet(t: Test, mtu: LinkMtu): Promise<Topology> {
  const topo = await Topology.create({ mtu });
  t.teardown(() => topo.destroy());
  await topo.startTraffic('server', ['tcp-sink', '--port', '5003']);
  await topo.startTraffic('server', ['tcp-serve', '--port', '5004', '--bytes', String(BYTES)]);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  await topo.startTraffic('server', ['udp-echo', '--port', '5099']);
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG), '--xdp-mode', 'native']);
  t.equal(r.code, 0, `load succeeds in native mode (${r.stderr.trim()})`);
  t.notMatch(r.stderr, /warning/, 'with nothing to warn about');
  const status = await topo.xdpfwJson<StatusReport>(['status']);
  t.same(status.interfaces.map((i) => [i.name, i.xdpMode]).sort(), [['trust0', 'native'], ['untrust0', 'native']], 'both interfaces in native mode');
  return topo;
}

async function transfers(t: Test, topo: Topology): Promise<void> {
  for (const host of [ADDR.server4, ADDR.server6]) {
    const up = await topo.traffic<{ ok: boolean; received: number }>('client', ['tcp-send', '--host', host, '--port', '5003', '--bytes', String(BYTES), '--timeout', '30000']);
    t.same({ ok: up.ok, received: up.received }, { ok: true, received: BYTES }, `${host}: ${BYTES} bytes client to server`);
    const down = await topo.traffic<{ ok: boolean; received: number }>('client', ['tcp-fetch', '--host', host, '--port', '5004', '--timeout', '30000']);
    t.same({ ok: down.ok, received: down.received }, { ok: true, received: BYTES }, `${host}: ${BYTES} bytes server to client`);
  }
}

t.test('MTU 9000 on every link: TCP both ways, v4 and v6, forwarded by XDP in jumbo frames', async (t) => {
  const topo = await jumboNet(t, 9000);
  await transfers(t, topo);
  const c = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  const fast = c.xdp.fastForward!;
  t.ok(fast.packets > 500, `forwarded by XDP (${fast.packets} packets)`);
  // 4 x 4 MB in 8948-byte segments and their ACKs: the data frames are jumbo.
  t.ok(fast.bytes > 4 * BYTES, 'every byte counted');
  t.ok(fast.bytes / fast.packets > 3000, `frames larger than a page went through (${Math.round(fast.bytes / fast.packets)} bytes on average)`);
  t.equal(c.drops.too_big_for_slow_path, 0, 'nothing too big for the slow path');
  t.equal(c.drops.malformed ?? 0, 0, 'nothing taken for malformed');
  t.equal((c.drops.too_big_for_kernel ?? 0) + (c.drops.inject_failed ?? 0), 0, 'nothing the slow path failed to send on');
});

t.test('a first UDP datagram of 8500 bytes: a permitted flow passes through the slow path, a denied one does not', async (t) => {
  const topo = await jumboNet(t, 9000);
  // Before the firewall knows the server's link-layer address only the kernel could send a first
  // packet on, and it takes no multi-buffer frame from the slow path: dropped, and counted.
  const early = await topo.traffic<{ received: number }>('client', ['udp-ping', '--host', ADDR.server4, '--port', '5002', '--count', '1', '--size', '8500', '--timeout', '3000']);
  t.equal(early.received, 0, 'next hop not resolved yet: the first jumbo datagram is not sent on');
  t.equal((await topo.xdpfwJson<CountersReport>(['show', 'counters'])).drops.too_big_for_kernel, 1, 'counted as too_big_for_kernel');
  t.match((await topo.xdpfw(['show', 'counters'])).stdout, /too_big_for_kernel\s+1/, 'and shown');
  // The firewall learns the server's address as any small first packet teaches it.
  t.match((await topo.exec('client', 'ping', ['-c', '1', '-W', '3', ADDR.server4])).stdout, /1 received/);
  t.match((await topo.exec('client', 'ping', ['-c', '1', '-W', '3', ADDR.server6])).stdout, /1 received/);
  for (const host of [ADDR.server4, ADDR.server6]) {
    const before = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
    const ok = await topo.traffic<{ received: number }>('client', ['udp-ping', '--host', host, '--port', '5002', '--count', '1', '--size', '8500', '--timeout', '5000']);
    t.equal(ok.received, 1, `${host}: the 8500-byte datagram of a new permitted flow reached the server and its echo came back`);
    const denied = await topo.traffic<{ received: number }>('client', ['udp-ping', '--host', host, '--port', '5099', '--count', '1', '--size', '8500', '--timeout', '3000']);
    t.equal(denied.received, 0, `${host}: one of a denied flow did not`);
    const after = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
    t.equal(after.slowPathPackets - before.slowPathPackets, 2, 'both were judged by the slow path');
    t.equal(after.slowPathInjected - before.slowPathInjected, 1, 'the permitted one was sent on');
    t.equal((after.drops.policy_deny ?? 0) - (before.drops.policy_deny ?? 0), 1, 'the denied one dropped by the policy');
    t.equal(after.xdp.fastForward!.packets - before.xdp.fastForward!.packets, 1, 'the echo came back through the fast path');
  }
  const c = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.equal(c.drops.too_big_for_slow_path, 0, 'nothing too big for the slow path');
  t.equal(c.drops.too_big_for_kernel, 1, 'nothing else the slow path could not send on');
});

t.test('MTU 9000 on the client side, 1500 on the server side: TCP still transfers both ways, v4 and v6', async (t) => {
  const topo = await jumboNet(t, { trust: 9000, untrust: 1500 });
  await transfers(t, topo);
  const c = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.ok(c.xdp.fastForward!.packets > 500, 'forwarded by XDP');
});

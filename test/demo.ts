// `make demo`: the firewall on an embedded default config between a client
// and a server namespace, with real traffic flowing and the CLI showing it.
import { ADDR, Topology, basicConfig } from './helpers/topology.js';

const say = (s: string) => process.stdout.write(`\n=== ${s}\n`);

/** The zones and policies of the topology, and a filter on the client side that counts and logs UDP echo traffic. */
const CONFIG = basicConfig(`
firewall {
    family inet {
        filter from-clients {
            term udp-echo {
                from { protocol udp; destination-port 5002; }
                then { count udp-echo; log; accept; }
            }
            term everything-else { then accept; }
        }
    }
}
interfaces { trust0 { unit 0 { family inet { filter { input from-clients; } } } } }
`);

async function demo(topo: Topology): Promise<void> {
  const conf = topo.writeConfig(CONFIG);
  say(`config (${conf})`);
  process.stdout.write(CONFIG);
  say('xdpfw load');
  const load = await topo.xdpfw(['load', '-c', conf]);
  process.stdout.write(load.stdout + load.stderr);
  if (load.code !== 0) throw new Error('load failed');
  process.stdout.write((await topo.xdpfw(['status'])).stdout);

  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  say('client -> server: a long TCP connection, a 20 MB transfer over IPv4 and IPv6, UDP, ping');
  const trickle = await topo.startTraffic('client', ['tcp-trickle', '--host', ADDR.server4, '--port', '5001', '--count', '50', '--interval', '100']);
  for (const host of [ADDR.server4, ADDR.server6]) {
    const r = await topo.traffic<{ ms: number; received: number }>('client', ['tcp-send', '--host', host, '--port', '5001', '--bytes', String(20 << 20)]);
    process.stdout.write(`20 MB to ${host}: ${r.received} bytes received in ${r.ms.toFixed(0)} ms\n`);
  }
  const udp = await topo.traffic<{ received: number }>('client', ['udp-ping', '--host', ADDR.server4, '--port', '5002', '--count', '5']);
  process.stdout.write(`UDP: 5 sent, ${udp.received} echoed\n`);
  process.stdout.write((await topo.exec('client', 'ping', ['-c', '2', '-i', '0.2', ADDR.server6])).stdout);

  say('server -> client is not permitted (default-policy deny-all)');
  const denied = await topo.traffic<{ ok: boolean; error?: string }>('server', ['tcp-send', '--host', ADDR.client4, '--port', '22', '--bytes', '1', '--timeout', '1500']);
  process.stdout.write(`connect ${ADDR.client4}:22 from the server: ${denied.ok ? 'opened (unexpected)' : denied.error}\n`);

  say('xdpfw show sessions');
  process.stdout.write((await topo.xdpfw(['show', 'sessions'])).stdout);
  say('xdpfw show counters');
  process.stdout.write((await topo.xdpfw(['show', 'counters'])).stdout);
  say('xdpfw show firewall: the first UDP packet counted by the slow path, the other four by XDP from the cached verdict');
  process.stdout.write((await topo.xdpfw(['show', 'firewall'])).stdout);
  say('xdpfw show log --kind filter-log: source input for the first packet, cached-input for the rest');
  process.stdout.write((await topo.xdpfw(['show', 'log', '--kind', 'filter-log'])).stdout);
  await trickle.exited;
  say('xdpfw unload');
  process.stdout.write((await topo.xdpfw(['unload'])).stdout);
}

const topo = await Topology.create();
try {
  await demo(topo);
} finally {
  await topo.destroy();
}

// 20 MB TCP transfers through the firewall namespace: plain kernel
// forwarding first (the baseline), then through xdpfw, on one topology.
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';
import { compare, report } from './lib/report.js';

const RUNS = 7;
const BYTES = 20 << 20;

/** MB/s of each of RUNS transfers (after a warm-up one). */
async function transfers(topo: Topology): Promise<number[]> {
  const out: number[] = [];
  for (let i = -1; i < RUNS; i++) {
    const r = await topo.traffic<{ ok: boolean; ms: number; received: number }>('client', ['tcp-send', '--host', ADDR.server4, '--port', '5001', '--bytes', String(BYTES)]);
    if (!r.ok || r.received !== BYTES) throw new Error('transfer failed');
    if (i >= 0) out.push(BYTES / 2 ** 20 / (r.ms / 1000));
  }
  return out;
}

const topo = await Topology.create();
try {
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
  const kernel = await transfers(topo);
  const load = await topo.xdpfw(['load', '-c', topo.writeConfig(basicConfig())]);
  if (load.code !== 0) throw new Error(load.stderr);
  const xdpfw = await transfers(topo);
  report({
    id: 'transfer',
    title: 'TCP transfer',
    method: `${BYTES >> 20} MB TCP transfers client → server (node sockets at both ends), ${RUNS} runs each after a warm-up, kernel forwarding first.`,
    comparisons: [compare('throughput', 'MB/s', ['xdpfw', xdpfw], ['kernel forwarding', kernel])],
    facts: [],
  });
} finally {
  await topo.destroy();
}

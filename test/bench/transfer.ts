// 20 MB TCP transfers through the firewall namespace: plain kernel
// forwarding first (the baseline), then through xdpfw, in one run on one
// topology. Prints the median, min and max of each and their ratio.
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';

const RUNS = 7;
const BYTES = 20 << 20;

function stats(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s.at(-1)! };
}

async function transfers(topo: Topology): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await topo.traffic<{ ok: boolean; ms: number; received: number }>('client', ['tcp-send', '--host', ADDR.server4, '--port', '5001', '--bytes', String(BYTES)]);
    if (!r.ok || r.received !== BYTES) throw new Error('transfer failed');
    ms.push(r.ms);
  }
  return ms;
}

const topo = await Topology.create();
try {
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
  const kernel = stats(await transfers(topo));
  const load = await topo.xdpfw(['load', '-c', topo.writeConfig(basicConfig())]);
  if (load.code !== 0) throw new Error(load.stderr);
  const xdpfw = stats(await transfers(topo));
  const fmt = (s: { median: number; min: number; max: number }) => `${s.median.toFixed(1)} ms (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)})`;
  process.stdout.write(`20 MB TCP transfer, ${RUNS} runs each\n`);
  process.stdout.write(`  kernel forwarding: ${fmt(kernel)}\n  through xdpfw:     ${fmt(xdpfw)}\n`);
  process.stdout.write(`  throughput ratio xdpfw/kernel (median): ${(kernel.median / xdpfw.median).toFixed(2)}\n`);
} finally {
  await topo.destroy();
}

// New sessions per second: every generated frame is a new UDP flow (source
// address and port from a counter, never repeated within the run).
// Baseline: the kernel forwarding them with nftables conntrack (`ct state
// new accept`), the table flushed before each run; subject: the real
// daemon, every frame judged by the slow path, its sessions cleared before
// each run. Frames are offered above what either side takes (the surplus is
// dropped at the veth or AF_XDP ring) and what reaches the server's XDP
// sink while the generator runs is counted.
import { basicConfig } from '../helpers/topology.js';
import { BenchNet, type FlowSpec, METERS_OFF } from './lib/net.js';
import { compare, fmt, report } from './lib/report.js';

const RUNS = 5;
const SECONDS = 2;
const NFT = `table inet bench {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ct state new accept
  }
}`;

let nextFlow = 0;
/** `seconds` worth of new flows at `rate` (0: unpaced, `frames` of them). */
function fresh(rate: number, frames: number): FlowSpec {
  const f = { frames, rate, flows: 2 ** 32 - 1, ports: 60_000, firstFlow: nextFlow };
  nextFlow += frames;
  return f;
}

async function runs(net: BenchNet, clear: () => Promise<void>, spec: () => FlowSpec): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await clear();
    out.push((await net.delivered(spec())).pps);
  }
  return out;
}

const net = await BenchNet.create();
try {
  // Kernel: frames redirected into a veth arrive only if the peer runs XDP.
  await net.attach('fw', 'trust0', 'pass');
  await net.topo.sh('fw', `nft -f - <<'EOF'\n${NFT}\nEOF`);
  const flush = async (): Promise<void> => void (await net.topo.sh('fw', 'conntrack -F 2>/dev/null || true'));
  await flush();
  // The kernel path runs in the generator's softirq, so unpaced is self-paced.
  const probe = await net.delivered(fresh(0, 200_000));
  // Each run stays below the conntrack table size (262,144 here): a full table evicts on every insert.
  const kernelFrames = Math.min(Math.round(probe.pps * SECONDS), 200_000);
  const kernel = await runs(net, flush, () => fresh(0, kernelFrames));
  const conntrackCount = (await net.topo.sh('fw', 'conntrack -C')).trim();
  await net.topo.sh('fw', 'nft delete table inet bench');
  await net.detach('fw', 'trust0');

  await net.loadXdpfw(basicConfig().replace('flow {', `flow { ${METERS_OFF}`));
  const clear = async (): Promise<void> => void (await net.topo.xdpfw(['clear', 'sessions']));
  // Offer half again what a first (warm-up) second takes.
  const warm = await net.delivered(fresh(100_000, 100_000));
  const offered = Math.round(warm.pps * 1.5);
  const xdpfw = await runs(net, clear, () => fresh(offered, offered * SECONDS));
  const counters = await net.topo.xdpfwJson<{ sessions: { created: number; refusedFull: number } }>(['show', 'counters']);

  report({
    id: 'sessions',
    title: 'New sessions per second',
    method: `Each frame a new UDP flow, generated on the client, counted by the XDP sink on the server while the generator runs (${RUNS} runs, tables emptied before each). nftables: \`ct state new accept\` in the forward hook, unpaced generator, ${fmt(kernelFrames)} frames per run (below the conntrack table size, 262,144, which would otherwise evict on every insert). xdpfw: the real daemon, frames offered at ${fmt(offered)}/s (1.5× a warm-up run) for ${SECONDS} s per run.`,
    comparisons: [compare('new flows forwarded', 'flows/s', ['xdpfw', xdpfw], ['kernel + nftables conntrack', kernel], { op: '>=', value: 1 })],
    facts: [
      ['conntrack entries after the last kernel run', conntrackCount],
      ['xdpfw sessions created (all runs and warm-up)', String(counters.sessions.created)],
      ['xdpfw sessions refused (table full)', String(counters.sessions.refusedFull)],
    ],
  });
} finally {
  await net.destroy();
}

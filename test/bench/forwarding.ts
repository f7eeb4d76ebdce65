// Established-flow forwarding: UDP frames of 16 flows generated on the
// client (BPF_PROG_RUN, live frames, as fast as one CPU goes) are forwarded
// by the firewall namespace and counted by an XDP sink on the server.
// Baseline: a minimal XDP forwarder (bpf/bench/fwd.bpf.c: route lookup,
// TTL, MACs, redirect) on trust0; subject: the real daemon with the 16
// sessions installed by the first frames. Plain kernel forwarding is shown
// for scale.
import { basicConfig } from '../helpers/topology.js';
import { BenchNet } from './lib/net.js';
import { compare, fmt, report } from './lib/report.js';

const RUNS = 5;
const FRAMES = 3_000_000;
const FLOWS = 16;

async function rates(net: BenchNet): Promise<number[]> {
  await net.delivered({ frames: FRAMES / 3, flows: FLOWS }); // warm-up
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await net.delivered({ frames: FRAMES, flows: FLOWS });
    out.push(r.pps / 1e6);
  }
  return out;
}

const net = await BenchNet.create();
try {
  await net.attach('fw', 'trust0', 'pass');
  const kernel = await rates(net);
  await net.attach('fw', 'trust0', 'fwd');
  const minimal = await rates(net);
  await net.detach('fw', 'trust0');

  await net.loadXdpfw(basicConfig());
  // The first frame of each flow goes through the slow path, which installs its session.
  await net.generate({ frames: FLOWS, flows: FLOWS, rate: 1000 });
  const xdpfw = await rates(net);
  const counters = await net.topo.xdpfwJson<{ slowPathPackets: number; fastPathPackets: number }>(['show', 'counters']);

  report({
    id: 'forwarding',
    title: 'Established-flow forwarding',
    method: `${FLOWS} UDP flows, 60-byte frames generated on the client by BPF_PROG_RUN (live frames, one CPU, unpaced), forwarded trust0 → untrust0, counted by an XDP sink on the server. ${RUNS} runs of ${fmt(FRAMES / 1e6)} M frames each, after a warm-up run.`,
    comparisons: [
      compare('forwarded', 'Mpps', ['xdpfw', xdpfw], ['minimal XDP forwarder', minimal], { op: '>=', value: 0.9 }),
      compare('forwarded', 'Mpps', ['xdpfw', xdpfw], ['kernel forwarding', kernel]),
    ],
    facts: [
      ['packets through the slow path (the first of each flow)', String(counters.slowPathPackets)],
      ['packets through the fast path', String(counters.fastPathPackets)],
    ],
  });
} finally {
  await net.destroy();
}

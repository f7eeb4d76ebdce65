// The floor under new sessions per second: what the kernel calls the slow
// path makes for every new flow cost on their own, with no JavaScript
// around them. Per new UDP flow the slow path runs the route probe (plain
// BPF_PROG_RUN), writes the session's two map entries (one batch update),
// rewrites the first packet with xdpfw_inject_new (plain BPF_PROG_RUN) and
// sends it from the egress AF_XDP socket; the sum of those is the least one
// new session costs, whatever the code around it. The live-frame run it
// falls back on is timed too.
// Runs in its own namespace: in0 ── out0 (a permanent neighbour behind
// out0; the sink drops what arrives on its peer).
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, TWO_PORTS);

const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { FLOW_KEY, SESSION, SESSION_KEY } = await import('../../lib/dataplane/layout.js');
const { installSession } = await import('../helpers/session-entry.js');
const native = await import('../../lib/dataplane/native.js');
const { RouteProbe } = await import('../../lib/slowpath/route-probe.js');
const { ROUTE_BATCH_MAX, RouteBatch } = await import('../../lib/slowpath/route-batch.js');
const { bpfObjectPath } = await import('../../lib/util/paths.js');
const { frame, ipBytes } = await import('../helpers/packets.js');
const { summarize } = await import('./lib/stats.js');
const { fmt, report } = await import('./lib/report.js');

const RUNS = 5;
const CALLS = 20_000;
/** Frames of one receive batch of the slow path (its session and send batches). */
const BATCH = 64;

if (!insideTestNetns()) throw new Error('not in the bench namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
const sink = native.openObject(bpfObjectPath('bench/sink'));
try {
  const IN = native.ifNameToIndex('in0');
  const OUT = native.ifNameToIndex('out0');
  dp.registerPort(IN, 0, 0);
  dp.registerPort(OUT, 1, 0);
  const drop = native.attachXdp(sink.progFd('bare_drop'), native.ifNameToIndex('out0p'), 'auto');

  const sessions = dp.mapFd('xdpfw_sessions');
  const data = frame({ src: '10.8.0.2', dst: '10.9.0.2', protocol: 'udp', sport: 40000, dport: 9 });
  // The flow's session, so re-injection forwards it as it does a new flow's first packet.
  const key = Buffer.alloc(SESSION_KEY.size);
  key[SESSION_KEY.offset.family] = 2;
  key[SESSION_KEY.offset.protocol] = 17;
  key.writeUInt16BE(40000, SESSION_KEY.offset.src_port);
  key.writeUInt16BE(9, SESSION_KEY.offset.dst_port);
  ipBytes('10.8.0.2').copy(key, SESSION_KEY.offset.src_addr);
  ipBytes('10.9.0.2').copy(key, SESSION_KEY.offset.dst_addr);
  installSession(sessions, dp.objectPath, { client: key, ingress: IN, egress: OUT, tcp: false }); // bound as the slow path binds it

  const routes = new RouteProbe(dp.progs.route);
  const egress = new native.Xsk({ ifindex: OUT, ifname: 'out0', queue: 0 });
  const rewritten = Buffer.alloc(4096);
  const lengths = new Uint32Array(1);
  const keys = Buffer.alloc(FLOW_KEY.size);
  const values = Buffer.alloc(SESSION.size);
  let next = 1;

  /** Microseconds per packet of `fn`, which handles `per` packets a call, run by run. */
  const time = (fn: () => void, after?: () => void, per = 1): number[] => {
    const out: number[] = [];
    const calls = Math.ceil(CALLS / per);
    for (let r = 0; r < RUNS; r++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) fn();
      out.push(Number(process.hrtime.bigint() - t0) / 1e3 / (calls * per));
      after?.();
    }
    return out;
  };
  const routeBatch = new RouteBatch(dp.progs.routeBatch);
  const batchKeys = Buffer.alloc(BATCH * FLOW_KEY.size);
  const batchValues = Buffer.alloc(BATCH * SESSION.size);
  const staged = Buffer.alloc(BATCH * data.length);
  const stagedLengths = new Uint32Array(BATCH).fill(data.length);
  const outLength = new Uint32Array(1);
  const written: Buffer[] = [];
  const costs = {
    route: time(() => routes.lookup(data, 0, data.length, IN, 0)),
    install: time(() => {
      // One entry per session, as the slow path writes it (a distinct first address each).
      keys.writeUInt32BE(next++, FLOW_KEY.offset.addr);
      native.mapUpdate(sessions, keys, values, 0);
      written.push(Buffer.from(keys));
    }, () => {
      for (const k of written.splice(0)) native.mapDelete(sessions, k);
    }),
    rewrite: time(() => native.progTestRun(dp.progs.injectNew, { data, ifindex: IN, rxQueue: 0, into: rewritten })),
    transmit: time(() => {
      lengths[0] = data.length;
      while (egress.tx(rewritten, lengths, 1) === 0) egress.completeTx();
    }),
    live: time(() => native.progTestRun(dp.progs.injectNew, { data, ifindex: IN, rxQueue: 0, live: true, batchSize: 1 })),
  };
  // The same work as the slow path does it for a full receive batch: one run routes the batch,
  // one update writes its sessions, the rewrite is one positional call per packet, one send.
  const batched = {
    route: time(() => {
      routeBatch.clear();
      for (let i = 0; i < ROUTE_BATCH_MAX; i++) routeBatch.add(key, 0, 0);
      routeBatch.resolve(IN, 0);
    }, undefined, ROUTE_BATCH_MAX),
    install: time(() => {
      for (let i = 0; i < BATCH; i++) batchKeys.writeUInt32BE(next++, i * FLOW_KEY.size + FLOW_KEY.offset.addr);
      native.mapUpdateBatch(sessions, batchKeys, batchValues, BATCH, 0);
      written.push(Buffer.from(batchKeys));
    }, () => {
      for (const k of written.splice(0)) native.mapDeleteBatch(sessions, k, BATCH);
    }, BATCH),
    rewrite: time(() => native.progRunInto(dp.progs.injectNew, data, 0, data.length, IN, 0, rewritten, outLength)),
    transmit: time(() => {
      let sent = 0;
      while (sent < BATCH) {
        const n = egress.tx(staged, stagedLengths.subarray(sent), BATCH - sent);
        if (n === 0) egress.completeTx();
        sent += n;
      }
    }, undefined, BATCH),
  };
  egress.close();
  native.closeFd(drop.linkFd);
  const sum = costs.route.map((r, i) => r + costs.install[i]! + costs.rewrite[i]! + costs.transmit[i]!);
  const line = (label: string, xs: number[]): [string, string] => {
    const s = summarize(xs);
    return [label, `${fmt(s.median)} µs (${fmt(s.min)}–${fmt(s.max)})`];
  };
  const floor = summarize(sum.map((us) => 1e6 / us));
  const batchedSum = batched.route.map((r, i) => r + batched.install[i]! + batched.rewrite[i]! + batched.transmit[i]!);
  const batchedFloor = summarize(batchedSum.map((us) => 1e6 / us));
  report({
    id: 'session-floor',
    title: 'Floor under new sessions per second',
    method: `The kernel calls the slow path makes for each new flow, one flow at a time and as a full receive batch shares them, each timed alone (${fmt(CALLS)} calls, ${RUNS} runs) with no JavaScript around them: route probe (plain BPF_PROG_RUN), the two session entries (one batch map update), the first packet rewritten by xdpfw_inject_new (plain BPF_PROG_RUN) and sent from the egress AF_XDP socket (copy mode, one kick per frame). The live-frame run used when the next hop is not resolved is shown apart.`,
    comparisons: [],
    facts: [
      line('route probe', costs.route),
      line('install both entries (one batch update)', costs.install),
      line('rewrite the first packet (plain BPF_PROG_RUN)', costs.rewrite),
      line('send it from the egress AF_XDP socket', costs.transmit),
      line('sum per new session', sum),
      line('(fallback) re-inject with a live BPF_PROG_RUN', costs.live),
      ['new sessions per second one core can reach at most', `${fmt(floor.median)} (${fmt(floor.min)}–${fmt(floor.max)})`],
      line(`batched: route probe per packet (${ROUTE_BATCH_MAX} in one run of xdpfw_route_batch)`, batched.route),
      line(`batched: install one entry per session (${BATCH} sessions in one batch update)`, batched.install),
      line('batched: rewrite the first packet (positional plain BPF_PROG_RUN)', batched.rewrite),
      line(`batched: send per packet (${BATCH} frames, one call)`, batched.transmit),
      line('batched: sum per new session', batchedSum),
      ['batched: new sessions per second one core can reach at most', `${fmt(batchedFloor.median)} (${fmt(batchedFloor.min)}–${fmt(batchedFloor.max)})`],
    ],
  });
} finally {
  sink.close();
  dp.close();
  purgePins(paths);
}

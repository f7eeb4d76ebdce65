// What judging a new flow's first packet costs the slow path, in one process:
// the real SlowPath on the real dataplane (route batch, session map, inject
// program) handles prepared first packets, laid out in a buffer as XDP hands
// them up (struct xdpfw_rx_meta before each frame), in receive batches of 1
// (a lone SYN, as in the connect-latency bench) and of 64 (a burst of new
// flows). Sends go to a port that takes the staged frames without sending
// them (session-floor times the send). The kernel calls the slow path makes
// for those packets (one route batch run, one session batch update, one
// inject run per packet) are timed alone in the same run: the rest is the
// JavaScript of judging (filters, policy, session built, event raised).
// Two configurations: one permit-any policy (the latency bench's), and a
// rule base with address books, applications, logging and interface filters.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, TWO_PORTS);

const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { FLOW_KEY, RX_META, SESSION, SESSION_KEY } = await import('../../lib/dataplane/layout.js');
const { flowKeyOf } = await import('../../lib/session/entry.js');
const native = await import('../../lib/dataplane/native.js');
const { compileText } = await import('../../lib/config/compile.js');
const { VerdictRows } = await import('../../lib/session/verdict-rows.js');
const { SessionTable } = await import('../../lib/session/table.js');
const { SlowPath } = await import('../../lib/slowpath/slowpath.js');
const { FrameReader } = await import('../../lib/slowpath/frame.js');
const { RouteBatch } = await import('../../lib/slowpath/route-batch.js');
const { frame } = await import('../helpers/packets.js');
const { summarize } = await import('./lib/stats.js');
const { fmt, report } = await import('./lib/report.js');
type Zone = import('../../lib/config/types.js').Zone;
type RxQueue = import('../../lib/slowpath/slowpath.js').RxQueue;
type TxPort = import('../../lib/slowpath/slowpath.js').TxPort;

const RUNS = Number(process.env.XDPFW_JUDGE_RUNS ?? 7);
/** First packets judged per run (new sessions, cleared between runs). */
const PACKETS = Number(process.env.XDPFW_JUDGE_PACKETS ?? 4096);
const SLOT = 2048;
const HEADROOM = 256;

const ZONES = `
    zones {
        security-zone trust { interfaces { in0; } host-inbound-traffic { system-services { ping; } } }
        security-zone untrust { interfaces { out0; } }
    }`;

const MINIMAL = `
security {${ZONES}
    policies {
        from-zone trust to-zone untrust {
            policy allow-out { match { source-address any; destination-address any; application any; } then { permit; } }
        }
        default-policy { deny-all; }
    }
}
`;

function ruleBase(): string {
  const denies: string[] = [];
  for (let i = 0; i < 12; i++) {
    denies.push(`policy deny-${i} { match { source-address any; destination-address servers; application app-${i}; } then { deny; log { session-init; } } }`);
  }
  const apps: string[] = [];
  for (let i = 0; i < 12; i++) apps.push(`application app-${i} { protocol tcp; destination-port ${7000 + i}; }`);
  return `
security {${ZONES}
    address-book {
        global {
            address clients 10.8.0.0/24;
            address servers 10.9.0.0/24;
            address mgmt 192.168.50.0/24;
        }
    }
    policies {
        from-zone trust to-zone untrust {
            ${denies.join('\n            ')}
            policy mgmt-ssh { match { source-address mgmt; destination-address servers; application junos-ssh; } then { permit; } }
            policy web { match { source-address clients; destination-address servers; application [ junos-http junos-https ]; } then { permit; log { session-init; session-close; } } }
        }
        default-policy { deny-all; }
    }
}
applications {
    ${apps.join('\n    ')}
}
firewall {
    family inet {
        filter edge-in {
            term no-telnet { from { protocol tcp; destination-port 23; } then { count telnet; discard; } }
            term bogons { from { source-address { 0.0.0.0/8; 127.0.0.0/8; 240.0.0.0/4; } } then discard; }
            term web { from { protocol tcp; destination-port [ 80 443 ]; } then { count web-in; accept; } }
            term rest { then accept; }
        }
        filter edge-out {
            term snmp { from { protocol udp; destination-port 161; } then discard; }
            term rest { then { count out; accept; } }
        }
    }
}
interfaces {
    in0 { unit 0 { family inet { filter { input edge-in; } } } }
    out0 { unit 0 { family inet { filter { output edge-out; } } } }
}
`;
}

async function startProfile(): Promise<() => Promise<void>> {
  const { Session } = await import('node:inspector');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) => session.post(method, params ?? {}, (err, r) => (err ? reject(err) : resolve(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
  return async () => {
    const r = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(process.env.XDPFW_JUDGE_PROFILE!, JSON.stringify(r.profile));
    session.disconnect();
  };
}

if (!insideTestNetns()) throw new Error('not in the bench namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
// XDPFW_JUDGE_PROFILE=file: a CPU profile of the runs (started after the programs are loaded:
// the profiler's signals interrupt the verifier).
const profile = process.env.XDPFW_JUDGE_PROFILE ? await startProfile() : null;
try {
  const IN = native.ifNameToIndex('in0');
  const OUT = native.ifNameToIndex('out0');
  const umem = Buffer.alloc(PACKETS * SLOT);
  const M = RX_META.offset;

  /** Writes first packet `i` (a TCP SYN to port 80 from its own source port) into slot `slot` with its metadata. */
  const prepare = (slot: number, sport: number): [number, number] => {
    const data = frame({ src: '10.8.0.2', dst: '10.9.0.2', protocol: 'tcp', sport, dport: 80, tcpFlags: 0x02 });
    const at = slot * SLOT + HEADROOM;
    data.copy(umem, at);
    const meta = at - RX_META.size;
    umem.fill(0, meta, at);
    umem[meta + M.family] = 2;
    umem[meta + M.protocol] = 6;
    umem[meta + M.tcp_flags] = 0x02;
    umem.writeUInt16LE(14, meta + M.l3_offset);
    umem.writeUInt16LE(data.length - 14, meta + M.l3_len);
    umem.writeUInt16BE(sport, meta + M.src_port); // network order, as XDP keys ports
    umem.writeUInt16BE(80, meta + M.dst_port);
    umem.writeBigUInt64LE(process.hrtime.bigint(), meta + M.rx_ns);
    return [at, data.length];
  };

  /** Per first packet: wall and CPU ns of handleBatch, and of the kernel calls alone, run by run. */
  const measure = (text: string, batch: number) => {
    const compiled = compileText(text, 'judge-bench.conf');
    if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
    const config = compiled.config;
    const trust = config.zones.find((z) => z.name === 'trust')!;
    const untrust = config.zones.find((z) => z.name === 'untrust')!;
    dp.registerPort(IN, 0, trust.id);
    dp.registerPort(OUT, 1, untrust.id);
    const sessions = new SessionTable(dp.mapFd('xdpfw_sessions'), dp.constants.sessionFlags, config.flow.timeouts, 1_000_000, dp.constants.tcp, new VerdictRows(dp.mapFd('xdpfw_verdict_rows'), dp.constants.maxVerdictRows));
    const zones = new Map<number, Zone>([[IN, trust], [OUT, untrust]]);
    let events = 0;
    const slowPath = new SlowPath(dp.progs, sessions, config, zones, () => void events++);
    let staged = 0;
    const port: TxPort = {
      transmit: () => true,
      stage: () => (staged++, true),
      sendStaged: () => { const n = staged; staged = 0; return n; },
    };
    slowPath.egressPort = (ifindex) => (ifindex === OUT ? port : undefined);
    const rx: RxQueue = { ifindex: IN, queue: 0, zone: trust, reader: new FrameReader(umem.buffer), frames: umem, transmit: () => true };
    const routes = new RouteBatch(dp.progs.routeBatch);
    const rewritten = Buffer.alloc(SLOT);
    const outLength = new Uint32Array(1);
    const keys = Buffer.alloc(batch * FLOW_KEY.size);
    const values = Buffer.alloc(batch * SESSION.size);
    const flowKeys = Buffer.alloc(PACKETS * SESSION_KEY.size);
    for (let i = 0; i < PACKETS; i++) {
      rx.reader.read(descs[2 * i]!, descs[2 * i + 1]!);
      rx.reader.key.copy(flowKeys, i * SESSION_KEY.size);
    }
    const wall = { total: [] as number[], kernel: [] as number[] };
    const cpu = { total: [] as number[], kernel: [] as number[] };
    const mapFd = dp.mapFd('xdpfw_sessions');
    for (let r = 0; r < RUNS + 1; r++) {
      // Judging: every packet a new flow.
      let t0 = process.hrtime.bigint();
      let c0 = process.cpuUsage();
      for (let done = 0; done < PACKETS; done += batch) slowPath.handleBatch(rx, descs.subarray(2 * done), batch);
      let c = process.cpuUsage(c0);
      const ns = Number(process.hrtime.bigint() - t0);
      const cns = c.user * 1e3; // user time: the JavaScript (the kernel calls are mostly system time)
      sessions.clear();
      // The same packets' kernel calls alone: one route run, one session update, one inject run each.
      t0 = process.hrtime.bigint();
      c0 = process.cpuUsage();
      for (let done = 0; done < PACKETS; done += batch) {
        routes.clear();
        for (let i = done; i < done + batch; i++) routes.add(flowKeys.subarray(i * SESSION_KEY.size, (i + 1) * SESSION_KEY.size), 0, 0);
        routes.resolve(IN, 0);
        // One entry per session (its key as long as the tuple: the tuples serve as distinct keys).
        for (let i = done; i < done + batch; i++) flowKeyOf(flowKeys.subarray(i * SESSION_KEY.size, (i + 1) * SESSION_KEY.size), keys.subarray((i - done) * FLOW_KEY.size));
        native.mapUpdateBatch(mapFd, keys, values, batch, 0);
        for (let i = done; i < done + batch; i++) native.progRunInto(dp.progs.injectNew, umem, descs[2 * i]!, descs[2 * i + 1]!, IN, 0, rewritten, outLength);
      }
      c = process.cpuUsage(c0);
      const kns = Number(process.hrtime.bigint() - t0);
      const kcns = c.user * 1e3;
      for (let done = 0; done < PACKETS; done += batch) {
        for (let i = done; i < done + batch; i++) flowKeyOf(flowKeys.subarray(i * SESSION_KEY.size, (i + 1) * SESSION_KEY.size), keys.subarray((i - done) * FLOW_KEY.size));
        native.mapDeleteBatch(mapFd, keys, batch);
      }
      if (r === 0) continue; // warm-up
      wall.total.push(ns / PACKETS);
      wall.kernel.push(kns / PACKETS);
      cpu.total.push(cns / PACKETS);
      cpu.kernel.push(kcns / PACKETS);
    }
    if (slowPath.stats.injected !== (RUNS + 1) * PACKETS) throw new Error(`not all judged through: drops ${JSON.stringify([...slowPath.stats.drops])}`);
    return { wall, cpu, events };
  };

  const descs = new Uint32Array(2 * PACKETS);
  for (let i = 0; i < PACKETS; i++) [descs[2 * i], descs[2 * i + 1]] = prepare(i, 1024 + i);
  const rows: Array<[string, string]> = [];
  for (const [name, text] of [['permit any', MINIMAL], ['rule base, filters, logs', ruleBase()]] as const) {
    for (const batch of [1, 64]) {
      // XDPFW_JUDGE_CASE="permit any/1": that case alone (for a profile or an instruction count).
      if (process.env.XDPFW_JUDGE_CASE && process.env.XDPFW_JUDGE_CASE !== `${name}/${batch}`) continue;
      const m = measure(text, batch);
      for (const [clock, x] of [['user CPU', m.cpu], ['wall', m.wall]] as const) {
        const j = summarize(x.total.map((v, i) => v - x.kernel[i]!));
        const t = summarize(x.total);
        const k = summarize(x.kernel);
        rows.push([`${name}, batch of ${batch}, ${clock}: judging (handleBatch less its kernel calls)`, `${fmt(j.median)} ns (${fmt(j.min)}–${fmt(j.max)})`]);
        rows.push([`${name}, batch of ${batch}, ${clock}: handleBatch / kernel calls alone`, `${fmt(t.median)} / ${fmt(k.median)} ns`]);
      }
    }
  }
  for (const [k, v] of rows) process.stdout.write(`${k}: ${v}\n`);
  report({
    id: 'judge',
    title: 'Judging a first packet in the slow path',
    method: `The real SlowPath on the real dataplane handles ${PACKETS} prepared TCP SYNs of new flows per run (${RUNS} runs after a warm-up), ` +
      'in receive batches of 1 and 64; the kernel calls it makes for them (route batch, session update, inject run) are timed alone in the same run. ' +
      'Judging is the difference: nanoseconds of JavaScript per first packet.',
    comparisons: [],
    facts: rows,
  });
} finally {
  if (profile) await profile();
  dp.close();
  purgePins(paths);
}

// Fuzzed frames through the compiled XDP object by BPF_PROG_RUN: sweeps of
// every TCP flag byte, IHL, extension chain length, VLAN stack and
// EtherType; every truncation of valid frames; then generated frames of
// every family (test/fuzz/frames.ts). Sessions with cached filter verdicts
// (accept, discard, reject, log, count, local, routing instance) are
// installed for the flows the generator favours, and the zone's screens
// are on for part of the run, so hits, misses and screens all see junk.
// Every run must return DROP, PASS or REDIRECT, and the counters of each
// verdict class must move by exactly the runs that returned it.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [
  ...TWO_PORTS,
  'ip route add 10.10.0.0/24 via 10.9.0.3',
  'ip route add blackhole 10.66.0.0/24',
  'ip -6 route add blackhole fd66::/64',
]);

const { default: t } = await import('tap');
const { compileText } = await import('../../lib/config/compile.js');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { DIRECTION_VERDICTS, FILTER_VERDICT, FLOW_KEY, SESSION, SESSION_KEY, VERDICT_ROW } = await import('../../lib/dataplane/layout.js');
const { RX_PREFIX } = await import('../../lib/slowpath/frame.js');
const { ENTRY, flowKeyOf } = await import('../../lib/session/entry.js');
const { sessionKey } = await import('../helpers/session-entry.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { applyScreens } = await import('../../lib/screens/apply.js');
const { RouteProbe } = await import('../../lib/slowpath/route-probe.js');
const { ipBytes, mac } = await import('../helpers/packets.js');
const { FAMILY_NAMES, fuzzFrame, sweeps, truncationBases } = await import('./frames.js');
const { fuzzPlan, int, pick } = await import('./seed.js');
const { counterDelta, emptyTally, retvalVerdict, sameTally } = await import('./xdp-accounting.js');
type Addressing = import('./frames.js').Addressing;
type Tally = import('./xdp-accounting.js').Tally;
type Test = import('tap').Test;

const plan = fuzzPlan(20261206);
t.comment(`fuzz seed ${plan.seed} (${plan.large ? 'large' : 'small'}); replay: ${plan.replay('xdp-frames')}`);

t.ok(insideTestNetns(), 'runs in its own namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
const IN = native.ifNameToIndex('in0');
const OUT = native.ifNameToIndex('out0');
const UNREGISTERED = native.ifNameToIndex('in0p');
const ZONE = 1;
dp.registerPort(IN, 0, ZONE);
dp.registerPort(OUT, 1, 2);
const xsk = new native.Xsk({ ifindex: IN, ifname: 'in0', queue: 0, rxPrefix: RX_PREFIX });
dp.registerSocket(0, 0, xsk.fd);
t.teardown(() => {
  xsk.close();
  dp.close();
  purgePins(paths);
});

const v4 = (a: string) => ipBytes(a);
const AT: Addressing = {
  dstMac: mac('02:00:00:00:08:01'),
  srcMac: mac('02:00:00:00:08:02'),
  // 10.9.0.2: resolved neighbour; 10.10.0.7: no neighbour; 10.66/fd66: blackhole; 10.8.0.1/fd08::1: the box.
  src4: ['10.8.0.2', '10.8.0.3', '10.9.0.2'].map(v4),
  dst4: ['10.9.0.2', '10.10.0.7', '10.66.0.1', '10.8.0.1', '10.9.0.9'].map(v4),
  src6: ['fd08::2', 'fd08::3', 'fd09::2'].map(v4),
  dst6: ['fd09::2', 'fd66::1', 'fd08::1', 'fd09::9'].map(v4),
  ports: [80, 443, 53, 22, 40000, 0],
};

// ------------------------------------------------------------ sessions

const ACTION = native.btfEnum(dp.objectPath, 'xdpfw_filter_action');
const FLAG = native.btfEnum(dp.objectPath, 'xdpfw_filter_flags');

function verdictBytes(rand: () => number): Buffer {
  const v = Buffer.alloc(FILTER_VERDICT.size);
  if (rand() < 0.4) return v;
  v.writeUInt32LE(1 + int(rand, 5), FILTER_VERDICT.offset.filter_id);
  v.writeUInt16LE(int(rand, 4), FILTER_VERDICT.offset.term_id);
  v.writeUInt16LE(pick(rand, [0, 1, 7, 65535]), FILTER_VERDICT.offset.counter);
  v.writeUInt32LE(rand() < 0.1 ? 100 : 0, FILTER_VERDICT.offset.table_id);
  v[FILTER_VERDICT.offset.action] = pick(rand, [ACTION.XDPFW_FILTER_ACTION_ACCEPT!, ACTION.XDPFW_FILTER_ACTION_DISCARD!, ACTION.XDPFW_FILTER_ACTION_REJECT!]);
  v[FILTER_VERDICT.offset.flags] = pick(rand, [0, FLAG.XDPFW_FILTER_FLAG_LOG!, FLAG.XDPFW_FILTER_FLAG_SYSLOG!]);
  return v;
}

/** Both directions' keys of the favoured flows, with verdicts and flags drawn from the seed. */
function installSessions(rand: () => number): number {
  const fd = dp.mapFd('xdpfw_sessions');
  let n = 0;
  const ports = AT.ports;
  for (const [family, srcs, dsts] of [[2, AT.src4, AT.dst4], [10, AT.src6, AT.dst6]] as const) {
    for (const proto of family === 2 ? [6, 17, 1] : [6, 17, 58]) {
      for (const src of srcs) {
        for (const dst of dsts) {
          for (const sp of ports) {
            for (const dp2 of proto === 1 || proto === 58 ? [0] : ports) {
              const k = Buffer.alloc(SESSION_KEY.size);
              k[SESSION_KEY.offset.family] = family;
              k[SESSION_KEY.offset.protocol] = proto;
              k.writeUInt16BE(sp, SESSION_KEY.offset.src_port);
              k.writeUInt16BE(dp2, SESSION_KEY.offset.dst_port);
              src.copy(k, SESSION_KEY.offset.src_addr);
              dst.copy(k, SESSION_KEY.offset.dst_addr);
              const v = Buffer.alloc(SESSION.size);
              v.writeBigUInt64LE(BigInt(++n), SESSION.offset.session_id);
              // Every fuzzed frame arrives on in0: as the client's (usually) or the server's.
              const fromServer = rand() < 0.2;
              v.writeUInt32LE(fromServer ? OUT : IN, ENTRY.ingressIfindex(0));
              v.writeUInt32LE(fromServer ? IN : OUT, ENTRY.ingressIfindex(1));
              v[SESSION.offset.flags] = pick(rand, [0, 0, 0, dp.constants.sessionFlags.local]);
              const clientIsFirst = flowKeyOf(k, Buffer.alloc(FLOW_KEY.size));
              v[SESSION.offset.client_is_first] = (clientIsFirst ? 1 : 0) ^ (fromServer ? 1 : 0);
              // A row of random verdicts of its own (both directions'), none, or one past the table.
              const row = rand() < 0.2 ? 0 : rand() < 0.03 ? dp.constants.maxVerdictRows + n : 1 + (n % (dp.constants.maxVerdictRows - 1));
              if (row !== 0 && row < dp.constants.maxVerdictRows) {
                const r = Buffer.alloc(VERDICT_ROW.size);
                for (let d = 0; d < 2; d++) {
                  const at = VERDICT_ROW.offset.dir + d * DIRECTION_VERDICTS.size;
                  verdictBytes(rand).copy(r, at + DIRECTION_VERDICTS.offset.input);
                  verdictBytes(rand).copy(r, at + DIRECTION_VERDICTS.offset.output);
                }
                const rk = Buffer.alloc(4);
                rk.writeUInt32LE(row);
                native.mapUpdate(dp.mapFd('xdpfw_verdict_rows'), rk, r, 0);
              }
              v.writeUInt32LE(row, SESSION.offset.verdicts);
              native.mapUpdate(fd, sessionKey(k), v, 0);
            }
          }
        }
      }
    }
  }
  return n;
}

// ------------------------------------------------------------- screens

const SCREENS = `tcp { land; syn-fin; tcp-no-flag; fin-no-ack; winnuke; syn-frag; port-scan { threshold 200000; }
    syn-flood { attack-threshold 200; alarm-threshold 100; source-threshold 300; destination-threshold 300; } }
  icmp { fragment; ping-death; ip-sweep { threshold 200000; } flood { threshold 500; } }
  udp { flood { threshold 500; } }
  ip { tear-drop; record-route-option; source-route-option; timestamp-option; security-option; stream-option; }`;

function useScreens(mode: 'off' | 'drop' | 'alarm'): void {
  const body = mode === 'off' ? '' : `${mode === 'alarm' ? 'alarm-without-drop; ' : ''}${SCREENS}`;
  const r = compileText(`security { zones { security-zone z { interfaces { in0; } screen S; } } screen { ids-option S { ${body} } } }`, 'fuzz.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  applyScreens(dp, r.config);
}

// ------------------------------------------------------------- running

const into = Buffer.alloc(4096);
const PROGS = { rx: dp.progs.rx, inject: dp.progs.inject, injectNew: dp.progs.injectNew };
type Prog = keyof typeof PROGS;

interface Case {
  label: string;
  data: Buffer;
  prog: Prog;
  ifindex: number;
}

const hex = (b: Buffer) => b.toString('hex');

/** Runs one frame; a thrown run (a load or verifier surprise, EINVAL) is a failure too. */
function runOne(c: Case): number {
  return native.progTestRun(PROGS[c.prog], { data: c.data, ifindex: c.ifindex, rxQueue: 0, into }).retval;
}

/**
 * Runs the cases in batches of `batch`; each run must return a valid verdict and each
 * batch move the verdict counters by exactly what it returned. On a mismatch the batch
 * is replayed frame by frame to name the frame that was not accounted for.
 */
function runAll(t: Test, cases: Iterable<Case>, batch = 4096, expect?: (c: Case, retval: number) => string | null): number {
  let done = 0;
  let pending: Case[] = [];
  const flush = (): boolean => {
    const before = dp.readCounters();
    const got: Tally = emptyTally();
    for (const c of pending) {
      let retval: number;
      try {
        retval = runOne(c);
      } catch (err) {
        t.fail(`${c.label}: BPF_PROG_RUN failed: ${(err as Error).message}\nframe ${hex(c.data)}\nreplay: ${plan.replay('xdp-frames')}`);
        return false;
      }
      const cls = retvalVerdict(retval);
      if (!cls) {
        t.fail(`${c.label}: returned ${retval}, not DROP/PASS/REDIRECT/TX\nframe ${hex(c.data)}\nreplay: ${plan.replay('xdp-frames')}`);
        return false;
      }
      const wrong = expect?.(c, retval);
      if (wrong) {
        t.fail(`${c.label}: ${wrong}\nframe ${hex(c.data)}\nreplay: ${plan.replay('xdp-frames')}`);
        return false;
      }
      got[cls]++;
    }
    const moved = counterDelta(before, dp.readCounters());
    if (!sameTally(got, moved.tally)) {
      const culprit = pending.find((c) => {
        const b = dp.readCounters();
        const cls = retvalVerdict(runOne(c))!;
        const d = counterDelta(b, dp.readCounters());
        return d.tally[cls] !== 1 || d.tally.drop + d.tally.pass + d.tally.redirect + d.tally.tx !== 1;
      });
      t.fail(`verdicts ${JSON.stringify(got)} but counters moved ${JSON.stringify(moved.byName)}` +
        (culprit ? `\nnot accounted for alone: ${culprit.label} frame ${hex(culprit.data)}` : '') + `\nreplay: ${plan.replay('xdp-frames')}`);
      return false;
    }
    done += pending.length;
    pending = [];
    return true;
  };
  for (const c of cases) {
    pending.push(c);
    if (pending.length >= batch && !flush()) return done;
  }
  if (pending.length) flush();
  return done;
}

installSessions(plan.rand(0x5e55));

t.test('sweeps: every TCP flag byte, IHL and length lie, extension chain length, VLAN stack, EtherType', async (t) => {
  useScreens('drop');
  const rand = plan.rand(0xface);
  function* cases(): Generator<Case> {
    let i = 0;
    for (const f of sweeps(AT, rand, plan.large ? 'all' : 300)) {
      yield { label: `${f.family} #${i++}`, data: f.data, prog: 'rx', ifindex: IN };
    }
  }
  const n = runAll(t, cases());
  t.ok(n > 1000, `${n} sweep frames, each with a valid verdict, all accounted for`);
});

t.test('every truncation of valid frames is dropped as malformed', async (t) => {
  useScreens('drop');
  const bases = truncationBases(plan.rand(0x7a0c), AT, plan.count(40, 2000));
  function* cases(): Generator<Case> {
    for (const [b, full] of bases.entries()) {
      for (let len = 14; len < full.length; len++) {
        yield { label: `base ${b} cut to ${len} of ${full.length}`, data: full.subarray(0, len), prog: 'rx', ifindex: IN };
      }
    }
  }
  const before = dp.readCounters().get('DROP_MALFORMED')!.packets;
  const n = runAll(t, cases(), 4096, (_c, retval) => (retval === 1 ? null : `a truncated frame returned ${retval}, not XDP_DROP`));
  const malformed = Number(dp.readCounters().get('DROP_MALFORMED')!.packets - before);
  t.equal(malformed, n, `all ${n} truncations counted as malformed`);
});

t.test('generated frames of every family, through rx and the injection programs', async (t) => {
  const total = plan.count(100_000, 1_000_000);
  const start = dp.readCounters();
  const phases = ['drop', 'alarm', 'off'] as const;
  const perFamily: Record<string, number> = {};
  let ran = 0;
  for (const [p, mode] of phases.entries()) {
    useScreens(mode);
    const ids = plan.cases(total).filter((i) => i % phases.length === p);
    function* cases(): Generator<Case> {
      for (const i of ids) {
        const rand = plan.rand(i);
        const f = fuzzFrame(rand, AT, Math.floor(i / phases.length));
        perFamily[f.family] = (perFamily[f.family] ?? 0) + 1;
        const r = rand();
        const prog: Prog = r < 0.9 ? 'rx' : r < 0.95 ? 'inject' : 'injectNew';
        // Mostly the zone's port; sometimes one without a socket, or one that is not the firewall's.
        const port = rand();
        const ifindex = port < 0.94 ? IN : port < 0.97 ? OUT : UNREGISTERED;
        yield { label: `case ${i} (${f.family}, ${prog}, screens ${mode}, ifindex ${ifindex}) FUZZ_CASE=${i}`, data: f.data, prog, ifindex };
      }
    }
    ran += runAll(t, cases());
  }
  t.comment(`verdict counters moved: ${JSON.stringify(counterDelta(start, dp.readCounters()).byName)}`);
  t.equal(ran, plan.only === null ? total : 1, `${ran} frames, each with a valid verdict, all accounted for`);
  if (plan.only === null) t.same(Object.keys(perFamily).sort(), [...FAMILY_NAMES].sort(), `every family ran: ${JSON.stringify(perFamily)}`);
});

t.test('the route probe answers every frame, in any table, with an interface of this namespace or none', async (t) => {
  const routes = new RouteProbe(dp.progs.route);
  const known = new Set([0, 1, IN, OUT, native.ifNameToIndex('in0p'), native.ifNameToIndex('out0p')]);
  const total = plan.count(20_000, 200_000);
  let n = 0;
  for (const i of plan.cases(total)) {
    const rand = plan.rand(0x40000000 + i);
    const f = fuzzFrame(rand, AT, i);
    const table = pick(rand, [0, 0, 0, 100, 253, 254, 255, int(rand, 0x100000000)]);
    let route;
    try {
      route = routes.lookup(f.data, 0, f.data.length, IN, 0, table);
    } catch (err) {
      return void t.fail(`route case ${i} (${f.family}, table ${table}): ${(err as Error).message}\nframe ${hex(f.data)}\nreplay: ${plan.replay('xdp-frames')}`);
    }
    if (!known.has(route.egress) || (route.local && route.egress !== 0)) {
      return void t.fail(`route case ${i} (${f.family}, table ${table}): ${JSON.stringify(route)}\nframe ${hex(f.data)}\nreplay: ${plan.replay('xdp-frames')}`);
    }
    n++;
  }
  t.equal(n, plan.only === null ? total : 1, `${n} frames routed or refused`);
});

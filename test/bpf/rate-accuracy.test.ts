// Rate screens hold their thresholds whatever the number of CPUs: the same
// flood (twice a screen's threshold, within one window of the program's
// clock) driven through xdpfw_rx by BPF_PROG_RUN on one CPU, then split
// evenly and unevenly between two CPUs (workers pinned with taskset, run at
// the same instant). Every way, the packets the screen let through are the
// threshold within 10%, and every other packet is dropped and counted by
// the screen. Runs in its own network namespace (in0: the ingress port).
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';

reexecInNetns(import.meta.url, [
  'ip link add name in0 type veth peer name in0p',
  'for d in in0 in0p lo; do ip link set $d up; done',
]);

const { spawn } = await import('node:child_process');
const { availableParallelism } = await import('node:os');
const { fileURLToPath } = await import('node:url');
const { default: t } = await import('tap');
const { compileText } = await import('../../lib/config/compile.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const native = await import('../../lib/dataplane/native.js');
const { applyScreens } = await import('../../lib/screens/apply.js');
const { screenStatsReport } = await import('../../lib/screens/stats.js');
const { frame } = await import('../helpers/packets.js');
type FrameSpec = import('../helpers/packets.js').FrameSpec;
type ScreenKey = import('../../lib/screens/screen-ids.js').ScreenKey;
type ChildProcess = import('node:child_process').ChildProcess;

const SYN = 0x02;
const THRESHOLD = 20_000;
const FLOOD = 2 * THRESHOLD; // packets per window, all CPUs together
const CPUS = [0, 1];

t.ok(insideTestNetns(), 'runs in its own namespace');
const stateDir = `/tmp/${insideTestNetns()}`;
const paths = statePaths(stateDir);
const dp = new Dataplane(paths);
const IN = native.ifNameToIndex('in0');
dp.setInterfaceZone(IN, 0, 1);

type Run = { began: bigint; ended: bigint };

/** A process pinned to one CPU that runs xdpfw_rx when told (rate-worker.ts). */
class Worker {
  private readonly child: ChildProcess;
  private lines: string[] = [];
  private partial = '';
  private waiting: ((line: string) => void) | null = null;
  private exited: Error | null = null;

  constructor(readonly cpu: number) {
    const script = fileURLToPath(new URL('./rate-worker.js', import.meta.url));
    this.child = spawn('taskset', ['-c', String(cpu), process.execPath, script, stateDir, 'in0'], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.stdout!.on('data', (d: Buffer) => {
      this.partial += d.toString();
      const parts = this.partial.split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
      this.wake();
    });
    this.child.on('exit', (code) => {
      this.exited = new Error(`worker on CPU ${cpu} exited with ${code}`);
      this.wake();
    });
  }

  private wake(): void {
    if (!this.waiting || (this.lines.length === 0 && !this.exited)) return;
    const w = this.waiting;
    this.waiting = null;
    w(this.lines.shift() ?? '');
  }

  private next(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting = (line) => (line ? resolve(line) : reject(this.exited!));
      this.wake();
    });
  }

  ready(): Promise<string> {
    return this.next();
  }

  async run(start: bigint, data: Buffer, repeat: number): Promise<Run> {
    this.child.stdin!.write(`${JSON.stringify({ start: String(start), hex: data.toString('hex'), repeat })}\n`);
    const o = JSON.parse(await this.next()) as { began: string; ended: string };
    return { began: BigInt(o.began), ended: BigInt(o.ended) };
  }

  close(): void {
    this.child.stdin!.end();
  }
}

const workers = CPUS.map((cpu) => new Worker(cpu));
t.teardown(() => {
  for (const w of workers) w.close();
  dp.close();
  purgePins(paths);
});

interface Case {
  name: string;
  profile: string;
  screen: ScreenKey;
  spec: FrameSpec;
}

const V4 = { src: '10.8.0.2', dst: '10.9.0.2' };
const NEVER = 1_000_000;
const CASES: Case[] = [
  {
    name: 'syn-flood attack-threshold (destination address and port)',
    profile: `tcp { syn-flood { attack-threshold ${THRESHOLD}; alarm-threshold 1; source-threshold ${NEVER}; destination-threshold ${NEVER}; } }`,
    screen: 'syn-flood',
    spec: { ...V4, protocol: 'tcp', tcpFlags: SYN, dport: 8080 },
  },
  {
    name: 'syn-flood source-threshold',
    profile: `tcp { syn-flood { attack-threshold ${NEVER}; alarm-threshold 1; source-threshold ${THRESHOLD}; destination-threshold ${NEVER}; } }`,
    screen: 'syn-flood-src-ip',
    spec: { ...V4, protocol: 'tcp', tcpFlags: SYN, dport: 8081 },
  },
  {
    name: 'syn-flood destination-threshold',
    profile: `tcp { syn-flood { attack-threshold ${NEVER}; alarm-threshold 1; source-threshold ${NEVER}; destination-threshold ${THRESHOLD}; } }`,
    screen: 'syn-flood-dst-ip',
    spec: { ...V4, protocol: 'tcp', tcpFlags: SYN, dport: 8082 },
  },
  { name: 'udp flood', profile: `udp { flood { threshold ${THRESHOLD}; } }`, screen: 'udp-flood', spec: { ...V4, protocol: 'udp', dport: 5353 } },
  { name: 'icmp flood', profile: `icmp { flood { threshold ${THRESHOLD}; } }`, screen: 'icmp-flood', spec: { src: 'fd08::2', dst: 'fd09::2', protocol: 'icmp6' } },
];

/** How the flood is split between CPU 0 and CPU 1. */
const SPLITS: [string, [number, number]][] = [
  ['one CPU', [FLOOD, 0]],
  ['two CPUs, even', [FLOOD / 2, FLOOD / 2]],
  ['two CPUs, a quarter and three quarters', [FLOOD / 4, (3 * FLOOD) / 4]],
];

function compiled(profile: string) {
  const r = compileText(`security {
    zones { security-zone untrust { interfaces { in0; } screen S; } }
    screen { ids-option S { ${profile} } }
  }`, 'rate-accuracy.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

/** Every counter's packets, summed over the CPUs. */
function counters(): Map<string, bigint> {
  return new Map([...dp.readCounters()].map(([name, v]) => [name, v.packets]));
}

t.test('rate screens: the threshold holds within 10% on one CPU and on two', { skip: availableParallelism() < 2 ? 'needs two CPUs' : false }, async (t) => {
  await Promise.all(workers.map((w) => w.ready()));
  for (const c of CASES) {
    const config = compiled(c.profile);
    applyScreens(dp, config);
    const data = frame(c.spec);
    for (const [how, shares] of SPLITS) {
      // A busy machine may preempt a worker past the window's end; such a
      // try proves nothing either way, so it is repeated in a fresh window.
      for (let tries = 1; ; tries++) {
        const before = counters();
        const screenBefore = screenStatsReport(dp, config, null).zones[0]!.screens[c.screen]?.drops ?? 0;
        // Early in a fresh second of CLOCK_MONOTONIC, past a tick of the coarse clock the program reads.
        const now = native.monotonicNs();
        const start = now - (now % 1_000_000_000n) + 1_100_000_000n;
        const runs = await Promise.all(workers.map((w, i) => w.run(start, data, shares[i]!)));
        const inWindow = runs.every((r) => r.began >= start && r.ended - start < 800_000_000n);
        if (!inWindow && tries < 5) {
          t.comment(`${c.name}, ${how}: try ${tries} left the window (ended ${runs.map((r) => r.ended - start)} ns after the start)`);
          continue;
        }
        t.ok(inWindow, `${c.name}, ${how}: every run fell within one window`);
        const after = counters();
        const delta = (name: string) => Number((after.get(name) ?? 0n) - (before.get(name) ?? 0n));
        const all = [...after.keys()].reduce((sum, name) => sum + delta(name), 0);
        const dropped = delta('DROP_SCREEN');
        const passed = FLOOD - dropped;
        t.equal(all, FLOOD, `${c.name}, ${how}: every packet got one verdict`);
        t.ok(Math.abs(passed - THRESHOLD) <= THRESHOLD / 10,
          `${c.name}, ${how}: ${passed} passed, the threshold ${THRESHOLD} within 10%`);
        const screen = screenStatsReport(dp, config, null).zones[0]!.screens[c.screen]!;
        t.equal(screen.drops - screenBefore, dropped, `${c.name}, ${how}: the rest dropped by ${c.screen}, counted by the screen`);
        break;
      }
    }
  }
});

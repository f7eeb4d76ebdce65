// The HA interchange, measured: how fast the active box can write session
// entries into the kernel conntrack table through ctnetlink (batched, the
// ct-inject tool; and `conntrack -I` once per entry, as a script would), and
// how fast conntrackd in FTFW mode ships them over a veth sync link into the
// peer's external cache. Two network namespaces (a: active, b: backup), each
// conntrackd with its own configuration, lock and socket in a temporary
// directory; everything is removed on exit, also on failure.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../lib/util/paths.js';
import { compare, fmt, report } from './lib/report.js';
import { summarize } from './lib/stats.js';

const run = promisify(execFile);
const RUNS = Number(process.env.XDPFW_HA_RUNS ?? 5);
/** Entries per run (the host's nf_conntrack_max bounds it; 262,144 here). */
const ENTRIES = Number(process.env.XDPFW_HA_ENTRIES ?? 100_000);
/** xdpfw's new-flow rate today (sessions bench): the paced run offers entries at this rate. */
const XDPFW_NEW_FLOWS = Number(process.env.XDPFW_HA_PACED ?? 61_000);
/** The new-flow target (0.5 x kernel conntrack): a second paced run. */
const TARGET_NEW_FLOWS = 200_000;
const SPAWNS = Number(process.env.XDPFW_HA_SPAWNS ?? 200);
/** Replication has stalled when the peer's count has not grown for this long. */
const STALL_MS = 3000;

const INJECT = resolve(packageRoot, 'dist', 'test', 'bench', 'tools', 'ct-inject');
const tag = `xha${process.pid % 100000}`;
const NS = { a: `${tag}a`, b: `${tag}b` } as const;
type Side = keyof typeof NS;
const ADDR: Record<Side, string> = { a: '10.254.0.1', b: '10.254.0.2' };
const dir = mkdtempSync(join(tmpdir(), 'xdpfw-ha-sync-'));

interface Inject { sent: number; seconds: number; perSecond: number; errorCount: number; errors: Record<string, number>; cpuSeconds: number }

type Mode = 'FTFW' | 'NOTRACK';

function conntrackdConf(side: Side, mode: Mode): string {
  const peer: Side = side === 'a' ? 'b' : 'a';
  // NOTRACK: no acknowledgements and no resend queue (what is lost stays lost until a resync).
  return `Sync {
	Mode ${mode} {
${mode === 'FTFW' ? '\t\tResendQueueSize 262144\n' : ''}	}
	UDP {
		IPv4_address ${ADDR[side]}
		IPv4_Destination_Address ${ADDR[peer]}
		Port 3780
		Interface sync0
		SndSocketBuffer 24985600
		RcvSocketBuffer 24985600
		Checksum on
	}
}
General {
	HashSize 262144
	HashLimit 1048576
	LogFile ${join(dir, `${side}.log`)}
	Syslog off
	LockFile ${join(dir, `${side}.lock`)}
	UNIX {
		Path ${join(dir, `${side}.ctl`)}
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 134217728
	Filter From Userspace {
		Protocol Accept {
			TCP
		}
	}
}
`;
}

function setup(): void {
  for (const n of Object.values(NS)) execFileSync('ip', ['netns', 'add', n]);
  execFileSync('ip', ['link', 'add', 'sync0', 'netns', NS.a, 'type', 'veth', 'peer', 'name', 'sync0', 'netns', NS.b]);
  for (const s of ['a', 'b'] as const) {
    execFileSync('ip', ['-n', NS[s], 'addr', 'add', `${ADDR[s]}/30`, 'dev', 'sync0']);
    execFileSync('ip', ['-n', NS[s], 'link', 'set', 'sync0', 'up']);
    execFileSync('ip', ['-n', NS[s], 'link', 'set', 'lo', 'up']);
  }
}

const daemons = new Map<Side, ChildProcess>();

function cleanup(): void {
  for (const c of daemons.values()) if (c.exitCode === null) c.kill('SIGKILL');
  daemons.clear();
  for (const n of Object.values(NS)) {
    try { execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' }); } catch { /* not there */ }
  }
  rmSync(dir, { recursive: true, force: true });
}

async function inject(op: 'create' | 'update', count: number, rate = 0): Promise<Inject> {
  const { stdout } = await run('ip', ['netns', 'exec', NS.a, INJECT, op, String(count), '--rate', String(rate)]);
  return JSON.parse(stdout) as Inject;
}

async function flushA(): Promise<void> {
  await run('ip', ['netns', 'exec', NS.a, 'conntrack', '-F']).catch(() => undefined);
}

/** conntrackd's own statistics, by asking it over its UNIX socket. */
async function stats(side: Side, what: string[]): Promise<string> {
  const { stdout } = await run('conntrackd', ['-C', join(dir, `${side}.conf`), '-s', ...what]);
  return stdout;
}

const num = (text: string, re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);

/** The backup's external cache: entries present and updates taken. */
async function external(): Promise<{ active: number; updated: number }> {
  const text = (await stats('b', ['cache'])).split('cache:external')[1] ?? '';
  return { active: num(text, /active objects:\s+(\d+)/), updated: num(text, /update OK\/failed:\s+(\d+)/) };
}

function cpuSeconds(c: ChildProcess): number {
  const f = readFileSync(`/proc/${c.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks of 1/100 s
}

/** What conntrackd counted as not keeping up, summed over every pair started. */
const fallen = { overruns: 0, resyncs: 0, lost: 0, rsqueueFull: 0 };

async function harvest(): Promise<void> {
  if (daemons.size === 0) return;
  const a = await stats('a', ['runtime']);
  const q = await stats('a', ['queue']);
  const b = await stats('b', ['network']);
  // A counter a mode does not have (NOTRACK: no resend queue) adds nothing.
  const add = (n: number): number => (Number.isFinite(n) ? n : 0);
  fallen.overruns += add(num(a, /netlink overrun:\s+(\d+)/));
  fallen.resyncs += add(num(a, /resync with kernel table:\s+(\d+)/));
  fallen.rsqueueFull += add(num(q.split('queue rsqueue')[1] ?? '', /not enough space errors:\s+(\d+)/));
  fallen.lost += add(num(b, /Packets lost:\s+(\d+)/));
}

async function startPair(mode: Mode = 'FTFW'): Promise<void> {
  await harvest();
  for (const c of daemons.values()) {
    const gone = new Promise((r) => c.once('exit', r));
    if (c.exitCode === null) c.kill('SIGTERM');
    await gone;
  }
  daemons.clear();
  for (const s of ['a', 'b'] as const) {
    rmSync(join(dir, `${s}.lock`), { force: true });
    rmSync(join(dir, `${s}.ctl`), { force: true });
  }
  await flushA();
  for (const s of ['a', 'b'] as const) writeFileSync(join(dir, `${s}.conf`), conntrackdConf(s, mode));
  for (const s of ['a', 'b'] as const) {
    daemons.set(s, spawn('ip', ['netns', 'exec', NS[s], 'conntrackd', '-C', join(dir, `${s}.conf`)], { stdio: 'ignore' }));
  }
  for (const s of ['a', 'b'] as const) {
    for (let i = 0; ; i++) {
      try { await stats(s, ['cache']); break; } catch (e) {
        if (i > 200) throw new Error(`conntrackd ${s} did not start: ${String(e)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  }
}

/** Polls the backup until `field` reaches `want` or stalls; the time it got there, relative to t0. */
async function waitPeer(field: 'active' | 'updated', want: number, t0: number): Promise<{ got: number; at: number }> {
  let last = -1, since = Date.now();
  for (;;) {
    const got = (await external())[field];
    const at = performance.now();
    if (got >= want) return { got, at: (at - t0) / 1000 };
    if (got !== last) { last = got; since = Date.now(); }
    if (Date.now() - since > STALL_MS) return { got, at: (at - t0) / 1000 };
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Shipped { inject: Inject; replicated: number; seconds: number; lag: number; cpuA: number; cpuB: number }

/** Writes `count` entries on a (create or refresh) and times until the backup holds them all. */
async function ship(op: 'create' | 'update', count: number, rate: number): Promise<Shipped> {
  const a = daemons.get('a')!, b = daemons.get('b')!;
  const cpu0 = [cpuSeconds(a), cpuSeconds(b)];
  const t0 = performance.now();
  const before = op === 'update' ? (await external()).updated : 0;
  const inj = await inject(op, count, rate);
  const field = op === 'create' ? 'active' : 'updated';
  const done = await waitPeer(field, before + count, t0);
  return {
    inject: inj, replicated: done.got - before, seconds: done.at, lag: Math.max(0, done.at - inj.seconds),
    cpuA: cpuSeconds(a) - cpu0[0]!, cpuB: cpuSeconds(b) - cpu0[1]!,
  };
}

/** Failover's step: b commits its external cache into its kernel table; seconds until the table holds `count`. */
async function commitOnB(count: number): Promise<{ seconds: number; committed: number }> {
  const t0 = performance.now();
  await run('conntrackd', ['-C', join(dir, 'b.conf'), '-c']);
  let committed = 0, last = -1, since = Date.now();
  for (;;) {
    const { stdout } = await run('ip', ['netns', 'exec', NS.b, 'conntrack', '-C']);
    committed = Number(stdout.trim());
    if (committed >= count) break;
    if (committed !== last) { last = committed; since = Date.now(); }
    if (Date.now() - since > STALL_MS) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  return { seconds: (performance.now() - t0) / 1000, committed };
}

async function conntrackI(count: number): Promise<number> {
  await flushA();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    await run('ip', ['netns', 'exec', NS.a, 'conntrack', '-I', '-p', 'tcp', '-s', '10.199.0.1', '-d', '10.255.0.1',
      '--sport', String(1024 + i), '--dport', '80', '--state', 'ESTABLISHED', '-t', '600', '-u', 'ASSURED']);
  }
  return count / ((performance.now() - t0) / 1000);
}

process.on('SIGINT', () => { cleanup(); process.exit(130); });
process.on('SIGTERM', () => { cleanup(); process.exit(143); });
try {
  setup();
  const alone: number[] = [], aloneCpu: number[] = [], perEntry: number[] = [];
  const withD: number[] = [], replicated: number[] = [], lag: number[] = [], cpuA: number[] = [], cpuB: number[] = [];
  const refresh: number[] = [], refreshRepl: number[] = [];
  const pacedLag: number[] = [], targetLag: number[] = [], targetRate: number[] = [];
  const notrack: number[] = [], notrackCpuA: number[] = [];
  const missing: number[] = [], writerCpu: number[] = [], commitRate: number[] = [], commitMissing: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    // Baseline: the kernel table alone, no listener.
    await flushA();
    const base = await inject('create', ENTRIES);
    alone.push(base.perSecond); aloneCpu.push(base.cpuSeconds / base.sent * 1e6);
    perEntry.push(await conntrackI(SPAWNS));

    // The same writes with conntrackd on both boxes, as fast as they go.
    await startPair();
    const full = await ship('create', ENTRIES, 0);
    withD.push(full.inject.perSecond);
    writerCpu.push(full.inject.cpuSeconds / full.inject.sent * 1e6);
    replicated.push(full.replicated / full.seconds);
    lag.push(full.lag);
    cpuA.push(full.cpuA / ENTRIES * 1e6); cpuB.push(full.cpuB / ENTRIES * 1e6);
    missing.push(ENTRIES - full.replicated);
    const c = await commitOnB(ENTRIES);
    commitRate.push(c.committed / c.seconds);
    commitMissing.push(ENTRIES - c.committed);
    await run('ip', ['netns', 'exec', NS.b, 'conntrack', '-F']).catch(() => undefined);
    // Every entry refreshed once (timeouts of live sessions).
    const up = await ship('update', ENTRIES, 0);
    refresh.push(up.inject.perSecond);
    refreshRepl.push(up.replicated / up.seconds);
    missing.push(ENTRIES - up.replicated);

    // The same in NOTRACK mode: the cheaper existing engine, if FTFW cannot keep up.
    await startPair('NOTRACK');
    const nt = await ship('create', ENTRIES, 0);
    notrack.push(nt.replicated / nt.seconds);
    notrackCpuA.push(nt.cpuA / ENTRIES * 1e6);
    missing.push(ENTRIES - nt.replicated);

    // Offered at xdpfw's new-flow rate, then at the target rate: the lag after the last write.
    await startPair();
    pacedLag.push((await ship('create', ENTRIES, XDPFW_NEW_FLOWS)).lag);
    await startPair();
    const t = await ship('create', ENTRIES, TARGET_NEW_FLOWS);
    targetLag.push(t.lag); targetRate.push(t.replicated / t.seconds);
    missing.push(ENTRIES - t.replicated);
  }
  await harvest();
  const ms = (xs: number[]): string => { const s = summarize(xs.map((x) => x * 1000)); return `${fmt(s.median)} ms (${fmt(s.min)}–${fmt(s.max)})`; };
  const us = (xs: number[]): string => { const s = summarize(xs); return `${fmt(s.median)} µs (${fmt(s.min)}–${fmt(s.max)})`; };
  report({
    id: 'ha-sync',
    title: 'HA interchange: ctnetlink writes and conntrackd FTFW replication',
    method: `${RUNS} runs of ${ENTRIES.toLocaleString('en-US')} TCP entries written into the conntrack table of namespace a by ct-inject (batched ctnetlink sends, one process), shipped by conntrackd (FTFW, and NOTRACK in one comparison; UDP over a veth) into the external cache of namespace b, whose count is polled every 10 ms; then b commits it into its kernel table. \`conntrack -I\`: ${SPAWNS} entries, one process each.`,
    comparisons: [
      compare('kernel table writes', 'entries/s', ['ctnetlink batched', alone], ['conntrack -I per entry', perEntry]),
      compare('kernel table writes', 'entries/s', ['conntrackd listening', withD], ['no listener', alone]),
      compare('replicated into the peer', 'entries/s', ['conntrackd FTFW', replicated], ['written on a, no listener', alone]),
      compare('replicated into the peer, NOTRACK vs FTFW', 'entries/s', ['conntrackd NOTRACK', notrack], ['conntrackd FTFW', replicated]),
      compare('refreshes replicated', 'entries/s', ['conntrackd FTFW', refreshRepl], ['refreshes written on a', refresh]),
      compare('committed into b\'s kernel table on failover (conntrackd -c)', 'entries/s', ['commit', commitRate], ['written on a, no listener', alone]),
      compare('replicated at the target new-flow rate', 'entries/s', ['conntrackd FTFW', targetRate], ['offered', targetRate.map(() => TARGET_NEW_FLOWS)], { op: '>=', value: 0.95 }),
    ],
    facts: [
      ['lag after the last write, unpaced', ms(lag)],
      [`lag after the last write, offered at ${XDPFW_NEW_FLOWS.toLocaleString('en-US')}/s (xdpfw new flows today)`, ms(pacedLag)],
      [`lag after the last write, offered at ${TARGET_NEW_FLOWS.toLocaleString('en-US')}/s (new-flow target)`, ms(targetLag)],
      ['CPU per entry: writer (ctnetlink, mostly kernel), no listener', us(aloneCpu)],
      ['CPU per entry: writer, conntrackd listening (events are built in the writer)', us(writerCpu)],
      ['CPU per entry: conntrackd on a (events in, UDP out)', us(cpuA)],
      ['CPU per entry: conntrackd on b (UDP in, external cache)', us(cpuB)],
      ['CPU per entry: conntrackd on a in NOTRACK mode', us(notrackCpuA)],
      ['entries not committed on b (all runs)', String(commitMissing.reduce((s, x) => s + x, 0))],
      ['entries not replicated (all runs)', String(missing.reduce((s, x) => s + x, 0))],
      ['conntrackd a: netlink event overruns / resyncs with the kernel table (all runs)', `${fallen.overruns} / ${fallen.resyncs}`],
      ['conntrackd a: resend queue full (all runs)', String(fallen.rsqueueFull)],
      ['conntrackd b: sync packets lost (all runs)', String(fallen.lost)],
    ],
  });
} finally {
  cleanup();
}

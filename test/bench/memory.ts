// Memory per session: 1,000,000 UDP sessions installed through the real
// slow path (the generator offers 1M distinct flows, pass after pass, until
// every one has a session; flows that already have one are forwarded by the
// fast path). Kernel side: the session map's memlock (fdinfo) per session;
// daemon side: its RSS growth per session. Both maps are preallocated
// hashes, so the kernel figure is fixed by max-sessions, not by use.
// Then a restart with a million sessions more in the pinned map (written
// straight into it): how long the new daemon takes to adopt them, its RSS,
// and the slow path's install rate with that table against an empty one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { statePaths } from '../../lib/daemon/state-paths.js';
import { closeFd, getPinned } from '../../lib/dataplane/native.js';
import { waitGone } from '../helpers/fail-closed.js';
import { FILL_BASE, fillSessions } from '../helpers/session-fill.js';
import { basicConfig } from '../helpers/topology.js';
import type { SessionView } from '../../lib/session/table.js';
import { BenchNet, METERS_OFF } from './lib/net.js';
import { type BenchResult, fmt, report } from './lib/report.js';
import { summarize } from './lib/stats.js';

const SESSIONS = 1_000_000;
/** The slow path slows down as the table grows (see BENCHMARKS.md): stop here whatever the count. */
const DEADLINE_S = 120;
const SAMPLES = 5;
/**
 * Sessions written into the pinned map before the restart: with what the rate probes install,
 * about a million, within the map's 1,048,576 entries (one per session).
 */
const ADOPTED = 900_000;
/** New flows offered to measure the install rate: more than the slow path takes, for a second and a half. */
const RATE_PROBE = { frames: 60_000, rate: 40_000 };

function fdinfo(path: string): Record<string, string> {
  const fd = getPinned(path);
  try {
    const text = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    return Object.fromEntries(text.trim().split('\n').map((l) => l.split(':\t').map((x) => x.trim()) as [string, string]));
  } finally {
    closeFd(fd);
  }
}

/** VmRSS in bytes, sampled a few times a short while apart (the GC moves it). */
async function rss(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    out.push(Number(m![1]) * 1024);
    await new Promise((r) => setTimeout(r, 200));
  }
  return out;
}

const net = await BenchNet.create();
try {
  const config = basicConfig().replace('flow { timeouts { tcp-closing 1; udp 60;', `flow { ${METERS_OFF} max-sessions ${SESSIONS}0; timeouts { tcp-closing 1; udp 3600;`);
  await net.loadXdpfw(config);
  const active = async (): Promise<number> => (await net.topo.xdpfwJson<{ sessions: { active: number } }>(['status'])).sessions.active;
  await net.generate({ frames: 1000, rate: 10_000, flows: 1000, firstFlow: SESSIONS }); // warm the slow path up
  await net.topo.xdpfw(['clear', 'sessions']);
  const pid = net.daemonPid();
  const idle = await rss(pid);

  const started = Date.now();
  const passes: string[] = [];
  let have = 0;
  // Offer what the slow path took in the last pass, and half again.
  let rate = 20_000;
  for (let left = DEADLINE_S; have < SESSIONS && left > 1; left = DEADLINE_S - (Date.now() - started) / 1000) {
    const before = have;
    const frames = Math.min(SESSIONS, Math.round(rate * left));
    const g = await net.generate({ frames, rate, flows: SESSIONS, ports: 50_000, firstFlow: passes.length === 0 ? 0 : have });
    have = await active();
    passes.push(`${fmt(g.seconds)} s at ${fmt(rate)}/s → ${fmt(have)}`);
    rate = Math.max(5_000, Math.round(((have - before) / g.seconds) * 1.5));
  }
  const loadedSeconds = (Date.now() - started) / 1000;
  const full = await rss(pid);
  const map = fdinfo(join(statePaths(net.topo.stateDir).mapPinDir, 'xdpfw_sessions'));
  const memlock = Number(map.memlock);
  const maxEntries = Number(map.max_entries);

  /** Sessions the slow path installs per second while offered more new flows than it takes. */
  const installRate = async (firstFlow: number): Promise<number> => {
    const before = await active();
    // Flow numbers wrap at `flows`: counting up from firstFlow without wrapping, every probe offers
    // flows no earlier probe did (a wrapped probe would offer the sessions the last one installed).
    const g = await net.generate({ ...RATE_PROBE, flows: firstFlow + RATE_PROBE.frames, ports: 50_000, firstFlow });
    return ((await active()) - before) / g.seconds;
  };
  await net.topo.xdpfw(['clear', 'sessions']);
  const emptyRate = await installRate(2 * SESSIONS);
  const [template] = (await net.topo.xdpfwJson<{ sessions: SessionView[] }>(['show', 'sessions', '--limit', '1'])).sessions;
  // The daemon stops (XDP and the pins stay), the table grows behind its back, a new daemon adopts it.
  process.kill(pid, 'SIGTERM');
  await waitGone(pid);
  fillSessions(net.topo.stateDir, template!, FILL_BASE, 10 * SESSIONS, ADOPTED);
  const restartStarted = Date.now();
  await net.loadXdpfw(config);
  const adoptSeconds = (Date.now() - restartStarted) / 1000;
  const adoptedCount = await active();
  const adoptedRss = summarize(await rss(net.daemonPid()));
  // As for the empty table, a daemon that has run a while: a few seconds, and a few new flows first.
  await new Promise((r) => setTimeout(r, 5000));
  await net.generate({ frames: 1000, rate: 10_000, flows: 4 * SESSIONS + 1000, firstFlow: 4 * SESSIONS });
  const fullRate = await installRate(3 * SESSIONS);
  const idleS = summarize(idle);
  const fullS = summarize(full);
  const result: BenchResult = {
    id: 'memory',
    title: `Memory at ${fmt(have)} sessions`,
    method: `UDP sessions installed through the real daemon's slow path (the generator offers the ${fmt(SESSIONS)} distinct flows pass after pass, for at most ${DEADLINE_S} s; passes: ${passes.join('; ')}). RSS sampled ${SAMPLES} times 200 ms apart (median, min–max).`,
    comparisons: [],
    facts: [
      ['sessions installed', `${fmt(have)} in ${fmt(loadedSeconds)} s`],
      ['session map: max_entries (one per session)', fmt(maxEntries)],
      ['session map: memlock (preallocated, whatever the use)', `${fmt(memlock / 2 ** 20)} MiB`],
      ['session map: bytes per session (memlock / max_entries)', fmt(memlock / maxEntries)],
      ['daemon RSS, no sessions', `${fmt(idleS.median / 2 ** 20)} MiB (${fmt(idleS.min / 2 ** 20)}–${fmt(idleS.max / 2 ** 20)})`],
      [`daemon RSS, ${fmt(have)} sessions`, `${fmt(fullS.median / 2 ** 20)} MiB (${fmt(fullS.min / 2 ** 20)}–${fmt(fullS.max / 2 ** 20)})`],
      ['daemon RSS ratio full / empty', fmt(fullS.median / idleS.median)],
      ['daemon bytes per session ((RSS full − RSS empty) / sessions)', fmt((fullS.median - idleS.median) / Math.max(1, have))],
      [`restart with ${fmt(adoptedCount)} sessions: adopted in (xdpfw load, start to ready)`, `${fmt(adoptSeconds)} s`],
      [`restart with ${fmt(adoptedCount)} sessions: daemon RSS`, `${fmt(adoptedRss.median / 2 ** 20)} MiB (${fmt(adoptedRss.min / 2 ** 20)}–${fmt(adoptedRss.max / 2 ** 20)})`],
      ['restart: daemon bytes per adopted session ((RSS − RSS empty) / sessions)', fmt((adoptedRss.median - idleS.median) / Math.max(1, adoptedCount))],
      ['install rate, empty table (sessions/s)', fmt(emptyRate)],
      [`install rate, ${fmt(adoptedCount)} sessions (sessions/s)`, fmt(fullRate)],
      ['install rate ratio full / empty', fmt(fullRate / emptyRate)],
    ],
  };
  report(result);
} finally {
  await net.destroy();
}

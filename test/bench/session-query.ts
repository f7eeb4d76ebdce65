// Finding and clearing sessions at 1M: the table is filled straight into
// the pinned map (copies of one real UDP session's entries) and adopted by a
// restarted daemon; then, asked on the control socket as the CLI asks, the
// time to sum up, to list with a filter matching one session, 10 % or all of
// them (streamed, read as fast as it comes), to get a first and a deep page,
// and to clear 10 % and the rest with a filter; the daemon's RSS before and
// at the end of the full listing (the listing is streamed: memory bounded by
// the chunk); and the round trip of new flows (each datagram a new session
// through the slow path) at rest and while the full listing runs.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { packageRoot } from '../../lib/util/paths.js';
import { request, requestStream } from '../../lib/control/client.js';
import type { StatusReport } from '../../lib/daemon/reports.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import type { FlowFilterSpec } from '../../lib/session/filter-spec.js';
import type { PageEnd, SessionSummary } from '../../lib/session/query.js';
import type { SessionView } from '../../lib/session/table.js';
import { waitGone } from '../helpers/fail-closed.js';
import { FILL_BASE, fillSessions } from '../helpers/session-fill.js';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';
import { fmt, report } from './lib/report.js';
import { summarize } from './lib/stats.js';

const SESSIONS = Number(process.env.XDPFW_BENCH_SESSIONS ?? 1_000_000);
const CONFIG = basicConfig().replace('flow { timeouts { tcp-closing 1; udp 60;', `flow { max-sessions ${SESSIONS + 100_000}; timeouts { tcp-closing 1; udp 3600;`);
/** New flows per round-trip sample, one datagram each from its own port. */
const RTT_FLOWS = 200;

const RTT_SCRIPT = `
import json, socket, sys, time
host, port, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rtts, lost = [], 0
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", first + i))
    s.settimeout(5)
    t0 = time.monotonic()
    s.sendto(b"x" * 32, (host, port))
    try:
        s.recv(64)
        rtts.append((time.monotonic() - t0) * 1000)
    except socket.timeout:
        lost += 1
    s.close()
    time.sleep(0.01)
print(json.dumps({"rtts": rtts, "lost": lost}))
`;

const topo = await Topology.create();
try {
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  const load = async (): Promise<number> => {
    const t0 = Date.now();
    const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG)], 900_000);
    if (r.code !== 0) throw new Error(r.stderr);
    return (Date.now() - t0) / 1000;
  };
  await load();
  const socket = statePaths(topo.stateDir).socket;
  const ping = await topo.traffic<{ received: number }>('client', ['udp-ping', '--host', ADDR.server4, '--port', '5002', '--sport', '40000', '--count', '1']);
  if (ping.received !== 1) throw new Error('the template flow did not get through');
  const listing = async (filter: FlowFilterSpec, page: { limit?: number; cursor?: number } = {}) => {
    const t0 = process.hrtime.bigint();
    let shown = 0;
    let bytes = 0;
    const end = await requestStream<PageEnd, SessionView[]>(socket, { command: 'show-sessions', filter, ...page }, (chunk) => {
      shown += chunk.length;
      bytes += JSON.stringify(chunk).length;
    }, 900_000);
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, shown, bytes, end };
  };
  const found: SessionView[] = [];
  await requestStream<PageEnd, SessionView[]>(socket, { command: 'show-sessions', filter: { sourcePort: '40000' } }, (c) => void found.push(...c));
  const template = found[0];
  if (!template) throw new Error('no template session');

  const status = await topo.xdpfwJson<StatusReport>(['status']);
  process.kill(status.pid, 'SIGTERM');
  await waitGone(status.pid);
  const tFill = Date.now();
  fillSessions(topo.stateDir, template, FILL_BASE, 1_000_000, SESSIONS);
  const fillSeconds = (Date.now() - tFill) / 1000;
  // `load` gives a daemon a minute to be ready; adopting a million sessions takes longer: run it as systemd would.
  const tAdopt = Date.now();
  const daemon = spawn('nsenter', [`--net=/run/netns/${topo.ns.fw}`, process.execPath, resolve(packageRoot, 'bin', 'xdpfw'), 'run',
    '-c', topo.writeConfig(CONFIG), '--state-dir', topo.stateDir], { stdio: 'ignore', detached: true });
  daemon.unref();
  while ((await topo.xdpfw(['status'])).code !== 0) {
    if (daemon.exitCode !== null) throw new Error(`the daemon exited (${daemon.exitCode}) while adopting`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const adoptSeconds = (Date.now() - tAdopt) / 1000;
  const pid = (await topo.xdpfwJson<StatusReport>(['status'])).pid;
  const rss = (): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  const rtt = async (first: number) => JSON.parse(await topo.sh('client', `python3 -c '${RTT_SCRIPT}' ${ADDR.server4} 5002 ${first} ${RTT_FLOWS}`)) as { rtts: number[]; lost: number };

  const time = async <T>(fn: () => Promise<T>): Promise<[number, T]> => {
    const t0 = process.hrtime.bigint();
    const v = await fn();
    return [Number(process.hrtime.bigint() - t0) / 1e9, v];
  };
  const [summarySeconds, summary] = await time(() => request<SessionSummary>(socket, { command: 'show-sessions', view: 'summary' }, 900_000));
  const one = await listing({ sourcePrefix: ADDR.client4, sourcePort: '40000' });
  const tenth = await listing({ sourcePort: '10000-14999' });
  const first = await listing({}, { limit: 100 });
  const deep = await listing({}, { limit: 100, cursor: 1_000_000 + Math.floor(SESSIONS * 0.9) });
  const idle = await rtt(20_000);
  const rssBefore = rss();
  let rssMax = rssBefore;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, rss())), 200);
  const fullRun = listing({});
  const during = await rtt(21_000);
  const full = await fullRun;
  clearInterval(sampler);
  const [clearTenthSeconds, clearedTenth] = await time(() => request<{ cleared: number }>(socket, { command: 'clear-sessions', filter: { sourcePort: '10000-14999' } }, 900_000));
  const [clearRestSeconds, clearedRest] = await time(() => request<{ cleared: number }>(socket, { command: 'clear-sessions', filter: { sourcePrefix: '10.1.128.0/17' } }, 900_000));
  const ms = (xs: number[]): string => {
    const s = summarize(xs.length ? xs : [NaN]);
    return `p50 ${fmt(s.median)} ms, max ${fmt(s.max)} ms`;
  };
  const lst = (l: { seconds: number; shown: number; bytes: number }): string => `${fmt(l.seconds * 1000)} ms, ${fmt(l.shown)} sessions, ${fmt(l.bytes / 2 ** 20)} MiB of JSON`;
  report({
    id: 'session-query',
    title: `Finding and clearing sessions at ${fmt(summary.total)} sessions`,
    method: `${fmt(SESSIONS)} UDP sessions written into the pinned map (copies of one real session) and adopted by a restarted daemon; every query sent on the control socket as the CLI sends it, its streamed answer read as fast as it comes (times include the transfer, not the CLI's start-up). New-flow round trips: ${RTT_FLOWS} datagrams each from a new port (a new session through the slow path each), 10 ms apart.`,
    comparisons: [],
    facts: [
      ['fill the map (batch updates from the bench)', `${fmt(fillSeconds)} s`],
      ['daemon start adopting them (xdpfw run until it answers status)', `${fmt(adoptSeconds)} s`],
      ['show sessions --summary', `${fmt(summarySeconds * 1000)} ms (${fmt(summary.total)} sessions)`],
      ['show sessions, filter matching one session', lst(one)],
      ['show sessions, filter matching 10 % (--source-port 10000-14999)', lst(tenth)],
      ['show sessions --limit 100 (first page)', lst(first)],
      ['show sessions --limit 100 --cursor (page at 90 %)', lst(deep)],
      ['show sessions, everything', lst(full)],
      ['daemon RSS before the full listing / highest during it', `${fmt(rssBefore / 2 ** 20)} MiB / ${fmt(rssMax / 2 ** 20)} MiB`],
      ['new-flow round trip at rest', `${ms(idle.rtts)} (${idle.lost} lost)`],
      ['new-flow round trip during the full listing', `${ms(during.rtts)} (${during.lost} lost)`],
      ['clear sessions, filter matching 10 %', `${fmt(clearTenthSeconds * 1000)} ms (${fmt(clearedTenth.cleared)} cleared)`],
      ['clear sessions, filter matching the rest', `${fmt(clearRestSeconds * 1000)} ms (${fmt(clearedRest.cleared)} cleared)`],
    ],
  });
} finally {
  await topo.destroy();
}

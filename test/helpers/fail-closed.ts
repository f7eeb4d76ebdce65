// What every way of killing the daemon must leave behind, checked from the
// outside: XDP still attached, an established TCP stream and UDP flow still
// forwarding, a denied connection still failing, a new permitted flow dropped
// and counted, and the next daemon adopting every session with its id.
import type { Test } from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import type { CountersReport, StatusReport } from '../../lib/daemon/reports.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import type { SessionView } from '../../lib/session/table.js';
import { ADDR, type Entry, type Topology } from './topology.js';

interface SendResult { ok: boolean; received?: number; error?: string }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the traffic endpoints killDaemonAndCheck uses. */
export async function startEndpoints(topo: Topology): Promise<void> {
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  await topo.startTraffic('client', ['tcp-sink', '--port', '5003']);
}

export async function xdpfwJson<T>(topo: Topology, args: string[], entry: Entry): Promise<T> {
  const r = await topo.xdpfw([...args, '--json'], undefined, entry);
  if (r.code !== 0) throw new Error(`xdpfw ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export function udpPing(topo: Topology, sport: number, count: number): Promise<{ received: number }> {
  return topo.traffic<{ received: number }>('client', [
    'udp-ping', '--host', ADDR.server4, '--port', '5002', '--sport', String(sport), '--count', String(count), '--timeout', '1000',
  ]);
}

/** untrust -> trust, which default-policy deny-all forbids. */
export function deniedConnect(topo: Topology): Promise<SendResult> {
  return topo.traffic<SendResult>('server', ['tcp-send', '--host', ADDR.client4, '--port', '5003', '--bytes', '100', '--timeout', '3000']);
}

export async function xdpAttached(topo: Topology, dev: string): Promise<boolean> {
  return /prog\/xdp id \d+/.test(await topo.sh('fw', `ip -d link show dev ${dev}`));
}

/** Pinned on the bpffs the test sees, the host's. */
export function linkPinnedOnHost(topo: Topology, dev: string): boolean {
  return existsSync(`${statePaths(topo.stateDir).linkPinDir}/${dev}`);
}

/** Waits until the process is gone (or a zombie nobody reaped yet). */
export async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return;
    }
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return;
    await sleep(100);
  }
  throw new Error(`pid ${pid} still runs`);
}

export interface KillCase {
  /** How the daemon that is killed was started, and how the next one is. */
  start: Entry;
  restart: Entry;
  signal: NodeJS.Signals;
  /** Distinct UDP source ports per case. */
  portBase: number;
}

/**
 * Chunks of the TCP stream, 100 ms apart: far more than the checks take even on a
 * loaded machine (a stream that ended before the restart would leave no session
 * to adopt); it is ended with SIGUSR1 once everything is observed.
 */
const TRICKLE_CHUNKS = 3000;

/**
 * Loads the daemon (`start`), opens a TCP stream and a UDP flow, kills the
 * daemon with `signal`, checks that nothing unfiltered passes while it is
 * down, loads the next one (`restart`) and checks that it adopts both flows.
 * Leaves the new daemon running.
 */
export async function killDaemonAndCheck(t: Test, topo: Topology, conf: string, c: KillCase): Promise<void> {
  await topo.xdpfw(['unload'], undefined, c.start); // a clean start; nothing may be loaded
  const load = await topo.xdpfw(['load', '-c', conf], undefined, c.start);
  t.equal(load.code, 0, `daemon loaded (${load.stderr.trim()})`);
  t.ok(linkPinnedOnHost(topo, 'trust0') && linkPinnedOnHost(topo, 'untrust0'), 'its links are pinned on the host\'s bpffs');
  const pid = (await xdpfwJson<StatusReport>(topo, ['status'], c.start)).pid;

  const trickle = await topo.startTraffic('client', [
    // Idle timeout well past the time the daemon is down.
    'tcp-trickle', '--host', ADDR.server4, '--port', '5001', '--count', String(TRICKLE_CHUNKS), '--interval', '100', '--timeout', '30000',
  ], 400_000);
  const tcpPort = (JSON.parse(trickle.lines[0]!) as { localPort: number }).localPort;
  const udpPort = c.portBase;
  t.equal((await udpPing(topo, udpPort, 2)).received, 2, 'UDP flow established');
  const before = await xdpfwJson<SessionView[]>(topo, ['show', 'sessions'], c.start);
  const countersBefore = await xdpfwJson<CountersReport>(topo, ['show', 'counters'], c.start);
  const tcpBefore = before.find((s) => s.protocol === 'tcp' && s.sourcePort === tcpPort);
  const udpBefore = before.find((s) => s.protocol === 'udp' && s.sourcePort === udpPort);
  t.ok(tcpBefore && udpBefore, 'both sessions are listed before the kill');

  process.kill(pid, c.signal);
  await waitGone(pid);

  t.equal((await udpPing(topo, udpPort, 3)).received, 3, 'with the daemon gone, the established UDP flow still forwards');
  const denied = await deniedConnect(topo);
  t.notOk(denied.ok, `a denied untrust->trust connection still fails (${denied.error ?? 'it opened'})`);
  t.equal((await udpPing(topo, udpPort + 1, 3)).received, 0, 'a new permitted flow finds no slow path and is dropped');
  for (const dev of ['trust0', 'untrust0']) t.ok(await xdpAttached(topo, dev), `XDP still attached to ${dev}`);
  t.ok(linkPinnedOnHost(topo, 'trust0'), 'the pins are still there');
  const down = await topo.xdpfw(['status'], undefined, c.restart);
  t.not(down.code, 0, 'status: no daemon runs');
  t.match(down.stderr, /XDP stays attached to (trust0, untrust0|untrust0, trust0) .*new flows are dropped/, 'and the dataplane stays attached');

  const again = await topo.xdpfw(['load', '-c', conf], undefined, c.restart);
  t.equal(again.code, 0, `daemon started again (${again.stderr.trim()})`);
  const status = await xdpfwJson<StatusReport>(topo, ['status'], c.restart);
  t.not(status.pid, pid, 'a new daemon runs');
  const after = await xdpfwJson<SessionView[]>(topo, ['show', 'sessions'], c.restart);
  const tcpAfter = after.find((s) => s.protocol === 'tcp' && s.sourcePort === tcpPort);
  const udpAfter = after.find((s) => s.protocol === 'udp' && s.sourcePort === udpPort);
  t.ok(tcpAfter && udpAfter, 'the new daemon lists both sessions');
  t.equal(tcpAfter?.sessionId, tcpBefore?.sessionId, 'the TCP stream\'s session is adopted with its id');
  t.equal(udpAfter?.sessionId, udpBefore?.sessionId, 'the UDP session is adopted with its id');
  t.equal(udpAfter?.packetsFromClient, 5, 'its packets while the daemon was down were counted by XDP');
  t.ok((tcpAfter?.packetsFromClient ?? 0) > (tcpBefore?.packetsFromClient ?? Infinity), 'the TCP stream went on through XDP');
  t.notOk(after.some((s) => s.sourcePort === udpPort + 1), 'the refused flow has no session');
  const counters = await xdpfwJson<CountersReport>(topo, ['show', 'counters'], c.restart);
  const refused = (counters.drops.no_slow_path_socket ?? 0) - (countersBefore.drops.no_slow_path_socket ?? 0);
  t.ok(refused >= 4, `the refused new flow and the denied SYNs were counted as no_slow_path_socket (${refused})`);
  t.equal((await udpPing(topo, udpPort + 2, 2)).received, 2, 'new flows work again');

  // Everything is observed: end the stream now (SIGUSR1, as if its count were
  // reached), and check that every byte it sent arrived.
  trickle.child.kill('SIGUSR1');
  const end = JSON.parse(await trickle.exited) as SendResult;
  const stopped = trickle.lines.map((l) => JSON.parse(l) as { stopped?: boolean; sent?: number }).find((l) => l.stopped);
  const sent = stopped?.sent ?? TRICKLE_CHUNKS * 1000;
  t.same(end, { ok: true, received: sent }, 'the TCP stream ran through the kill without loss');
}

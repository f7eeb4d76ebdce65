// Shared by the firewall filter end-to-end tests (test/e2e/filters-*.test.ts):
// the configuration around the filters under test, and what an operator reads
// back: FILTER_LOG events from `show log --json`, counters from
// `show firewall --json`, drops from `show counters --json`.
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { FirewallReport } from '../../lib/filter/report.js';
import type { Topology } from './topology.js';

/** One FILTER_LOG event as `xdpfw show log --json` prints it. */
export interface FilterLogJson {
  kind: 'filter-log';
  tag: string;
  family: string;
  protocol: number;
  protocolName: string;
  sourceAddress: string;
  sourcePort: number;
  destinationAddress: string;
  destinationPort: number;
  icmpType: number;
  ingressIfindex: number;
  ingressInterface: string | null;
  sourceZoneId: number;
  sourceZone: string | null;
  egressIfindex: number;
  egressInterface: string | null;
  destinationZoneId: number;
  destinationZone: string | null;
  filterId: number;
  filter: string | null;
  termId: number;
  term: string | null;
  filterSource: string;
  filterInterface: string | null;
  action: 'accept' | 'discard' | 'reject';
  sessionId: number;
}

/** Filter ids as events carry them: (family code << 16) | ordinal among the family's filters. */
export const filterId = (family: 'inet' | 'inet6', ordinal: number): number => ((family === 'inet' ? 1 : 2) << 16) | ordinal;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Zones trust (trust0) and untrust (untrust0), trust to untrust permitted, a filter-log rate
 * limit far above what the tests send (a rate-limited event would look like a missing one),
 * short TCP closing, long UDP/ICMP timeouts (a flow stays one session across a test), and
 * `extra` (firewall, interfaces, routing instances...) appended; `opts` adds zones, policies,
 * host-inbound services and syslog hosts.
 */
export function filtersConfig(extra: string, opts: { trustServices?: string; untrustServices?: string; zones?: string; policies?: string; syslog?: string } = {}): string {
  return `
system {
    host-name fw1;
    syslog { ${opts.syslog ?? ''} rate-limit 100000; }
}
security {
    zones {
        security-zone trust { interfaces { trust0; } host-inbound-traffic { system-services { ${opts.trustServices ?? 'ping;'} } } }
        security-zone untrust { interfaces { untrust0; } host-inbound-traffic { system-services { ${opts.untrustServices ?? 'ping;'} } } }
        ${opts.zones ?? ''}
    }
    policies {
        from-zone trust to-zone untrust {
            policy allow-out {
                match { source-address any; destination-address any; application any; }
                then { permit; }
            }
        }
        ${opts.policies ?? ''}
        default-policy { deny-all; }
    }
    flow { timeouts { tcp-closing 1; udp 120; icmp 120; } }
}
${extra}`;
}

/** Loads (first call) or reloads the daemon with `text`; throws with the CLI's message if refused. */
export async function apply(topo: Topology, text: string, loaded: { done: boolean }): Promise<void> {
  const path = topo.writeConfig(text);
  const r = await topo.xdpfw(loaded.done ? ['reload', '-c', path] : ['load', '-c', path]);
  if (r.code !== 0) throw new Error(`xdpfw ${loaded.done ? 'reload' : 'load'}: ${r.stderr}`);
  loaded.done = true;
}

/** FILTER_LOG events of the recent log that `match` selects, oldest first. */
export async function filterLogs(topo: Topology, match: (e: FilterLogJson) => boolean): Promise<FilterLogJson[]> {
  const all = await topo.xdpfwJson<FilterLogJson[]>(['show', 'log', '--kind', 'filter-log']);
  return all.filter((e) => e.kind === 'filter-log' && match(e));
}

/**
 * Waits until `match` selects at least `n` events, then `settleMs` more so that surplus
 * events (which would be a failure) have time to show; returns them all.
 */
export async function waitForLogs(topo: Topology, match: (e: FilterLogJson) => boolean, n: number, settleMs = 500, limitMs = 8000): Promise<FilterLogJson[]> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const got = await filterLogs(topo, match);
    if (got.length >= n || Date.now() > deadline) break;
    await sleep(100);
  }
  await sleep(settleMs);
  return filterLogs(topo, match);
}

/** A `count` counter of `show firewall --json` (slow path plus XDP), or undefined. */
export async function firewallCounter(topo: Topology, filter: string, counter: string): Promise<{ packets: number; bytes: number } | undefined> {
  const r = await topo.xdpfwJson<FirewallReport>(['show', 'firewall']);
  const c = r.filters.find((f) => f.name === filter)?.counters.find((x) => x.name === counter);
  return c && { packets: c.packets, bytes: c.bytes };
}

/** A slow-path drop counter of `show counters --json`. */
export async function slowDrops(topo: Topology, reason: string): Promise<number> {
  const c = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  return (c.drops as Record<string, number | undefined>)[reason] ?? 0;
}

export interface UdpResult { sent: number; received: number; error?: string; ms?: number }
export interface TcpResult { ok: boolean; error?: string; received?: number; localPort?: number; ms?: number }

/** `count` UDP datagrams from `sport` to host:port, 50 ms apart, echoes counted (udp-echo must run there). */
export function udp(topo: Topology, from: 'client' | 'server', host: string, port: number, sport: number, count: number, opts: { connect?: boolean; timeoutMs?: number; intervalMs?: number } = {}): Promise<UdpResult> {
  const args = ['udp-ping', '--host', host, '--port', String(port), '--sport', String(sport), '--count', String(count),
    '--interval', String(opts.intervalMs ?? 50), '--timeout', String(opts.timeoutMs ?? 1000)];
  if (opts.connect) args.push('--connect');
  return topo.traffic<UdpResult>(from, args);
}

/** One TCP connection sending `bytes` (a tcp-sink must run there); ok with the byte count the sink saw. */
export function tcp(topo: Topology, from: 'client' | 'server', host: string, port: number, bytes = 1000, timeoutMs = 2000): Promise<TcpResult> {
  return topo.traffic<TcpResult>(from, ['tcp-send', '--host', host, '--port', String(port), '--bytes', String(bytes), '--timeout', String(timeoutMs)]);
}

export interface PingResult { code: number; stdout: string; ms: number; received: number }

/** `count` echo requests 0.2 s apart; `received` from ping's summary. */
export async function ping(topo: Topology, from: 'client' | 'server' | 'fw', host: string, count: number, waitS = 2): Promise<PingResult> {
  const started = Date.now();
  const r = await topo.exec(from, 'ping', [host.includes(':') ? '-6' : '-4', '-n', '-c', String(count), '-i', '0.2', '-W', String(waitS), host]);
  const received = Number(/(\d+) (?:packets )?received/.exec(r.stdout)?.[1] ?? -1);
  return { code: r.code, stdout: r.stdout, ms: Date.now() - started, received };
}

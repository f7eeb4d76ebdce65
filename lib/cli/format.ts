// Human-readable forms of what the daemon reports; --json prints the objects as they are.
import { formatCommitStatus } from '../commit/format.js';
import { formatHa } from '../ha/roles.js';
import type { MatchResult, PoliciesReport } from '../daemon/policies-report.js';
import type { CountersReport, ReloadReport, StatusReport } from '../daemon/reports.js';
import type { LossesReport } from '../daemon/losses.js';
import { formatWarning } from '../dataplane/link-checks.js';
import { wakeSummary } from '../slowpath/batch-stats.js';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatStatus(s: StatusReport): string {
  const ifaces = table(
    ['Interface', 'Ifindex', 'XDP mode', 'Zone', 'Queues', 'AF_XDP mode', 'Rx dropped'],
    s.interfaces.map((i) => [
      i.name, String(i.ifindex), i.xdpMode, i.zone ?? '-', String(i.queues.length),
      [...new Set(i.queues.map((q) => q.mode))].join(',') || '-',
      String(i.queues.reduce((n, q) => n + q.rxDropped, 0)),
    ]),
  );
  return [
    `xdpfw running, pid ${s.pid}, up ${s.uptimeSeconds} s`,
    `Config: ${s.config}`,
    `State directory: ${s.stateDir}`,
    `Sessions: ${s.sessions.active} active (max ${s.sessions.max})`,
    ...formatCommitStatus(s.commit),
    ...(s.ha ? [formatHa(s.ha)] : []),
    '',
    ifaces,
    ...(s.warnings.length ? ['', `Warnings (${s.warnings.length}):`, ...s.warnings.map((w) => `  ${w.interface}: ${formatWarning(w).replace(/\n/g, '\n  ')}`)] : []),
    ...(s.configWarnings.length ? ['', `Configuration not applied (${s.configWarnings.length}):`, ...s.configWarnings.map((w) => `  ${w}`)] : []),
  ].join('\n');
}

export function formatCounters(c: CountersReport): string {
  const lines = [
    `Fast path packets:  ${c.fastPathPackets} (${c.fastPathBytes} bytes)`,
    `Slow path packets:  ${c.slowPathPackets} (${c.slowPathInjected} re-injected)`,
    `Slow path batches:  ${c.slowPathBatches.batches} (largest ${c.slowPathBatches.largest}; by size ` +
      `${Object.entries(c.slowPathBatches.bySize).filter(([, n]) => n > 0).map(([s, n]) => `${s}: ${n}`).join(', ') || '-'}; ` +
      `${c.slowPathBatches.routeRuns} route runs, ${c.slowPathBatches.installWrites} session writes)`,
    `Slow path wake-up:  ${wakeSummary(c.slowPathBatches)}`,
    `Sessions created:   ${c.sessions.created}, refused (table full): ${c.sessions.refusedFull}`,
    `Sessions closed:    ${Object.entries(c.sessions.closed).map(([r, n]) => `${r} ${n}`).join(', ') || '0'}`,
    `Reject replies:     ${c.rejects.sent} sent (${c.rejects.partialQuote} quoting part of the header chain), ${c.rejects.rateLimited} rate-limited, ` +
      `${c.rejects.notDue} not due, ${c.rejects.tooLarge} not sent: too large, ${c.rejects.txFull} tx ring full`,
    `Too-big replies:    ${c.tooBig.sent} sent, ${c.tooBig.rateLimited} rate-limited, ${c.tooBig.notDue} not due, ` +
      `${c.tooBig.txFull} tx ring full`,
    `Slow path errors:   ${Object.entries(c.slowPathErrors).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(', ') || '0'}`,
    `Control requests rejected: ${c.controlRequestsRejected}`,
    `DNS name lookups:   ${c.dnsNames.answered} answered, ${c.dnsNames.failures} failed (last good addresses kept), ${c.dnsNames.changes} changed addresses`,
    ...(c.routeWatch ? [`Route watch:        ${c.routeWatch.leased ? 'kept egresses in use' : 'every packet looked up'}, generation ${c.routeWatch.generation}, ` +
      `${c.routeWatch.bumps} route changes applied, ${c.routeWatch.listenerExits} listener exits`] : []),
    ...queueWorkerLines(c.queueWorkers ?? []),
    '',
    table(['Event kind', 'Generated', 'Sent', 'Rate-limited', 'Queue full', 'Sink failed'], Object.entries(c.events).map(([k, v]) =>
      [k, String(v.generated), String(v.sent), String(v.rateLimited), String(v.queueFull), String(v.sinkFailed)])),
    '',
    table(['Drop reason', 'Packets'], Object.entries(c.drops).map(([r, n]) => [r, String(n)])),
    '',
    table(['XDP counter', 'Packets', 'Bytes'], Object.entries(c.xdp).map(([n, v]) => [n, String(v.packets), String(v.bytes)])),
    '',
    formatLosses(c.losses),
  ];
  return lines.join('\n');
}

function formatLosses(l: LossesReport): string {
  const e = l.xdpEvents;
  const suppressed = Object.entries(e.suppressed).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || '0';
  return [
    `XDP events lost:       ${e.ringFull} ring full, ${e.undecodable} undecodable${e.ringError ? ` (ring error: ${e.ringError})` : ''}`,
    `XDP events suppressed: ${suppressed} (over the per-second budget)`,
    '',
    table(['AF_XDP queue', 'Rx dropped', 'Rx ring full', 'Fill ring empty', 'Rx invalid', 'Tx ring full'], l.afxdp.map((q) =>
      [`${q.interface}/${q.queue}`, String(q.rxDropped), String(q.rxRingFull), String(q.fillRingEmpty), String(q.rxInvalid), String(q.txRingFull)])),
  ].join('\n');
}

export function formatPolicies(r: PoliciesReport): string {
  const rows = r.policies.map((p) => [
    `${p.fromZone}->${p.toZone}`, p.name, String(p.id), p.sourceAddresses.join(','), p.destinationAddresses.join(','),
    p.applications.join(','), p.action, String(p.hits),
  ]);
  return `${table(['Zones', 'Policy', 'Id', 'Source', 'Destination', 'Application', 'Action', 'Hits'], rows)}\n` +
    `Default policy: ${r.defaultPolicy} (${r.defaultPolicyHits} hits)`;
}

export function formatMatch(m: MatchResult): string {
  return `${m.fromZone} -> ${m.toZone}: policy ${m.policy} (id ${m.policyId}), action ${m.action}${m.application ? `, application ${m.application}` : ''}`;
}

export function formatReload(r: ReloadReport): string {
  const ifaces = [...r.interfaces.added.map((n) => `+${n}`), ...r.interfaces.removed.map((n) => `-${n}`)].join(' ');
  return `reloaded ${r.config}${ifaces ? ` (interfaces ${ifaces})` : ''}; sessions kept ${r.sessions.kept} ` +
    `(relabelled ${r.sessions.relabelled}, filter verdicts changed ${r.sessions.refiltered}), closed ${r.sessions.closed} (policy change)` +
    (r.metrics?.error ? `\nwarning: ${r.metrics.error}; metrics stay on ${r.metrics.listening ?? 'nothing (disabled)'}` : '');
}

/** The slow path's queue workers (none: its sockets are served by the main thread). */
function queueWorkerLines(workers: NonNullable<CountersReport['queueWorkers']>): string[] {
  if (workers.length === 0) return ['Queue workers:      none (every AF_XDP socket served by the main thread)'];
  return ['', table(['Queue worker', 'Thread', 'Running', 'Rx frames', 'Rx batches', 'Backlog drops', 'Tx frames', 'Tx ring full', 'Tx lost', 'Deaths', 'Restarts'],
    workers.map((w) => [String(w.queue), String(w.threadId), w.running ? 'yes' : 'no', String(w.rxFrames), String(w.rxBatches), String(w.backlogDrops),
      String(w.txFrames), String(w.txRingFull), String(w.txLost), String(w.deaths), String(w.restarts)]))];
}

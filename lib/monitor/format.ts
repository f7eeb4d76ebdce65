// The one-line human form of `xdpfw monitor packet-drop`.
import type { DropEntry } from './drop-entry.js';
import type { NotShown } from './drop-monitor.js';

function endpoint(address: string | null, port: number | null, family: DropEntry['family']): string {
  if (address === null) return '?';
  if (port === null) return address;
  return family === 'inet6' ? `[${address}]:${port}` : `${address}:${port}`;
}

export function formatDropLine(d: DropEntry): string {
  const what = d.family === null
    ? `ethertype 0x${(d.ethertype ?? 0).toString(16).padStart(4, '0')}`
    : `${d.protocol ?? '?'} ${endpoint(d.source, d.sourcePort, d.family)} -> ${endpoint(d.destination, d.destinationPort, d.family)}` +
      (d.icmpType !== null ? ` type ${d.icmpType} code ${d.icmpCode ?? 0}` : '');
  const rule = d.rule === null ? '' : ` (${d.rule})`;
  return `${d.time} ${d.interface ?? '?'} zone ${d.zone ?? '-'} ${what} ${d.length}B dropped by ${d.path} ${d.stage}: ${d.reason}${rule}`;
}

export function formatNotShown(n: NotShown): string {
  return `xdpfw: ${n.notShown} drops not shown in the last second (${n.overBudget} over the budget, ${n.ringFull} lost to a full ring)`;
}

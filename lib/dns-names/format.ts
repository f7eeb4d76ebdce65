// `xdpfw show address-book`: the dns-name addresses as resolved now.
import type { DnsReport } from './addresses.js';

export function formatDnsReport(r: DnsReport): string {
  const lines = [`Name servers: ${r.nameServers.join(', ') || '(none)'}`];
  if (r.names.length === 0) return [...lines, 'No dns-name addresses.'].join('\n');
  for (const n of r.names) {
    const families = n.families.length === 2 ? '' : n.families[0] === 'inet' ? ' (ipv4-only)' : ' (ipv6-only)';
    lines.push('', `dns-name ${n.name}${families}: used by ${n.usedBy.join(', ')}`);
    lines.push(n.resolved
      ? `  addresses: ${n.addresses.join(', ') || '(none in the answer)'}`
      : '  addresses: never resolved (matches nothing)');
    lines.push(`  ttl: ${n.ttlSeconds} s, next lookup in ${n.ttlLeftSeconds} s; lookups ${n.lookups}, failures ${n.failures}, changes ${n.changes}`);
    if (n.lastError) lines.push(`  last error: ${n.lastError} at ${n.lastErrorAt}`);
  }
  return lines.join('\n');
}

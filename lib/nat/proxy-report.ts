// `xdpfw show nat proxy-arp | proxy-ndp`: the addresses the box answers for, per
// interface, and how many requests XDP answered.
import type { NeighborProxy } from '../config/types.js';
import { formatAddress } from './addr.js';

export interface NeighborProxyRow {
  interface: string;
  first: string;
  last: string;
  addresses: number;
}

export interface NeighborProxyPart {
  answered: number;
  entries: NeighborProxyRow[];
}

/** Both parts, or the one asked for. */
export interface NeighborProxyReport {
  proxyArp?: NeighborProxyPart;
  proxyNdp?: NeighborProxyPart;
}

export type NeighborProxyKind = 'proxy-arp' | 'proxy-ndp';

export function neighborProxyReport(
  proxies: readonly NeighborProxy[], answered: { arp: number; ndp: number }, only?: NeighborProxyKind,
): NeighborProxyReport {
  const part = (family: 'inet' | 'inet6', n: number): NeighborProxyPart => ({
    answered: n,
    entries: proxies.filter((p) => p.family === family).map((p) => ({
      interface: p.device, first: formatAddress(p.family, p.first), last: formatAddress(p.family, p.last), addresses: Number(p.last - p.first + 1n),
    })),
  });
  return {
    ...(only !== 'proxy-ndp' ? { proxyArp: part('inet', answered.arp) } : {}),
    ...(only !== 'proxy-arp' ? { proxyNdp: part('inet6', answered.ndp) } : {}),
  };
}

export function formatNeighborProxies(r: NeighborProxyReport): string {
  const out: string[] = [];
  const part = (title: string, p: NeighborProxyPart): void => {
    out.push(`${title}: ${p.entries.reduce((n, e) => n + e.addresses, 0)} addresses, ${p.answered} requests answered`);
    if (p.entries.length === 0) return;
    const width = Math.max(9, ...p.entries.map((e) => e.interface.length));
    out.push(`  ${'Interface'.padEnd(width)}  Addresses`);
    for (const e of p.entries) out.push(`  ${e.interface.padEnd(width)}  ${e.first === e.last ? e.first : `${e.first} - ${e.last}`}`);
  };
  if (r.proxyArp) part('Proxy ARP', r.proxyArp);
  if (r.proxyNdp) part('Proxy NDP', r.proxyNdp);
  return out.join('\n');
}

// `security nat proxy-arp` and `proxy-ndp` as the dataplane applies them: each
// interface named resolved to the Linux interface it is on this box, which must
// be a zone member (XDP answers only where it runs), and the addresses counted
// against what the answer map holds.
import type { Diagnostics } from '../config/errors.js';
import type { NeighborProxy } from '../config/types.js';
import type { NatConfig, ProxyEntry } from './types.js';

/** Entries of xdpfw_neigh_proxies (bpf/neigh_proxy.h XDPFW_MAX_NEIGH_PROXIES). */
export const MAX_NEIGHBOR_PROXY_ADDRESSES = 65536;

/**
 * The proxied addresses of `nat` per Linux interface. `deviceOf` gives the Linux interface of a
 * zone member as the config writes it (undefined: not a zone member here).
 */
export function neighborProxies(nat: NatConfig | null, deviceOf: (written: string) => string | undefined, d: Diagnostics): NeighborProxy[] {
  if (!nat) return [];
  const out: NeighborProxy[] = [];
  let total = 0n;
  const add = (entries: readonly ProxyEntry[], what: string): void => {
    for (const e of entries) {
      const device = deviceOf(e.interface);
      if (device === undefined) {
        d.error(e.pos, `${what} interface '${e.interface}' is not in a security zone: xdpfw answers only on zone interfaces`);
        continue;
      }
      for (const r of e.ranges) {
        total += r.last - r.first + 1n;
        out.push({ device, family: r.family, first: r.first, last: r.last });
      }
      if (total > BigInt(MAX_NEIGHBOR_PROXY_ADDRESSES)) {
        d.error(e.pos, `${what}: more than ${MAX_NEIGHBOR_PROXY_ADDRESSES} addresses are proxied in all`);
        return;
      }
    }
  };
  add(nat.proxyArp, 'proxy-arp');
  add(nat.proxyNdp, 'proxy-ndp');
  return total > BigInt(MAX_NEIGHBOR_PROXY_ADDRESSES) ? [] : out;
}

// Puts the proxied addresses where XDP answers for them (xdpfw_neigh_proxies,
// bpf/neigh_proxy.h): one entry per (interface, address), with the MAC address
// of that interface. Entries the config no longer names are removed, so a
// reload stops answering for them at once.
import { execFileSync } from 'node:child_process';
import type { Dataplane } from '../dataplane/dataplane.js';
import { NEIGH_PROXY, NEIGH_PROXY_KEY } from '../dataplane/layout.js';
import { ifNameToIndex, mapDelete, mapDump, mapUpdate } from '../dataplane/native.js';
import type { NeighborProxy } from '../config/types.js';

const AF_INET = 2;
const AF_INET6 = 10;

/** The map's entries as raw key and value bytes (what a reload puts back if it is undone). */
export interface NeighborProxyEntries {
  keys: Buffer[];
  values: Buffer[];
}

/** The interface's MAC address, from the kernel of this network namespace (sysfs may show another's). */
function macOf(device: string): Buffer {
  const out = execFileSync('ip', ['-j', 'link', 'show', 'dev', device], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const text = (JSON.parse(out) as Array<{ address?: string }>)[0]?.address ?? '';
  const mac = Buffer.from(text.split(':').map((h) => parseInt(h, 16)));
  if (mac.length !== 6) throw new Error(`${device}: no Ethernet address to answer proxy-arp / proxy-ndp with ('${text}')`);
  return mac;
}

function keyOf(ifindex: number, family: 'inet' | 'inet6', addr: bigint): Buffer {
  const k = Buffer.alloc(NEIGH_PROXY_KEY.size);
  k.writeUInt32LE(ifindex, NEIGH_PROXY_KEY.offset.ifindex);
  k[NEIGH_PROXY_KEY.offset.family] = family === 'inet' ? AF_INET : AF_INET6;
  const at = NEIGH_PROXY_KEY.offset.addr;
  if (family === 'inet') k.writeUInt32BE(Number(addr), at);
  else for (let i = 0; i < 16; i++) k[at + i] = Number((addr >> BigInt(8 * (15 - i))) & 0xffn);
  return k;
}

/** Key and value of every (interface, address) `proxies` names. */
export function neighborProxyEntries(proxies: readonly NeighborProxy[]): NeighborProxyEntries {
  const out: NeighborProxyEntries = { keys: [], values: [] };
  const devices = new Map<string, { ifindex: number; value: Buffer }>();
  for (const p of proxies) {
    let dev = devices.get(p.device);
    if (!dev) {
      const value = Buffer.alloc(NEIGH_PROXY.size);
      macOf(p.device).copy(value, NEIGH_PROXY.offset.mac);
      dev = { ifindex: ifNameToIndex(p.device), value };
      devices.set(p.device, dev);
    }
    for (let a = p.first; a <= p.last; a++) {
      out.keys.push(keyOf(dev.ifindex, p.family, a));
      out.values.push(dev.value);
    }
  }
  return out;
}

export function readNeighborProxies(dataplane: Dataplane): NeighborProxyEntries {
  const { keys, values, count } = mapDump(dataplane.mapFd('xdpfw_neigh_proxies'), NEIGH_PROXY_KEY.size, NEIGH_PROXY.size);
  const out: NeighborProxyEntries = { keys: [], values: [] };
  for (let i = 0; i < count; i++) {
    out.keys.push(Buffer.from(keys.subarray(i * NEIGH_PROXY_KEY.size, (i + 1) * NEIGH_PROXY_KEY.size)));
    out.values.push(Buffer.from(values.subarray(i * NEIGH_PROXY.size, (i + 1) * NEIGH_PROXY.size)));
  }
  return out;
}

/** Makes XDP answer for exactly `entries`. */
export function writeNeighborProxies(dataplane: Dataplane, entries: NeighborProxyEntries): void {
  const fd = dataplane.mapFd('xdpfw_neigh_proxies');
  const wanted = new Set(entries.keys.map((k) => k.toString('hex')));
  for (const k of readNeighborProxies(dataplane).keys) if (!wanted.has(k.toString('hex'))) mapDelete(fd, k);
  entries.keys.forEach((k, i) => mapUpdate(fd, k, entries.values[i]!));
}

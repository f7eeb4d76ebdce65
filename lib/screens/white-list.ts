// syn-flood and udp flood white-lists where the XDP program reads them: xdpfw_screen_allow,
// an LPM trie of (zone, family, direction, prefix). Written as a whole set:
// the new entries first, then (after the profiles) the stale ones removed, so
// a reload never leaves a listed address counted by a screen that exempts it
// in both configurations.
import type { Prefix } from '../config/ip.js';
import type { CompiledConfig } from '../config/types.js';
import type { Dataplane } from '../dataplane/dataplane.js';
import { SCREEN_ALLOW_KEY } from '../dataplane/layout.js';
import { btfEnum, mapDelete, mapDump, mapInfo, mapUpdate } from '../dataplane/native.js';

const AF_INET = 2;
const AF_INET6 = 10;
const K = SCREEN_ALLOW_KEY.offset;
const PRESENT = Buffer.from([1]);

/** One key of xdpfw_screen_allow per listed prefix of every screened zone. */
export function encodeWhiteLists(objectPath: string, config: CompiledConfig): Buffer[] {
  const dir = btfEnum(objectPath, 'xdpfw_screen_allow_direction');
  const keys: Buffer[] = [];
  for (const zone of config.zones) {
    const profile = zone.screen === null ? undefined : config.screens.get(zone.screen);
    for (const p of profile?.udp.floodWhiteList ?? []) keys.push(allowKey(zone.id, dir.XDPFW_SCREEN_ALLOW_UDP_FLOOD!, p));
    const lists = profile?.tcp.synFlood?.whiteList;
    if (!lists) continue;
    for (const [prefixes, direction] of [[lists.source, dir.XDPFW_SCREEN_ALLOW_SOURCE!], [lists.destination, dir.XDPFW_SCREEN_ALLOW_DESTINATION!]] as const) {
      for (const p of prefixes) keys.push(allowKey(zone.id, direction, p));
    }
  }
  return keys;
}

function allowKey(zone: number, direction: number, p: Prefix): Buffer {
  const k = Buffer.alloc(SCREEN_ALLOW_KEY.size);
  k.writeUInt32LE(32 + p.length, K.prefixlen);
  k.writeUInt16LE(zone, K.zone);
  k.writeUInt8(p.family === 'inet' ? AF_INET : AF_INET6, K.family);
  k.writeUInt8(direction, K.direction);
  p.words.forEach((w, i) => k.writeUInt32BE(w, K.addr + 4 * i));
  return k;
}

/** Adds the entries of `keys` (before the profiles that rely on them are written). Throws when the map has no room. */
export function addWhiteLists(dataplane: Dataplane, keys: readonly Buffer[]): void {
  const fd = dataplane.mapFd('xdpfw_screen_allow');
  const max = mapInfo(fd).maxEntries;
  if (keys.length > max) throw new Error(`syn-flood and udp flood white-lists: ${keys.length} prefixes in all, xdpfw_screen_allow holds ${max}`);
  for (const k of keys) mapUpdate(fd, k, PRESENT);
}

/** Removes every entry not in `keys` (after the profiles no longer rely on them). */
export function pruneWhiteLists(dataplane: Dataplane, keys: readonly Buffer[]): void {
  const fd = dataplane.mapFd('xdpfw_screen_allow');
  const keep = new Set(keys.map((k) => k.toString('hex')));
  const dump = mapDump(fd, SCREEN_ALLOW_KEY.size, 1);
  for (let i = 0; i < dump.count; i++) {
    const k = dump.keys.subarray(i * SCREEN_ALLOW_KEY.size, (i + 1) * SCREEN_ALLOW_KEY.size);
    if (!keep.has(Buffer.from(k).toString('hex'))) mapDelete(fd, k);
  }
}

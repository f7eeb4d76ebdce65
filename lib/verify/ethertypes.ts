// Puts the configuration's `security forwarding-options pass-ethertype` list
// where the XDP program reads it (xdpfw_pass_ethertypes, keyed by the
// EtherType in network byte order). Entries the list no longer names are
// removed, so a reload that drops one stops passing it at once.
import type { Dataplane } from '../dataplane/dataplane.js';
import { mapDelete, mapDump, mapUpdate } from '../dataplane/native.js';

const KEY_SIZE = 2;
const VALUE_SIZE = 1;

function keyOf(ethertype: number): Buffer {
  const k = Buffer.alloc(KEY_SIZE);
  k.writeUInt16BE(ethertype);
  return k;
}

/** The EtherTypes the dataplane passes now. */
export function passedEthertypes(dataplane: Dataplane): number[] {
  const { keys, count } = mapDump(dataplane.mapFd('xdpfw_pass_ethertypes'), KEY_SIZE, VALUE_SIZE);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(keys.readUInt16BE(i * KEY_SIZE));
  return out.sort((a, b) => a - b);
}

/** Makes the dataplane pass exactly `ethertypes` (besides IP and ARP). */
export function writePassEthertypes(dataplane: Dataplane, ethertypes: readonly number[]): void {
  const fd = dataplane.mapFd('xdpfw_pass_ethertypes');
  const wanted = new Set(ethertypes);
  for (const t of passedEthertypes(dataplane)) if (!wanted.has(t)) mapDelete(fd, keyOf(t));
  const one = Buffer.from([1]);
  for (const t of wanted) mapUpdate(fd, keyOf(t), one);
}

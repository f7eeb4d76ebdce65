// The trunks XDP knows (bpf/vlan_units.h): the XDPFW_IFACE_TRUNK flag in a
// trunk's xdpfw_ifaces entry, and xdpfw_vlan_units, the VLANs its zone units
// own. A frame on a trunk tagged with any other VLAN (or untagged) is dropped.
import { VLAN_UNIT_KEY } from './layout.js';
import { btfEnum, mapDelete, mapDump, mapUpdate } from './native.js';

/** One unit as XDP sees it: the trunk it arrives on, its VLAN, its VLAN device. */
export interface VlanUnitEntry {
  trunkIfindex: number;
  vlanId: number;
  unitIfindex: number;
}

/** XDPFW_IFACE_TRUNK of enum xdpfw_iface_flags. */
export function trunkFlag(objectPath: string): number {
  const v = btfEnum(objectPath, 'xdpfw_iface_flags').XDPFW_IFACE_TRUNK;
  if (v === undefined) throw new Error(`BPF object ${objectPath} lacks XDPFW_IFACE_TRUNK`);
  return v;
}

export function vlanUnitKey(trunkIfindex: number, vlanId: number): Buffer {
  const key = Buffer.alloc(VLAN_UNIT_KEY.size);
  key.writeUInt32LE(trunkIfindex, VLAN_UNIT_KEY.offset.ifindex);
  key.writeUInt16LE(vlanId, VLAN_UNIT_KEY.offset.vlan_id);
  return key;
}

/** The map's entries now. */
export function readVlanUnits(fd: number): VlanUnitEntry[] {
  const dump = mapDump(fd, VLAN_UNIT_KEY.size, 4);
  const out: VlanUnitEntry[] = [];
  for (let i = 0; i < dump.count; i++) {
    const at = i * VLAN_UNIT_KEY.size;
    out.push({
      trunkIfindex: dump.keys.readUInt32LE(at + VLAN_UNIT_KEY.offset.ifindex),
      vlanId: dump.keys.readUInt16LE(at + VLAN_UNIT_KEY.offset.vlan_id),
      unitIfindex: dump.values.readUInt32LE(i * 4),
    });
  }
  return out;
}

/**
 * Makes the map hold exactly `wanted`: new and changed entries first, then
 * the stale ones removed, so a unit kept across a reload never stops passing.
 */
export function writeVlanUnits(fd: number, wanted: readonly VlanUnitEntry[]): void {
  const keep = new Set<string>();
  for (const u of wanted) {
    const value = Buffer.alloc(4);
    value.writeUInt32LE(u.unitIfindex);
    mapUpdate(fd, vlanUnitKey(u.trunkIfindex, u.vlanId), value);
    keep.add(`${u.trunkIfindex}/${u.vlanId}`);
  }
  for (const u of readVlanUnits(fd)) {
    if (!keep.has(`${u.trunkIfindex}/${u.vlanId}`)) mapDelete(fd, vlanUnitKey(u.trunkIfindex, u.vlanId));
  }
}

/** The map entries for these trunks, given the ifindexes of the attached interfaces (a missing one: left out). */
export function vlanUnitEntries(
  trunks: ReadonlyArray<{ device: string; units: ReadonlyArray<{ vlanId: number; device: string }> }>,
  ifindexOf: (name: string) => number | undefined,
): VlanUnitEntry[] {
  const out: VlanUnitEntry[] = [];
  for (const t of trunks) {
    const trunkIfindex = ifindexOf(t.device);
    if (trunkIfindex === undefined) continue;
    for (const u of t.units) {
      const unitIfindex = ifindexOf(u.device);
      if (unitIfindex !== undefined) out.push({ trunkIfindex, vlanId: u.vlanId, unitIfindex });
    }
  }
  return out;
}

// The trunks XDP knows (bpf/vlan_units.h): the XDPFW_IFACE_TRUNK flag in a
// trunk's xdpfw_ifaces entry; xdpfw_vlan_units, the VLANs its zone units own
// and the internal end each unit's frames are redirected into; and
// xdpfw_vlan_egress, the way back (internal end -> trunk and tag). A frame on
// a trunk tagged with any other VLAN (or untagged) is dropped.
import { VLAN_UNIT_KEY } from './layout.js';
import { btfEnum, mapDelete, mapDump, mapUpdate } from './native.js';

/** One unit as XDP sees it: the trunk, its VLAN, the internal end of its device's veth pair. */
export interface VlanUnitEntry {
  trunkIfindex: number;
  vlanId: number;
  internalIfindex: number;
}

/** The two maps (Dataplane.mapFd of xdpfw_vlan_units and xdpfw_vlan_egress). */
export interface VlanUnitMaps {
  units: number;
  egress: number;
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

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

/** The units the maps hold now (by xdpfw_vlan_units). */
export function readVlanUnits(maps: VlanUnitMaps): VlanUnitEntry[] {
  const dump = mapDump(maps.units, VLAN_UNIT_KEY.size, 4);
  const out: VlanUnitEntry[] = [];
  for (let i = 0; i < dump.count; i++) {
    const at = i * VLAN_UNIT_KEY.size;
    out.push({
      trunkIfindex: dump.keys.readUInt32LE(at + VLAN_UNIT_KEY.offset.ifindex),
      vlanId: dump.keys.readUInt16LE(at + VLAN_UNIT_KEY.offset.vlan_id),
      internalIfindex: dump.values.readUInt32LE(i * 4),
    });
  }
  return out;
}

/**
 * Makes the maps hold exactly `wanted`: new and changed entries first, then
 * the stale ones removed, so a unit kept across a reload never stops passing.
 */
export function writeVlanUnits(maps: VlanUnitMaps, wanted: readonly VlanUnitEntry[]): void {
  const keep = new Set<string>();
  const keepEgress = new Set<number>();
  for (const u of wanted) {
    mapUpdate(maps.egress, u32(u.internalIfindex), vlanUnitKey(u.trunkIfindex, u.vlanId));
    mapUpdate(maps.units, vlanUnitKey(u.trunkIfindex, u.vlanId), u32(u.internalIfindex));
    keep.add(`${u.trunkIfindex}/${u.vlanId}`);
    keepEgress.add(u.internalIfindex);
  }
  for (const u of readVlanUnits(maps)) {
    if (!keep.has(`${u.trunkIfindex}/${u.vlanId}`)) mapDelete(maps.units, vlanUnitKey(u.trunkIfindex, u.vlanId));
  }
  const egress = mapDump(maps.egress, 4, VLAN_UNIT_KEY.size);
  for (let i = 0; i < egress.count; i++) {
    const internal = egress.keys.readUInt32LE(i * 4);
    if (!keepEgress.has(internal)) mapDelete(maps.egress, u32(internal));
  }
}

/** The map entries for these trunks, given the ifindexes of the interfaces (a missing one: left out). */
export function vlanUnitEntries(
  trunks: ReadonlyArray<{ device: string; units: ReadonlyArray<{ vlanId: number; internal: string }> }>,
  ifindexOf: (name: string) => number | undefined,
): VlanUnitEntry[] {
  const out: VlanUnitEntry[] = [];
  for (const t of trunks) {
    const trunkIfindex = ifindexOf(t.device);
    if (trunkIfindex === undefined) continue;
    for (const u of t.units) {
      const internalIfindex = ifindexOf(u.internal);
      if (internalIfindex !== undefined) out.push({ trunkIfindex, vlanId: u.vlanId, internalIfindex });
    }
  }
  return out;
}

// The Linux VLAN devices of this network namespace, as the kernel lists them
// in /proc/self/net/vlan/config (per namespace, unlike a /sys that belongs to
// another one): a unit with `vlan-id V` on a trunk is the VLAN device with id
// V on the trunk's Linux interface.
import { readFileSync } from 'node:fs';

/** Finds the VLAN device of (parent, id); null: none. `why` says what the kernel lacks, if it lacks VLAN devices altogether. */
export type VlanDeviceLookup = ((parent: string, vlanId: number) => string | null) & { why?: () => string | null };

/** Parses the kernel's table: `name | id | parent` lines after two header lines. */
export function parseVlanConfig(text: string): Array<{ device: string; vlanId: number; parent: string }> {
  const out: Array<{ device: string; vlanId: number; parent: string }> = [];
  for (const line of text.split('\n')) {
    const cols = line.split('|').map((c) => c.trim());
    if (cols.length !== 3 || !/^[0-9]+$/.test(cols[1]!)) continue;
    out.push({ device: cols[0]!, vlanId: Number(cols[1]), parent: cols[2]! });
  }
  return out;
}

const VLAN_TABLE = '/proc/self/net/vlan/config';

export const kernelVlanDevices: VlanDeviceLookup = Object.assign(
  (parent: string, vlanId: number): string | null => {
    let text: string;
    try {
      text = readFileSync(VLAN_TABLE, 'utf8');
    } catch {
      return null; // no VLAN device at all (the 8021q module is not even loaded)
    }
    return parseVlanConfig(text).find((v) => v.parent === parent && v.vlanId === vlanId)?.device ?? null;
  },
  {
    why: (): string | null => {
      try {
        readFileSync(VLAN_TABLE, 'utf8');
        return null;
      } catch {
        return 'this kernel has no VLAN devices now (load the 8021q module; a kernel built without CONFIG_VLAN_8021Q cannot have trunk units)';
      }
    },
  },
);

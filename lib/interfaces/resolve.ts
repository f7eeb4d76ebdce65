// From the interfaces a configuration names (Linux or Junos names, trunk
// units) to the Linux interfaces they are on this box: through the interface
// map when one is given, as written otherwise, and a trunk's unit to the
// device xdpfw makes for it (lib/interfaces/unit-devices.ts): named in the map
// if the map names the unit, `<trunk>.<vlan>` otherwise. Where the configuration is
// to run (strict), every zone member must resolve; one that does not is an
// error at the statement putting it in its zone. Checking the language alone,
// it is a warning.
import type { Pos, Statement } from '../config/ast.js';
import type { Diagnostics } from '../config/errors.js';
import { logicalInterfaceName, type TrunkUnits } from '../config/interfaces.js';
import { activeChildren, child, every } from '../config/tree.js';
import { isLinuxInterfaceName } from '../config/values.js';
import type { InterfaceMap } from './map-file.js';
import { unitDeviceName, unitInternalName } from './unit-devices.js';

/** A trunk on this box: its Linux interface and the devices of its zone units. */
export interface Trunk {
  device: string;
  /** As the configuration names it (for messages). */
  name: string;
  /** device: the unit's device (its zone member); internal: that device's veth peer; addresses: to put on the device. */
  units: Array<{ vlanId: number; device: string; name: string; internal: string; addresses: string[] }>;
}

export interface Resolution {
  /** Logical name (lib/config/interfaces.ts) → Linux interface, for every zone member. */
  linuxOf: Map<string, string>;
  trunks: Trunk[];
  /** Linux interface → the zone statement naming it. */
  positions: Map<string, Pos>;
}

/** Where each logical zone member is first named, with the word as written. */
function zoneMembers(root: readonly Statement[], trunks: ReadonlyMap<string, TrunkUnits>): Map<string, { written: string; pos: Pos }> {
  const out = new Map<string, { written: string; pos: Pos }>();
  const zones = child(child(root, 'security')?.children, 'zones');
  for (const z of every(zones?.children, 'security-zone')) {
    if (z.inactive) continue;
    for (const i of activeChildren(child(z.children, 'interfaces')?.children)) {
      const w = i.words[0];
      const logical = logicalInterfaceName(w.text, trunks);
      if (!out.has(logical)) out.set(logical, { written: w.text, pos: w.pos });
    }
  }
  return out;
}

export function resolveInterfaces(
  root: readonly Statement[],
  members: readonly string[],
  trunks: ReadonlyMap<string, TrunkUnits>,
  map: InterfaceMap | null,
  d: Diagnostics,
  strict = true,
): Resolution {
  const report = (pos: Pos, message: string): void => (strict ? d.error(pos, message) : d.warn(pos, message));
  const out: Resolution = { linuxOf: new Map(), trunks: [], positions: new Map() };
  const where = zoneMembers(root, trunks);
  const mapped = (name: string): string | undefined => map?.entries.get(name)?.linux;
  const howToMap = (name: string) =>
    map ? `add a line '${name} <linux-interface>' to the interface map ${map.source}` : `map it with --interface-map FILE (a line '${name} <linux-interface>')`;
  const trunkByName = new Map<string, Trunk>();
  const usedBy = new Map<string, string>();

  for (const logical of members) {
    const at = where.get(logical);
    if (!at) continue; // every member comes from a zone statement
    const dot = logical.lastIndexOf('.');
    const base = dot > 0 ? logical.slice(0, dot) : '';
    const trunk = trunks.get(base);
    let linux: string | undefined;
    if (trunk) {
      const unit = Number(logical.slice(dot + 1));
      const vlanId = trunk.units.get(unit)!;
      linux = mapped(logical);
      const parent = mapped(base) ?? (isLinuxInterfaceName(base) ? base : undefined);
      if (!parent) {
        report(at.pos, `trunk '${base}' of interface '${at.written}' is not mapped to a Linux interface: ${howToMap(base)}`);
        continue;
      }
      linux ??= unitDeviceName(parent, vlanId);
      let t = trunkByName.get(base);
      if (!t) {
        t = { device: parent, name: base, units: [] };
        trunkByName.set(base, t);
        out.trunks.push(t);
      }
      t.units.push({ vlanId, device: linux, name: logical, internal: unitInternalName(parent, vlanId), addresses: trunk.addresses?.get(unit) ?? [] });
    } else {
      linux = mapped(logical) ?? mapped(`${logical}.0`) ?? (isLinuxInterfaceName(logical) ? logical : undefined);
      if (!linux) {
        report(at.pos, `interface '${at.written}' is not mapped to a Linux interface: ${howToMap(dot > 0 && logical.slice(dot + 1) !== '0' ? logical : logical.replace(/\.0$/, ''))}`);
        continue;
      }
    }
    const other = usedBy.get(linux);
    if (other !== undefined) {
      report(at.pos, `interface '${at.written}' is Linux interface ${linux}, which '${other}' already is; one Linux interface is one zone member`);
      continue;
    }
    usedBy.set(linux, at.written);
    out.linuxOf.set(logical, linux);
    out.positions.set(linux, at.pos);
  }
  for (const t of out.trunks) {
    const other = usedBy.get(t.device);
    if (other !== undefined) {
      const at = where.get(t.units[0]!.name)!;
      report(at.pos, `trunk '${t.name}' is Linux interface ${t.device}, which '${other}' already is; a trunk's frames belong to its units`);
      continue;
    }
    usedBy.set(t.device, t.name);
    out.positions.set(t.device, where.get(t.units[0]!.name)!.pos);
  }
  return out;
}

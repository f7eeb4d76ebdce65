import { isIP } from 'node:net';
import type { Statement } from './ast.js';
import type { Diagnostics } from './errors.js';
import { activeChildren, child, each, valueOf } from './tree.js';
import type { Family, FamilySettings, InterfaceSettings } from './types.js';
import { checkInterfaceName, checkName, parseNumber } from './values.js';

/** A trunk (`vlan-tagging`): its units by number, each with its VLAN id, and their addresses. */
export interface TrunkUnits {
  units: Map<number, number>;
  /** `address/length` of each unit's `family inet|inet6 address` statements (xdpfw puts them on the unit's device). */
  addresses?: Map<number, string[]>;
}

export interface CompiledInterfaces {
  /** By logical name (see logicalInterfaceName). */
  settings: Map<string, InterfaceSettings>;
  /** Interfaces with `vlan-tagging`, by their name in the config. */
  trunks: Map<string, TrunkUnits>;
}

/**
 * The name an interface in a zone stands for: a trunk's unit is `<if>.<unit>`
 * (its own device, lib/interfaces/unit-devices.ts); unit 0 of any other interface is the interface
 * itself, so `ge-0/0/0.0` and `ge-0/0/0` are one. Anything else is as written
 * (a Linux name such as `eth1.100` stays one).
 */
export function logicalInterfaceName(written: string, trunks: ReadonlyMap<string, TrunkUnits>): string {
  const dot = written.lastIndexOf('.');
  if (dot <= 0) return written;
  const base = written.slice(0, dot);
  const unit = written.slice(dot + 1);
  if (!/^[0-9]{1,10}$/.test(unit)) return written;
  if (trunks.has(base)) return written;
  return Number(unit) === 0 ? base : written;
}

/**
 * `interfaces <if> { vlan-tagging; unit N { vlan-id V; family inet|inet6 { filter { input F; output F; } } } }`.
 * Without `vlan-tagging` only unit 0 exists; with it every unit needs a VLAN id of its own.
 * Addresses are the kernel's business (on the Linux interface a unit maps to), except a trunk unit's:
 * xdpfw makes its device and puts them there.
 */
export function compileInterfaces(root: readonly Statement[], d: Diagnostics): CompiledInterfaces {
  const out: CompiledInterfaces = { settings: new Map(), trunks: new Map() };
  for (const ifc of activeChildren(child(root, 'interfaces')?.children)) {
    const name = ifc.words[0];
    checkInterfaceName(d, name);
    const tagging = child(ifc.children, 'vlan-tagging') !== undefined;
    const flexible = child(ifc.children, 'flexible-vlan-tagging') !== undefined;
    const trunk: TrunkUnits = { units: new Map(), addresses: new Map() };
    if (tagging) out.trunks.set(name.text, trunk);
    const vlanOwner = new Map<number, string>();
    for (const unit of each(ifc.children, 'unit')) {
      const n = parseNumber(d, unit.words[1], 'unit number', 0, 0x7fffffff);
      const vlan = child(unit.children, 'vlan-id');
      if (!tagging) {
        // Units other than 0 without a VLAN (st0.1, irb.100, lo0.1, ...) are logical interfaces
        // of their own: usable where the interface map names their Linux interface.
        // With `flexible-vlan-tagging` (and its `native-vlan-id`) a unit's VLAN is the link's
        // business: the unit is the interface's own traffic here.
        if (vlan && flexible) d.warn(vlan.pos, `interfaces ${name.text} unit ${unit.words[1].text} vlan-id not supported (flexible-vlan-tagging)`);
        else if (vlan) d.error(vlan.pos, `'vlan-id' needs 'vlan-tagging' on interface '${name.text}'`);
      } else if (!vlan) {
        d.error(unit.words[1].pos, `unit ${unit.words[1].text} of trunk '${name.text}' (vlan-tagging) needs a 'vlan-id'`);
      } else {
        const id = parseNumber(d, valueOf(vlan), 'VLAN id', 1, 4094);
        if (id !== null && n !== null) {
          const prev = vlanOwner.get(id);
          if (prev !== undefined) d.error(valueOf(vlan).pos, `VLAN ${id} is already unit ${prev} of '${name.text}'; a VLAN belongs to one unit`);
          else {
            vlanOwner.set(id, String(n));
            trunk.units.set(n, id);
          }
        }
      }
      const logical = tagging || (n !== null && n !== 0) ? `${name.text}.${unit.words[1].text}` : name.text;
      const settings: InterfaceSettings = out.settings.get(logical) ?? { name: logical, families: new Map() };
      for (const fam of each(unit.children, 'family')) {
        const kind = fam.words[1].text;
        if (kind !== 'inet' && kind !== 'inet6') {
          d.warn(fam.pos, `interfaces ${name.text} unit ${unit.words[1].text} family ${kind} not supported`);
          continue;
        }
        const family: Family = kind;
        settings.families.set(family, compileFamily(fam, d));
        if (tagging && n !== null) trunk.addresses!.set(n, [...(trunk.addresses!.get(n) ?? []), ...unitAddresses(fam, family, d)]);
      }
      out.settings.set(logical, settings);
    }
    if (!out.settings.has(name.text) && !tagging) out.settings.set(name.text, { name: name.text, families: new Map() });
  }
  return out;
}

/** A trunk unit's `address A/L` statements, checked: they go on the unit's device. */
function unitAddresses(fam: Statement, family: Family, d: Diagnostics): string[] {
  const out: string[] = [];
  for (const a of each(fam.children, 'address')) {
    const w = a.words[1];
    const m = /^([^/]+)\/([0-9]{1,3})$/.exec(w.text);
    const want = family === 'inet' ? 4 : 6;
    if (!m || isIP(m[1]!) !== want || Number(m[2]) > (want === 4 ? 32 : 128)) {
      d.error(w.pos, `invalid ${family} interface address '${w.text}': expected an IPv${want} address and a prefix length (${want === 4 ? '10.0.0.1/24' : 'fd00::1/64'})`);
      continue;
    }
    out.push(w.text);
  }
  return out;
}

function compileFamily(fam: Statement, d: Diagnostics): FamilySettings {
  const filter = child(fam.children, 'filter');
  const name = (kw: string): string | null => {
    const s = child(filter?.children, kw);
    if (!s) return null;
    checkName(d, valueOf(s), 'filter name');
    return valueOf(s).text;
  };
  return { inputFilter: name('input'), outputFilter: name('output') };
}

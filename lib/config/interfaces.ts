import type { Statement } from './ast.js';
import type { Diagnostics } from './errors.js';
import { activeChildren, child, each, valueOf } from './tree.js';
import type { Family, FamilySettings, InterfaceSettings } from './types.js';
import { checkInterfaceName, checkName, parseNumber } from './values.js';

/** `interfaces <if> unit 0 family inet|inet6 { filter { input F; output F; } }`; addresses are the kernel's business. */
export function compileInterfaces(root: readonly Statement[], d: Diagnostics): Map<string, InterfaceSettings> {
  const out = new Map<string, InterfaceSettings>();
  for (const ifc of activeChildren(child(root, 'interfaces')?.children)) {
    const name = ifc.words[0];
    checkInterfaceName(d, name);
    const settings: InterfaceSettings = { name: name.text, families: new Map() };
    for (const unit of each(ifc.children, 'unit')) {
      const n = parseNumber(d, unit.words[1], 'unit number', 0, 0x7fffffff);
      if (n !== null && n !== 0) {
        d.error(unit.words[1].pos, `only unit 0 is supported: a Linux sub-interface (such as a VLAN) is an interface of its own`);
      }
      for (const fam of each(unit.children, 'family')) {
        const family: Family = fam.words[1].text === 'inet6' ? 'inet6' : 'inet';
        settings.families.set(family, compileFamily(fam, d));
      }
    }
    out.set(name.text, settings);
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

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
      for (const fam of each(unit.children, 'family')) {
        const kind = fam.words[1].text;
        if (kind !== 'inet' && kind !== 'inet6') {
          d.warn(fam.pos, `interfaces ${name.text} unit ${unit.words[1].text} family ${kind} not supported`);
          continue;
        }
        const family: Family = kind;
        const compiled = compileFamily(fam, d);
        // Filters of other units need the unit's own traffic told apart: not done here.
        if (n !== null && n !== 0 && (compiled.inputFilter !== null || compiled.outputFilter !== null)) {
          d.error(unit.words[1].pos, `filters are supported on unit 0 only: a Linux sub-interface (such as a VLAN) is an interface of its own`);
        }
        if (n === 0) settings.families.set(family, compiled);
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

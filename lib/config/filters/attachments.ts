import type { Statement } from '../ast.js';
import type { Diagnostics } from '../errors.js';
import type { Family } from '../family.js';
import { activeChildren, child, each, valueOf } from '../tree.js';
import { LO0, type Filter, type FilterAttachment, type FirewallConfig } from './model.js';

/** `interfaces IF unit 0 family F filter { input; output; }` and lo0's input filter. */

export function compileAttachments(
  root: readonly Statement[],
  byName: Record<Family, ReadonlyMap<string, Filter>>,
  inactive: Record<Family, ReadonlySet<string>>,
  zoneByInterface: ReadonlyMap<string, unknown>,
  d: Diagnostics,
): Pick<FirewallConfig, 'interfaces' | 'lo0'> {
  const interfaces = new Map<string, Record<Family, FilterAttachment>>();
  const lo0: Record<Family, number | null> = { inet: null, inet6: null };
  for (const ifc of activeChildren(child(root, 'interfaces')?.children)) {
    const trunk = child(ifc.children, 'vlan-tagging') !== undefined;
    const isLo0 = ifc.words[0].text === LO0;
    // A trunk's units are interfaces of their own; elsewhere other units are reported by the interfaces compiler.
    for (const unit of each(ifc.children, 'unit').filter((u) => trunk || u.words[1].text === '0')) {
      const ifname = trunk ? `${ifc.words[0].text}.${unit.words[1].text}` : ifc.words[0].text;
      for (const fam of each(unit.children, 'family')) {
        const family: Family = fam.words[1].text === 'inet6' ? 'inet6' : 'inet';
        const filter = child(fam.children, 'filter');
        for (const dir of ['input', 'output'] as const) {
          const s = child(filter?.children, dir);
          if (!s) continue;
          const w = valueOf(s);
          if (isLo0 && dir === 'output') {
            d.error(s.pos, `lo0 takes only an input filter: it filters traffic to the box itself, and the box's own traffic is not filtered`);
            continue;
          }
          if (!isLo0 && !zoneByInterface.has(ifname)) {
            d.error(w.pos, `interface '${ifname}' is in no security zone, so xdpfw never sees its traffic and its ${dir} filter would never run; add it to a zone`);
            continue;
          }
          const f = byName[family].get(w.text);
          if (!f) {
            const other: Family = family === 'inet' ? 'inet6' : 'inet';
            const hint = inactive[family].has(w.text)
              ? ' (it is inactive)'
              : byName[other].has(w.text)
                ? ` (there is a family ${other} filter '${w.text}')`
                : `; define it with 'firewall family ${family} filter ${w.text}'`;
            d.error(w.pos, `unknown family ${family} filter '${w.text}'${hint}`);
            continue;
          }
          if (isLo0 || dir === 'output') {
            const pbr = f.terms.find((t) => t.routingInstance !== null);
            if (pbr) {
              d.error(
                w.pos,
                `filter '${f.name}' cannot be ${isLo0 ? 'the lo0 filter' : 'an output filter'}: its term '${pbr.name}' sends flows to routing instance '${pbr.routingInstance!.name}', which only an interface's input filter can do (before the route lookup)`,
              );
              continue;
            }
          }
          if (isLo0) {
            lo0[family] = f.id;
            continue;
          }
          let att = interfaces.get(ifname);
          if (!att) interfaces.set(ifname, (att = { inet: { input: null, output: null }, inet6: { input: null, output: null } }));
          att[family][dir] = f.id;
        }
      }
    }
  }
  return { interfaces, lo0 };
}

import type { Pos, Statement } from './ast.js';
import { shapeIn } from './normalize.js';
import type { Container, Unsupported } from './schema-types.js';
import { NOT_YET_APPLIED } from './unsupported.js';

/** The hierarchies holding NOT_YET_APPLIED ones (`security nat`). */
const NOT_YET_APPLIED_PARENTS: ReadonlySet<string> = new Set([...NOT_YET_APPLIED].map((p) => p.slice(0, p.lastIndexOf(' '))));

/** Junos's zone of the box itself. */
export const JUNOS_HOST = 'junos-host';

/** One Junos hierarchy of the config that xdpfw does not implement. */
export interface UnsupportedStatement {
  pos: Pos;
  /** The statement's path, e.g. `security nat`. */
  path: string;
  how: Unsupported;
}

/**
 * Takes the unsupported hierarchies (schema `opaque` shapes) out of a normalised tree: what
 * remains is what xdpfw enforces. Each is reported once, at its first place; inactive ones
 * are not reported (they would not apply on Junos either).
 */
/**
 * Statements of implemented shapes that name something xdpfw does not implement: policies
 * from `junos-host` (traffic the box itself originates), routing instances that are not
 * kernel tables.
 */
function unsupportedInstance(path: string, s: Statement, usedInstances: ReadonlySet<string>): Unsupported | null {
  if (NOT_YET_APPLIED.has(`${path}${path ? ' ' : ''}${s.words[0].text}`)) return 'refused';
  // Traffic the box itself sends is not judged; traffic to it is (`to-zone junos-host`).
  if (path === 'security policies' && s.words[0].text === 'from-zone' && s.words[1].text === JUNOS_HOST) return 'refused';
  // A routing instance is xdpfw's when a filter sends flows to it (`then routing-instance`) or it
  // has its kernel table (`table-id`); Junos's other VRFs and virtual routers route, which the
  // kernel does here.
  if (path === 'routing-instances' && !usedInstances.has(s.words[0].text) && !(s.children ?? []).some((c) => c.words[0].text === 'table-id')) return 'ignored';
  return null;
}

/** Routing instances that firewall filter terms name. */
function filterInstances(tree: readonly Statement[]): Set<string> {
  const out = new Set<string>();
  const walk = (stmts: readonly Statement[]): void => {
    for (const s of stmts) {
      if (s.words[0].text === 'routing-instance' && s.words.length === 2) out.add(s.words[1].text);
      walk(s.children ?? []);
    }
  };
  walk(tree.filter((s) => s.words[0].text === 'firewall'));
  return out;
}

export function pruneUnsupported(tree: readonly Statement[], schema: Container): { tree: Statement[]; found: UnsupportedStatement[] } {
  const found = new Map<string, UnsupportedStatement>();
  const usedInstances = filterInstances(tree);
  const walk = (kids: readonly Statement[], shape: Container, path: string, inactive: boolean): Statement[] => {
    const out: Statement[] = [];
    for (const s of kids) {
      const sh = shapeIn(shape, s.words[0].text);
      const here = `${path}${path ? ' ' : ''}${s.words.map((w) => w.text).join(' ')}`;
      const how = sh?.kind === 'container' && sh.opaque ? sh.opaque : unsupportedInstance(path, s, usedInstances);
      if (how) {
        if (!inactive && !s.inactive && !found.has(here)) found.set(here, { pos: s.pos, path: here, how });
        continue;
      }
      if (sh?.kind === 'container' && s.children) {
        const children = walk(s.children, sh, here, inactive || s.inactive);
        // `security nat` holding only what is not applied yet goes too (not shown as `nat;`);
        // other containers mean something empty (`then permit;`).
        if (s.children.length && !children.length && NOT_YET_APPLIED_PARENTS.has(here)) continue;
        out.push({ ...s, children: children.length ? children : null });
      } else {
        out.push(s);
      }
    }
    return out;
  };
  const pruned = walk(tree, schema, '', false);
  return { tree: pruned, found: [...found.values()] };
}

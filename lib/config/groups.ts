import type { Statement, Word } from './ast.js';
import type { Diagnostics } from './errors.js';
import { APPLY_GROUPS, APPLY_GROUPS_EXCEPT, shapeIn } from './normalize.js';
import type { Container, Shape } from './schema-types.js';

/**
 * Junos configuration groups: `groups { G { <any statements> } }` and `apply-groups [ G ... ]`
 * (at the top or at any level below it), `apply-groups-except` to stop inherited groups in a
 * subtree. A group's statements mirror the whole hierarchy; those at the level where it is
 * applied, and below, are inherited: what the configuration says itself always wins, then
 * groups applied at a deeper level, then groups in the order they are listed. Names in a
 * group may be wildcards (`<*>`, `<ge-*>`): they shape matching statements and add none.
 * `${node}` names the group of the cluster node this box is.
 *
 * Works on a normalised tree and returns one without `groups` and `apply-groups`.
 */
export const NODE_GROUP = '${node}';

interface Level {
  group: string;
  /** The group's statements at this level of the hierarchy. */
  stmts: readonly Statement[];
}

export function expandGroups(tree: readonly Statement[], schema: Container, node: string, d: Diagnostics): Statement[] {
  const groups = new Map<string, Statement>();
  for (const g of tree) {
    if (g.inactive || g.words[0].text !== 'groups') continue;
    for (const def of g.children ?? []) if (!def.inactive) groups.set(def.words[0].text, def);
  }
  const body = tree.filter((s) => s.words[0].text !== 'groups');
  return new Expander(groups, node, d).level(body, schema, [], []);
}

function isApply(s: Statement): boolean {
  const kw = s.words[0].text;
  return !s.words[0].quoted && (kw === APPLY_GROUPS || kw === APPLY_GROUPS_EXCEPT);
}

function listValues(kids: readonly Statement[], keyword: string): Word[] {
  return kids
    .filter((s) => !s.inactive && s.words[0].text === keyword)
    .flatMap((s) => s.words.slice(1).filter((w) => w.quoted || (w.text !== '[' && w.text !== ']')));
}

function isPattern(w: Word): boolean {
  return w.text.length > 2 && w.text.startsWith('<') && w.text.endsWith('>');
}

const patterns = new Map<string, RegExp>();
function globMatches(pattern: string, text: string): boolean {
  let re = patterns.get(pattern);
  if (!re) {
    const body = pattern
      .slice(1, -1)
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${body}$`);
    patterns.set(pattern, re);
  }
  return re.test(text);
}

/** Words that identify a statement among its siblings: keyword and keys, not a leaf's values. */
function identityLength(shape: Shape | undefined, s: Statement): number {
  if (!shape || shape.kind === 'container') return s.words.length;
  return Math.min(s.words.length, 1 + shape.keys.length);
}

function wordsMatch(group: readonly Word[], config: readonly Word[]): boolean {
  return group.length === config.length && group.every((g, i) => (isPattern(g) ? globMatches(g.text, config[i].text) : g.text === config[i].text));
}

class Expander {
  constructor(
    private readonly groups: ReadonlyMap<string, Statement>,
    private readonly node: string,
    private readonly d: Diagnostics,
  ) {}

  level(kids: readonly Statement[], shape: Container, path: readonly Statement[], inherited: readonly Level[]): Statement[] {
    const except = new Set(listValues(kids, APPLY_GROUPS_EXCEPT).map((w) => w.text));
    const fresh: Level[] = [];
    for (const w of listValues(kids, APPLY_GROUPS)) {
      const name = w.text === NODE_GROUP ? this.node : w.text;
      const group = this.groups.get(name);
      if (!group) {
        this.d.warn(w.pos, `group '${name}' is not defined; nothing is inherited from it`);
        continue;
      }
      let stmts: readonly Statement[] = group.children ?? [];
      for (const p of path) stmts = stmts.filter((g) => !g.inactive && wordsMatch(g.words, p.words)).flatMap((g) => g.children ?? []);
      fresh.push({ group: name, stmts });
    }
    const freshNames = new Set(fresh.map((l) => l.group));
    const levels = [...fresh, ...inherited.filter((l) => !except.has(l.group) && !freshNames.has(l.group))];

    const out = kids.filter((s) => !isApply(s));
    for (const l of levels) {
      for (const g of l.stmts) {
        if (g.inactive || isApply(g) || g.words.some(isPattern)) continue;
        const sh = shapeIn(shape, g.words[0].text);
        if (!sh) continue;
        const n = identityLength(sh, g);
        const id = g.words.slice(0, n);
        if (out.some((s) => wordsMatch(id, s.words.slice(0, identityLength(sh, s))))) continue;
        // A container is filled below, from every group that has it.
        out.push(sh.kind === 'container' && !sh.opaque && g.children ? { ...g, children: [] } : g);
      }
    }
    return out.map((s) => {
      const sh = shapeIn(shape, s.words[0].text);
      if (!sh || sh.kind !== 'container' || sh.opaque) return s;
      const below = levels.map((l) => ({
        group: l.group,
        stmts: l.stmts.filter((g) => !g.inactive && wordsMatch(g.words, s.words)).flatMap((g) => g.children ?? []),
      }));
      const children = this.level(s.children ?? [], sh, [...path, s], below);
      return { ...s, children: children.length ? children : null };
    });
  }
}

// What changes from one configuration tree to another, as the commands that
// would make the change (Junos `show | compare | display set`): `delete` for
// what goes (a whole removed block is one line), `set` for what comes,
// `insert ... before ...` where the order of ordered statements (policies,
// terms) changes, `activate`/`deactivate` for the inactive flag. Applied in
// the order printed, they turn the old tree into the new one. Works on the
// normalised trees, so the form each was written in (set or hierarchical)
// does not matter. Words are printed by the set-form printer.
import type { Statement } from '../config/ast.js';
import { printSet } from '../config/printer.js';

export interface ConfigDiff {
  delete: string[];
  set: string[];
  insert: string[];
  activate: string[];
}

const key = (s: Statement): string => s.words.map((w) => w.text).join('\0');

/** `s` under its ancestors as a one-statement tree, so the printer quotes every word as usual. */
function wrap(ancestors: readonly Statement[], s: Statement): Statement[] {
  let tree: Statement[] = [s];
  for (let i = ancestors.length - 1; i >= 0; i--) tree = [{ ...ancestors[i], children: tree }];
  return tree;
}

/** The set-form path of `s` (without `set `), ignoring what is under it and its own inactive flag. */
function path(ancestors: readonly Statement[], s: Statement): string {
  return printSet(wrap(ancestors, { ...s, children: null, inactive: false })).trimEnd().replace(/^set /, '');
}

function words(s: Statement): string {
  return printSet([{ ...s, children: null, inactive: false }]).trimEnd().replace(/^set /, '');
}

export function diffTrees(before: readonly Statement[], after: readonly Statement[]): ConfigDiff {
  const out: ConfigDiff = { delete: [], set: [], insert: [], activate: [] };
  walk(before, after, [], out);
  return out;
}

/** The diff as lines, in the order to apply them. */
export function diffLines(d: ConfigDiff): string[] {
  return [...d.delete, ...d.set, ...d.insert, ...d.activate];
}

function walk(before: readonly Statement[], after: readonly Statement[], ancestors: Statement[], out: ConfigDiff): void {
  const old = new Map<string, Statement>();
  for (const s of before) if (!old.has(key(s))) old.set(key(s), s);
  const now = new Set(after.map(key));
  for (const s of old.values()) if (!now.has(key(s))) out.delete.push(`delete ${path(ancestors, s)}`);

  for (const [i, s] of after.entries()) {
    const o = old.get(key(s));
    if (!o) {
      out.set.push(...printSet(wrap(ancestors, s)).trimEnd().split('\n').filter((l) => l));
      // Added in front of a statement of its kind that stays: where it goes matters (policies, terms).
      const next = after.slice(i + 1).find((x) => x.words[0]?.text === s.words[0]?.text && old.has(key(x)));
      if (next) out.insert.push(`insert ${path(ancestors, s)} before ${words(next)}`);
      continue;
    }
    if (o.inactive !== s.inactive) out.activate.push(`${s.inactive ? 'deactivate' : 'activate'} ${path(ancestors, s)}`);
    // `X;` and `X { }` are the same statement; only what is under them can differ.
    walk(o.children ?? [], s.children ?? [], [...ancestors, s], out);
  }
  reorders(before, after, ancestors, old, out);
}

/** Statements kept on both sides whose order among their kind changed: one `insert` each, to put them back in order. */
function reorders(before: readonly Statement[], after: readonly Statement[], ancestors: Statement[], old: Map<string, Statement>, out: ConfigDiff): void {
  const afterKeys = new Set(after.map(key));
  const kinds = new Set(after.map((s) => s.words[0]?.text));
  for (const kind of kinds) {
    const was = before.filter((s) => s.words[0]?.text === kind && afterKeys.has(key(s))).map(key);
    const is = after.filter((s) => s.words[0]?.text === kind && old.has(key(s)));
    if (was.join('\n') === is.map(key).join('\n')) continue;
    for (let i = 0; i < is.length - 1; i++) {
      const successorBefore = was[was.indexOf(key(is[i])) + 1];
      if (successorBefore !== key(is[i + 1])) out.insert.push(`insert ${path(ancestors, is[i])} before ${words(is[i + 1])}`);
    }
  }
}

import { INACTIVE_PATHS, isBracket, type Pos, type Statement, type Word } from './ast.js';
import { ConfigError, describePos } from './errors.js';
import { list, unsupported, type Container, type Key, type Leaf, type Shape, type Value } from './schema-types.js';

export interface NormalizeResult {
  tree: Statement[];
  errors: ConfigError[];
}

/**
 * Rewrites a parsed tree into its canonical form under `schema`: every statement is exactly
 * one schema node (keyword plus keys, plus values for a leaf), `set` paths are split and
 * merged into the hierarchy in order of first appearance, and lists are `[ a b ]` (or a
 * single word). Repeated containers merge, as `set` lines must; but a named definition (zone,
 * policy, application, ...) written as two `{ }` blocks is an error, since silently merging
 * two policies would widen them. A leaf repeated with another value is an error too.
 * Unknown keywords are reported with the valid ones.
 *
 * Normalising a canonical tree returns an equal tree, and printing then re-reading it in
 * either syntax gives it back.
 */
export function normalize(tree: readonly Statement[], schema: Container): NormalizeResult {
  const n = new Normalizer();
  // The root is never printed, so its position does not matter.
  const root = node(schema, '', [], false, { file: '', line: 0, column: 0 });
  for (const s of tree) n.add(root, s);
  return { tree: root.kids.map(finish), errors: n.errors };
}

interface Node<S extends Shape = Shape> {
  shape: S;
  /** Words of the enclosing statements and this one, for messages. */
  path: string;
  /** Keyword and keys (and, for single-valued leaves, the value). */
  words: Word[];
  /** Values of a list leaf. */
  values: Word[];
  inactive: boolean;
  pos: Pos;
  kids: Node[];
  index: Map<string, Node>;
  /** Where a unique definition's block was given. */
  definedAt: Pos | null;
}

function node<S extends Shape>(shape: S, path: string, words: Word[], inactive: boolean, pos: Pos): Node<S> {
  return { shape, path, words, values: [], inactive, pos, kids: [], index: new Map(), definedAt: null };
}

/** `apply-groups` and `apply-groups-except` may appear in every container (see groups.ts). */
export const APPLY_GROUPS = 'apply-groups';
export const APPLY_GROUPS_EXCEPT = 'apply-groups-except';
const GROUP_LIST: Leaf = list('group name');

/** The shape of a keyword (or name) in a container, or undefined when it is unknown there. */
export function shapeIn(shape: Container, word: string): Shape | undefined {
  if (shape.opaque) return shape;
  return (
    shape.children.get(word) ??
    (word === APPLY_GROUPS || word === APPLY_GROUPS_EXCEPT ? GROUP_LIST : undefined) ??
    shape.wildcard?.shape ??
    (shape.others ? unsupported(shape.others) : undefined)
  );
}

function isContainer(n: Node): n is Node<Container> {
  return n.shape.kind === 'container';
}

function texts(words: readonly Word[]): string {
  return words.map((w) => w.text).join(' ');
}

function identity(words: readonly Word[]): string {
  return words.map((w) => w.text).join('\0');
}

function withArticle(label: string): string {
  return /^[aeiou]/i.test(label) ? `an ${label}` : `a ${label}`;
}

function isListBracket(w: Word): boolean {
  return isBracket(w, '[') || isBracket(w, ']');
}

function finish(n: Node): Statement {
  let words = n.words;
  if (n.values.length === 1) words = [...words, n.values[0]];
  else if (n.values.length > 1) {
    const first = n.values[0].pos;
    const last = n.values[n.values.length - 1].pos;
    words = [...words, { text: '[', quoted: false, pos: first }, ...n.values, { text: ']', quoted: false, pos: last }];
  }
  const only = n.kids.length === 1 ? n.kids[0] : undefined;
  if (n.shape.kind === 'container' && n.shape.collapse && only && only.shape.kind === 'leaf' && only.words.length === 1 && !only.inactive && only.values.length === 0) {
    // `address web 10.0.0.1/32;` as Junos prints it, rather than a block of one prefix.
    return { words: [...words, only.words[0]], children: null, inactive: n.inactive, pos: n.pos };
  }
  return { words, children: n.kids.length ? n.kids.map(finish) : null, inactive: n.inactive, pos: n.pos };
}

class Normalizer {
  readonly errors: ConfigError[] = [];

  private error(pos: Pos, message: string): void {
    this.errors.push(ConfigError.at(pos, message));
  }

  /** Merges one parsed statement into `parent` (a container node). */
  add(parent: Node<Container>, raw: Statement): void {
    const words = raw.words;
    if (words.length === 0) return this.error(raw.pos, 'empty statement');
    if (raw.edit) return this.edit(parent, raw);
    if (parent.shape.opaque) return this.verbatim(parent, raw);
    let at = parent;
    let above: Node<Container> | null = null;
    let entered: Word | null = null;
    let inactive = raw.inactive;
    let i = 0;
    while (i < words.length) {
      const kw = words[i];
      const bracket = isListBracket(kw);
      // On one line (`then permit log ...`), a word the enclosing statement knows belongs to
      // it rather than to an unsupported statement below the word before.
      if (!bracket && above && !at.shape.children.has(kw.text) && !at.shape.wildcard && at.shape.others && above.shape.children.has(kw.text)) {
        at = above;
        above = null;
      }
      const fixed = bracket ? undefined : at.shape.children.get(kw.text);
      const child = bracket ? undefined : shapeIn(at.shape, kw.text);
      if (!child) return this.unknown(at, kw);
      if (!fixed && at.shape.collapse && child === at.shape.wildcard?.shape && at.kids.some((k) => k.shape === child && k.words[0].text !== kw.text)) {
        // `address x P;` twice with two prefixes: a second definition, not a second value.
        const here = entered?.pos ?? kw.pos;
        return this.error(here, `duplicate ${at.shape.unique ?? 'definition'} '${texts(at.words.slice(1))}' (first defined at ${describePos(at.pos, here)})`);
      }
      const ids = this.keys(child, words, i, at);
      if (!ids) return;
      i += ids.length;
      const name = texts(fixed ? ids.slice(1) : ids);
      if (child.kind === 'container' && child.opaque) {
        // Kept as written: what follows the keyword is one statement below it.
        const next = this.container(at, child, ids, inactive);
        const rest = words.slice(i);
        if (rest.length) this.verbatim(next, { words: rest, children: raw.children, inactive: false, pos: rest[0].pos });
        else for (const s of raw.children ?? []) this.verbatim(next, s);
        return;
      }
      if (child.kind === 'container') {
        const next = this.container(at, child, ids, inactive);
        if (i < words.length) {
          entered = ids[0];
          above = at;
          at = next;
          inactive = false;
          continue;
        }
        if (raw.children === null) return;
        if (child.unique && !INACTIVE_PATHS.has(raw)) {
          if (next.definedAt) {
            return this.error(kw.pos, `duplicate ${child.unique} '${name}' (first defined at ${describePos(next.definedAt, kw.pos)})`);
          }
          next.definedAt = kw.pos;
        }
        for (const s of raw.children) this.add(next, s);
        return;
      }
      const values = this.values(child.value, words, i, ids);
      if (!values) return;
      i += values.consumed;
      this.leaf(at, child, ids, values.words, inactive, name);
      inactive = false;
      if (i === words.length && raw.children !== null) this.error(kw.pos, `'${kw.text}' does not take a block`);
    }
  }

  /** A statement under an unsupported hierarchy: kept as written, identical repeats merged. */
  private verbatim(parent: Node, raw: Statement): void {
    const id = identity(raw.words);
    let n = parent.index.get(id);
    if (!n) {
      n = node(parent.shape, join(parent.path, texts(raw.words)), raw.words, raw.inactive, raw.pos);
      this.attach(parent, n, id);
    }
    for (const s of raw.children ?? []) this.verbatim(n, s);
  }

  /** `delete`, `deactivate` or `activate` of the statement (or list values) a path names. */
  private edit(parent: Node<Container>, raw: Statement): void {
    const words = raw.words;
    let at: Node = parent;
    let i = 0;
    while (i < words.length) {
      if (!isContainer(at)) return;
      if (at.shape.opaque) {
        const id = identity(words.slice(i));
        const found = at.index.get(id);
        if (found) this.applyEdit(at, found, id, raw);
        return;
      }
      const kw = words[i];
      const shape = isListBracket(kw) ? undefined : shapeIn(at.shape, kw.text);
      if (!shape) return this.unknown(at, kw);
      const ids = this.keys(shape, words, i, at);
      if (!ids) return;
      i += ids.length;
      if (shape.kind === 'container') {
        const id = identity(ids);
        const found = at.index.get(id);
        if (!found) return; // Junos: "statement not found", nothing to do
        if (i === words.length) return this.applyEdit(at, found, id, raw);
        at = found;
        continue;
      }
      const values = words.slice(i).filter((w) => !isListBracket(w));
      if (shape.value.kind === 'list') {
        for (const inactive of [false, true]) {
          const id = `${identity(ids)}\0${inactive}`;
          const found = at.index.get(id);
          if (!found) continue;
          if (values.length === 0 || raw.edit !== 'delete') this.applyEdit(at, found, id, raw);
          else {
            const drop = new Set(values.map((v) => v.text));
            found.values = found.values.filter((v) => !drop.has(v.text));
            if (found.values.length === 0) this.applyEdit(at, found, id, raw);
          }
        }
        return;
      }
      const id = identity(ids);
      const found = at.index.get(id);
      if (found) this.applyEdit(at, found, id, raw);
      return;
    }
  }

  private applyEdit(parent: Node, n: Node, id: string, raw: Statement): void {
    if (raw.edit === 'delete') {
      parent.index.delete(id);
      parent.kids.splice(parent.kids.indexOf(n), 1);
    } else {
      n.inactive = raw.edit === 'deactivate';
    }
  }

  private unknown(at: Node<Container>, kw: Word): void {
    const shape = at.shape;
    // Only what xdpfw implements: unsupported Junos statements would drown the hint.
    const expected = [...shape.children.entries()].filter(([, c]) => !(c.kind === 'container' && c.opaque)).map(([k]) => k).sort();
    if (shape.wildcard) expected.push(`<${shape.wildcard.label}>`);
    const where = at.path ? ` in '${at.path}'` : '';
    const hint = expected.length ? `expected one of: ${expected.join(', ')}` : 'nothing may follow here';
    this.error(kw.pos, `unknown statement '${kw.text}'${where}; ${hint}`);
  }

  /** The keyword (or wildcard name) and its keys, or null after reporting what is missing. */
  private keys(shape: Shape, words: readonly Word[], start: number, at: Node): Word[] | null {
    const ids = [words[start]];
    for (const key of shape.keys) {
      const w = words[start + ids.length];
      if (!w || isListBracket(w)) {
        this.error((w ?? ids[ids.length - 1]).pos, `'${texts(ids)}' must be followed by ${describeKey(key)}`);
        return null;
      }
      if (key.literal !== undefined && w.text !== key.literal) {
        this.error(w.pos, `expected '${key.literal}' after '${texts(ids)}', found '${w.text}'`);
        return null;
      }
      if (key.oneOf && !key.oneOf.includes(w.text)) {
        this.error(w.pos, `invalid ${key.label} '${w.text}' in '${at.path}'; expected one of: ${key.oneOf.join(', ')}`);
        return null;
      }
      ids.push(w);
    }
    return ids;
  }

  /** Value words of a leaf starting at `start`, or null after reporting what is missing. */
  private values(value: Value, words: readonly Word[], start: number, ids: Word[]): { words: Word[]; consumed: number } | null {
    const w = words[start];
    switch (value.kind) {
      case 'none':
        return { words: [], consumed: 0 };
      case 'optional':
        return w && !w.quoted && value.oneOf.includes(w.text) ? { words: [w], consumed: 1 } : { words: [], consumed: 0 };
      case 'one':
        if (w && !isListBracket(w)) return { words: [w], consumed: 1 };
        this.error((w ?? ids[ids.length - 1]).pos, `'${texts(ids)}' must be followed by ${withArticle(value.label)}`);
        return null;
      case 'list': {
        if (w && !isListBracket(w)) return { words: [w], consumed: 1 };
        if (w && isBracket(w, '[')) {
          const end = words.findIndex((x, k) => k > start && isBracket(x, ']'));
          const items = end < 0 ? [] : words.slice(start + 1, end);
          if (items.length > 0 && !items.some(isListBracket)) return { words: items, consumed: items.length + 2 };
          this.error(w.pos, `malformed list after '${texts(ids)}'`);
          return null;
        }
        this.error((w ?? ids[ids.length - 1]).pos, `'${texts(ids)}' must be followed by ${withArticle(value.label)} or a list [ ... ]`);
        return null;
      }
    }
  }

  private container(parent: Node, shape: Container, ids: Word[], inactive: boolean): Node<Container> {
    const id = identity(ids);
    const existing = parent.index.get(id);
    if (existing && isContainer(existing)) {
      existing.inactive ||= inactive;
      return existing;
    }
    const created = node(shape, join(parent.path, texts(ids)), ids, inactive, ids[0].pos);
    this.attach(parent, created, id);
    return created;
  }

  private leaf(parent: Node, shape: Leaf, ids: Word[], values: Word[], inactive: boolean, name: string): void {
    const isList = shape.value.kind === 'list';
    // Active and inactive parts of a list stay apart so deactivating one value keeps the rest.
    const id = isList ? `${identity(ids)}\0${inactive}` : identity(ids);
    const existing = parent.index.get(id);
    if (!existing) {
      const n = node(shape, join(parent.path, texts(ids)), isList ? ids : [...ids, ...values], inactive, ids[0].pos);
      if (isList) n.values = [...values];
      this.attach(parent, n, id);
      return;
    }
    const here = ids[0].pos;
    if (shape.unique) {
      return this.error(here, `duplicate ${shape.unique} '${name}' (first defined at ${describePos(existing.pos, here)})`);
    }
    if (isList) {
      const have = new Set(existing.values.map((x) => x.text));
      for (const v of values) {
        if (have.has(v.text)) continue;
        have.add(v.text);
        existing.values.push(v);
      }
      return;
    }
    const before = texts(existing.words);
    const now = texts([...ids, ...values]);
    if (before !== now) {
      return this.error(here, `'${now}' conflicts with '${before}' at ${describePos(existing.pos, here)}`);
    }
    existing.inactive ||= inactive;
  }

  private attach(parent: Node, child: Node, id: string): Node {
    parent.index.set(id, child);
    parent.kids.push(child);
    return child;
  }
}

function join(path: string, more: string): string {
  return path ? `${path} ${more}` : more;
}

function describeKey(key: Key): string {
  return key.literal !== undefined ? `'${key.literal}'` : withArticle(key.label);
}

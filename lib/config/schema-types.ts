/**
 * Shapes of the configuration schema: what each keyword takes. The normaliser uses them to
 * split `set` paths into statements and to merge repeated statements; the compiler then
 * reads the normalised tree knowing each statement's shape.
 */

/** A word after the keyword that identifies the statement (`security-zone NAME`, `to-zone NAME`). */
export interface Key {
  /** For messages: "'security-zone' needs a zone name". */
  label: string;
  /** The word must be exactly this (e.g. `to-zone` in `from-zone A to-zone B`). */
  literal?: string;
  /** The word must be one of these. */
  oneOf?: readonly string[];
}

/** The value words of a leaf after its keys. */
export type Value =
  | { kind: 'none' } // a flag: `permit;`
  | { kind: 'one'; label: string } // `protocol tcp;`
  | { kind: 'optional'; oneOf: readonly string[] } // `telnet except;` or `telnet;`
  | { kind: 'list'; label: string }; // `application junos-http;` or `application [ a b ];`

interface Common {
  keys: readonly Key[];
  /** Names a definition that may appear once: a second `{ }` block (or leaf) is an error. */
  unique?: string;
}

export interface Container extends Common {
  kind: 'container';
  children: ReadonlyMap<string, Shape>;
  /** Children whose first word is a name rather than a keyword (`interfaces { eth0; }`). */
  wildcard?: { label: string; shape: Shape };
}

export interface Leaf extends Common {
  kind: 'leaf';
  value: Value;
}

export type Shape = Container | Leaf;

export function container(
  children: Record<string, Shape>,
  opts: { keys?: Key[]; unique?: string; wildcard?: { label: string; shape: Shape } } = {},
): Container {
  return { kind: 'container', keys: opts.keys ?? [], unique: opts.unique, wildcard: opts.wildcard, children: new Map(Object.entries(children)) };
}

export function leaf(value: Value, opts: { keys?: Key[]; unique?: string } = {}): Leaf {
  return { kind: 'leaf', value, keys: opts.keys ?? [], unique: opts.unique };
}

export const flag: Leaf = leaf({ kind: 'none' });

export function one(label: string): Leaf {
  return leaf({ kind: 'one', label });
}

export function list(label: string): Leaf {
  return leaf({ kind: 'list', label });
}

export function named(label: string): Key {
  return { label };
}

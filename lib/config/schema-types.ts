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

/**
 * What a Junos statement xdpfw does not implement means for a config that has it: `ignored`
 * (it changes neither what is permitted nor how packets are rewritten: a warning) or
 * `refused` (it does: the config is refused unless unsupported statements are ignored).
 */
export type Unsupported = 'ignored' | 'refused';

export interface Container extends Common {
  kind: 'container';
  children: ReadonlyMap<string, Shape>;
  /** Children whose first word is a name rather than a keyword (`interfaces { eth0; }`). */
  wildcard?: { label: string; shape: Shape };
  /**
   * A known Junos hierarchy xdpfw does not implement: it takes any statements below it,
   * kept as written, and is reported as `<path> not supported`.
   */
  opaque?: Unsupported;
  /** Unknown keywords here are Junos statements xdpfw does not implement (as `opaque`). */
  others?: Unsupported;
  /** Printed as Junos prints it: `address web 10.0.0.1/32;` when its only child is one word. */
  collapse?: boolean;
}

export interface Leaf extends Common {
  kind: 'leaf';
  value: Value;
}

export type Shape = Container | Leaf;

export function container(
  children: Record<string, Shape>,
  opts: { keys?: Key[]; unique?: string; wildcard?: { label: string; shape: Shape }; others?: Unsupported; collapse?: boolean } = {},
): Container {
  const { keys, unique, wildcard, others, collapse } = opts;
  return { kind: 'container', keys: keys ?? [], unique, wildcard, others, collapse, children: new Map(Object.entries(children)) };
}

const OPAQUE: Readonly<Record<Unsupported, Container>> = {
  ignored: { kind: 'container', keys: [], children: new Map(), opaque: 'ignored' },
  refused: { kind: 'container', keys: [], children: new Map(), opaque: 'refused' },
};

/** A Junos hierarchy xdpfw knows but does not implement (see Container.opaque). */
export function unsupported(how: Unsupported): Container {
  return OPAQUE[how];
}

/** Keywords that are each an unsupported hierarchy of the same kind. */
export function unsupportedAll(how: Unsupported, keywords: readonly string[]): Record<string, Shape> {
  return Object.fromEntries(keywords.map((k) => [k, OPAQUE[how]]));
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

/** Syntax tree of a configuration file. The parser produces it without knowing any keyword. */

/** A source position; line and column are 1-based, columns count UTF-16 code units. */
export interface Pos {
  file: string;
  line: number;
  column: number;
}

/** One word of a statement. `[` and `]` of a list are unquoted words of their own. */
export interface Word {
  text: string;
  quoted: boolean;
  pos: Pos;
}

/**
 * A statement: `words;` (children null) or `words { children }`.
 * An inactive statement stays in the tree; the compiler ignores it and everything under it.
 */
export interface Statement {
  words: Word[];
  children: Statement[] | null;
  inactive: boolean;
  pos: Pos;
  /**
   * A set-form edit of what came before rather than a statement: `delete PATH` removes the
   * statement (or list values) at PATH, `deactivate PATH` / `activate PATH` mark it inactive
   * or active again.
   */
  edit?: Edit;
}

export type Edit = 'delete' | 'deactivate' | 'activate';
export const EDITS: readonly Edit[] = ['delete', 'deactivate', 'activate'];

/** Tags Junos prints before a statement that change nothing in what it means. */
export const IGNORED_TAGS: readonly string[] = ['replace:', 'protect:', 'unprotect:'];

/**
 * Statements the parser made of the words before an `inactive:` marker (`set a b inactive: c d`
 * is `a b { inactive: c d; }`): a path to the inactive statement, not a `{ }` block written by
 * hand, so the normaliser does not count them as a second definition of a named block.
 */
export const INACTIVE_PATHS: WeakSet<Statement> = new WeakSet();

/** Text of the bare word that marks the next statement inactive. */
export const INACTIVE_MARKER = 'inactive:';

export function isBracket(w: Word, which: '[' | ']'): boolean {
  return !w.quoted && w.text === which;
}

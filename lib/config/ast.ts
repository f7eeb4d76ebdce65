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
}

/** Text of the bare word that marks the next statement inactive. */
export const INACTIVE_MARKER = 'inactive:';

export function isBracket(w: Word, which: '[' | ']'): boolean {
  return !w.quoted && w.text === which;
}

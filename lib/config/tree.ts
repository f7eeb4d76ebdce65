/** Readers for a normalised tree: each statement is one schema node (keyword, keys, values). */

import { isBracket, type Statement, type Word } from './ast.js';

/** A statement's children; absent for leaves and missing statements. */
type Children = readonly Statement[] | null | undefined;

/** Statements with this keyword, including inactive ones (for positional ids). */
export function every(stmts: Children, keyword: string): Statement[] {
  return (stmts ?? []).filter((s) => s.words[0].text === keyword);
}

/** Active statements with this keyword. */
export function each(stmts: Children, keyword: string): Statement[] {
  return every(stmts, keyword).filter((s) => !s.inactive);
}

/** The active statement with this keyword (the normaliser merges repeats into one). */
export function child(stmts: Children, keyword: string): Statement | undefined {
  return each(stmts, keyword)[0];
}

/** Active statements whose first word is a name (wildcard children such as interface names). */
export function activeChildren(stmts: Children): Statement[] {
  return (stmts ?? []).filter((s) => !s.inactive);
}

/** The single value of a leaf with `keys` key words. */
export function valueOf(s: Statement, keys = 0): Word {
  return s.words[1 + keys];
}

/** The values of list leaves with this keyword (all active statements, brackets dropped). */
export function listOf(stmts: Children, keyword: string): Word[] {
  return each(stmts, keyword).flatMap((s) => s.words.slice(1).filter((w) => !isBracket(w, '[') && !isBracket(w, ']')));
}

/** Active statements with any of these keywords, in tree order. */
export function eachOf(stmts: Children, keywords: readonly string[]): Statement[] {
  return (stmts ?? []).filter((s) => !s.inactive && keywords.includes(s.words[0].text));
}

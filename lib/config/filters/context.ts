import type { Statement } from '../ast.js';
import type { Diagnostics } from '../errors.js';
import type { Family } from '../family.js';
import type { Prefix } from '../ip.js';

/** What the compilers of a term's parts share. */

export type Children = readonly Statement[] | null | undefined;

export interface TermContext {
  family: Family;
  filter: string;
  term: string;
  d: Diagnostics;
}

export const FAMILY_TEXT: Readonly<Record<Family, string>> = { inet: 'IPv4', inet6: 'IPv6' };

export function prefixText(p: Prefix): string {
  return `${p.family}:${p.words.join('.')}/${p.length}`;
}

export function anyPrefix(family: Family): Prefix {
  return { family, words: family === 'inet' ? [0] : [0, 0, 0, 0], length: 0 };
}

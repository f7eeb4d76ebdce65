import type { Pos, Statement } from './ast.js';
import { shapeIn } from './normalize.js';
import type { Container, Unsupported } from './schema-types.js';

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
export function pruneUnsupported(tree: readonly Statement[], schema: Container): { tree: Statement[]; found: UnsupportedStatement[] } {
  const found = new Map<string, UnsupportedStatement>();
  const walk = (kids: readonly Statement[], shape: Container, path: string, inactive: boolean): Statement[] => {
    const out: Statement[] = [];
    for (const s of kids) {
      const sh = shapeIn(shape, s.words[0].text);
      const here = `${path}${path ? ' ' : ''}${s.words.map((w) => w.text).join(' ')}`;
      if (sh?.kind === 'container' && sh.opaque) {
        if (!inactive && !s.inactive && !found.has(here)) found.set(here, { pos: s.pos, path: here, how: sh.opaque });
        continue;
      }
      if (sh?.kind === 'container' && s.children) {
        const children = walk(s.children, sh, here, inactive || s.inactive);
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

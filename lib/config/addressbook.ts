import type { Statement, Word } from './ast.js';
import { describePos, type Diagnostics } from './errors.js';
import { parsePrefix, type Prefix } from './ip.js';
import { SetResolver, type Member } from './sets.js';
import { child, each, eachOf, valueOf } from './tree.js';
import { checkName } from './values.js';

/** `security address-book global { address N <prefix>; address-set S { ... } }`. */

const V4_ANY: Prefix = { family: 'inet', words: [0], length: 0 };
const V6_ANY: Prefix = { family: 'inet6', words: [0, 0, 0, 0], length: 0 };

const PREDEFINED_ADDRESSES: ReadonlyMap<string, readonly Prefix[]> = new Map([
  ['any', [V4_ANY, V6_ANY]],
  ['any-ipv4', [V4_ANY]],
  ['any-ipv6', [V6_ANY]],
]);

export type AddressBook = SetResolver<Prefix>;

/**
 * Compiles the global address book and checks every address-set's members. A definition
 * that fails still defines its name so that references to it are not reported too.
 */
export function compileAddressBook(root: readonly Statement[], d: Diagnostics): AddressBook {
  const addresses = new Map<string, readonly Prefix[]>(PREDEFINED_ADDRESSES);
  const sets = new Map<string, Member[]>();
  const names = new Map<string, Word>();
  const define = (w: Word, what: string): boolean => {
    checkName(d, w, `${what} name`);
    if (PREDEFINED_ADDRESSES.has(w.text)) {
      d.error(w.pos, `'${w.text}' is a predefined address and cannot be redefined`);
      return false;
    }
    const prev = names.get(w.text);
    if (prev) {
      d.error(w.pos, `${what} name '${w.text}' is already used at ${describePos(prev.pos, w.pos)}`);
      return false;
    }
    names.set(w.text, w);
    return true;
  };

  const setNames: Word[] = [];
  for (const book of each(child(root, 'security')?.children, 'address-book')) {
    if (book.words[1].text !== 'global') {
      d.error(book.words[1].pos, `unsupported address book '${book.words[1].text}': only the 'global' address book is supported`);
      continue;
    }
    for (const a of each(book.children, 'address')) {
      if (!define(a.words[1], 'address')) continue;
      const value = valueOf(a, 1);
      const prefix = parsePrefix(value.text);
      if (typeof prefix === 'string') d.error(value.pos, prefix);
      addresses.set(a.words[1].text, typeof prefix === 'string' ? [] : [prefix]);
    }
    for (const s of each(book.children, 'address-set')) {
      const name = s.words[1];
      if (!define(name, 'address-set')) continue;
      const members = eachOf(s.children, ['address', 'address-set']).map((m) => ({ name: m.words[1], isSet: m.words[0].text === 'address-set' }));
      if (members.length === 0) d.error(name.pos, `address-set '${name.text}' has no members`);
      sets.set(name.text, members);
      setNames.push(name);
    }
  }
  const book = new SetResolver({ item: 'address', set: 'address-set' }, addresses, sets);
  for (const name of setNames) book.resolve(name, d);
  return book;
}

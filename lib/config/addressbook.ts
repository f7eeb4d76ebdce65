import type { Statement, Word } from './ast.js';
import { describePos, type Diagnostics } from './errors.js';
import { parsePrefix, type Prefix } from './ip.js';
import { addressRange, wildcardAddress } from './address-range.js';
import { SetResolver, type Member } from './sets.js';
import { activeChildren, child, each, eachOf } from './tree.js';
import type { DnsNames } from './dns-names.js';
import { checkName } from './values.js';

/**
 * Address books, as Junos has them: the global book (`security address-book global`), named
 * books attached to zones (`security address-book B { ... attach { zone Z; } }`) and zone
 * books (`security zones security-zone Z address-book { ... }`). A policy resolves its source
 * addresses in its from-zone's scope and its destination addresses in its to-zone's: the
 * zone's own names (its book and the books attached to it) first, then the global book.
 * Global policies see the global book only.
 */

const V4_ANY: Prefix = { family: 'inet', words: [0], length: 0 };
const V6_ANY: Prefix = { family: 'inet6', words: [0, 0, 0, 0], length: 0 };

const PREDEFINED_ADDRESSES: ReadonlyMap<string, readonly Prefix[]> = new Map([
  ['any', [V4_ANY, V6_ANY]],
  ['any-ipv4', [V4_ANY]],
  ['any-ipv6', [V6_ANY]],
]);

export const GLOBAL_BOOK = 'global';

export type AddressBook = SetResolver<Prefix>;

/** The names one scope defines: the global book, or the zone-scoped names of one zone. */
class Scope {
  readonly addresses = new Map<string, readonly Prefix[]>();
  readonly sets = new Map<string, Member[]>();
  readonly setNames: Word[] = [];
  private readonly names = new Map<string, Word>();

  constructor(
    private readonly d: Diagnostics,
    private readonly dns: DnsNames,
    /** How messages and `show address-book` name this scope: `global`, `zone Z`, `book B`. */
    private readonly label: string,
  ) {}

  define(w: Word, what: string): boolean {
    checkName(this.d, w, `${what} name`);
    if (PREDEFINED_ADDRESSES.has(w.text)) {
      this.d.error(w.pos, `'${w.text}' is a predefined address and cannot be redefined`);
      return false;
    }
    const prev = this.names.get(w.text);
    if (prev) {
      this.d.error(w.pos, `${what} name '${w.text}' is already used at ${describePos(prev.pos, w.pos)}`);
      return false;
    }
    this.names.set(w.text, w);
    return true;
  }

  /** The address and address-set statements of one book. */
  add(book: readonly Statement[] | null): void {
    const d = this.d;
    for (const a of each(book, 'address')) {
      const name = a.words[1];
      if (!this.define(name, 'address')) continue;
      this.addresses.set(name.text, addressPrefixes(a, d, this.dns, `${this.label} ${name.text}`));
    }
    for (const s of each(book, 'address-set')) {
      const name = s.words[1];
      if (!this.define(name, 'address-set')) continue;
      const members = eachOf(s.children, ['address', 'address-set']).map((m) => ({ name: m.words[1], isSet: m.words[0].text === 'address-set' }));
      if (members.length === 0) d.error(name.pos, `address-set '${name.text}' has no members`);
      this.sets.set(name.text, members);
      this.setNames.push(name);
    }
  }
}

const FORMS = new Set(['description', 'range-address', 'wildcard-address', 'dns-name']);

/** `address N P;`, `address N { P; }`, `address N { range-address A to B; }` or `address N { dns-name H; }`. */
function addressPrefixes(a: Statement, d: Diagnostics, dns: DnsNames, owner: string): Prefix[] {
  const name = a.words[1];
  const values: Word[] = a.words.length > 2 ? [a.words[2]] : [];
  for (const c of activeChildren(a.children)) {
    if (!FORMS.has(c.words[0].text)) values.push(c.words[0]);
  }
  const ranges = each(a.children, 'range-address');
  const wildcards = each(a.children, 'wildcard-address');
  const names = each(a.children, 'dns-name');
  if (values.length + ranges.length + wildcards.length + names.length > 1) {
    d.error(name.pos, `address '${name.text}' has more than one value: an address is one prefix, one range, one wildcard address or one dns-name`);
    return [];
  }
  if (names.length === 1) return dns.prefixes(names[0], owner, d);
  if (wildcards.length === 1) {
    const w = wildcards[0].words[1];
    const r = wildcardAddress(w.text);
    if (typeof r === 'string') {
      d.error(w.pos, r);
      return [];
    }
    return r;
  }
  if (values.length === 1) {
    const prefix = parsePrefix(values[0].text);
    if (typeof prefix === 'string') {
      d.error(values[0].pos, prefix);
      return [];
    }
    return [prefix];
  }
  if (ranges.length === 1) {
    const [, first, , last] = ranges[0].words;
    const r = addressRange(first.text, last.text);
    if (typeof r === 'string') {
      d.error(first.pos, r);
      return [];
    }
    return r;
  }
  d.error(name.pos, `address '${name.text}' needs a prefix, a range-address, a wildcard-address or a dns-name`);
  return [];
}

function resolver(global: Scope, zone?: Scope): AddressBook {
  const addresses = new Map<string, readonly Prefix[]>([...PREDEFINED_ADDRESSES, ...global.addresses]);
  const sets = new Map<string, Member[]>(global.sets);
  if (zone) {
    // A zone's own name wins over the global book's, whatever kind either is.
    for (const [n, p] of zone.addresses) {
      addresses.set(n, p);
      sets.delete(n);
    }
    for (const [n, m] of zone.sets) {
      sets.set(n, m);
      addresses.delete(n);
    }
  }
  return new SetResolver({ item: 'address', set: 'address-set' }, addresses, sets);
}

export class AddressBooks {
  constructor(
    readonly global: AddressBook,
    private readonly zones: ReadonlyMap<string, AddressBook>,
  ) {}

  /** The names a policy sees in this zone (null: a global policy). */
  forZone(zone: string | null): AddressBook {
    return (zone !== null ? this.zones.get(zone) : undefined) ?? this.global;
  }
}

/**
 * Compiles every address book and checks every address-set's members in its own scope. A
 * definition that fails still defines its name so that references to it are not reported too.
 */
export function compileAddressBook(root: readonly Statement[], zoneNames: ReadonlySet<string>, d: Diagnostics, dns: DnsNames): AddressBooks {
  const security = child(root, 'security')?.children;
  const global = new Scope(d, dns, GLOBAL_BOOK);
  const zoneScopes = new Map<string, Scope>();
  const scopeOf = (zone: string, label: string): Scope => {
    let s = zoneScopes.get(zone);
    if (!s) zoneScopes.set(zone, (s = new Scope(d, dns, label)));
    return s;
  };
  for (const book of activeChildren(child(security, 'address-book')?.children)) {
    const name = book.words[0];
    if (name.text === GLOBAL_BOOK) {
      if (child(book.children, 'attach')) d.error(name.pos, "the global address book is every zone's: it cannot be attached");
      global.add(book.children);
      continue;
    }
    checkName(d, name, 'address book name');
    const zones = each(child(book.children, 'attach')?.children, 'zone').map((z) => z.words[1]);
    if (zones.length === 0) d.error(name.pos, `address book '${name.text}' is attached to no zone: add 'attach { zone Z; }'`);
    for (const z of zones) {
      if (!zoneNames.has(z.text)) d.error(z.pos, `unknown zone '${z.text}'`);
      else scopeOf(z.text, `zone ${z.text}`).add(book.children);
    }
  }
  for (const z of each(child(security, 'zones')?.children, 'security-zone')) {
    const book = child(z.children, 'address-book');
    if (book) scopeOf(z.words[1].text, `zone ${z.words[1].text}`).add(book.children);
  }
  const globalBook = resolver(global);
  for (const name of global.setNames) globalBook.resolve(name, d);
  const books = new Map<string, AddressBook>();
  for (const [zone, scope] of zoneScopes) {
    const book = resolver(global, scope);
    for (const name of scope.setNames) book.resolve(name, d);
    books.set(zone, book);
  }
  return new AddressBooks(globalBook, books);
}

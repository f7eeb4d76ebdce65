import type { Word } from './ast.js';
import type { Diagnostics } from './errors.js';

/** A member of an address-set or application-set: `address N;` or `address-set S;`. */
export interface Member {
  name: Word;
  isSet: boolean;
}

/**
 * Resolves names to items through (possibly nested) sets: unknown names and cycles are
 * reported once, at the reference, and each set is expanded once.
 */
export class SetResolver<T> {
  private readonly expanded = new Map<string, readonly T[] | null>();
  private readonly expanding: string[] = [];

  constructor(
    private readonly kind: { item: string; set: string },
    private readonly items: ReadonlyMap<string, readonly T[]>,
    private readonly sets: ReadonlyMap<string, readonly Member[]>,
  ) {}

  /** Items named by `ref` (an item or a set), or null after reporting. */
  resolve(ref: Word, d: Diagnostics): readonly T[] | null {
    const item = this.items.get(ref.text);
    if (item) return item;
    if (this.sets.has(ref.text)) return this.expand(ref, d);
    d.error(ref.pos, `unknown ${this.kind.item} or ${this.kind.set} '${ref.text}'`);
    return null;
  }

  private member(m: Member, owner: string, d: Diagnostics): readonly T[] | null {
    if (m.isSet && this.sets.has(m.name.text)) return this.expand(m.name, d);
    const item = m.isSet ? undefined : this.items.get(m.name.text);
    if (item) return item;
    const other = m.isSet ? this.items.has(m.name.text) : this.sets.has(m.name.text);
    const [want, got] = m.isSet ? [this.kind.set, this.kind.item] : [this.kind.item, this.kind.set];
    d.error(
      m.name.pos,
      other
        ? `'${m.name.text}' in ${this.kind.set} '${owner}' is ${article(got)}, not ${article(want)}: write '${got} ${m.name.text}'`
        : `unknown ${want} '${m.name.text}' in ${this.kind.set} '${owner}'`,
    );
    return null;
  }

  private expand(ref: Word, d: Diagnostics): readonly T[] | null {
    const done = this.expanded.get(ref.text);
    if (done !== undefined) return done;
    if (this.expanding.includes(ref.text)) {
      d.error(ref.pos, `${this.kind.set} '${ref.text}' contains itself (${[...this.expanding, ref.text].join(' -> ')})`);
      return null;
    }
    this.expanding.push(ref.text);
    const out = new Set<T>();
    let ok = true;
    for (const m of this.sets.get(ref.text) ?? []) {
      const r = this.member(m, ref.text, d);
      if (r === null) ok = false;
      else for (const x of r) out.add(x);
    }
    this.expanding.pop();
    const result = ok ? [...out] : null;
    this.expanded.set(ref.text, result);
    return result;
  }
}

function article(kind: string): string {
  return /^[aeiou]/.test(kind) ? `an ${kind}` : `a ${kind}`;
}

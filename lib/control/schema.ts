// A small schema language for control requests: each field says what it
// accepts (type, size, enum) and the TypeScript type of what passes, so one
// definition both checks requests on the socket and types them in the code.
// Checking never descends into what the schema does not describe, so a
// deeply nested or huge value costs no more than its first wrong field.

export interface Field<T> {
  readonly optional: boolean;
  /** What is wrong with `v`, naming it `path`; null when it is valid. */
  check(v: unknown, path: string): string | null;
  /** Never set: carries the type of a valid value. */
  readonly valueType?: T;
}

export type Shape = Readonly<Record<string, Field<unknown>>>;

export type TypeOf<F> = F extends Field<infer T> ? T : never;

type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The type of an object that passes `shape(S)`. */
export type ShapeType<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: TypeOf<S[K]> } & { [K in OptionalKeys<S>]?: TypeOf<S[K]> }
>;

function required<T>(check: (v: unknown, path: string) => string | null): Field<T> & { optional: false } {
  return { optional: false, check };
}

/** A string of 1 to `max` characters. */
export function text(max: number): Field<string> & { optional: false } {
  return required((v, path) =>
    typeof v === 'string' && v.length >= 1 && v.length <= max ? null : `${path} must be a string of 1 to ${max} characters`);
}

/** An integer in [min, max]. */
export function integer(min: number, max: number): Field<number> & { optional: false } {
  return required((v, path) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? null : `${path} must be an integer from ${min} to ${max}`);
}

/** A finite number in [min, max] (fractions allowed). */
export function decimal(min: number, max: number): Field<number> & { optional: false } {
  return required((v, path) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? null : `${path} must be a number from ${min} to ${max}`);
}

/** One of `values`. */
export function oneOf<const E extends readonly string[]>(values: E): Field<E[number]> & { optional: false } {
  const set = new Set<unknown>(values);
  return required((v, path) => (set.has(v) ? null : `${path} must be one of ${values.join(', ')}`));
}

/** An array of at most `max` items, each passing `item`. */
export function listOf<T>(item: Field<T>, max: number): Field<T[]> & { optional: false } {
  return required((v, path) => {
    if (!Array.isArray(v) || v.length > max) return `${path} must be an array of at most ${max} items`;
    for (let i = 0; i < v.length; i++) {
      const wrong = item.check(v[i], `${path}[${i}]`);
      if (wrong) return wrong;
    }
    return null;
  });
}

/** May be left out (absent; null is not absent). */
export function optional<T>(field: Field<T>): Field<T> & { optional: true } {
  return { optional: true, check: (v, path) => field.check(v, path) };
}

/** An object with exactly the fields of `fields` (optional ones may be absent), nothing else. */
export function shape<S extends Shape>(fields: S): Field<ShapeType<S>> & { optional: false } {
  return required((v, path) => checkObject(fields, v, path, new Set()));
}

/** Checks `v` against `fields`, ignoring the keys in `skip`; the first problem, or null. */
export function checkObject(fields: Shape, v: unknown, path: string, skip: ReadonlySet<string>): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${path || 'a request'} must be a JSON object`;
  const o = v as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!skip.has(key) && !Object.hasOwn(fields, key)) return `${path ? `${path} has an` : 'an'} unknown field ${quote(key)}`;
  }
  for (const [key, field] of Object.entries(fields)) {
    const at = path ? `${path}.${key}` : key;
    if (!Object.hasOwn(o, key)) {
      if (field.optional) continue;
      return `${at} is missing`;
    }
    const wrong = field.check(o[key], at);
    if (wrong) return wrong;
  }
  return null;
}

/** A client's string in a message: JSON-quoted, cut short. */
export function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s);
}

import { TCP_FLAG_BITS, TCP_FLAG_SHORTHANDS } from './values.js';


/**
 * Compiles a Junos tcp-flags expression to its truth table over the 6 flag bits: flag names
 * (fin syn rst push ack urgent), `tcp-initial` and `tcp-established`, hexadecimal values
 * (0x12: all of those bits set), `!` (not), `&` or `+` (and), `|` or `,` (or) and parentheses;
 * `!` binds tightest, then and, then or. Returns a message on error.
 */
export function parseTcpFlags(text: string): { low: number; high: number } | string {
  const tokens: string[] = [];
  const re = /\s*(?:([()!&+|,])|([A-Za-z][A-Za-z0-9-]*|0[xX][0-9A-Fa-f]+)|(\S))/y;
  for (let m = re.exec(text); m && re.lastIndex <= text.length && m[0] !== ''; m = re.exec(text)) {
    if (m[3] !== undefined) return `unexpected character '${m[3]}'`;
    tokens.push(m[1] ?? m[2]);
  }
  if (tokens.length === 0) return 'the expression is empty';
  let at = 0;
  type Eval = (flags: number) => boolean;
  const names = [...TCP_FLAG_BITS.keys(), ...TCP_FLAG_SHORTHANDS.keys()].join(', ');
  const operand = (): Eval | string => {
    const tok = tokens[at];
    if (tok === undefined) return `expected a flag after '${tokens[at - 1]}'`;
    at++;
    if (tok === '!') {
      const inner = operand();
      return typeof inner === 'string' ? inner : (f) => !inner(f);
    }
    if (tok === '(') {
      const inner = or();
      if (typeof inner === 'string') return inner;
      if (tokens[at] !== ')') return tokens[at] === undefined ? "missing ')'" : `expected ')' before '${tokens[at]}'`;
      at++;
      return inner;
    }
    const bit = TCP_FLAG_BITS.get(tok.toLowerCase());
    if (bit !== undefined) return (f) => (f & bit) !== 0;
    const shorthand = TCP_FLAG_SHORTHANDS.get(tok.toLowerCase());
    if (shorthand !== undefined) {
      const table = parseTcpFlags(shorthand) as { low: number; high: number };
      return (f) => tableHas(table.low, table.high, f);
    }
    if (/^0x/i.test(tok)) {
      const v = parseInt(tok.slice(2), 16);
      if (v === 0 || v > 0x3f) return `'${tok}' is not a set of TCP flags: use bits of 0x3f (fin 0x01 ... urgent 0x20)`;
      return (f) => (f & v) === v;
    }
    if (/^[()&+|,]$/.test(tok)) return `expected a flag before '${tok}'`;
    return `unknown flag '${tok}'; expected ${names} or a hexadecimal value`;
  };
  const and = (): Eval | string => {
    let left = operand();
    while (typeof left !== 'string' && (tokens[at] === '&' || tokens[at] === '+')) {
      at++;
      const right = operand();
      if (typeof right === 'string') return right;
      const l = left;
      left = (f) => l(f) && right(f);
    }
    return left;
  };
  function or(): Eval | string {
    let left = and();
    while (typeof left !== 'string' && (tokens[at] === '|' || tokens[at] === ',')) {
      at++;
      const right = and();
      if (typeof right === 'string') return right;
      const l = left;
      left = (f) => l(f) || right(f);
    }
    return left;
  }
  const e = or();
  if (typeof e === 'string') return e;
  if (at < tokens.length) return tokens[at] === ')' ? "unbalanced ')'" : `expected an operator before '${tokens[at]}'`;
  let low = 0;
  let high = 0;
  for (let f = 0; f < 64; f++) {
    if (!e(f)) continue;
    if (f < 32) low |= 1 << f;
    else high |= 1 << (f - 32);
  }
  return { low: low >>> 0, high: high >>> 0 };
}

/** Whether the flags `f` (low 6 bits used) are in a tcp-flags truth table. */
export function tableHas(low: number, high: number, f: number): boolean {
  const b = f & 0x3f;
  return b < 32 ? ((low >>> b) & 1) === 1 : ((high >>> (b - 32)) & 1) === 1;
}

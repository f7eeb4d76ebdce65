import type { Word } from './ast.js';
import type { Diagnostics } from './errors.js';

/** Validation of names and numbers shared by the compiler modules. */

/** Printable ASCII without blanks, quotes or config punctuation: safe in logs and on the wire. */
const NAME = /^[!$-&(-:<-Z^_a-z|~]{1,63}$/;
/** Linux interface names: IFNAMSIZ-1 bytes, and no '/' (which Junos-style names have). */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

export function checkName(d: Diagnostics, w: Word, what: string): boolean {
  if (NAME.test(w.text)) return true;
  d.error(w.pos, `invalid ${what} '${w.text}': use 1-63 printable characters without spaces, quotes, '#', ';', '[', ']', '{' or '}'`);
  return false;
}

/**
 * Junos interface names, with an optional unit: `ge-0/0/0.0`, `xe-1/2/3:1.100`, `ae0.10`,
 * `reth1.0`, `irb.100`, `st0.1`, `lo0.0`, `fxp0`. Which Linux interface each one is, is
 * said outside the Junos text (lib/interfaces/).
 */
const JUNOS_IFNAME = /^(?:[a-z]{2,5}-[0-9]{1,3}\/[0-9]{1,3}\/[0-9]{1,3}(?::[0-9]{1,3})?|[a-z]{2,6}[0-9]{0,4})(?:\.[0-9]{1,10})?$/;

export function isLinuxInterfaceName(name: string): boolean {
  return IFNAME.test(name) && name !== '.' && name !== '..';
}

/** Whether a name is a Linux interface name or a Junos one. */
export function isInterfaceName(text: string): boolean {
  return isLinuxInterfaceName(text) || JUNOS_IFNAME.test(text);
}

export function checkInterfaceName(d: Diagnostics, w: Word): boolean {
  if (isInterfaceName(w.text)) return true;
  d.error(w.pos, `'${w.text}' is not an interface name: a Linux one (1-15 letters, digits, '-', '_' or '.') or a Junos one (ge-0/0/0.0, ae0.10, irb.100, ...)`);
  return false;
}

/** A decimal integer in [min, max], or null after reporting. */
export function parseNumber(d: Diagnostics, w: Word, what: string, min: number, max: number): number | null {
  if (/^[0-9]{1,10}$/.test(w.text)) {
    const n = Number(w.text);
    if (n >= min && n <= max) return n;
  }
  d.error(w.pos, `invalid ${what} '${w.text}': expected a number from ${min} to ${max}`);
  return null;
}

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

/** Junos names with a slot (`ge-0/0/0`, `xe-1/0/3:2`), with or without a unit: mapped to Linux names outside the config (lib/interfaces/). */
const JUNOS_IFNAME = /^[a-z]{2,5}-[0-9]{1,3}\/[0-9]{1,3}\/[0-9]{1,3}(:[0-9]{1,3})?(\.[0-9]{1,10})?$/;

export function isLinuxInterfaceName(name: string): boolean {
  return IFNAME.test(name) && name !== '.' && name !== '..';
}

export function checkInterfaceName(d: Diagnostics, w: Word): boolean {
  if (isLinuxInterfaceName(w.text) || JUNOS_IFNAME.test(w.text)) return true;
  d.error(w.pos, `'${w.text}' is not an interface name: a Linux name (1-15 letters, digits, '-', '_' or '.') or a Junos one (such as ge-0/0/0.0)`);
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

import type { Family } from './family.js';

/** An IP prefix as big-endian 32-bit words: one for IPv4, four for IPv6. */
export interface Prefix {
  family: Family;
  words: number[];
  length: number;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Dotted-quad IPv4 without leading zeros (which some parsers read as octal). */
function parseIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const p of parts) {
    if (!DECIMAL.test(p) || p.length > 3) return null;
    const n = Number(p);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value;
}

/** RFC 4291 text form, including `::` and a trailing dotted IPv4; no zone index. */
function parseIPv6(text: string): number[] | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (HEX_GROUP.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  // A dotted IPv4 may only end the address.
  if (halves.length === 2 && halves[0].includes('.')) return null;
  let all: number[];
  if (halves.length === 2) {
    if (head.length + tail.length > 7) return null;
    all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    if (head.length !== 8) return null;
    all = head;
  }
  return [0, 1, 2, 3].map((k) => ((all[2 * k] << 16) | all[2 * k + 1]) >>> 0);
}

/** Network mask words for a prefix length. */
export function maskWords(family: Family, length: number): number[] {
  const count = family === 'inet' ? 1 : 4;
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    const bits = Math.max(0, Math.min(32, length - 32 * k));
    out.push(bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);
  }
  return out;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a host prefix). Returns a message on error. */
export function parsePrefix(text: string): Prefix | string {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const v4 = parseIPv4(addr);
  const words = v4 !== null ? [v4] : parseIPv6(addr);
  if (!words) return `'${text}' is not an IPv4 or IPv6 prefix`;
  const family: Family = words.length === 1 ? 'inet' : 'inet6';
  const max = family === 'inet' ? 32 : 128;
  let length = max;
  if (slash >= 0) {
    const len = text.slice(slash + 1);
    if (!DECIMAL.test(len) || Number(len) > max) {
      return `invalid prefix length in '${text}': must be 0-${max} for ${family === 'inet' ? 'IPv4' : 'IPv6'}`;
    }
    length = Number(len);
  }
  const mask = maskWords(family, length);
  if (words.some((w, k) => (w & ~mask[k]) !== 0)) return `'${text}' has address bits set beyond the /${length} prefix length`;
  return { family, words, length };
}

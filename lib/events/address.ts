// Addresses of an event record: 16 bytes in network order (IPv4 in the first
// four), to and from the text people and SIEMs read.
import { parsePrefix } from '../config/ip.js';
import type { Family } from '../config/family.js';

/**
 * Dotted quad, or RFC 5952 text (lower case, longest zero run as `::`), of the 16 bytes at `at`
 * (an offset rather than a view: a view cost more than the formatting, once per new session).
 */
export function formatAddress(bytes: Uint8Array, family: Family, at = 0): string {
  if (family === 'inet') return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[at + i]! << 8) | bytes[at + i + 1]!);
  let best = -1;
  let bestLen = 1; // a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/** Writes `text` (an address of `family`) as 16 bytes at `offset`; throws if it is not one. */
export function writeAddress(text: string, family: Family, out: Buffer, offset: number): void {
  const parsed = text.includes('/') ? null : parsePrefix(text);
  if (parsed === null || typeof parsed === 'string' || parsed.family !== family) {
    throw new Error(`'${text}' is not an ${family === 'inet' ? 'IPv4' : 'IPv6'} address`);
  }
  out.fill(0, offset, offset + 16);
  parsed.words.forEach((w, k) => out.writeUInt32BE(w, offset + 4 * k));
}

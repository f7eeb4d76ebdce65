import type { Family } from '../config/family.js';
import type { Prefix } from '../config/ip.js';
import type { AddressRange, NatPrefix } from './types.js';

/** Address arithmetic on integers: prefixes and ranges of IPv4 (32 bits) and IPv6 (128 bits). */

export function familyBits(family: Family): number {
  return family === 'inet' ? 32 : 128;
}

/** The integer value of a parsed prefix's address. */
export function prefixValue(p: Prefix): bigint {
  return p.words.reduce((acc, w) => (acc << 32n) | BigInt(w >>> 0), 0n);
}

export function hostMask(family: Family, length: number): bigint {
  return (1n << BigInt(familyBits(family) - length)) - 1n;
}

export function prefixRange(p: Prefix): AddressRange {
  const first = prefixValue(p);
  return { family: p.family, first, last: first | hostMask(p.family, p.length) };
}

export function natPrefix(p: Prefix): NatPrefix {
  return { family: p.family, network: prefixValue(p), length: p.length };
}

export function natPrefixRange(p: NatPrefix): AddressRange {
  return { family: p.family, first: p.network, last: p.network | hostMask(p.family, p.length) };
}

export function rangeSize(r: AddressRange): bigint {
  return r.last - r.first + 1n;
}

export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function inRange(r: AddressRange, family: Family, addr: bigint): boolean {
  return r.family === family && addr >= r.first && addr <= r.last;
}

/** Text form: dotted quad, or RFC 5952 IPv6 (longest zero run as `::`). */
export function formatAddress(family: Family, value: bigint): string {
  if (family === 'inet') return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

import { parsePrefix, type Prefix } from './ip.js';

/** `range-address A to B`: the fewest prefixes covering exactly A..B (both included). */
export function addressRange(firstText: string, lastText: string): Prefix[] | string {
  const first = parsePrefix(firstText);
  const last = parsePrefix(lastText);
  if (typeof first === 'string') return first;
  if (typeof last === 'string') return last;
  const bits = first.family === 'inet' ? 32 : 128;
  if (first.length !== bits || last.length !== bits || first.family !== last.family) {
    return `range-address '${firstText} to ${lastText}' needs two addresses of one family`;
  }
  const value = (p: Prefix): bigint => p.words.reduce((acc, w) => (acc << 32n) | BigInt(w >>> 0), 0n);
  let lo = value(first);
  const hi = value(last);
  if (lo > hi) return `range-address '${firstText} to ${lastText}': the first address is above the last`;
  const out: Prefix[] = [];
  while (lo <= hi) {
    // The largest aligned block starting at lo that ends at or before hi.
    let size = 0;
    while (size < bits && (lo & ((1n << BigInt(size + 1)) - 1n)) === 0n && lo + (1n << BigInt(size + 1)) - 1n <= hi) size++;
    const n = first.words.length;
    const words = first.words.map((_, i) => Number((lo >> BigInt(32 * (n - 1 - i))) & 0xffffffffn));
    out.push({ family: first.family, words, length: bits - size });
    lo += 1n << BigInt(size);
  }
  return out;
}

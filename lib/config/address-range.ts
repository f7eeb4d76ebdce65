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

/** More prefixes than this for one wildcard address is refused rather than expanded. */
export const MAX_WILDCARD_PREFIXES = 256;

/**
 * `wildcard-address A/M` with a non-contiguous IPv4 mask (`10.0.0.1/255.0.255.0`): the
 * prefixes it matches, one for each value of the mask's zero bits left of its last one bit.
 * A contiguous mask or a prefix length is one prefix.
 */
export function wildcardAddress(text: string): Prefix[] | string {
  const slash = text.indexOf('/');
  const maskText = slash < 0 ? '' : text.slice(slash + 1);
  if (!maskText.includes('.')) {
    const p = parsePrefix(text);
    return typeof p === 'string' ? p : [p];
  }
  const addr = parsePrefix(text.slice(0, slash));
  const mask = parsePrefix(maskText);
  if (typeof addr === 'string' || addr.family !== 'inet' || addr.length !== 32) return `'${text}': a wildcard address is an IPv4 address and a mask`;
  if (typeof mask === 'string' || mask.family !== 'inet' || mask.length !== 32) return `'${text}': '${maskText}' is not an IPv4 mask`;
  const m = mask.words[0] >>> 0;
  if (m === 0) return [{ family: 'inet', words: [0], length: 0 }];
  let length = 32;
  while (((m >>> (32 - length)) & 1) === 0) length--;
  const covered = length === 32 ? 0xffffffff : (0xffffffff << (32 - length)) >>> 0;
  const free = (covered & ~m) >>> 0;
  let bits = 0;
  for (let f = free; f; f = (f & (f - 1)) >>> 0) bits++;
  if (2 ** bits > MAX_WILDCARD_PREFIXES) {
    return `wildcard-address '${text}' matches ${2 ** bits} separate prefixes; at most ${MAX_WILDCARD_PREFIXES} are supported`;
  }
  const base = (addr.words[0] & m) >>> 0;
  const out: Prefix[] = [];
  // Every subset of the free bits, each once.
  let sub = 0;
  do {
    out.push({ family: 'inet', words: [(base | sub) >>> 0], length });
    sub = ((sub - free) & free) >>> 0;
  } while (sub !== 0);
  return out;
}

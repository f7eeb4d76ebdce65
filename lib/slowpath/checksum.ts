/** Internet checksum (RFC 1071) over byte ranges, for headers built in place. */

/** Adds bytes [start, end) as big-endian 16-bit words to `sum` (an odd last byte is padded with zero). */
export function sum16(b: Uint8Array, start: number, end: number, sum: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  return sum;
}

/** The checksum field value for a running sum: its ones' complement, folded to 16 bits. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

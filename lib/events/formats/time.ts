// Timestamps as the formats write them, always in UTC so a line means the
// same wherever it is read.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function iso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

/** RFC 5424 TIMESTAMP with milliseconds: 2026-03-02T10:15:04.120+00:00. */
export function rfc5424Time(ns: bigint): string {
  return `${iso(ns).slice(0, 23)}+00:00`;
}

/** ISO 8601 UTC with milliseconds, for JSON: 2026-03-02T10:15:04.120Z. */
export function isoTime(ns: bigint): string {
  return iso(ns);
}

/** RFC 3164 TIMESTAMP: `Mmm dd hh:mm:ss`, the day padded with a space (Mar  2 10:15:04). */
export function bsdTime(ns: bigint): string {
  const s = iso(ns);
  const day = s.slice(8, 10);
  return `${MONTHS[Number(s.slice(5, 7)) - 1]} ${day[0] === '0' ? ` ${day[1]}` : day} ${s.slice(11, 19)}`;
}

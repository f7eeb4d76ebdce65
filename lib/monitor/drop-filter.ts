// Which drops a watcher asked for: the flags of the session filters
// (--source-prefix, --destination-prefix, --source-port, --destination-port,
// --protocol, --interface, --family) plus --zone and --reason, all combined.
import { type Prefix, maskWords, parsePrefix } from '../config/ip.js';
import { PROTOCOL_NUMBERS } from '../config/protocols.js';
import type { DropEntry } from './drop-entry.js';

export interface DropQuery {
  sourcePrefix?: string;
  destinationPrefix?: string;
  sourcePort?: number;
  destinationPort?: number;
  /** A name (tcp, udp, icmp, icmp6, ...) or a number. */
  protocol?: string;
  interface?: string;
  family?: 'inet' | 'inet6';
  /** Ingress zone. */
  zone?: string;
  /** A reason as printed (e.g. screen, policy_deny). */
  reason?: string;
}

export type DropPredicate = (d: DropEntry) => boolean;

/** A protocol name or number; a message when it is neither. */
export function protocolNumber(text: string): number | string {
  const named = PROTOCOL_NUMBERS.get(text.toLowerCase()) ?? (text.toLowerCase() === 'icmpv6' ? 58 : undefined);
  if (named !== undefined) return named;
  if (/^\d+$/.test(text) && Number(text) <= 255) return Number(text);
  return `unknown protocol '${text}': a name (${[...PROTOCOL_NUMBERS.keys()].join(', ')}) or a number 0-255`;
}

/** Address text (as the drop entry prints it) inside the prefix. */
function inPrefix(prefix: Prefix, address: string | null): boolean {
  if (address === null) return false;
  const parsed = parsePrefix(address);
  if (typeof parsed === 'string' || parsed.family !== prefix.family) return false;
  const mask = maskWords(prefix.family, prefix.length);
  return prefix.words.every((w, k) => ((parsed.words[k]! & mask[k]!) >>> 0) === w);
}

/** The predicate of a query; throws with a clear message on a bad value. */
export function dropPredicate(q: DropQuery): DropPredicate {
  const tests: DropPredicate[] = [];
  for (const [flag, text, side] of [
    ['--source-prefix', q.sourcePrefix, 'source'], ['--destination-prefix', q.destinationPrefix, 'destination'],
  ] as const) {
    if (text === undefined) continue;
    const p = parsePrefix(text);
    if (typeof p === 'string') throw new Error(`${flag}: ${p}`);
    tests.push((d) => inPrefix(p, d[side]));
  }
  if (q.sourcePort !== undefined) tests.push((d) => d.sourcePort === q.sourcePort);
  if (q.destinationPort !== undefined) tests.push((d) => d.destinationPort === q.destinationPort);
  if (q.protocol !== undefined) {
    const n = protocolNumber(q.protocol);
    if (typeof n === 'string') throw new Error(`--protocol: ${n}`);
    tests.push((d) => d.protocolNumber === n);
  }
  if (q.interface !== undefined) tests.push((d) => d.interface === q.interface);
  if (q.family !== undefined) tests.push((d) => d.family === q.family);
  if (q.zone !== undefined) tests.push((d) => d.zone === q.zone);
  if (q.reason !== undefined) tests.push((d) => d.reason === q.reason);
  return (d) => tests.every((t) => t(d));
}

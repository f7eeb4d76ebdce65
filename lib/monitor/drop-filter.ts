// Which drops a watcher asked for: the session filters (lib/session/filter-spec.ts,
// the same flags and matching as `show sessions`) over each dropped packet, its
// ingress zone as the from-zone and the rule that dropped it as the policy, plus
// --reason. Every filter given must match.
import { parsePrefix } from '../config/ip.js';
import { type FlowFacts, type FlowFilterSpec, compileFlowFilter } from '../session/filter-spec.js';
import type { DropEntry } from './drop-entry.js';

export type DropQuery = FlowFilterSpec & {
  /** A reason as printed (e.g. screen, policy_deny). */
  reason?: string;
};

export type DropPredicate = (d: DropEntry) => boolean;

/** Writes an address as printed into `out` at `at` (16 bytes, IPv4 in the first four). */
function putAddress(text: string | null, out: Uint8Array, at: number): boolean {
  if (text === null) return false;
  const p = parsePrefix(text);
  if (typeof p === 'string') return false;
  p.words.forEach((w, k) => {
    for (let b = 0; b < 4; b++) out[at + 4 * k + b] = (w >>> (24 - 8 * b)) & 0xff;
  });
  return true;
}

/** A dropped packet as the flow filters see it; null when it is not IP. */
function factsOf(d: DropEntry): FlowFacts | null {
  if (d.family === null || d.protocolNumber === null) return null;
  const addresses = new Uint8Array(32);
  if (!putAddress(d.source, addresses, 0) || !putAddress(d.destination, addresses, 16)) return null;
  return {
    family: d.family, protocol: d.protocolNumber, addresses, sourceOffset: 0, destinationOffset: 16,
    sourcePort: d.sourcePort ?? 0, destinationPort: d.destinationPort ?? 0,
    fromZone: d.zone ?? '', toZone: '', policy: d.rule ?? '',
    ingressInterface: d.interface ?? '', egressInterface: null,
  };
}

/** The predicate of a query; throws with a clear message (naming the flag) on a bad value. */
export function dropPredicate(q: DropQuery): DropPredicate {
  const { reason, ...spec } = q;
  const compiled = compileFlowFilter(spec);
  if (!compiled.ok) throw new Error(compiled.error);
  const { match, empty } = compiled;
  return (d) => {
    if (reason !== undefined && d.reason !== reason) return false;
    if (empty) return true;
    const facts = factsOf(d);
    return facts !== null && match(facts);
  };
}

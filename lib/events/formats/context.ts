// What a formatter needs besides the event: the names behind its ids and the
// host name to write. The caller supplies both; a formatter never looks up
// configuration itself.
import type { FlowEvent, SecurityEvent } from '../types.js';

/** Names by id; null when the id names nothing (the formatter writes a placeholder). */
export interface NameResolver {
  zone(id: number): string | null;
  interface(ifindex: number): string | null;
  policy(id: number): string | null;
  /** The set a policy belongs to, as brief deny lines print it: `deny-dns(global)`. */
  policySet(id: number): string | null;
  filter(id: number): string | null;
  term(filterId: number, termId: number): string | null;
  /** The application (Junos service-name) the flow matched; null for none ('None'). */
  application(ev: FlowEvent): string | null;
}

export interface FormatContext {
  /** HOSTNAME of every line (RFC 5424 §6.2.4: printable ASCII, no spaces). */
  hostname: string;
  names: NameResolver;
}

/** One event as one line (no trailing newline; framing is the sink's job). */
export type Formatter = (ev: SecurityEvent) => string;

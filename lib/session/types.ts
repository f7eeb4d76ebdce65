// The records the session modules share: a session and what ends it. Kept
// apart from the table so the modules that describe sessions (flow-events)
// and the table that owns them depend on these, not on each other.
import type { FilterDescriptor } from '../filter/descriptor.js';
import type { FlowTuple } from './flow-key.js';
import type { TcpStateName } from './tcp.js';

/** The final counters of a session's two directions. */
export interface DirectionTotals {
  packetsFromClient: number;
  bytesFromClient: number;
  packetsFromServer: number;
  bytesFromServer: number;
}

export type CloseReason = 'TCP FIN' | 'TCP RST' | 'idle Timeout' | 'cleared' | 'policy change' | 'route change';

/** The cached filter verdicts of one direction (struct xdpfw_direction_verdicts, half of a verdict row). */
export interface DirectionFilters {
  /** Input filter of the interface this direction's packets arrive on (its table routes them). */
  input: FilterDescriptor;
  /** Output filter of the interface they leave by; the lo0 filter for a session to the box. */
  output: FilterDescriptor;
}

/** What the slow path computed for each direction of a session. */
export interface SessionFilters {
  client: DirectionFilters;
  server: DirectionFilters;
}

/** What a session keeps of its first packet beyond the key, to judge the flow again after a reload. */
export interface FirstPacket {
  tcpFlags: number;
  icmpCode: number;
  dscp: number;
}

export interface SessionFacts {
  fromZone: string;
  fromZoneId: number;
  toZone: string;
  toZoneId: number;
  policyId: number;
  policyName: string;
  ingressIfindex: number;
  egressIfindex: number;
  local: boolean;
  /** Local, answering a connection the box opened: admitted without host-inbound-traffic. */
  boxConnection: boolean;
  /** The permitting policy asks for a SESSION_CLOSE event (`log session-close`). */
  logClose: boolean;
  /** ICMP type of the packet that opened the session (0 for other protocols). */
  icmpType: number;
  /** The `inactivity-timeout` of the application the permitting policy matched, seconds; null: the protocol's. */
  inactivityTimeout?: number | null;
  first: FirstPacket;
  filters: SessionFilters;
}

export interface Session extends SessionFacts {
  id: number;
  key: Buffer;
  /** The other direction's key, as stored in the entries (never derived from `key` once installed). */
  reverse: Buffer;
  tuple: FlowTuple;
  createdNs: bigint;
  createdAtMs: number;
  /** TCP state as XDP last wrote it in the owner entry (read at each look); null: not TCP. */
  tcp: TcpStateName | null;
}


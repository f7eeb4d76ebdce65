// TCP session states as XDP tracks them (bpf/tcp_state.h) in the owner
// entry of each session. The slow path only reads them: to pick a session's
// timeout, to name its state, and to tell why it ended. The numbering is the
// C enum's, read from BTF (enum xdpfw_tcp_state).

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

/** enum xdpfw_tcp_state members, XDPFW_TCP_ removed, lower case, '-' for '_'. */
export const TCP_STATE_NAMES = [
  'none', 'syn-sent', 'syn-recv', 'established', 'fin-wait', 'close-wait', 'last-ack', 'time-wait', 'close',
] as const;
export type TcpStateName = (typeof TCP_STATE_NAMES)[number];

/** Which `security flow` timeout applies in a state. */
export type TcpTimeoutClass = 'initial' | 'established' | 'closing';

const TIMEOUT_CLASS: Record<TcpStateName, TcpTimeoutClass> = {
  'none': 'initial',
  'syn-sent': 'initial',
  'syn-recv': 'initial',
  'established': 'established',
  // Half-closed connections may carry data for long: Junos keeps them at the established timeout.
  'fin-wait': 'established',
  'close-wait': 'established',
  'last-ack': 'closing',
  'time-wait': 'closing',
  'close': 'closing',
};

/** The state numbers of the loaded object, by name and back. */
export class TcpStates {
  private readonly byValue = new Map<number, TcpStateName>();
  private readonly byName = new Map<TcpStateName, number>();

  /** `members`: enum xdpfw_tcp_state from BTF (C names to values). */
  constructor(members: Record<string, number>) {
    for (const [cName, value] of Object.entries(members)) {
      const name = cName.replace(/^XDPFW_TCP_/, '').toLowerCase().replace(/_/g, '-') as TcpStateName;
      if (!(TCP_STATE_NAMES as readonly string[]).includes(name)) throw new Error(`enum xdpfw_tcp_state: unknown member ${cName}`);
      this.byValue.set(value, name);
      this.byName.set(name, value);
    }
    const missing = TCP_STATE_NAMES.filter((n) => !this.byName.has(n));
    if (missing.length) throw new Error(`enum xdpfw_tcp_state lacks ${missing.join(', ')}`);
  }

  /** The name of a state byte; an unknown byte reads as 'none' (a fresh session's timeout). */
  name(value: number): TcpStateName {
    return this.byValue.get(value) ?? 'none';
  }

  value(name: TcpStateName): number {
    return this.byName.get(name)!;
  }
}

export function timeoutClass(state: TcpStateName): TcpTimeoutClass {
  return TIMEOUT_CLASS[state];
}

/** Closed by XDP: both FINs acknowledged, or an accepted RST. */
export function isClosed(state: TcpStateName): boolean {
  return state === 'time-wait' || state === 'close';
}

/** True for the packet that may open a session: SYN without ACK (syn-check). */
export function opensSession(flags: number): boolean {
  return (flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) === TCP_SYN;
}

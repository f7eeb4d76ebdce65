// TCP session states as the slow path tracks them from SYN/FIN/RST (the
// only TCP packets it sees of an established flow). Stored in the BPF entry
// (tcp_state) so a restarted daemon knows where each session stood.

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

export const enum TcpPhase {
  None = 0,
  SynSent = 1,
  Established = 2,
}

const FIN_FROM_CLIENT = 0x10;
const FIN_FROM_SERVER = 0x20;
const PHASE_MASK = 0x0f;

export interface TcpState {
  phase: TcpPhase;
  finFromClient: boolean;
  finFromServer: boolean;
}

export function decodeTcpState(byte: number): TcpState {
  return {
    phase: (byte & PHASE_MASK) as TcpPhase,
    finFromClient: (byte & FIN_FROM_CLIENT) !== 0,
    finFromServer: (byte & FIN_FROM_SERVER) !== 0,
  };
}

export function encodeTcpState(s: TcpState): number {
  return s.phase | (s.finFromClient ? FIN_FROM_CLIENT : 0) | (s.finFromServer ? FIN_FROM_SERVER : 0);
}

/** True for the packet that may open a session: SYN without ACK. */
export function opensSession(flags: number): boolean {
  return (flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) === TCP_SYN;
}

/** The state after a packet with `flags` from the client (or server) side. */
export function advance(s: TcpState, flags: number, fromServer: boolean): TcpState {
  const next = { ...s };
  if (fromServer && (flags & TCP_SYN) && (flags & TCP_ACK) && s.phase === TcpPhase.SynSent) {
    next.phase = TcpPhase.Established;
  }
  if (flags & TCP_FIN) {
    if (fromServer) next.finFromServer = true;
    else next.finFromClient = true;
  }
  return next;
}

export function bothFinsSeen(s: TcpState): boolean {
  return s.finFromClient && s.finFromServer;
}

export function describeTcpState(s: TcpState): string {
  if (bothFinsSeen(s)) return 'closing';
  if (s.finFromClient || s.finFromServer) return 'fin-wait';
  return s.phase === TcpPhase.SynSent ? 'syn-sent' : 'established';
}

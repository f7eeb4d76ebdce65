// The control socket speaks newline-delimited JSON: one request line, one
// response line, then the connection closes — except monitor-events, which
// answers with one JSON line per event until the client goes away.
import type { EventKind } from '../events/types.js';

export interface MatchPoliciesArgs {
  fromZone: string;
  toZone: string;
  sourceIp: string;
  destinationIp: string;
  protocol: string;
  sourcePort?: number;
  destinationPort?: number;
}

export type ControlRequest =
  | { command: 'status' }
  | { command: 'show-sessions' }
  | { command: 'show-counters' }
  | { command: 'show-policies' }
  | { command: 'show-config'; format: 'hierarchical' | 'set' }
  | { command: 'match-policies'; query: MatchPoliciesArgs }
  | { command: 'clear-sessions' }
  | { command: 'show-log'; kinds?: EventKind[] }
  | { command: 'show-screen-statistics'; zone?: string }
  | { command: 'show-firewall'; filter?: string }
  | { command: 'monitor-events'; kinds?: EventKind[] }
  | { command: 'reload'; configPath: string }
  | { command: 'unload' };

export type ControlCommand = ControlRequest['command'];

export type ControlResponse<T = unknown> = { ok: true; data: T } | { ok: false; error: string };

export function isControlRequest(v: unknown): v is ControlRequest {
  return typeof v === 'object' && v !== null && typeof (v as { command?: unknown }).command === 'string';
}

// The control socket speaks newline-delimited JSON: one request line, one
// response line, then the connection closes.

export type ControlCommand =
  | 'status'
  | 'show-sessions'
  | 'show-counters'
  | 'clear-sessions'
  | 'unload';

export interface ControlRequest {
  command: ControlCommand;
}

export type ControlResponse<T = unknown> = { ok: true; data: T } | { ok: false; error: string };

export function isControlRequest(v: unknown): v is ControlRequest {
  return typeof v === 'object' && v !== null && typeof (v as { command?: unknown }).command === 'string';
}

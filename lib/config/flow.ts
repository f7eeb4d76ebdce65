import type { Statement } from './ast.js';
import type { Diagnostics } from './errors.js';
import { child, valueOf } from './tree.js';
import type { FlowSettings } from './types.js';
import { parseNumber } from './values.js';

/** Idle timeouts in seconds; icmp follows Junos (60 s). */
const DEFAULT_FLOW: FlowSettings = {
  timeouts: { tcp: 1800, tcpInitial: 20, tcpClosing: 2, udp: 60, icmp: 60, other: 60 },
  maxSessions: 1_000_000,
  tcpSession: { noSynCheck: false, noSequenceCheck: false },
};

const TIMEOUT_KEYWORDS = [
  ['tcp', 'tcp'],
  ['tcp-initial', 'tcpInitial'],
  ['tcp-closing', 'tcpClosing'],
  ['udp', 'udp'],
  ['icmp', 'icmp'],
  ['other', 'other'],
] as const;

const U32_MAX = 0xffffffff;

/**
 * `security flow { timeouts { tcp N; ... } max-sessions N; tcp-session { ... } }`. Of Junos'
 * `tcp-session`: `no-syn-check`, `no-sequence-check`, `tcp-initial-timeout N` (4..300 s, the
 * same as `timeouts tcp-initial`) and `time-wait-state session-timeout N` (2..600 s, the wait
 * after a close, as `timeouts tcp-closing`).
 */
export function compileFlow(root: readonly Statement[], d: Diagnostics): FlowSettings {
  const flow = child(child(root, 'security')?.children, 'flow');
  const timeouts = { ...DEFAULT_FLOW.timeouts };
  const block = child(flow?.children, 'timeouts');
  for (const [kw, field] of TIMEOUT_KEYWORDS) {
    const s = child(block?.children, kw);
    const n = s ? parseNumber(d, valueOf(s), `${kw} timeout`, 1, U32_MAX) : null;
    if (n !== null) timeouts[field] = n;
  }
  const tcp = child(flow?.children, 'tcp-session');
  const initial = child(tcp?.children, 'tcp-initial-timeout');
  const n = initial ? parseNumber(d, valueOf(initial), 'tcp-initial-timeout', 4, 300) : null;
  if (n !== null) timeouts.tcpInitial = n;
  const timeWait = child(child(tcp?.children, 'time-wait-state')?.children, 'session-timeout');
  const w = timeWait ? parseNumber(d, valueOf(timeWait), 'time-wait-state session-timeout', 2, 600) : null;
  if (w !== null) timeouts.tcpClosing = w;
  const tcpSession = {
    noSynCheck: child(tcp?.children, 'no-syn-check') !== undefined,
    noSequenceCheck: child(tcp?.children, 'no-sequence-check') !== undefined,
  };
  const max = child(flow?.children, 'max-sessions');
  const maxSessions = max ? parseNumber(d, valueOf(max), 'max-sessions', 1, U32_MAX) : null;
  return { timeouts, maxSessions: maxSessions ?? DEFAULT_FLOW.maxSessions, tcpSession };
}

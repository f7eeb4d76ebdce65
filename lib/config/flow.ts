import type { Statement } from './ast.js';
import type { Diagnostics } from './errors.js';
import { child, valueOf } from './tree.js';
import type { FlowSettings } from './types.js';
import { parseNumber } from './values.js';

/** Idle timeouts in seconds; icmp follows Junos (60 s). */
const DEFAULT_FLOW: FlowSettings = {
  timeouts: { tcp: 1800, tcpInitial: 20, tcpClosing: 2, udp: 60, icmp: 60, other: 60 },
  maxSessions: 1_000_000,
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

/** `security flow { timeouts { tcp N; ... } max-sessions N; }`. */
export function compileFlow(root: readonly Statement[], d: Diagnostics): FlowSettings {
  const flow = child(child(root, 'security')?.children, 'flow');
  const timeouts = { ...DEFAULT_FLOW.timeouts };
  const block = child(flow?.children, 'timeouts');
  for (const [kw, field] of TIMEOUT_KEYWORDS) {
    const s = child(block?.children, kw);
    const n = s ? parseNumber(d, valueOf(s), `${kw} timeout`, 1, U32_MAX) : null;
    if (n !== null) timeouts[field] = n;
  }
  const max = child(flow?.children, 'max-sessions');
  const maxSessions = max ? parseNumber(d, valueOf(max), 'max-sessions', 1, U32_MAX) : null;
  return { timeouts, maxSessions: maxSessions ?? DEFAULT_FLOW.maxSessions };
}

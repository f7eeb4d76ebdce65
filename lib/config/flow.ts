import type { Statement } from './ast.js';
import type { Diagnostics } from './errors.js';
import { child, valueOf } from './tree.js';
import type { FlowSettings, SlowPathBudget } from './types.js';
import { parseNumber } from './values.js';

/** Idle timeouts in seconds; icmp follows Junos (60 s). */
const DEFAULT_FLOW: FlowSettings = {
  timeouts: { tcp: 1800, tcpInitial: 20, tcpClosing: 2, udp: 60, icmp: 60, other: 60 },
  maxSessions: 1_000_000,
  tcpSession: { noSynCheck: false, noSequenceCheck: false },
  slowPathBudget: slowPathBudgetFor(10_000),
};

/**
 * The budgets that default from a capacity: one source may take a quarter of it, TCP SYNs half,
 * other first packets 3/10, exceptions a fifth, so no source and no class can take it all.
 * 10,000/s: one slow-path thread on a 2-vCPU machine judged 6,000-13,000 first packets per
 * second (make bench: sessions, storm), so a flood of one class leaves it headroom.
 */
function slowPathBudgetFor(capacity: number): SlowPathBudget {
  return {
    capacity,
    perSource: Math.ceil(capacity / 4),
    tcpSyn: Math.ceil(capacity / 2),
    newFlow: Math.ceil((capacity * 3) / 10),
    exception: Math.ceil(capacity / 5),
    burstMs: 500,
    denyCacheTimeout: 2,
  };
}

const BUDGET_KEYWORDS = [
  ['per-source', 'perSource'],
  ['tcp-syn', 'tcpSyn'],
  ['new-flow', 'newFlow'],
  ['exception', 'exception'],
] as const;

/** The most XDP meters: a rate's interval (1e9 / rate ns) stays at least 1 ns. */
const MAX_RATE = 1_000_000_000;

/**
 * `security flow slow-path-budget { capacity N; per-source N; tcp-syn N; new-flow N; exception N;
 * burst-ms N; deny-cache-timeout S; }`: packets per second; 0 turns a budget off.
 */
function compileSlowPathBudget(flow: Statement | undefined, d: Diagnostics): SlowPathBudget {
  const block = child(flow?.children, 'slow-path-budget');
  const cap = child(block?.children, 'capacity');
  const capacity = cap ? parseNumber(d, valueOf(cap), 'slow-path capacity', 1, MAX_RATE) : null;
  const budget = slowPathBudgetFor(capacity ?? DEFAULT_CAPACITY);
  for (const [kw, field] of BUDGET_KEYWORDS) {
    const s = child(block?.children, kw);
    const n = s ? parseNumber(d, valueOf(s), `${kw} budget`, 0, MAX_RATE) : null;
    if (n !== null) budget[field] = n;
  }
  const burst = child(block?.children, 'burst-ms');
  const b = burst ? parseNumber(d, valueOf(burst), 'burst-ms', 1, 10_000) : null;
  if (b !== null) budget.burstMs = b;
  const deny = child(block?.children, 'deny-cache-timeout');
  const t = deny ? parseNumber(d, valueOf(deny), 'deny-cache-timeout', 0, 3600) : null;
  if (t !== null) budget.denyCacheTimeout = t;
  return budget;
}

const TIMEOUT_KEYWORDS = [
  ['tcp', 'tcp'],
  ['tcp-initial', 'tcpInitial'],
  ['tcp-closing', 'tcpClosing'],
  ['udp', 'udp'],
  ['icmp', 'icmp'],
  ['other', 'other'],
] as const;

const U32_MAX = 0xffffffff;
const DEFAULT_CAPACITY = 10_000;

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
  return { timeouts, maxSessions: maxSessions ?? DEFAULT_FLOW.maxSessions, tcpSession, slowPathBudget: compileSlowPathBudget(flow, d) };
}

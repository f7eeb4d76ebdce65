// The control socket speaks newline-delimited JSON: one request line, one
// response line, then the connection closes — except monitor-events, which
// answers with one JSON line per event until the client goes away, and long
// answers (session listings), streamed as response lines marked `more: true`
// each carrying a chunk, then the last one. Every
// request is checked against the schema of its command before anything
// acts on it; the request types are derived from the same schemas.
import { EVENT_KINDS } from '../events/types.js';
import { FLOW_FILTER_FIELDS } from '../session/filter-spec.js';
import { type Shape, type ShapeType, checkObject, decimal, integer, listOf, oneOf, optional, quote, shape, text } from './schema.js';
import { MAX_COMMITS } from '../commit/archive.js';
import { MAX_CONFIRM_MINUTES } from '../commit/commits.js';
import { HA_ROLES } from '../ha/keepalived.js';

/** Longest request line the server reads. */
export const MAX_REQUEST_CHARS = 64 * 1024;

const NAME = text(256);
const PORT = integer(0, 65535);
/** Repeats allowed (`--kind a --kind a`), within reason. */
const KINDS = optional(listOf(oneOf(EVENT_KINDS), 32));

const MATCH_QUERY = {
  fromZone: NAME,
  toZone: NAME,
  sourceIp: text(64),
  destinationIp: text(64),
  protocol: text(32),
  sourcePort: optional(PORT),
  destinationPort: optional(PORT),
} as const satisfies Shape;

/** Which sessions (every filter given must match); all when absent. */
const FLOW_FILTER = optional(shape(FLOW_FILTER_FIELDS));

/** A session listing: a page (limit, after the cursor) of one view, or the counts (summary). */
const SHOW_SESSIONS = {
  filter: FLOW_FILTER,
  view: optional(oneOf(['brief', 'extensive', 'summary'] as const)),
  limit: optional(integer(1, 100_000_000)),
  cursor: optional(integer(0, Number.MAX_SAFE_INTEGER)),
} as const satisfies Shape;

/** `monitor packet-drop`: which drops (the session filters, lib/monitor/drop-filter.ts) and how many records per second at most. */
const DROP_QUERY = {
  ...FLOW_FILTER_FIELDS,
  reason: optional(text(64)),
} as const satisfies Shape;

/** `trace`: a packet as described, or a whole frame in hex, received on an interface. */
const TRACE_PACKET = {
  interface: NAME,
  sourceIp: optional(text(64)),
  destinationIp: optional(text(64)),
  protocol: optional(text(32)),
  sourcePort: optional(PORT),
  destinationPort: optional(PORT),
  tcpFlags: optional(text(64)),
  icmpType: optional(integer(0, 255)),
  icmpCode: optional(integer(0, 255)),
  length: optional(integer(0, 9000)),
  ttl: optional(integer(0, 255)),
  hex: optional(text(20000)),
} as const satisfies Shape;

/** Each command and the fields it takes besides `command`. */
const COMMANDS = {
  'status': {},
  'show-sessions': SHOW_SESSIONS,
  'show-counters': {},
  'show-policies': {},
  'show-address-book': {},
  'show-nat-proxies': { kind: optional(oneOf(['proxy-arp', 'proxy-ndp'] as const)) },
  'show-config': { format: oneOf(['hierarchical', 'set'] as const) },
  'match-policies': { query: shape(MATCH_QUERY) },
  'clear-sessions': { filter: FLOW_FILTER },
  'show-log': { kinds: KINDS },
  'show-screen-statistics': { zone: optional(NAME) },
  'show-firewall': { filter: optional(NAME) },
  'monitor-events': { kinds: KINDS },
  // `ignore`: load without the Junos statements xdpfw does not implement (--ignore-unsupported).
  'reload': {
    configPath: text(4096), unsupported: optional(oneOf(['refuse', 'ignore'] as const)), interfaceMap: optional(text(4096)),
    confirmMinutes: optional(decimal(0.001, MAX_CONFIRM_MINUTES)),
  },
  'confirm': {},
  'rollback': { index: integer(0, MAX_COMMITS - 1) },
  'show-rollback': {},
  'diff': { configPath: optional(text(4096)), rollback: optional(integer(0, MAX_COMMITS - 1)) },
  'trace': { packet: shape(TRACE_PACKET) },
  'monitor-packet-drop': { query: shape(DROP_QUERY), perSecond: optional(integer(1, 100000)) },
  'unload': {},
  // keepalived's notify hooks (`xdpfw ha role`): this box's role in a services redundancy group.
  // `startedTicks`: when the hook process started (clock ticks since boot): keepalived runs hooks in parallel, so they may arrive out of order.
  'ha-role': { group: integer(1, 255), role: oneOf(HA_ROLES), startedTicks: optional(integer(0, Number.MAX_SAFE_INTEGER)) },
  'show-ha': {},
} as const satisfies Record<string, Shape>;

type Commands = typeof COMMANDS;

export type MatchPoliciesArgs = ShapeType<typeof MATCH_QUERY>;

export type ShowSessionsArgs = ShapeType<typeof SHOW_SESSIONS>;

export type DropQueryArgs = ShapeType<typeof DROP_QUERY>;

export type TracePacketArgs = ShapeType<typeof TRACE_PACKET>;

export type ControlRequest = { [C in keyof Commands]: { command: C } & ShapeType<Commands[C]> }[keyof Commands];

export type ControlCommand = ControlRequest['command'];

export type ControlResponse<T = unknown> = { ok: true; data: T; more?: true } | { ok: false; error: string };

export type Checked = { ok: true; request: ControlRequest } | { ok: false; error: string };

const COMMAND_KEY = new Set(['command']);

/** Checks a parsed request line against the schema of its command. */
export function checkRequest(v: unknown): Checked {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, error: 'a request must be a JSON object with a command' };
  const command = (v as { command?: unknown }).command;
  if (typeof command !== 'string') return { ok: false, error: 'command must be a string' };
  if (!Object.hasOwn(COMMANDS, command)) {
    return { ok: false, error: `unknown command ${quote(command)}; known: ${Object.keys(COMMANDS).join(', ')}` };
  }
  const wrong = checkObject(COMMANDS[command as ControlCommand], v, '', COMMAND_KEY);
  return wrong ? { ok: false, error: `${command}: ${wrong}` } : { ok: true, request: v as ControlRequest };
}

/** Parses and checks one request line. */
export function parseRequest(line: string): Checked {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message.slice(0, 200)}` };
  }
  return checkRequest(v);
}

export function isControlRequest(v: unknown): v is ControlRequest {
  return checkRequest(v).ok;
}

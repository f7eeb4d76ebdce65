// Malformed control requests (lib/control/protocol.ts speaks one JSON line
// per request): wrong types for every field of every command, unknown
// commands, huge and deeply nested values, bad event kinds, truncated JSON,
// binary, no newline, several lines at once. Never `unload` (a well-formed
// one stops the daemon, as it should) and never a reload path that names a
// real file.
import { EVENT_KINDS } from '../../lib/events/types.js';
import { type Rand, bytes, chance, int, pick } from './seed.js';

/** Every command but unload, which a fuzzer must not send. */
export const COMMANDS = [
  'status', 'show-sessions', 'show-counters', 'show-policies', 'show-config', 'match-policies', 'clear-sessions',
  'show-log', 'show-screen-statistics', 'show-firewall', 'monitor-events', 'reload',
] as const;

const FIELDS: Record<string, readonly string[]> = {
  'show-sessions': ['filter', 'view', 'limit', 'cursor'],
  'clear-sessions': ['filter'],
  'show-config': ['format'],
  'match-policies': ['query'],
  'show-log': ['kinds'],
  'monitor-events': ['kinds'],
  'show-screen-statistics': ['zone'],
  'show-firewall': ['filter'],
  reload: ['configPath'],
};
const QUERY_FIELDS = ['fromZone', 'toZone', 'sourceIp', 'destinationIp', 'protocol', 'sourcePort', 'destinationPort'];
const KINDS: readonly string[] = EVENT_KINDS;
const NEAR_MISS = ['Status', 'status ', ' status', 'STATUS', 'show_sessions', 'show-session', 'unload ', 'Unload', 'reload\u0000', 'show-config\n', ''];

/** A JSON value of any type, sometimes huge or nested. */
export function anyValue(rand: Rand, depth = 0): unknown {
  switch (int(rand, depth > 3 ? 9 : 13)) {
    case 0: return null;
    case 1: return chance(rand, 0.5);
    case 2: return pick(rand, [0, -1, 1, 1.5, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER]);
    case 3: return '';
    case 4: return bytes(rand, int(rand, 40)).toString('latin1');
    case 5: return pick(rand, [...KINDS, ...COMMANDS, 'trust', 'untrust', 'in-inet', 'set', 'hierarchical', '10.1.0.2', 'fd00:2::2', 'tcp', '__proto__', 'constructor']);
    case 6: return 'x'.repeat(pick(rand, [1000, 20_000, 60_000]));
    case 7: return { length: pick(rand, [0, 1, 2, -1, 1e9, '1']) };
    case 8: return pick(rand, [[], [''], ['x'], KINDS]);
    case 9: return Array.from({ length: int(rand, 5) }, () => anyValue(rand, depth + 1));
    case 10: return Object.fromEntries(Array.from({ length: int(rand, 4) }, () => [pick(rand, [...QUERY_FIELDS, 'kinds', 'length', 'format', '__proto__', 'x']), anyValue(rand, depth + 1)]));
    case 11: return Array.from({ length: pick(rand, [1000, 50_000]) }, () => pick(rand, KINDS));
    default: {
      let v: unknown = pick(rand, [1, 'x', null, {}]);
      for (let n = pick(rand, [10, 100, 1000]); n > 0; n--) v = chance(rand, 0.5) ? [v] : { a: v };
      return v;
    }
  }
}

/** A command-shaped object with fields of wrong (or right) types. */
function requestObject(rand: Rand): Record<string, unknown> {
  const command: unknown = chance(rand, 0.7) ? pick(rand, COMMANDS) : chance(rand, 0.5) ? pick(rand, NEAR_MISS) : anyValue(rand);
  const req: Record<string, unknown> = { command };
  const fields = typeof command === 'string' && Object.hasOwn(FIELDS, command) ? FIELDS[command]! : [];
  for (const f of fields) {
    if (chance(rand, 0.8)) req[f] = f === 'query' && chance(rand, 0.5) ? queryValue(rand) : f === 'configPath' ? pathValue(rand) : anyValue(rand);
  }
  if (chance(rand, 0.2)) req[pick(rand, ['kinds', 'format', 'query', 'zone', 'extra', '__proto__', 'constructor'])] = anyValue(rand);
  return req;
}

function queryValue(rand: Rand): Record<string, unknown> {
  return Object.fromEntries(QUERY_FIELDS.filter(() => chance(rand, 0.7)).map((f) => [f, anyValue(rand)]));
}

/** Reload paths that name nothing readable as a configuration (no special files). */
function pathValue(rand: Rand): unknown {
  return chance(rand, 0.3) ? anyValue(rand) : pick(rand, ['', '/', '.', '..', '/nonexistent/xdpfw.conf', 'no such file', `/tmp/${'a'.repeat(300)}`, bytes(rand, 8).toString('hex')]);
}

export interface ControlCase {
  /** what goes on the wire */
  wire: Buffer;
  /** the response must be ok:false: not a request of a known command, or a field of the wrong type or value */
  mustRefuse: boolean;
  /** the line may start a stream (monitor-events): no response is due */
  mayStream: boolean;
  /** short description for failure reports */
  describe: string;
}

const line = (s: string): Buffer => Buffer.from(`${s}\n`);
const short = (s: string): string => (s.length > 300 ? `${s.slice(0, 300)}... (${s.length} chars)` : s);

export function controlCase(rand: Rand): ControlCase {
  const kind = int(rand, 10);
  if (kind === 0) {
    const b = bytes(rand, int(rand, 200));
    return { wire: Buffer.concat([b, Buffer.from('\n')]), mustRefuse: !looksLikeObject(b), mayStream: true, describe: `binary ${b.toString('hex').slice(0, 200)}` };
  }
  if (kind === 1) {
    const full = JSON.stringify(requestObject(rand));
    const cut = full.slice(0, int(rand, full.length));
    return { wire: line(cut), mustRefuse: true, mayStream: false, describe: `truncated ${short(cut)}` };
  }
  if (kind === 2) {
    const v = anyValue(rand);
    const text = JSON.stringify(v) ?? 'null';
    return { wire: line(text), mustRefuse: true, mayStream: false, describe: `value ${short(text)}` };
  }
  if (kind === 3) {
    const text = JSON.stringify(requestObject(rand));
    const wire = chance(rand, 0.5) ? Buffer.from(text) : Buffer.from(`${text}\n${text}\n${JSON.stringify(requestObject(rand))}\n`);
    return { wire, mustRefuse: false, mayStream: true, describe: `unterminated or several ${short(text)}` };
  }
  if (kind === 4) {
    // Deeper than any recursive reader goes, built as text (JSON.stringify would overflow first).
    const n = pick(rand, [2000, 10_000, 30_000]);
    const field = pick(rand, ['kinds', 'query', 'format', 'zone']);
    const command = pick(rand, COMMANDS);
    const text = `{"command":"${command}","${field}":${'['.repeat(n)}${']'.repeat(n)}}`;
    // Nested arrays are the wrong shape for every field they land in; a missing required one too.
    const refuse = SCHEMA[command]?.field === field || SCHEMA[command]?.required === true;
    return { wire: line(text), mustRefuse: refuse, mayStream: command === 'monitor-events', describe: `nested ${n} deep in ${field} of ${command}` };
  }
  const req = requestObject(rand);
  const text = JSON.stringify(req);
  const known = typeof req.command === 'string' && (COMMANDS as readonly string[]).includes(req.command);
  return { wire: line(text), mustRefuse: !known || violatesSchema(req), mayStream: req.command === 'monitor-events', describe: short(text) };
}

/** The field of each command that must have this shape, where a value of another shape is malformed. */
const SCHEMA: Record<string, { field: string; ok: (v: unknown) => boolean; required?: boolean }> = {
  'show-config': { field: 'format', ok: (v) => v === 'hierarchical' || v === 'set' },
  'show-log': { field: 'kinds', ok: (v) => Array.isArray(v) && v.every((k) => KINDS.includes(k as string)) },
  'monitor-events': { field: 'kinds', ok: (v) => Array.isArray(v) && v.every((k) => KINDS.includes(k as string)) },
  'show-screen-statistics': { field: 'zone', ok: (v) => typeof v === 'string' },
  'show-firewall': { field: 'filter', ok: (v) => typeof v === 'string' },
  'match-policies': { field: 'query', ok: (v) => typeof v === 'object' && v !== null && !Array.isArray(v), required: true },
  reload: { field: 'configPath', ok: (v) => typeof v === 'string', required: true },
};

/** Whether a request of a known command gets a field's type or enum wrong (or lacks a required one). */
export function violatesSchema(req: Record<string, unknown>): boolean {
  const s = typeof req.command === 'string' && Object.hasOwn(SCHEMA, req.command) ? SCHEMA[req.command]! : null;
  if (!s) return false;
  // null for an optional field may fairly be read as absent.
  if (!Object.hasOwn(req, s.field) || req[s.field] === null) return s.required === true;
  return !s.ok(req[s.field]);
}

/** Binary that happens to parse as a JSON object cannot be held to a refusal. */
function looksLikeObject(b: Buffer): boolean {
  try {
    const v: unknown = JSON.parse(b.toString('utf8'));
    return typeof v === 'object' && v !== null;
  } catch {
    return false;
  }
}

// `xdpfw show sessions` and `xdpfw clear sessions` with Junos-style filters:
// the listing is printed as the daemon streams it (a chunk at a time, the
// socket paused while stdout is busy), so neither side holds the whole table.
import type { Argv } from 'yargs';
import { request, requestStream } from '../control/client.js';
import { FLOW_FILTER_OPTIONS, type FlowFilterSpec, flowFilterArgs, flowFilterFromArgs } from '../session/filter-spec.js';
import type { DirectionView, ExtensiveSessionView, FilterVerdictView, PageEnd, SessionSummary } from '../session/query.js';
import type { SessionView } from '../session/table.js';

/** The filter flags, for `show` and `clear`. */
export function withFlowFilters<T>(y: Argv<T>) {
  return y.options(FLOW_FILTER_OPTIONS);
}

/** The listing flags of `show sessions`. */
export function withSessionListing<T>(y: Argv<T>) {
  return y
    .option('limit', { type: 'number', describe: 'sessions: at most N per page (the output says how to get the next)' })
    .option('cursor', { type: 'number', describe: 'sessions: the page after this cursor (from the previous page)' })
    .option('summary', { type: 'boolean', default: false, describe: 'sessions: counts by state, protocol, family and zone pair' })
    .option('extensive', { type: 'boolean', default: false, describe: 'sessions: every counter, timer, flag, interface and filter verdict' });
}

/** Session flags given to another `show`: refused rather than silently ignored. */
export function refuseSessionFlags(what: string, argv: Record<string, unknown>, a: Partial<SessionListingArgs>): void {
  const given = [
    ...Object.keys(FLOW_FILTER_OPTIONS).filter((f) => argv[f] !== undefined),
    ...(['limit', 'cursor'] as const).filter((f) => a[f] !== undefined),
    ...(['summary', 'extensive'] as const).filter((f) => a[f] === true),
  ];
  if (given.length > 0) throw new Error(`${given.map((f) => `--${f}`).join(', ')}: only for show sessions, not show ${what}`);
}

export interface SessionListingArgs {
  limit?: number;
  cursor?: number;
  summary: boolean;
  extensive: boolean;
  json: boolean;
}

function positiveInteger(flag: string, v: number | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v < min) throw new Error(`--${flag} must be an integer of at least ${min}`);
  return v;
}

/** Writes to stdout; resolves once stdout has room again (so a slow terminal pauses the stream). */
function out(text: string): Promise<void> | void {
  if (process.stdout.write(text)) return;
  return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
}

export async function showSessionsCli(socket: string, argv: Record<string, unknown>, a: SessionListingArgs): Promise<void> {
  const filter = flowFilterFromArgs(argv);
  const limit = positiveInteger('limit', a.limit, 1);
  const cursor = positiveInteger('cursor', a.cursor, 0);
  if (a.summary && a.extensive) throw new Error('--summary and --extensive are different views: pick one');
  if (a.summary) {
    const s = await request<SessionSummary>(socket, { command: 'show-sessions', filter, view: 'summary' }, 120_000);
    process.stdout.write(`${a.json ? JSON.stringify(s, null, 2) : formatSummary(s)}\n`);
    return;
  }
  const paged = limit !== undefined || cursor !== undefined;
  const printer = a.json ? new JsonListing(paged) : new TextListing(a.extensive, paged);
  const end = await requestStream<PageEnd, Array<SessionView | ExtensiveSessionView>>(socket, {
    command: 'show-sessions', filter, view: a.extensive ? 'extensive' : 'brief', limit, cursor,
  }, (chunk) => out(printer.chunk(chunk)));
  await out(printer.end(end, filter, limit));
}

export async function clearSessionsCli(socket: string, argv: Record<string, unknown>, json: boolean): Promise<void> {
  const filter = flowFilterFromArgs(argv);
  const { cleared } = await request<{ cleared: number }>(socket, { command: 'clear-sessions', filter }, 300_000);
  process.stdout.write(json ? `${JSON.stringify({ cleared })}\n` : `${cleared} session${cleared === 1 ? '' : 's'} cleared\n`);
}

/** How to ask for the page after `end`, as a command line. */
export function nextPageCommand(filter: FlowFilterSpec, limit: number | undefined, end: PageEnd): string | null {
  if (end.nextCursor === null) return null;
  return ['xdpfw', 'show', 'sessions', ...flowFilterArgs(filter), ...(limit ? ['--limit', String(limit)] : []), '--cursor', String(end.nextCursor)].join(' ');
}

export interface Printer {
  chunk(sessions: Array<SessionView | ExtensiveSessionView>): string;
  end(end: PageEnd, filter: FlowFilterSpec, limit: number | undefined): string;
}

/** JSON: an array of sessions; a page (--limit / --cursor) is {sessions, nextCursor}. */
export class JsonListing implements Printer {
  private count = 0;
  constructor(private readonly paged: boolean) {}

  chunk(sessions: Array<SessionView | ExtensiveSessionView>): string {
    const head = this.count === 0 ? (this.paged ? '{"sessions":[\n' : '[\n') : ',\n';
    this.count += sessions.length;
    return head + sessions.map((s) => `  ${JSON.stringify(s)}`).join(',\n');
  }

  end(end: PageEnd): string {
    const open = this.count === 0 ? (this.paged ? '{"sessions":[' : '[') : '\n';
    return this.paged ? `${open}],"nextCursor":${JSON.stringify(end.nextCursor)}}\n` : `${open}]\n`;
  }
}

const COLUMNS = ['Id', 'Proto', 'Source', 'Destination', 'Zones', 'Policy', 'State', 'Pkts/bytes in', 'Pkts/bytes out', 'Idle/timeout'];

function endpoint(addr: string, port: number, family: string): string {
  return family === 'inet6' ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** Text: a table (column widths from the first chunk, growing after), or a block per session. */
export class TextListing implements Printer {
  private count = 0;
  private widths = COLUMNS.map((c) => c.length);
  constructor(private readonly extensive: boolean, private readonly paged: boolean) {}

  chunk(sessions: Array<SessionView | ExtensiveSessionView>): string {
    const first = this.count === 0;
    this.count += sessions.length;
    if (this.extensive) return sessions.map((s) => formatExtensive(s as ExtensiveSessionView)).join('\n');
    const rows = sessions.map((s) => [
      String(s.sessionId), s.protocol,
      endpoint(s.sourceAddress, s.sourcePort, s.family), endpoint(s.destinationAddress, s.destinationPort, s.family),
      `${s.fromZone}->${s.toZone}`, s.policy, s.state,
      `${s.packetsFromClient}/${s.bytesFromClient}`, `${s.packetsFromServer}/${s.bytesFromServer}`,
      `${s.idleSeconds}/${s.timeoutSeconds}`,
    ]);
    for (const r of rows) r.forEach((c, i) => (this.widths[i] = Math.max(this.widths[i]!, c.length)));
    const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(this.widths[i]!)).join('  ').trimEnd();
    return `${first ? `${line(COLUMNS)}\n` : ''}${rows.map(line).join('\n')}\n`;
  }

  end(end: PageEnd, filter: FlowFilterSpec, limit: number | undefined): string {
    const next = nextPageCommand(filter, limit, end);
    const none = this.count === 0 ? 'No sessions.\n' : '';
    const sep = this.extensive && this.count > 0 ? '\n' : '';
    if (next) return `${none}${sep}Shown: ${end.shown} sessions; more match, next page: ${next}\n`;
    return `${none}${sep}${this.paged ? `Shown: ${end.shown} sessions (the last page)` : `Total sessions: ${end.shown}`}\n`;
  }
}

function verdict(v: FilterVerdictView | null): string {
  if (!v) return '-';
  const flags = [v.log ? 'log' : null, v.syslog ? 'syslog' : null, v.perPacket !== 'none' ? `per-packet: ${v.perPacket}` : null].filter(Boolean);
  return `${v.filter} term ${v.term ?? `#${v.termId}`} (${v.action}${flags.length ? `, ${flags.join(', ')}` : ''})`;
}

function wing(label: string, src: string, dst: string, proto: string, d: DirectionView): string[] {
  return [
    `  ${label}: ${src} --> ${dst};${proto}, If: ${d.ingressInterface} -> ${d.egressInterface}, Pkts: ${d.packets}, Bytes: ${d.bytes}, ` +
      `Idle: ${d.idleSeconds === null ? '-' : `${d.idleSeconds} s`}`,
    `       Input filter: ${verdict(d.inputFilter)}; output filter: ${verdict(d.outputFilter)}`,
  ];
}

export function formatExtensive(s: ExtensiveSessionView): string {
  // Junos writes address/port in the session wings, whatever the family.
  const src = `${s.sourceAddress}/${s.sourcePort}`;
  const dst = `${s.destinationAddress}/${s.destinationPort}`;
  const lines = [
    `Session ID: ${s.sessionId}, Policy name: ${s.policy}/${s.policyId}, State: ${s.state}, Timeout: ${s.timeoutSeconds} s, Time left: ${s.timeLeftSeconds} s`,
    `  Zones: ${s.fromZone} -> ${s.toZone}, Created: ${s.createdAt}, Age: ${s.ageSeconds} s, Idle: ${s.idleSeconds} s, Flags: ${s.flags.join(' ') || '-'}`,
    ...wing('In', src, dst, s.protocol, s.client),
    ...(s.server ? wing('Out', dst, src, s.protocol, s.server) : []),
  ];
  if (s.tcp) {
    lines.push(`  TCP: ${s.tcp.state}${s.tcp.closeReason ? ` (closed: ${s.tcp.closeReason})` : ''}`);
    for (const [side, d] of [['client', s.tcp.client], ['server', s.tcp.server]] as const) {
      lines.push(`    ${side}: end ${d.end}, max end ${d.maxEnd}, max window ${d.maxWindow}, max ack ${d.maxAck}, window scale ${d.windowScale}, flags ${d.flags.join(' ') || '-'}`);
    }
  }
  lines.push(`  Translation: ${s.translation ?? 'none'}`);
  return `${lines.join('\n')}\n`;
}

export function formatSummary(s: SessionSummary): string {
  const counts = (r: Record<string, number>): string => Object.entries(r).map(([k, n]) => `${k} ${n}`).join(', ') || '-';
  const pairs = s.byZonePair.map((p) => `  ${`${p.fromZone} -> ${p.toZone}`.padEnd(32)} ${p.sessions}`);
  return [
    `Sessions: ${s.total}`,
    `  by state:    ${counts(s.byState)}`,
    `  by protocol: ${counts(s.byProtocol)}`,
    `  by family:   ${counts(s.byFamily)}`,
    'By zone pair:',
    ...(pairs.length ? pairs : ['  -']),
  ].join('\n');
}

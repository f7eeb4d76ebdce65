// The daemon's side of `show sessions` and `clear sessions`: checks the
// filters, then answers with a streamed listing, the counts, or the number of
// sessions cleared.
import { StreamedAnswer } from '../control/streamed.js';
import type { ShowSessionsArgs } from '../control/protocol.js';
import { type FlowFilterSpec, type FlowPredicate, compileFlowFilter } from './filter-spec.js';
import { type PageEnd, type QueryNames, type SessionSummary, clearSessions, listSessions, summarizeSessions } from './query.js';
import type { SessionTable } from './table.js';
import type { Session } from './types.js';

function predicate(filter: FlowFilterSpec | undefined): FlowPredicate {
  const compiled = compileFlowFilter(filter ?? {});
  if (!compiled.ok) throw new Error(compiled.error);
  return compiled.match;
}

/** show-sessions: the summary, or a listing streamed chunk by chunk ending with how to go on. */
export function showSessions(table: SessionTable, names: QueryNames, req: ShowSessionsArgs): Promise<SessionSummary> | StreamedAnswer {
  const match = predicate(req.filter);
  if (req.view === 'summary') return summarizeSessions(table, names, match);
  return new StreamedAnswer((write): Promise<PageEnd> =>
    listSessions(table, names, match, { limit: req.limit, cursor: req.cursor }, req.view === 'extensive', write));
}

/** clear-sessions: closes the matching sessions only (reason cleared). */
export async function clearMatchingSessions(
  table: SessionTable, names: QueryNames, filter: FlowFilterSpec | undefined, onError: (err: unknown, s: Session) => void,
): Promise<{ cleared: number }> {
  return { cleared: await clearSessions(table, names, predicate(filter), onError) };
}

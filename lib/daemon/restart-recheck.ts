// A daemon that starts on the pinned sessions of a previous run (a restart,
// an upgrade) judges them against the configuration it starts with, exactly
// as a reload does: those no longer permitted close with 'policy change'
// (logged as any close), the others are relabelled and get the verdicts of
// this configuration's filters.
import type { Zone } from '../config/types.js';
import type { SessionTable } from '../session/table.js';
import type { SlowPath } from '../slowpath/slowpath.js';
import { type RecheckResult, recheckSessions } from './recheck.js';

export function recheckAdopted(
  sessions: SessionTable, slowPath: SlowPath, zoneByIfindex: ReadonlyMap<number, Zone>,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): RecheckResult | null {
  if (sessions.size === 0) return null;
  const r = recheckSessions(sessions, slowPath.policies, zoneByIfindex, slowPath.flowFilters);
  log(`xdpfw: start: ${r.kept + r.closed.length} pinned sessions judged against this configuration: ` +
    `${r.kept} kept (${r.relabelled} relabelled, ${r.refiltered} refiltered), ${r.closed.length} closed (policy change)`);
  return r;
}

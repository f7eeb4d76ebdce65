// Human forms of the commit commands' answers (their --json is the data itself).
import type { CommitListEntry, CommitOutcome, CommitStatus } from './commits.js';
import type { DiffReport } from './daemon-diff.js';

/** A reload's or rollback's report line, followed by the commit it became. */
export function formatCommitted(report: string, r: { commit?: CommitOutcome }): string {
  const c = r.commit;
  if (!c) return report;
  const what = c.rollbackOf !== null ? `commit ${c.commit} (commit ${c.rollbackOf} again)` : `commit ${c.commit}`;
  return `${report}\n${what}${c.confirmBy ? `; rolled back at ${c.confirmBy} unless 'xdpfw confirm' comes first` : ''}`;
}

export function formatCommitList(entries: CommitListEntry[]): string {
  if (entries.length === 0) return 'No archived configurations.';
  const rows = entries.map((e) =>
    `${String(e.rollback).padStart(2)}  ${e.time}  commit ${e.commit}  ${e.kind}${e.rollbackOf !== null ? ` of ${e.rollbackOf}` : ''}  ${e.source}`);
  return ['Rollback  Time  Commit  Kind  Source', ...rows].join('\n');
}

export function formatDiff(d: DiffReport): string {
  return d.lines.length ? d.lines.join('\n') : `no changes: ${d.against} is the running configuration`;
}

/** The status lines of the commit state. */
export function formatCommitStatus(c: CommitStatus | undefined): string[] {
  if (!c) return [];
  const lines = [`Commit: ${c.current ?? 'none'}`];
  const p = c.pendingConfirm;
  if (p) lines.push(`Pending confirm: commit ${p.commit}, rolled back to commit ${p.rollbackTo} at ${p.deadline} (${p.secondsLeft} s left) unless 'xdpfw confirm'`);
  return lines;
}

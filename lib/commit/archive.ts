// The commit archive: every configuration the daemon applied (the last
// MAX_COMMITS), and the rollback deadline of an unconfirmed commit, kept in
// the state directory so both outlive a daemon restart. `rollback N` counts
// back from the running configuration (0) as Junos does; commit numbers
// count up and are never reused.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MAX_COMMITS = 50;

export type CommitKind = 'load' | 'reload' | 'rollback' | 'automatic-rollback';

export interface CommitEntry {
  /** Increasing, never reused. */
  number: number;
  /** Wall clock, ms since the epoch. */
  timeMs: number;
  kind: CommitKind;
  /** The file the configuration was read from. */
  source: string;
  /** Where the archive keeps its text. */
  file: string;
  /** For rollbacks: the commit number re-applied. */
  rollbackOf: number | null;
}

/** An unconfirmed commit: unless confirmed by the deadline, `rollbackTo` is applied again. */
export interface PendingConfirm {
  commit: number;
  rollbackTo: number;
  deadlineMs: number;
}

interface IndexFile {
  next: number;
  entries: CommitEntry[];
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text, { mode: 0o640 });
  renameSync(tmp, path);
}

export class CommitArchive {
  private readonly indexFile: string;
  private readonly pendingFile: string;

  constructor(private readonly dir: string) {
    this.indexFile = join(dir, 'index.json');
    this.pendingFile = join(dir, 'pending.json');
  }

  private read(): IndexFile {
    try {
      const data = JSON.parse(readFileSync(this.indexFile, 'utf8')) as IndexFile;
      if (Array.isArray(data.entries) && Number.isInteger(data.next)) return data;
    } catch {
      // none yet, or unreadable: a fresh archive
    }
    return { next: 1, entries: [] };
  }

  /** Newest first: index 0 is the running configuration. */
  list(): CommitEntry[] {
    return this.read().entries.slice().reverse();
  }

  /** The running configuration's entry, or null before the first commit. */
  current(): CommitEntry | null {
    return this.list()[0] ?? null;
  }

  /** The entry `rollback n` re-applies, or an error saying what there is. */
  nth(n: number): CommitEntry {
    const entries = this.list();
    const e = entries[n];
    if (!e) throw new Error(`no rollback ${n}: the archive holds ${entries.length} configuration${entries.length === 1 ? '' : 's'} (rollback 0 to ${entries.length - 1})`);
    return e;
  }

  byNumber(n: number): CommitEntry | null {
    return this.read().entries.find((e) => e.number === n) ?? null;
  }

  text(e: CommitEntry): string {
    return readFileSync(e.file, 'utf8');
  }

  /**
   * Keeps `text` as the newest commit and drops the oldest beyond MAX_COMMITS. With `onlyIfChanged`
   * (a daemon start), the same text as the newest entry records nothing and returns that entry.
   */
  record(text: string, kind: CommitKind, source: string, rollbackOf: number | null, onlyIfChanged = false): CommitEntry {
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    const index = this.read();
    const last = index.entries.at(-1);
    if (onlyIfChanged && last && existsSync(last.file) && readFileSync(last.file, 'utf8') === text) return last;
    const number = index.next;
    const file = join(this.dir, `commit-${String(number).padStart(6, '0')}.conf`);
    writeAtomic(file, text);
    const entry: CommitEntry = { number, timeMs: Date.now(), kind, source, file, rollbackOf };
    index.entries.push(entry);
    index.next = number + 1;
    const dropped = index.entries.splice(0, Math.max(0, index.entries.length - MAX_COMMITS));
    writeAtomic(this.indexFile, `${JSON.stringify(index)}\n`);
    for (const d of dropped) rmSync(d.file, { force: true });
    return entry;
  }

  pending(): PendingConfirm | null {
    try {
      return JSON.parse(readFileSync(this.pendingFile, 'utf8')) as PendingConfirm;
    } catch {
      return null;
    }
  }

  setPending(p: PendingConfirm): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    writeAtomic(this.pendingFile, `${JSON.stringify(p)}\n`);
  }

  clearPending(): void {
    rmSync(this.pendingFile, { force: true });
  }
}

// Commits the Junos way, on top of the daemon's atomic reload: every applied
// configuration is archived; `reload --confirm M` (`commit confirmed M`)
// applies and rolls back by itself unless `confirm` comes within M minutes
// (the deadline is kept in the state directory, so a restarted daemon still
// rolls back on time); `rollback N` re-applies the Nth previous
// configuration. A failing apply changes nothing (the reload is atomic) and
// records nothing. Operations run one at a time.
import { readConfigText } from '../config/read-file.js';
import { type CommitEntry, type CommitKind, CommitArchive, type PendingConfirm } from './archive.js';

/** What a commit operation did, for the CLI and the logs. */
export interface CommitOutcome {
  commit: number;
  kind: CommitKind;
  /** The rolled-back-to commit, for rollbacks. */
  rollbackOf: number | null;
  /** Set when the commit awaits confirmation. */
  confirmBy: string | null;
}

export interface CommitStatus {
  /** The running configuration's commit number (null before the archive has one). */
  current: number | null;
  pendingConfirm: { commit: number; rollbackTo: number; deadline: string; secondsLeft: number } | null;
}

export interface CommitListEntry {
  rollback: number;
  commit: number;
  time: string;
  kind: CommitKind;
  source: string;
  rollbackOf: number | null;
}

/** What a commit operation is told about: it becomes a log line and an event. */
export interface CommitNotice {
  action: 'commit' | 'commit-confirmed' | 'confirm' | 'rollback' | 'automatic-rollback' | 'automatic-rollback-failed';
  commit: number | null;
  rollbackOf: number | null;
  source: string | null;
  message: string;
}

/** Longest single timer wait; longer windows are waited in steps (Node timers top out near 24.8 days). */
const MAX_TIMER_MS = 3_600_000;
export const MAX_CONFIRM_MINUTES = 65535;

/** How a reload reads its configuration: unsupported statements ignored, another interface map. */
export interface ReloadHow {
  ignoreUnsupported: boolean;
  interfaceMap?: string;
}

export class Commits {
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly archive: CommitArchive,
    /**
     * The daemon's atomic apply: throws and leaves the running config on failure. `how` is the
     * reload's own options (null for a rollback, which re-applies a configuration the box ran).
     */
    private readonly apply: (configPath: string, how: ReloadHow | null) => Promise<unknown>,
    private readonly notify: (n: CommitNotice) => void,
  ) {}

  /** One operation at a time: an automatic rollback never interleaves with an operator's commit. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.chain.then(op, op);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** At daemon start: the start config is archived (unless it is the newest entry already) and a pending rollback armed again. */
  started(configPath: string): void {
    const entry = this.archive.record(readConfigText(configPath), 'load', configPath, null, true);
    this.notify({ action: 'commit', commit: entry.number, rollbackOf: null, source: configPath, message: `started with commit ${entry.number} (${configPath})` });
    if (this.archive.pending()) this.arm();
  }

  /** `reload -c FILE [--confirm M]`. A plain commit while one awaits confirmation confirms it (as in Junos). */
  commit<R>(configPath: string, confirmMinutes: number | undefined, report: (r: unknown) => R, how: ReloadHow | null = null): Promise<R & { commit: CommitOutcome }> {
    return this.serial(async () => {
      let text: string | null = null;
      try {
        text = readConfigText(configPath);
      } catch {
        // The apply below refuses it, in the words every reload uses.
      }
      const pending = this.archive.pending();
      // A second `commit confirmed` in the window moves the deadline; the rollback still goes to before the first.
      const rollbackTo = pending?.rollbackTo ?? this.archive.current()?.number ?? null;
      if (confirmMinutes !== undefined && rollbackTo === null) {
        throw new Error('nothing to roll back to: the archive holds no configuration, the running one stays');
      }
      const applied = await this.apply(configPath, how);
      const entry = this.archive.record(text ?? readConfigText(configPath), 'reload', configPath, null);
      let confirmBy: string | null = null;
      if (confirmMinutes !== undefined && rollbackTo !== null) {
        const p: PendingConfirm = { commit: entry.number, rollbackTo, deadlineMs: Date.now() + confirmMinutes * 60_000 };
        this.archive.setPending(p);
        this.arm();
        confirmBy = new Date(p.deadlineMs).toISOString();
        this.notify({
          action: 'commit-confirmed', commit: entry.number, rollbackOf: null, source: configPath,
          message: `commit ${entry.number} (${configPath}) applied; rolled back to commit ${rollbackTo} at ${confirmBy} unless confirmed`,
        });
      } else {
        if (pending) this.disarm();
        this.notify({
          action: 'commit', commit: entry.number, rollbackOf: null, source: configPath,
          message: `commit ${entry.number} (${configPath}) applied${pending ? `, confirming commit ${pending.commit}` : ''}`,
        });
      }
      return { ...report(applied), commit: { commit: entry.number, kind: entry.kind, rollbackOf: null, confirmBy } };
    });
  }

  /** `confirm`: keeps the pending commit. */
  confirm(): Promise<{ confirmed: number }> {
    return this.serial(async () => {
      const p = this.archive.pending();
      if (!p) throw new Error('no commit awaits confirmation');
      this.disarm();
      this.notify({ action: 'confirm', commit: p.commit, rollbackOf: null, source: null, message: `commit ${p.commit} confirmed` });
      return { confirmed: p.commit };
    });
  }

  /** `rollback [N]`: re-applies the Nth previous configuration (0: the running one); confirms a pending commit. */
  rollback<R>(n: number, report: (r: unknown) => R): Promise<R & { commit: CommitOutcome }> {
    return this.serial(async () => {
      const target = this.archive.nth(n);
      const entry = await this.reapply(target, 'rollback');
      if (this.archive.pending()) this.disarm();
      this.notify({
        action: 'rollback', commit: entry.commit.number, rollbackOf: target.number, source: target.source,
        message: `rollback ${n}: commit ${target.number} (${target.source}) applied again as commit ${entry.commit.number}`,
      });
      return { ...report(entry.applied), commit: { commit: entry.commit.number, kind: entry.commit.kind, rollbackOf: target.number, confirmBy: null } };
    });
  }

  private async reapply(target: CommitEntry, kind: CommitKind): Promise<{ applied: unknown; commit: CommitEntry }> {
    const text = this.archive.text(target);
    const applied = await this.apply(target.file, null);
    return { applied, commit: this.archive.record(text, kind, target.source, target.number) };
  }

  status(): CommitStatus {
    const p = this.archive.pending();
    return {
      current: this.archive.current()?.number ?? null,
      pendingConfirm: p && {
        commit: p.commit, rollbackTo: p.rollbackTo, deadline: new Date(p.deadlineMs).toISOString(),
        secondsLeft: Math.max(0, Math.ceil((p.deadlineMs - Date.now()) / 1000)),
      },
    };
  }

  list(): CommitListEntry[] {
    return this.archive.list().map((e, i) => ({
      rollback: i, commit: e.number, time: new Date(e.timeMs).toISOString(), kind: e.kind, source: e.source, rollbackOf: e.rollbackOf,
    }));
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    const p = this.archive.pending();
    if (!p || this.closed) return;
    const wait = Math.min(Math.max(0, p.deadlineMs - Date.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = this.archive.pending();
      if (!now) return;
      if (Date.now() < now.deadlineMs) this.arm();
      else void this.serial(() => this.expire());
    }, wait);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.archive.clearPending();
  }

  /** The deadline passed unconfirmed: the configuration from before the unconfirmed commit runs again. */
  private async expire(): Promise<void> {
    const p = this.archive.pending();
    if (!p || Date.now() < p.deadlineMs || this.closed) return;
    const target = this.archive.byNumber(p.rollbackTo);
    this.archive.clearPending();
    if (!target) {
      this.notify({ action: 'automatic-rollback-failed', commit: p.commit, rollbackOf: p.rollbackTo, source: null,
        message: `commit ${p.commit} was not confirmed, but commit ${p.rollbackTo} is no longer in the archive: the running configuration stays` });
      return;
    }
    try {
      const entry = await this.reapply(target, 'automatic-rollback');
      this.notify({ action: 'automatic-rollback', commit: entry.commit.number, rollbackOf: target.number, source: target.source,
        message: `commit ${p.commit} was not confirmed: commit ${target.number} (${target.source}) applied again as commit ${entry.commit.number}` });
    } catch (err) {
      this.notify({ action: 'automatic-rollback-failed', commit: p.commit, rollbackOf: target.number, source: target.source,
        message: `commit ${p.commit} was not confirmed, and rolling back to commit ${target.number} failed, the running configuration stays: ${(err as Error).message}` });
    }
  }

  /** Stops the timer; the pending deadline stays on disk for the next start unless `forget`. */
  close(forget: boolean): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (forget) this.archive.clearPending();
  }
}
